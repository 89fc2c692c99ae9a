/* relay.c -- the relay process: accepts TLS, reads CONNECT, asks the auth process, relays bytes. */
#include "vpn-bridge/relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "vpn-bridge/access.h"
#include "vpn-bridge/asp.h"
#include "vpn-bridge/authproto.h"
#include "vpn-bridge/counts.h"
#include "vpn-bridge/handshake.h"
#include "vpn-bridge/http.h"
#include "vpn-bridge/keyproc.h"
#include "vpn-bridge/tls.h"

/* Past this much unsent data one side stops reading the other: memory stays bounded. */
#define RELAY_HIGH_WATER (256 * 1024)
#define RELAY_PENDING 4096
/* Chains of this size stay under glibc's mmap threshold: no page faults per read. */
#define RELAY_READ_CHUNK 32768

enum relay_state { RS_HANDSHAKE, RS_REQUEST, RS_AUTH, RS_CONNECTING, RS_RELAY, RS_CLOSING };

struct relay;

/* Per connection; kept small because 10,000 idle sessions must fit in little memory. */
struct relay_conn {
	struct relay *r;
	struct handshake *hs;             /* only until the TLS handshake is done */
	struct bufferevent *cli, *up;
	enum relay_state state;
	struct addr src;
	uint16_t src_port, dst_port;
	bool counted_user, cert_ok;
	const char *cert_why;             /* static string from OpenSSL or tls.c */
	char fp[BRIDGE_FP_HEX];
	char user[HTTP_USER_MAX];
	char *dest;                       /* "host:port" as asked */
	const char *asp_name;
	struct http_connect *req;         /* only between request and auth answer */
	char *token;                      /* for the 200 answer, only while connecting */
	uint32_t token_ttl;
	uint32_t auth_id;
	uint64_t bytes_up, bytes_down, start_us, last_io_us;
	struct event *timer;              /* phase deadline, then the max session length */
};

struct relay {
	const struct bridge_conf *conf;
	const struct policy *zones;
	struct event_base *base;
	SSL_CTX *ctx;
	struct evconnlistener *listener;
	int auth_fd;
	struct event *auth_ev, *key_ev, *key_timer, *sigterm_ev, *sigint_ev, *sigchld_ev, *asp_timer;
	uint32_t next_id;
	struct relay_conn *pending[RELAY_PENDING];
	struct ev_sink *events;
	struct jbuf jb;
	unsigned n_conns, n_half_open;
	struct counts *per_source, *per_user;
	struct asp_state asps;
	pid_t asp_child;
};

static void relay_client_read(struct bufferevent *bev, void *arg);
static void relay_client_event(struct bufferevent *bev, short what, void *arg);

static void
relay_src_text(const struct relay_conn *c, char out[ADDR_STRLEN])
{
	addr_format(&c->src, out);
}

static void
relay_event_base(struct relay_conn *c, const char *name)
{
	char src[ADDR_STRLEN];
	struct jbuf *jb = &c->r->jb;

	relay_src_text(c, src);
	ev_begin(jb, name, 0);
	jb_str(jb, "user", c->user[0] ? c->user : NULL);
	jb_str(jb, "device", c->fp[0] ? c->fp : NULL);
	jb_str(jb, "src_ip", src);
	jb_uint(jb, "src_port", c->src_port);
	jb_str(jb, "dest", c->dest);
	if (c->cli)
		jb_bool(jb, "resumed", SSL_session_reused(bufferevent_openssl_get_ssl(c->cli)) == 1);
	if (c->asp_name)
		jb_str(jb, "asp", c->asp_name);
}

static void
relay_event_emit(struct relay *r)
{
	ev_end(&r->jb);
	ev_emit(r->events, &r->jb);
	jb_reset(&r->jb);
}

/* A refusal the relay decides alone (device chain, no credentials, destination). */
static void
relay_event_refused(struct relay_conn *c, const char *event, const char *reason, int status)
{
	relay_event_base(c, event);
	if (strcmp(event, "bridge_login") == 0)
		jb_str(&c->r->jb, "result", "failure");
	jb_str(&c->r->jb, "reason", reason);
	jb_int(&c->r->jb, "status", status);
	relay_event_emit(c->r);
}

static void
relay_event_session(struct relay_conn *c, bool end, const char *end_reason)
{
	relay_event_base(c, end ? "bridge_session_end" : "bridge_session_start");
	if (end) {
		jb_uint(&c->r->jb, "bytes_toserver", c->bytes_up);
		jb_uint(&c->r->jb, "bytes_toclient", c->bytes_down);
		jb_double(&c->r->jb, "duration", (double)(clock_mono_us() - c->start_us) / 1e6);
		jb_str(&c->r->jb, "end_reason", end_reason);
	}
	relay_event_emit(c->r);
}

/* (Re)arms the connection's one timer with cb after tmo; cb == NULL cancels it. */
static void
relay_timer_set(struct relay_conn *c, event_callback_fn cb, const struct timeval *tmo)
{
	if (c->timer) {
		event_free(c->timer);
		c->timer = NULL;
	}
	if (cb == NULL)
		return;
	c->timer = evtimer_new(c->r->base, cb, c);
	if (c->timer)
		evtimer_add(c->timer, tmo);
}

static void
relay_conn_free(struct relay_conn *c, const char *end_reason)
{
	struct relay *r = c->r;
	char src[ADDR_STRLEN];

	if (c->state == RS_RELAY || (c->state == RS_CLOSING && c->start_us))
		relay_event_session(c, true, end_reason);
	if (c->state == RS_HANDSHAKE)
		r->n_half_open--;
	if (c->state == RS_AUTH && r->pending[c->auth_id % RELAY_PENDING] == c)
		r->pending[c->auth_id % RELAY_PENDING] = NULL;
	relay_src_text(c, src);
	counts_dec(r->per_source, src);
	if (c->counted_user)
		counts_dec(r->per_user, c->user);
	if (c->hs)
		handshake_abort(c->hs);
	if (c->cli) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->cli);
		/* close_notify only when we end the session: a peer that left cannot read it. */
		if (ssl && c->state == RS_CLOSING)
			SSL_shutdown(ssl);
		bufferevent_free(c->cli);
	}
	if (c->up)
		bufferevent_free(c->up);
	if (c->timer)
		event_free(c->timer);
	if (c->req)
		OPENSSL_cleanse(c->req, sizeof *c->req);
	free(c->req);
	free(c->token);
	free(c->dest);
	free(c);
	r->n_conns--;
}

/* Closes once what is queued for the client has gone out. */
static void
relay_close_after_write(struct bufferevent *bev, void *arg)
{
	struct relay_conn *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		relay_conn_free(c, "closed");
}

static void
relay_finish(struct relay_conn *c)
{
	if (c->state == RS_AUTH && c->r->pending[c->auth_id % RELAY_PENDING] == c)
		c->r->pending[c->auth_id % RELAY_PENDING] = NULL;
	c->state = RS_CLOSING;
	relay_timer_set(c, NULL, NULL);
	if (c->up) {
		bufferevent_free(c->up);
		c->up = NULL;
	}
	bufferevent_disable(c->cli, EV_READ);
	bufferevent_setcb(c->cli, NULL, relay_close_after_write, relay_client_event, c);
	bufferevent_set_timeouts(c->cli, NULL, &(struct timeval){ 5, 0 });
	relay_close_after_write(c->cli, c);
}

/* Answers with an HTTP status and closes. */
static void
relay_reply_error(struct relay_conn *c, int status, const char *text)
{
	struct evbuffer *out = bufferevent_get_output(c->cli);

	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status, http_reason(status));
	if (status == 407)
		evbuffer_add_printf(out, "Proxy-Authenticate: Basic realm=\"tiergate\"\r\n");
	evbuffer_add_printf(out, "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s\n", strlen(text) + 1, text);
	relay_finish(c);
}

static void
relay_peer_count(struct relay_conn *c)
{
	char src[ADDR_STRLEN];

	relay_src_text(c, src);
	counts_inc(c->r->per_source, src);
}

/* Activity on either side keeps the session alive; the idle timer is the read timeout. */
static void
relay_touch(struct relay_conn *c)
{
	c->last_io_us = clock_mono_us();
}

static void
relay_pipe(struct relay_conn *c, struct bufferevent *from, struct bufferevent *to, uint64_t *counter)
{
	struct evbuffer *in = bufferevent_get_input(from), *out = bufferevent_get_output(to);

	*counter += evbuffer_get_length(in);
	evbuffer_add_buffer(out, in);
	relay_touch(c);
	if (evbuffer_get_length(out) >= RELAY_HIGH_WATER) {
		/* Stop reading until the slow side drains to half. */
		bufferevent_disable(from, EV_READ);
		bufferevent_setwatermark(to, EV_WRITE, RELAY_HIGH_WATER / 2, 0);
	}
}

static void
relay_drained(struct bufferevent *bev, void *arg)
{
	struct relay_conn *c = arg;
	struct bufferevent *other = bev == c->cli ? c->up : c->cli;

	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	bufferevent_enable(other, EV_READ);
}

static void relay_side_event(struct relay_conn *c, struct bufferevent *bev, short what);

/*
 * libevent 2.1 reads at most 4 KB per wake-up (EVBUFFER_MAX_READ): a download
 * would cost a readv, an ioctl, an epoll_wait and a 4 KB TLS record per 4 KB.
 * So what the socket holds is read here, straight into the client's output,
 * up to the high-water mark. Returns 0, or the bufferevent flags of EOF/error.
 */
static short
relay_up_drain(struct relay_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->cli);
	int fd = bufferevent_getfd(c->up);

	while (evbuffer_get_length(out) < RELAY_HIGH_WATER) {
		struct evbuffer_iovec v[2];
		int n = evbuffer_reserve_space(out, RELAY_READ_CHUNK, v, 2);
		ssize_t got = n > 0 ? readv(fd, (struct iovec *)v, n) : -1;
		if (got <= 0) {
			evbuffer_commit_space(out, v, 0);
			if (got == 0)
				return BEV_EVENT_EOF | BEV_EVENT_READING;
			return errno == EAGAIN || errno == EINTR ? 0 : BEV_EVENT_ERROR | BEV_EVENT_READING;
		}
		if ((size_t)got <= v[0].iov_len) {
			v[0].iov_len = (size_t)got;
			n = 1;
		} else
			v[1].iov_len = (size_t)got - v[0].iov_len;
		evbuffer_commit_space(out, v, n);
		c->bytes_down += (uint64_t)got;
		if (got < RELAY_READ_CHUNK)
			break;   /* the socket is (almost surely) empty: no extra EAGAIN round */
	}
	return 0;
}

static void
relay_up_read(struct bufferevent *bev, void *arg)
{
	struct relay_conn *c = arg;
	short end;

	relay_pipe(c, bev, c->cli, &c->bytes_down);
	end = relay_up_drain(c);
	if (end) {
		relay_side_event(c, bev, end);
		return;
	}
	if (evbuffer_get_length(bufferevent_get_output(c->cli)) >= RELAY_HIGH_WATER) {
		bufferevent_disable(bev, EV_READ);
		bufferevent_setwatermark(c->cli, EV_WRITE, RELAY_HIGH_WATER / 2, 0);
	}
}

static void
relay_cli_data(struct bufferevent *bev, void *arg)
{
	struct relay_conn *c = arg;

	relay_pipe(c, bev, c->up, &c->bytes_up);
}

/* A read timeout: idle only if neither side moved for idle_timeout. */
static bool
relay_still_busy(struct relay_conn *c, struct bufferevent *bev)
{
	uint64_t idle_us = (uint64_t)c->r->conf->idle_timeout * 1000000;

	if (clock_mono_us() - c->last_io_us >= idle_us)
		return false;
	bufferevent_enable(bev, EV_READ);
	return true;
}

/* The client has gone; what it sent before going is delivered, then everything closes. */
static void
relay_up_flushed(struct bufferevent *bev, void *arg)
{
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		relay_conn_free(arg, "client closed");
}

static void
relay_up_flush_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	relay_conn_free(arg, "client closed");
}

/* The session ends when either side ends; what the other still has queued is flushed. */
static void
relay_side_event(struct relay_conn *c, struct bufferevent *bev, short what)
{
	const char *reason = bev == c->cli ? "client closed" : "server closed";

	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING)) {
		if (relay_still_busy(c, bev))
			return;
		reason = "idle timeout";
	} else if (what & BEV_EVENT_ERROR)
		reason = bev == c->cli ? "client error" : "server error";
	if (bev == c->cli && c->up && evbuffer_get_length(bufferevent_get_output(c->up)) > 0) {
		relay_event_session(c, true, reason);
		c->start_us = 0;
		c->state = RS_CLOSING;
		bufferevent_disable(c->cli, EV_READ);
		bufferevent_disable(c->up, EV_READ);
		bufferevent_setcb(c->up, NULL, relay_up_flushed, relay_up_flush_event, c);
		return;
	}
	if (bev == c->up && c->state == RS_RELAY) {
		relay_pipe(c, c->up, c->cli, &c->bytes_down);
		relay_event_session(c, true, reason);
		c->start_us = 0;
		relay_finish(c);
		return;
	}
	relay_conn_free(c, reason);
}

static void
relay_up_event_relay(struct bufferevent *bev, short what, void *arg)
{
	relay_side_event(arg, bev, what);
}

static void
relay_session_expired(evutil_socket_t fd, short what, void *arg)
{
	struct relay_conn *c = arg;

	(void)fd;
	(void)what;
	relay_event_session(c, true, "max session length");
	c->start_us = 0;
	relay_finish(c);
}

static void
relay_start_session(struct relay_conn *c, const char *token, uint32_t ttl)
{
	struct relay *r = c->r;
	struct evbuffer *out = bufferevent_get_output(c->cli);
	struct timeval idle = { (time_t)r->conf->idle_timeout, 0 };
	struct timeval max = { (time_t)r->conf->max_session, 0 };

	if (tls_send_ticket(bufferevent_openssl_get_ssl(c->cli)) < 0) {
		tls_log_errors("session ticket");   /* the session goes on; a reconnect is a full handshake */
		ERR_clear_error();
	}
	evbuffer_add_printf(out, "HTTP/1.1 200 %s\r\n", http_reason(200));
	if (token[0] && ttl)
		evbuffer_add_printf(out, "X-Tiergate-Token: %s\r\nX-Tiergate-Token-Lifetime: %u\r\n",
		    token, ttl);
	evbuffer_add_printf(out, "\r\n");
	c->state = RS_RELAY;
	c->start_us = clock_mono_us();
	relay_touch(c);
	relay_event_session(c, false, NULL);
	bufferevent_setcb(c->cli, relay_cli_data, relay_drained, relay_client_event, c);
	bufferevent_setcb(c->up, relay_up_read, relay_drained, relay_up_event_relay, c);
	bufferevent_set_timeouts(c->cli, &idle, NULL);
	bufferevent_set_timeouts(c->up, &idle, NULL);
	/* Bulk transfers: full 16 KB TLS records and fewer wake-ups per megabyte. */
	bufferevent_set_max_single_read(c->up, RELAY_HIGH_WATER / 4);
	bufferevent_set_max_single_write(c->cli, RELAY_HIGH_WATER / 4);
	bufferevent_set_max_single_read(c->cli, RELAY_HIGH_WATER / 4);
	bufferevent_set_max_single_write(c->up, RELAY_HIGH_WATER / 4);
	bufferevent_enable(c->cli, EV_READ);
	bufferevent_enable(c->up, EV_READ);
	relay_timer_set(c, relay_session_expired, &max);
	if (evbuffer_get_length(bufferevent_get_input(c->cli)) > 0)
		relay_cli_data(c->cli, c);   /* bytes the client sent right after its request */
}

static void
relay_up_event_connecting(struct bufferevent *bev, short what, void *arg)
{
	struct relay_conn *c = arg;
	bool timed_out = (what & BEV_EVENT_TIMEOUT) != 0;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		int one = 1;
		setsockopt(bufferevent_getfd(c->up), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		relay_start_session(c, c->token ? c->token : "", c->token_ttl);
		free(c->token);
		c->token = NULL;
		return;
	}
	relay_event_refused(c, "bridge_upstream_failed",
	    timed_out ? "connect timed out" : "connect failed", timed_out ? 504 : 502);
	relay_reply_error(c, timed_out ? 504 : 502,
	    timed_out ? "destination did not answer" : "destination refused the connection");
}

static int
relay_sockaddr(const struct addr *a, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof *ss);
	if (addr_is_v4(a)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->b + 12, 4);
		*len = sizeof *sin;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a->b, 16);
		*len = sizeof *sin6;
	}
	return 0;
}

static void
relay_connect_upstream(struct relay_conn *c, const struct access_target *t, const struct authres *res)
{
	struct timeval tmo = { (time_t)c->r->conf->connect_timeout, 0 };
	struct sockaddr_storage ss;
	socklen_t sslen;

	/* The request (with the password) is not needed any more: wipe it now. */
	OPENSSL_cleanse(c->req, sizeof *c->req);
	free(c->req);
	c->req = NULL;
	c->token = xstrdup(res->token);
	c->token_ttl = res->token_ttl;
	c->state = RS_CONNECTING;
	relay_sockaddr(&t->addr, t->port, &ss, &sslen);
	c->up = bufferevent_socket_new(c->r->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->up == NULL) {
		relay_reply_error(c, 503, "bridge out of resources");
		return;
	}
	bufferevent_setcb(c->up, NULL, NULL, relay_up_event_connecting, c);
	bufferevent_set_timeouts(c->up, &tmo, &tmo);
	bufferevent_disable(c->cli, EV_READ);
	if (bufferevent_socket_connect(c->up, (struct sockaddr *)&ss, (int)sslen) < 0) {
		relay_event_refused(c, "bridge_upstream_failed", "connect failed", 502);
		relay_reply_error(c, 502, "destination refused the connection");
	}
}

/* The auth process said yes: per-user limit, then check 4 (destination). */
static void
relay_authorized(struct relay_conn *c, const struct authres *res)
{
	struct relay *r = c->r;
	struct access_target target;
	const char *why = NULL;

	if (counts_get(r->per_user, c->user) >= r->conf->max_sessions_per_user) {
		relay_event_refused(c, "bridge_denied", "too many sessions for this user", 429);
		relay_reply_error(c, 429, "too many sessions for this user");
		return;
	}
	counts_inc(r->per_user, c->user);
	c->counted_user = true;
	if (access_check(r->conf, r->zones, &r->asps, c->user, c->req, &target, &why) < 0) {
		if (target.asp)
			c->asp_name = target.asp->name;
		relay_event_refused(c, "bridge_denied", why, 403);
		relay_reply_error(c, 403, why);
		return;
	}
	if (target.asp)
		c->asp_name = target.asp->name;
	relay_connect_upstream(c, &target, res);
}

static void
relay_auth_answer(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;
	struct authres res;
	struct relay_conn *c;
	ssize_t got;

	(void)what;
	got = recv(fd, &res, sizeof res, MSG_DONTWAIT);
	if (got == 0) {
		log_warnx("auth process has gone; stopping");
		event_base_loopbreak(r->base);
		return;
	}
	if (got != (ssize_t)sizeof res)
		return;
	c = r->pending[res.id % RELAY_PENDING];
	if (c == NULL || c->auth_id != res.id || c->state != RS_AUTH)
		return;   /* the client left while we waited */
	r->pending[res.id % RELAY_PENDING] = NULL;
	if (!res.ok) {
		/* Reason logged by the auth process; the client only learns "try again". */
		relay_reply_error(c, 407, "authentication failed");
		return;
	}
	relay_authorized(c, &res);
}

static void
relay_ask_auth(struct relay_conn *c)
{
	struct relay *r = c->r;
	struct authreq req;
	uint32_t id = ++r->next_id;
	bool is_token = str_has_prefix(c->req->secret, "token:");

	if (r->pending[id % RELAY_PENDING] != NULL) {
		relay_reply_error(c, 503, "too many logins in progress");
		return;
	}
	memset(&req, 0, sizeof req);
	req.id = id;
	req.kind = is_token ? AUTHREQ_TOKEN : AUTHREQ_LOGIN;
	str_copy(req.user, c->req->user, sizeof req.user);
	str_copy(req.secret, c->req->secret + (is_token ? 6 : 0), sizeof req.secret);
	str_copy(req.fp, c->fp, sizeof req.fp);
	relay_src_text(c, req.src);
	req.src_port = c->src_port;
	if (send(r->auth_fd, &req, sizeof req, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)sizeof req) {
		OPENSSL_cleanse(&req, sizeof req);
		relay_reply_error(c, 503, "authentication service busy");
		return;
	}
	OPENSSL_cleanse(&req, sizeof req);
	c->auth_id = id;
	r->pending[id % RELAY_PENDING] = c;
	c->state = RS_AUTH;
	relay_timer_set(c, NULL, NULL);
	bufferevent_disable(c->cli, EV_READ);
}

static int
relay_status_for(enum http_result hr)
{
	return hr == HTTP_NOT_CONNECT ? 405 : hr == HTTP_TOO_LARGE ? 431 : 400;
}

/* Check 1 (the part TLS already did): a certificate, chain valid, not revoked. */
static bool
relay_device_ok(struct relay_conn *c)
{
	if (!c->r->conf->require_device || c->cert_ok)
		return true;
	relay_event_refused(c, "bridge_login", c->cert_why, 403);
	relay_reply_error(c, 403, "device certificate not accepted");
	return false;
}

static void
relay_request(struct relay_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->cli);
	size_t len = evbuffer_get_length(in);
	size_t look = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
	const char *head = (const char *)evbuffer_pullup(in, (ev_ssize_t)look);
	struct http_connect *req = xcalloc(1, sizeof *req);
	enum http_result hr = http_parse_connect(head, look, req);
	char dest[HTTP_HOST_MAX + 16];

	if (hr == HTTP_INCOMPLETE) {
		free(req);
		return;
	}
	if (hr != HTTP_OK) {
		relay_event_refused(c, "bridge_bad_request", req->why, relay_status_for(hr));
		free(req);
		relay_reply_error(c, relay_status_for(hr), "bad request");
		return;
	}
	evbuffer_drain(in, req->head_len);
	c->req = req;
	snprintf(dest, sizeof dest, strchr(req->host, ':') ? "[%s]:%u" : "%s:%u", req->host, req->port);
	c->dest = xstrdup(dest);
	c->dst_port = req->port;
	if (!relay_device_ok(c))
		return;
	if (!req->has_auth) {
		relay_event_refused(c, "bridge_login", "no credentials", 407);
		relay_reply_error(c, 407, "credentials required: user:password+OTP or user:token:TOKEN");
		return;
	}
	str_copy(c->user, req->user, sizeof c->user);
	relay_ask_auth(c);
}

static void
relay_client_read(struct bufferevent *bev, void *arg)
{
	struct relay_conn *c = arg;

	(void)bev;
	if (c->state == RS_REQUEST)
		relay_request(c);
}

/*
 * A whole-phase deadline, not a read timeout: a client dripping one byte
 * every few seconds must not hold a handshake or a request open forever.
 */
static void
relay_phase_expired(evutil_socket_t fd, short what, void *arg)
{
	struct relay_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == RS_HANDSHAKE) {
		relay_conn_free(c, "handshake timeout");
		return;
	}
	relay_event_refused(c, "bridge_bad_request", "request timeout", 408);
	relay_reply_error(c, 408, "request timeout");
}

/* The handshake is over: from here on libevent's bufferevent carries the TLS connection. */
static void
relay_handshake_done(SSL *ssl, void *arg)
{
	struct relay_conn *c = arg;
	struct timeval req_tmo = { (time_t)c->r->conf->request_timeout, 0 };

	c->hs = NULL;
	if (ssl == NULL) {
		relay_conn_free(c, "handshake failed");
		return;
	}
	c->cli = bufferevent_openssl_socket_new(c->r->base, -1, ssl, BUFFEREVENT_SSL_OPEN,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->cli == NULL) {
		int fd = SSL_get_fd(ssl);
		SSL_free(ssl);
		evutil_closesocket(fd);
		relay_conn_free(c, "out of memory");
		return;
	}
	c->r->n_half_open--;
	c->state = RS_REQUEST;
	c->cert_ok = tls_peer_check(ssl, c->fp, &c->cert_why) == 0;
	bufferevent_openssl_set_allow_dirty_shutdown(c->cli, 1);
	bufferevent_setcb(c->cli, relay_client_read, NULL, relay_client_event, c);
	relay_timer_set(c, relay_phase_expired, &req_tmo);
	bufferevent_enable(c->cli, EV_READ);
}

static void
relay_client_event(struct bufferevent *bev, short what, void *arg)
{
	struct relay_conn *c = arg;

	if (c->state == RS_RELAY) {
		relay_side_event(c, bev, what);
		return;
	}
	ERR_clear_error();
	relay_conn_free(c, c->state == RS_HANDSHAKE ? "handshake failed" : "client closed");
}

/* Connection limits before any TLS work is spent on a peer. */
static const char *
relay_admit(struct relay *r, const struct addr *src)
{
	char text[ADDR_STRLEN];

	addr_format(src, text);
	if (r->n_conns >= r->conf->max_conns)
		return "too many connections";
	if (r->n_half_open >= r->conf->max_half_open)
		return "too many TLS handshakes in progress";
	if (counts_get(r->per_source, text) >= r->conf->max_conns_per_source)
		return "too many connections from this address";
	return NULL;
}

static void
relay_addr_from_sa(const struct sockaddr *sa, struct addr *a, uint16_t *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		addr_from_v4(a, (const uint8_t *)&sin->sin_addr);
		*port = ntohs(sin->sin_port);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		addr_from_v6(a, (const uint8_t *)&sin6->sin6_addr);
		*port = ntohs(sin6->sin6_port);
	}
}

static void
relay_refuse_early(struct relay *r, const struct addr *src, uint16_t port, const char *why)
{
	char text[ADDR_STRLEN];

	addr_format(src, text);
	ev_begin(&r->jb, "bridge_refused", 0);
	jb_str(&r->jb, "src_ip", text);
	jb_uint(&r->jb, "src_port", port);
	jb_str(&r->jb, "reason", why);
	relay_event_emit(r);
}

static void
relay_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct relay *r = arg;
	struct timeval hs = { (time_t)r->conf->handshake_timeout, 0 };
	struct relay_conn *c;
	struct addr src;
	uint16_t port;
	const char *why;
	SSL *ssl;

	(void)l;
	(void)salen;
	relay_addr_from_sa(sa, &src, &port);
	if ((why = relay_admit(r, &src)) != NULL || (ssl = SSL_new(r->ctx)) == NULL) {
		relay_refuse_early(r, &src, port, why ? why : "out of memory");
		evutil_closesocket(fd);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->r = r;
	c->src = src;
	c->src_port = port;
	r->n_conns++;
	r->n_half_open++;
	relay_peer_count(c);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	c->hs = handshake_start(r->base, ssl, fd, relay_handshake_done, c);
	if (c->hs == NULL) {
		SSL_free(ssl);
		evutil_closesocket(fd);
		relay_conn_free(c, "out of memory");
		return;
	}
	relay_timer_set(c, relay_phase_expired, &hs);
}

/* Signatures answered: their handshakes resume. EOF: those waiting fail, then the relay stops. */
static void
relay_key_answers(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;

	(void)fd;
	(void)what;
	if (keyproc_relay_read() == 0)
		return;
	log_warnx("key process has gone; stopping");
	event_del(r->key_ev);
	/* The failed handshakes end (with an alert) on the next turns of the loop. */
	event_base_loopexit(r->base, &(struct timeval){ 0, 100000 });
}

static void
relay_key_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	keyproc_relay_expire(clock_mono_us());
}

static void
relay_on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct relay *r = arg;

	(void)what;
	log_info("signal %d: relay stopping", (int)sig);
	event_base_loopbreak(r->base);
}

/* Scheduled ASP checks run in a child: TLS from ASP servers is parsed away from the sessions. */
static void
relay_asp_tick(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;
	pid_t pid;

	(void)fd;
	(void)what;
	if (r->asp_child > 0)
		return;
	pid = fork();
	if (pid == 0) {
		log_procname("bridge[asp-check]");
		_exit(asp_check_run(r->conf, NULL, NULL, r->events) < 0 ? 2 : 0);
	}
	if (pid < 0)
		log_warn("fork for the ASP check");
	r->asp_child = pid > 0 ? pid : 0;
}

static void
relay_on_child(evutil_socket_t sig, short what, void *arg)
{
	struct relay *r = arg;
	pid_t pid;

	(void)sig;
	(void)what;
	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		if (pid == r->asp_child)
			r->asp_child = 0;
	asp_state_refresh(&r->asps);
}

static int
relay_setup_events(struct relay *r, bool run_asp_checks)
{
	struct timeval every = { (time_t)r->conf->asp_check_interval, 0 };

	r->auth_ev = event_new(r->base, r->auth_fd, EV_READ | EV_PERSIST, relay_auth_answer, r);
	r->sigterm_ev = evsignal_new(r->base, SIGTERM, relay_on_stop, r);
	r->sigint_ev = evsignal_new(r->base, SIGINT, relay_on_stop, r);
	r->sigchld_ev = evsignal_new(r->base, SIGCHLD, relay_on_child, r);
	if (!r->auth_ev || !r->sigterm_ev || !r->sigint_ev || !r->sigchld_ev)
		return -1;
	event_add(r->auth_ev, NULL);
	if (keyproc_relay_fd() >= 0) {
		r->key_ev = event_new(r->base, keyproc_relay_fd(), EV_READ | EV_PERSIST, relay_key_answers, r);
		r->key_timer = event_new(r->base, -1, EV_PERSIST, relay_key_tick, r);
		if (!r->key_ev || !r->key_timer)
			return -1;
		event_add(r->key_ev, NULL);
		event_add(r->key_timer, &(struct timeval){ 0, 500000 });
	}
	event_add(r->sigterm_ev, NULL);
	event_add(r->sigint_ev, NULL);
	event_add(r->sigchld_ev, NULL);
	if (run_asp_checks && r->conf->n_asps && r->conf->asp_check_interval) {
		r->asp_timer = event_new(r->base, -1, EV_PERSIST, relay_asp_tick, r);
		if (r->asp_timer)
			event_add(r->asp_timer, &every);
	}
	return 0;
}

static void
relay_teardown(struct relay *r)
{
	if (r->listener)
		evconnlistener_free(r->listener);
	if (r->asp_timer)
		event_free(r->asp_timer);
	if (r->auth_ev)
		event_free(r->auth_ev);
	if (r->key_ev)
		event_free(r->key_ev);
	if (r->key_timer)
		event_free(r->key_timer);
	if (r->sigterm_ev)
		event_free(r->sigterm_ev);
	if (r->sigint_ev)
		event_free(r->sigint_ev);
	if (r->sigchld_ev)
		event_free(r->sigchld_ev);
	counts_free(r->per_source);
	counts_free(r->per_user);
	asp_state_free(&r->asps);
	jb_free(&r->jb);
	if (r->base)
		event_base_free(r->base);
}

int
relay_run(const struct bridge_conf *conf, const struct policy *zones, SSL_CTX *ctx, int listen_fd,
    int auth_fd, struct ev_sink *events, bool run_asp_checks)
{
	struct relay r;
	int rc = 0;

	memset(&r, 0, sizeof r);
	r.conf = conf;
	r.zones = zones;
	r.ctx = ctx;
	r.auth_fd = auth_fd;
	r.events = events;
	r.per_source = counts_new();
	r.per_user = counts_new();
	asp_state_init(&r.asps, conf->asp_state_file);
	asp_state_refresh(&r.asps);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Bulk sessions fill and drain 256 KB buffers over and over; glibc would hand
	 * the memory back each time and fault it in again (5% of a download's CPU).
	 */
	mallopt(M_TRIM_THRESHOLD, 16 << 20);
	mallopt(M_TOP_PAD, 1 << 20);
	r.base = event_base_new();
	if (r.base == NULL || handshake_init(KEYPROC_MAX_PENDING) < 0 ||
	    relay_setup_events(&r, run_asp_checks) < 0)
		rc = 1;
	else {
		evutil_make_socket_nonblocking(listen_fd);
		r.listener = evconnlistener_new(r.base, relay_accept, &r,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1, listen_fd);
		if (r.listener == NULL)
			rc = 1;
		else
			event_base_dispatch(r.base);
	}
	relay_teardown(&r);
	return rc;
}

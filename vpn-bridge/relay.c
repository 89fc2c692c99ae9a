/* relay.c -- the relay process: accepts TLS, reads CONNECT, asks the auth process, starts the pump. */
#include "vpn-bridge/relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "vpn-bridge/access.h"
#include "vpn-bridge/authproto.h"
#include "vpn-bridge/counts.h"
#include "vpn-bridge/handshake.h"
#include "vpn-bridge/keyproc.h"
#include "vpn-bridge/relay_int.h"
#include "vpn-bridge/tls.h"
#include "vpn-bridge/relay_sandbox.h"
#ifdef TIERGATE_TEST_HOOKS
#include "vpn-bridge/relay_memcount.h"
#endif

/*
 * Out of memory: an allocation the relay makes for a session that fails, fails
 * that session (an event, an HTTP 503 or a refused accept, the connection closed);
 * the relay and its other sessions go on. Nothing here calls xmalloc()/fatal().
 * Test builds (TIERGATE_TEST_HOOKS) can fail the Nth allocation made for one
 * purpose: TIERGATE_TEST_FAIL_ALLOC="dest:2" fails the second "dest".
 */
#ifdef TIERGATE_TEST_HOOKS
static bool
relay_alloc_should_fail(const char *what)
{
	static unsigned seen;
	const char *spec = getenv("TIERGATE_TEST_FAIL_ALLOC");
	size_t len = strlen(what);

	if (spec == NULL || strncmp(spec, what, len) != 0 || spec[len] != ':')
		return false;
	return ++seen == strtoul(spec + len + 1, NULL, 10);
}
/* The landlock probe's attempts, each logged with its result. */
static void
relay_test_probe_open(const char *path)
{
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;

	if (path == NULL)
		return;
	if (fd < 0)
		log_warn("relay: sandbox probe: open %s", path);
	else
		log_warnx("relay: sandbox probe: open %s: allowed", path);
	if (fd >= 0)
		close(fd);
}

static void
relay_test_probe_connect(const char *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (port == NULL || fd < 0)
		return;
	sin.sin_port = htons((uint16_t)strtoul(port, NULL, 10));
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0)
		log_warn("relay: sandbox probe: connect 127.0.0.1:%s", port);
	else
		log_warnx("relay: sandbox probe: connect 127.0.0.1:%s: allowed", port);
	close(fd);
}

/*
 * TIERGATE_TEST_SANDBOX_PROBE=1: once sandboxed, the relay tries what a compromised one
 * would (execve a shell); the filter must kill it (SIGSYS), tests/suites/75-bridge-priv.sh.
 * =landlock: it opens /etc/passwd and the ASP state file, and connects to the TCP ports
 * in TIERGATE_TEST_PROBE_PORTS ("DENIED ALLOWED"), logs each result and goes on serving.
 */
static void
relay_test_sandbox_probe(const struct relay *r)
{
	static char *const argv[] = { "/bin/sh", "-c", "echo escaped", NULL };
	const char *mode = getenv("TIERGATE_TEST_SANDBOX_PROBE");
	char ports[32];

	if (mode == NULL)
		return;
	if (strcmp(mode, "landlock") == 0) {
		relay_test_probe_open("/etc/passwd");
		relay_test_probe_open(r->conf->asp_state_file);
		str_copy(ports, getenv("TIERGATE_TEST_PROBE_PORTS") ? getenv("TIERGATE_TEST_PROBE_PORTS") : "",
		    sizeof ports);
		for (char *save = NULL, *p = strtok_r(ports, " ", &save); p; p = strtok_r(NULL, " ", &save))
			relay_test_probe_connect(p);
		return;
	}
	execve(argv[0], argv, NULL);
	log_warn("relay: the sandbox probe's execve failed");
}

/*
 * SIGUSR2: one log line with the established sessions and what OpenSSL and libevent hold
 * (relay_memcount.c), for tests/suites/79-bridge-idle.sh and the bench's breakdown.
 */
static void
relay_test_memstat(evutil_socket_t sig, short what, void *arg)
{
	struct relay *r = arg;
	unsigned sessions = 0;
	char counts[256];

	(void)sig;
	(void)what;
	for (struct relay_conn *c = r->sessions; c != NULL; c = c->sess_next)
		sessions++;
	relay_memcount_format(counts, sizeof counts);
	log_info("relay memory: sessions=%u conns=%u %s", sessions, r->n_conns, counts);
}

static int
relay_test_events(struct relay *r)
{
	r->test_ev = evsignal_new(r->base, SIGUSR2, relay_test_memstat, r);
	return r->test_ev && event_add(r->test_ev, NULL) == 0 ? 0 : -1;
}
#else
static bool
relay_alloc_should_fail(const char *what)
{
	(void)what;
	return false;
}

static void
relay_test_sandbox_probe(const struct relay *r)
{
	(void)r;
}

static int
relay_test_events(struct relay *r)
{
	(void)r;
	return 0;
}
#endif

static void *
relay_calloc(const char *what, size_t size)
{
	return relay_alloc_should_fail(what) ? NULL : calloc(1, size);
}

static char *
relay_strdup(const char *what, const char *s)
{
	return relay_alloc_should_fail(what) ? NULL : strdup(s);
}

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
	if (c->ssl)
		jb_bool(jb, "resumed", SSL_session_reused(c->ssl) == 1);
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

void
relay_session_ended(struct relay_conn *c, const char *end_reason)
{
	if (c->start_us == 0)
		return;
	relay_event_session(c, true, end_reason);
	c->start_us = 0;
}

/* (Re)arms the connection's one timer with cb after tmo; cb == NULL cancels it. False: no memory. */
static bool
relay_timer_set(struct relay_conn *c, event_callback_fn cb, const struct timeval *tmo)
{
	if (c->timer) {
		event_free(c->timer);
		c->timer = NULL;
	}
	if (cb == NULL)
		return true;
	c->timer = evtimer_new(c->r->base, cb, c);
	return c->timer && evtimer_add(c->timer, tmo) == 0;
}

/* What a state holds that leaving it gives back. */
static void
relay_state_leave(struct relay_conn *c)
{
	struct relay *r = c->r;

	if (c->sess_pprev != NULL) {   /* leaving RS_RELAY: off the list a revocation walks */
		*c->sess_pprev = c->sess_next;
		if (c->sess_next)
			c->sess_next->sess_pprev = c->sess_pprev;
		c->sess_next = NULL;
		c->sess_pprev = NULL;
	}
	if (c->state == RS_HANDSHAKE)
		r->n_half_open--;
	if (c->counted_half_open) {
		char src[ADDR_STRLEN];
		relay_src_text(c, src);
		counts_dec(r->half_open_per_source, src);
		c->counted_half_open = false;
	}
	if (c->state == RS_AUTH && r->pending[c->auth_id % RELAY_PENDING] == c)
		r->pending[c->auth_id % RELAY_PENDING] = NULL;
}

bool
relay_transition(struct relay_conn *c, enum relay_state to)
{
	char src[ADDR_STRLEN];

	if (!relay_state_may(c->state, to)) {
		relay_src_text(c, src);
		log_warnx("relay: session from %s:%u cannot go from %s to %s; closed", src, c->src_port,
		    relay_state_name(c->state), relay_state_name(to));
		relay_conn_free(c, "internal error");
		return false;
	}
	relay_state_leave(c);
	c->state = to;
	if (to == RS_RELAY) {
		c->sess_next = c->r->sessions;
		if (c->sess_next)
			c->sess_next->sess_pprev = &c->sess_next;
		c->sess_pprev = &c->r->sessions;
		c->r->sessions = c;
	}
	if (to == RS_CLOSING)
		relay_timer_set(c, NULL, NULL);   /* no phase deadline or session limit while closing */
	return true;
}

void
relay_conn_free(struct relay_conn *c, const char *end_reason)
{
	struct relay *r = c->r;
	char src[ADDR_STRLEN];

	relay_session_ended(c, end_reason);
	relay_state_leave(c);
	relay_src_text(c, src);
	if (c->counted_src)
		counts_dec(r->per_source, src);
	if (c->counted_user)
		counts_dec(r->per_user, c->user);
	if (c->hs)
		handshake_abort(c->hs);
	relay_pump_park_cancel(c);
	if (c->cli)
		bufferevent_free(c->cli);
	if (c->ssl) {
		int fd = SSL_get_fd(c->ssl);
		/* close_notify only when we end the session: a peer that left cannot read it. */
		if (c->state == RS_CLOSING)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		if (fd >= 0)
			evutil_closesocket(fd);
	}
	relay_up_close(c);
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

void
relay_up_close(struct relay_conn *c)
{
	if (c->up) {
		bufferevent_free(c->up);
		c->up = NULL;
	}
	if (c->up_fd >= 0) {
		evutil_closesocket(c->up_fd);
		c->up_fd = -1;
	}
}

void
relay_finish(struct relay_conn *c)
{
	if (c->park == RELAY_PARKED && !relay_pump_unpark(c)) {
		relay_conn_free(c, "out of memory");
		return;
	}
	relay_pump_park_cancel(c);
	if (!relay_transition(c, RS_CLOSING))
		return;
	relay_up_close(c);
	bufferevent_disable(c->cli, EV_READ);
	bufferevent_setcb(c->cli, NULL, relay_close_after_write, relay_client_event, c);
	bufferevent_set_timeouts(c->cli, NULL, &(struct timeval){ 5, 0 });
	relay_close_after_write(c->cli, c);
}

/* The event a refusal goes to: it follows from where the session was and the status. */
static const char *
relay_refusal_event(const struct relay_conn *c, int status)
{
	if (c->state == RS_CONNECTING && (status == 502 || status == 504))
		return "bridge_upstream_failed";
	if (status == 400 || status == 405 || status == 408 || status == 431)
		return "bridge_bad_request";
	if (c->state == RS_REQUEST && (status == 403 || status == 407))
		return "bridge_login";   /* the device or the credentials, before the auth process */
	return "bridge_denied";
}

/* What the client reads; the event has the precise reason. */
static const char *
relay_refusal_text(const struct relay_conn *c, int status, const char *reason)
{
	switch (status) {
	case 400: case 405: case 431: return "bad request";
	case 403: return c->state == RS_REQUEST ? "device certificate not accepted" : reason;
	case 407: return c->state == RS_REQUEST ?
	    "credentials required: user:password+OTP or user:token:TOKEN" : "authentication failed";
	case 502: return "destination refused the connection";
	case 504: return "destination did not answer";
	default: return reason;
	}
}

/*
 * Refuses the session: an event with the reason (none when reason is NULL: the auth
 * process has logged why), an HTTP error to the client, then the session closes.
 */
static void
relay_refuse(struct relay_conn *c, int status, const char *reason)
{
	struct evbuffer *out = bufferevent_get_output(c->cli);
	const char *text = relay_refusal_text(c, status, reason ? reason : "refused");
	const char *event = relay_refusal_event(c, status);

	if (reason) {
		relay_event_base(c, event);
		if (strcmp(event, "bridge_login") == 0)
			jb_str(&c->r->jb, "result", "failure");
		jb_str(&c->r->jb, "reason", reason);
		jb_int(&c->r->jb, "status", status);
		relay_event_emit(c->r);
	}
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status, http_reason(status));
	if (status == 407)
		evbuffer_add_printf(out, "Proxy-Authenticate: Basic realm=\"tiergate\"\r\n");
	evbuffer_add_printf(out, "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s\n", strlen(text) + 1, text);
	relay_finish(c);
}

void
relay_cut(struct relay_conn *c, const char *reason)
{
	relay_event_base(c, "bridge_denied");
	jb_str(&c->r->jb, "reason", reason);
	relay_event_emit(c->r);
	relay_conn_free(c, "cut: not a screen protocol");
}

static void
relay_session_expired(evutil_socket_t fd, short what, void *arg)
{
	struct relay_conn *c = arg;

	(void)fd;
	(void)what;
	/* the timer is the session limit or, when sooner, the device certificate's notAfter */
	relay_session_ended(c, tls_peer_seconds_left(c->ssl) < 0 ?
	    "device certificate expired" : "max session length");
	relay_finish(c);
}

static void
relay_start_session(struct relay_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->cli);
	struct timeval max = { (time_t)c->r->conf->max_session, 0 };
	long cert_left = tls_peer_seconds_left(c->ssl);

	if (cert_left < max.tv_sec - 1)   /* a second past notAfter: ASN.1 times are whole seconds */
		max.tv_sec = cert_left < 0 ? 0 : cert_left + 1;
	if (!relay_transition(c, RS_RELAY))
		return;
	if (!relay_timer_set(c, relay_session_expired, &max)) {
		relay_refuse(c, 503, "out of memory");   /* before the 200: the client learns why */
		return;
	}
	if (tls_send_ticket(c->ssl) < 0) {
		tls_log_errors("session ticket");   /* the session goes on; a reconnect is a full handshake */
		ERR_clear_error();
	}
	evbuffer_add_printf(out, "HTTP/1.1 200 %s\r\n", http_reason(200));
	if (c->token && c->token[0] && c->token_ttl)
		evbuffer_add_printf(out, "X-Tiergate-Token: %s\r\nX-Tiergate-Token-Lifetime: %u\r\n",
		    c->token, c->token_ttl);
	evbuffer_add_printf(out, "\r\n");
	free(c->token);
	c->token = NULL;
	c->start_us = clock_mono_us();
	relay_event_session(c, false, NULL);
	relay_pump_start(c);
}

static void
relay_up_event_connecting(struct bufferevent *bev, short what, void *arg)
{
	struct relay_conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		int one = 1;
		setsockopt(c->up_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		relay_start_session(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		relay_refuse(c, 504, "connect timed out");
	else
		relay_refuse(c, 502, "connect failed");
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
	if (!relay_transition(c, RS_CONNECTING))
		return;
	c->token = relay_strdup("token", res->token);
	c->token_ttl = res->token_ttl;
	relay_sockaddr(&t->addr, t->port, &ss, &sslen);
	c->up_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->up_fd < 0) {
		relay_refuse(c, 502, "connect failed");
		return;
	}
	c->up = bufferevent_socket_new(c->r->base, c->up_fd, 0);
	if (c->up == NULL || c->token == NULL) {
		relay_refuse(c, 503, "out of memory");
		return;
	}
	bufferevent_setcb(c->up, NULL, NULL, relay_up_event_connecting, c);
	bufferevent_set_timeouts(c->up, &tmo, &tmo);
	bufferevent_disable(c->cli, EV_READ);
	if (bufferevent_socket_connect(c->up, (struct sockaddr *)&ss, (int)sslen) < 0)
		relay_refuse(c, 502, "connect failed");
}

/* The auth process said yes: per-user limit, then check 4 (destination). */
static void
relay_authorized(struct relay_conn *c, const struct authres *res)
{
	struct relay *r = c->r;
	struct access_target target;
	const char *why = NULL;

	if (counts_get(r->per_user, c->user) >= r->conf->max_sessions_per_user) {
		relay_refuse(c, 429, "too many sessions for this user");
		return;
	}
	if (counts_inc(r->per_user, c->user) == 0) {
		relay_refuse(c, 503, "out of memory");
		return;
	}
	c->counted_user = true;
	if (access_check(r->conf, r->zones, &r->asps, c->user, c->req, &target, &why) < 0) {
		if (target.asp)
			c->asp_name = target.asp->name;
		relay_refuse(c, 403, why);
		return;
	}
	if (target.asp)
		c->asp_name = target.asp->name;
	c->screen_protocols = (uint8_t)target.protocols;
	relay_connect_upstream(c, &target, res);
}

/* The auth process revoked a user or a device: its open sessions end now, each with an event. */
static void
relay_end_sessions(struct relay *r, struct authend *end)
{
	struct relay_conn *c, *next;
	char why[96];

	end->user[sizeof end->user - 1] = '\0';
	end->fp[sizeof end->fp - 1] = '\0';
	end->reason[sizeof end->reason - 1] = '\0';
	snprintf(why, sizeof why, "revoked: %s", end->reason);
	for (c = r->sessions; c != NULL; c = next) {
		next = c->sess_next;
		if (end->kind == AUTHEND_USER ? strcmp(c->user, end->user) != 0 :
		    end->kind != AUTHEND_DEVICE || end->fp[0] == '\0' || strcmp(c->fp, end->fp) != 0)
			continue;
		relay_session_ended(c, why);
		relay_finish(c);   /* leaves RS_RELAY: off the list; next is still on it */
	}
}

/* A descriptor that came with a record (SCM_RIGHTS), or -1. */
static int
relay_auth_fd(struct msghdr *msg)
{
	int fd = -1;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int))) {
			if (fd >= 0)
				close(fd);
			memcpy(&fd, CMSG_DATA(cm), sizeof fd);
		}
	return fd;
}

/*
 * AUTHEND_REOPEN: the event file after rotation, opened by the auth process (this process
 * opens no file for writing). Only a regular file is taken (ev_sink_swap checks with fstat).
 */
static void
relay_events_reopened(struct relay *r, int fd)
{
	if (fd < 0) {
		log_warnx("event file reopened without its descriptor: ignored");
		return;
	}
	if (ev_sink_swap(r->events, fd) < 0)
		log_warnx("the reopened event file handed over is not a regular file: ignored");
}

static void
relay_auth_answer(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;
	union { struct authres res; struct authend end; } msg;
	union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
	struct iovec iov = { &msg, sizeof msg };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
		.msg_controllen = sizeof ctl.buf };
	struct authres res;
	struct relay_conn *c;
	ssize_t got;
	int passed;

	(void)what;
	got = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (got == 0) {
		log_warnx("auth process has gone; stopping");
		event_base_loopbreak(r->base);
		return;
	}
	passed = got > 0 ? relay_auth_fd(&mh) : -1;
	if (got == (ssize_t)sizeof msg.end && msg.end.id == AUTHEND_ID && msg.end.kind == AUTHEND_REOPEN) {
		relay_events_reopened(r, passed);
		return;
	}
	if (passed >= 0)
		close(passed);   /* only the reopened event file comes with a descriptor */
	if (got == (ssize_t)sizeof msg.end && msg.end.id == AUTHEND_ID) {
		if (msg.end.kind == AUTHEND_RELOAD)
			crl_watch_check(r->crl, true);
		else
			relay_end_sessions(r, &msg.end);
		return;
	}
	if (got != (ssize_t)sizeof res)
		return;
	memcpy(&res, &msg.res, sizeof res);
	c = r->pending[res.id % RELAY_PENDING];
	if (c == NULL || c->auth_id != res.id || c->state != RS_AUTH)
		return;   /* the client left while we waited */
	r->pending[res.id % RELAY_PENDING] = NULL;
	if (!res.ok) {
		/* Reason logged by the auth process; the client only learns "try again". */
		relay_refuse(c, 407, NULL);
		return;
	}
	relay_authorized(c, &res);
}

static void
relay_ask_auth(struct relay_conn *c)
{
	struct relay *r = c->r;
	struct authreq req;
	uint32_t id = ++r->next_id == AUTHEND_ID ? ++r->next_id : r->next_id;
	bool is_token = str_has_prefix(c->req->secret, "token:");

	if (r->pending[id % RELAY_PENDING] != NULL) {
		relay_refuse(c, 503, "too many logins in progress");
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
		relay_refuse(c, 503, "authentication service busy");
		return;
	}
	OPENSSL_cleanse(&req, sizeof req);
	if (!relay_transition(c, RS_AUTH))
		return;
	c->auth_id = id;
	r->pending[id % RELAY_PENDING] = c;
	relay_timer_set(c, NULL, NULL);
	bufferevent_disable(c->cli, EV_READ);
}

static int
relay_status_for(enum http_result hr)
{
	return hr == HTTP_NOT_CONNECT ? 405 : hr == HTTP_TOO_LARGE ? 431 : 400;
}

/* Takes the parsed request; false when the session was refused. */
static bool
relay_request_take(struct relay_conn *c, struct http_connect *req)
{
	char dest[HTTP_HOST_MAX + 16];

	c->req = req;
	snprintf(dest, sizeof dest, strchr(req->host, ':') ? "[%s]:%u" : "%s:%u", req->host, req->port);
	c->dest = relay_strdup("dest", dest);
	c->dst_port = req->port;
	if (c->dest == NULL) {
		relay_refuse(c, 503, "out of memory");
		return false;
	}
	/* Check 1 (the part TLS already did): a certificate, chain valid, not revoked. */
	if (c->r->conf->require_device && !c->cert_ok) {
		relay_refuse(c, 403, c->cert_why ? c->cert_why : "device certificate not accepted");
		return false;
	}
	if (!req->has_auth) {
		relay_refuse(c, 407, "no credentials");
		return false;
	}
	return true;
}

static void
relay_request(struct relay_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->cli);
	size_t len = evbuffer_get_length(in);
	size_t look = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
	const char *head = (const char *)evbuffer_pullup(in, (ev_ssize_t)look);
	struct http_connect *req = relay_calloc("request", sizeof *req);
	enum http_result hr;

	if (req == NULL) {
		relay_refuse(c, 503, "out of memory");
		return;
	}
	hr = http_parse_connect(head, look, req);
	if (hr == HTTP_INCOMPLETE) {
		free(req);
		return;
	}
	if (hr != HTTP_OK) {
		relay_refuse(c, relay_status_for(hr), req->why ? req->why : "bad request");
		free(req);
		return;
	}
	evbuffer_drain(in, req->head_len);
	if (!relay_request_take(c, req))
		return;
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
	relay_refuse(c, 408, "request timeout");
}

/* A connection refused before it is a session (limits, out of memory at accept): bridge_refused. */
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
	c->ssl = ssl;   /* the connection owns it and its socket now (relay_conn_free) */
	c->cli = bufferevent_openssl_socket_new(c->r->base, -1, ssl, BUFFEREVENT_SSL_OPEN, 0);
	if (c->cli == NULL) {
		relay_refuse_early(c->r, &c->src, c->src_port, "out of memory");
		relay_conn_free(c, "out of memory");
		return;
	}
	if (!relay_transition(c, RS_REQUEST))
		return;
	c->cert_ok = tls_peer_check(ssl, c->fp, &c->cert_why) == 0;
	/* A resumed session carries its first handshake's verify result: the current CRL decides. */
	if (c->cert_ok && crl_watch_refuses(c->r->crl, ssl, &c->cert_why))
		c->cert_ok = false;
	bufferevent_openssl_set_allow_dirty_shutdown(c->cli, 1);
	bufferevent_setcb(c->cli, relay_client_read, NULL, relay_client_event, c);
	if (!relay_timer_set(c, relay_phase_expired, &req_tmo)) {
		relay_refuse(c, 503, "out of memory");
		return;
	}
	bufferevent_enable(c->cli, EV_READ);
}

void
relay_client_event(struct bufferevent *bev, short what, void *arg)
{
	struct relay_conn *c = arg;

	if (c->state == RS_RELAY) {
		relay_pump_side_event(c, bev, what);
		return;
	}
	ERR_clear_error();
	relay_conn_free(c, c->state == RS_HANDSHAKE ? "handshake failed" : "client closed");
}

/*
 * Connection limits before any TLS work is spent on a peer. Handshakes in progress are
 * limited per address, and the last half_open_reserve slots go only to addresses that
 * hold none: a few addresses keeping silent connections open cannot take every slot.
 */
static const char *
relay_admit(struct relay *r, const struct addr *src)
{
	char text[ADDR_STRLEN];
	unsigned mine;

	addr_format(src, text);
	mine = counts_get(r->half_open_per_source, text);
	if (r->n_conns >= r->conf->max_conns)
		return "too many connections";
	if (counts_get(r->per_source, text) >= r->conf->max_conns_per_source)
		return "too many connections from this address";
	if (mine >= r->conf->max_half_open_per_source)
		return "too many TLS handshakes from this address";
	if (r->n_half_open >= r->conf->max_half_open)
		return "too many TLS handshakes in progress";
	if (mine > 0 && r->n_half_open >= r->conf->max_half_open - r->conf->half_open_reserve)
		return "handshake slots reserved for other addresses";
	return NULL;
}

/* Counts the connection against its source address; false: no memory for the count. */
static bool
relay_peer_count(struct relay_conn *c)
{
	char src[ADDR_STRLEN];

	relay_src_text(c, src);
	return counts_inc(c->r->per_source, src) > 0;
}

/* Counts the handshake against its source address; false: no memory for the count. */
static bool
relay_half_open_count(struct relay_conn *c)
{
	char src[ADDR_STRLEN];

	relay_src_text(c, src);
	return counts_inc(c->r->half_open_per_source, src) > 0;
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
	if ((c = relay_calloc("session", sizeof *c)) == NULL) {
		relay_refuse_early(r, &src, port, "out of memory");
		SSL_free(ssl);
		evutil_closesocket(fd);
		return;
	}
	c->r = r;
	c->up_fd = -1;
	c->src = src;
	c->src_port = port;
	c->state = RS_HANDSHAKE;
	r->n_conns++;
	r->n_half_open++;
	c->counted_src = relay_peer_count(c);
	c->counted_half_open = c->counted_src && relay_half_open_count(c);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	c->hs = handshake_start(r->base, ssl, fd, relay_handshake_done, c);
	if (c->hs == NULL) {
		SSL_free(ssl);
		evutil_closesocket(fd);
	}
	if (c->hs == NULL || !c->counted_half_open || !relay_timer_set(c, relay_phase_expired, &hs)) {
		relay_refuse_early(r, &src, port, "out of memory");
		relay_conn_free(c, "out of memory");
	}
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

/*
 * The scheduled ASP checks run on the root side (asp_sched.c), which alone writes the
 * state file: the relay only re-reads it when it changed (a stat every tick).
 */
static void
relay_asp_tick(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;

	(void)fd;
	(void)what;
	asp_state_refresh(&r->asps);
}

static void
relay_on_child(evutil_socket_t sig, short what, void *arg)
{
	struct relay *r = arg;
	pid_t pid;

	(void)sig;
	(void)what;
	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		continue;
	asp_state_refresh(&r->asps);
}

static void
relay_crl_tick(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;

	(void)fd;
	(void)what;
	crl_watch_check(r->crl, false);
}

static int
relay_setup_events(struct relay *r, bool run_asp_checks)
{
	struct timeval every = { (time_t)(r->conf->asp_check_interval < 2 ? 1 : 2), 0 };

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
	if (r->crl != NULL) {
		r->crl_timer = event_new(r->base, -1, EV_PERSIST, relay_crl_tick, r);
		if (r->crl_timer == NULL)
			return -1;
		event_add(r->crl_timer, &(struct timeval){ 1, 0 });
		crl_watch_check(r->crl, false);   /* an expired CRL is said at start */
	}
	event_add(r->sigterm_ev, NULL);
	event_add(r->sigint_ev, NULL);
	event_add(r->sigchld_ev, NULL);
	if (relay_test_events(r) < 0)
		return -1;
	(void)run_asp_checks;
	if (r->conf->n_asps) {
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
	if (r->crl_timer)
		event_free(r->crl_timer);
	crl_watch_free(r->crl);
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
	if (r->test_ev)
		event_free(r->test_ev);
	counts_free(r->per_source);
	counts_free(r->per_user);
	counts_free(r->half_open_per_source);
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
	r.crl = crl_watch_new(ctx, conf, events);
	r.per_source = counts_new();
	r.per_user = counts_new();
	r.half_open_per_source = counts_new();
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
	if (r.base == NULL || r.per_source == NULL || r.per_user == NULL || r.half_open_per_source == NULL || handshake_init(KEYPROC_MAX_PENDING) < 0 ||
	    relay_setup_events(&r, run_asp_checks) < 0)
		rc = 1;
	else {
		evutil_make_socket_nonblocking(listen_fd);
		r.listener = evconnlistener_new(r.base, relay_accept, &r,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1, listen_fd);
		if (r.listener == NULL || relay_sandbox_enter(conf, events, &r.jb) < 0)
			rc = 1;
		else {
			relay_test_sandbox_probe(&r);
			event_base_dispatch(r.base);
		}
	}
	relay_teardown(&r);
	return rc;
}

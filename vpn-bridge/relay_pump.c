/* relay_pump.c -- the byte pump of an established session: TLS client <-> destination socket, bounded buffers. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/ssl.h>
#include <sys/uio.h>

#include "lib/util.h"
#include "vpn-bridge/relay_int.h"
#include "vpn-bridge/screenproto.h"

/* Chains of this size stay under glibc's mmap threshold: no page faults per read. */
#define RELAY_PUMP_READ_CHUNK 32768

static void relay_pump_park_soon(struct relay_conn *c);
static void relay_pump_setup(struct relay_conn *c);

/* Activity on either side keeps the session alive; the idle timer is the read timeout. */
static void
relay_pump_touch(struct relay_conn *c)
{
	c->last_io_us = clock_mono_us();
}

/* Stops reading from until the slow side (to) drains to half the high-water mark. */
static void
relay_pump_throttle(struct bufferevent *from, struct bufferevent *to)
{
	if (evbuffer_get_length(bufferevent_get_output(to)) < RELAY_HIGH_WATER)
		return;
	bufferevent_disable(from, EV_READ);
	bufferevent_setwatermark(to, EV_WRITE, RELAY_HIGH_WATER / 2, 0);
}

static void
relay_pump_move(struct relay_conn *c, struct bufferevent *from, struct bufferevent *to, uint64_t *counter)
{
	struct evbuffer *in = bufferevent_get_input(from), *out = bufferevent_get_output(to);

	*counter += evbuffer_get_length(in);
	evbuffer_add_buffer(out, in);
	relay_pump_touch(c);
	relay_pump_throttle(from, to);
}

/*
 * Idle sessions hold no TLS record buffer (issue 14.7). SSL_MODE_RELEASE_BUFFERS frees
 * the write buffer after each complete write, but not after the write that also carries
 * the ticket asked for at the 200 (tls_send_ticket): a tunnel idle from its 200 on kept
 * 16.7 KB for good. Once neither direction has anything queued the buffers go;
 * SSL_free_buffers keeps what still holds bytes (a partial record). Called when a side's
 * output drains, so a busy session frees and allocates them no more often than
 * RELEASE_BUFFERS does anyway.
 */
static void
relay_pump_trim(struct relay_conn *c)
{
	if (c->up == NULL || evbuffer_get_length(bufferevent_get_output(c->cli)) != 0 ||
	    evbuffer_get_length(bufferevent_get_output(c->up)) != 0)
		return;
	(void)SSL_free_buffers(c->ssl);
	relay_pump_park_soon(c);
}

/*
 * Parking (issue 14.7). An idle session's two bufferevents (the TLS one, the socket one,
 * their four evbuffers: 1.9 KB) are the biggest thing it holds besides OpenSSL's state.
 * Once nothing is queued or buffered on either side they are freed and two plain read
 * events (in the connection) wait instead; whichever side becomes readable, or the idle
 * timeout, gets the bufferevents back. The parking itself runs on the next turn of the
 * loop, never inside a bufferevent's callback: libevent may still read into a
 * bufferevent after its write callback returns.
 */
static bool
relay_pump_parkable(struct relay_conn *c)
{
	return c->state == RS_RELAY && c->cli && c->up && c->ssl && SSL_has_pending(c->ssl) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(c->cli)) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(c->up)) == 0 &&
	    evbuffer_get_length(bufferevent_get_input(c->cli)) == 0 &&
	    evbuffer_get_length(bufferevent_get_input(c->up)) == 0 &&
	    (bufferevent_get_enabled(c->cli) & EV_READ) && (bufferevent_get_enabled(c->up) & EV_READ);
}

/* The idle timeout's time left (at least 1 ms), counted from the last byte either way. */
static struct timeval
relay_pump_idle_left(const struct relay_conn *c)
{
	uint64_t idle_us = (uint64_t)c->r->conf->idle_timeout * 1000000;
	uint64_t quiet_us = clock_mono_us() - c->last_io_us;
	uint64_t left_us = quiet_us + 1000 >= idle_us ? 1000 : idle_us - quiet_us;

	return (struct timeval){ (time_t)(left_us / 1000000), (suseconds_t)(left_us % 1000000) };
}

static void
relay_pump_parked_wake(evutil_socket_t fd, short what, void *arg)
{
	struct relay_conn *c = arg;

	(void)fd;
	if (!relay_pump_unpark(c)) {
		relay_conn_free(c, "out of memory");
		return;
	}
	/* readable: the bufferevents read on the next turn; a timeout is theirs to judge */
	if (what & EV_TIMEOUT)
		relay_pump_side_event(c, c->cli, BEV_EVENT_TIMEOUT | BEV_EVENT_READING);
}

static void
relay_pump_park(evutil_socket_t unused, short what, void *arg)
{
	struct relay_conn *c = arg;
	struct timeval idle_left;

	(void)unused;
	(void)what;
	c->park = RELAY_PARK_NONE;
	if (!relay_pump_parkable(c))
		return;
	bufferevent_free(c->cli);
	bufferevent_free(c->up);
	c->cli = c->up = NULL;
	idle_left = relay_pump_idle_left(c);
	event_assign(&c->park_cli, c->r->base, SSL_get_fd(c->ssl), EV_READ, relay_pump_parked_wake, c);
	event_assign(&c->park_up, c->r->base, c->up_fd, EV_READ, relay_pump_parked_wake, c);
	c->park = RELAY_PARKED;
	if (event_add(&c->park_cli, &idle_left) < 0 || event_add(&c->park_up, NULL) < 0)
		relay_pump_parked_wake(-1, EV_READ, c);   /* cannot wait parked: carry on as before */
}

static void
relay_pump_park_soon(struct relay_conn *c)
{
	if (c->park != RELAY_PARK_NONE || !relay_pump_parkable(c))
		return;
	event_assign(&c->park_cli, c->r->base, -1, 0, relay_pump_park, c);
	event_active(&c->park_cli, EV_TIMEOUT, 0);
	c->park = RELAY_PARK_SOON;
}

void
relay_pump_park_cancel(struct relay_conn *c)
{
	if (c->park == RELAY_PARK_NONE)
		return;
	event_del(&c->park_cli);
	if (c->park == RELAY_PARKED)
		event_del(&c->park_up);
	c->park = RELAY_PARK_NONE;
}

/* A side's output drained (below half the high-water mark, or empty): the other side reads again. */
static void
relay_pump_drained(struct bufferevent *bev, void *arg)
{
	struct relay_conn *c = arg;
	struct bufferevent *other = bev == c->cli ? c->up : c->cli;

	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	bufferevent_enable(other, EV_READ);
	relay_pump_trim(c);
}

/*
 * libevent 2.1 reads at most 4 KB per wake-up (EVBUFFER_MAX_READ): a download
 * would cost a readv, an ioctl, an epoll_wait and a 4 KB TLS record per 4 KB.
 * So what the socket holds is read here, straight into the client's output,
 * up to the high-water mark. Returns 0, or the bufferevent flags of EOF/error.
 */
static short
relay_pump_up_drain(struct relay_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->cli);
	int fd = c->up_fd;

	while (evbuffer_get_length(out) < RELAY_HIGH_WATER) {
		struct evbuffer_iovec v[2];
		int n = evbuffer_reserve_space(out, RELAY_PUMP_READ_CHUNK, v, 2);
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
		if (got < RELAY_PUMP_READ_CHUNK)
			break;   /* the socket is (almost surely) empty: no extra EAGAIN round */
	}
	return 0;
}

static void
relay_pump_up_read(struct bufferevent *bev, void *arg)
{
	struct relay_conn *c = arg;
	short end;

	relay_pump_move(c, bev, c->cli, &c->bytes_down);
	end = relay_pump_up_drain(c);
	if (end) {
		relay_pump_side_event(c, bev, end);
		return;
	}
	relay_pump_throttle(bev, c->cli);
}

/*
 * A telework tunnel carries a screen protocol (issue 21): nothing the client sends goes on
 * until its first bytes are RDP's or VNC's (as the grant lists). What the server sends is
 * not held (an RFB server speaks first). False: not yet (or cut: c is gone).
 */
static bool
relay_pump_screen_check(struct relay_conn *c, struct bufferevent *bev)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n = evbuffer_get_length(in);
	const uint8_t *first;
	char why[160];

	if (n > SCREENPROTO_NEED)
		n = SCREENPROTO_NEED;
	if ((first = evbuffer_pullup(in, (ev_ssize_t)n)) == NULL) {
		relay_cut(c, "out of memory");
		return false;
	}
	switch (screenproto_sniff(c->screen_protocols, first, n, why, sizeof why)) {
	case SCREENPROTO_PASS:
		c->screen_protocols = 0;
		return true;
	case SCREENPROTO_CUT:
		relay_cut(c, why);
		return false;
	default:
		return false;   /* a prefix of one: wait for more (the idle timeout bounds it) */
	}
}

static void
relay_pump_cli_read(struct bufferevent *bev, void *arg)
{
	struct relay_conn *c = arg;

	if (c->screen_protocols && !relay_pump_screen_check(c, bev))
		return;
	relay_pump_move(c, bev, c->up, &c->bytes_up);
}

/* A read timeout: idle only if neither side moved for idle_timeout. */
static bool
relay_pump_still_busy(struct relay_conn *c, struct bufferevent *bev)
{
	uint64_t idle_us = (uint64_t)c->r->conf->idle_timeout * 1000000;

	if (clock_mono_us() - c->last_io_us >= idle_us)
		return false;
	bufferevent_enable(bev, EV_READ);
	return true;
}

/* The client has gone; what it sent before going is delivered, then everything closes. */
static void
relay_pump_up_flushed(struct bufferevent *bev, void *arg)
{
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		relay_conn_free(arg, "client closed");
}

static void
relay_pump_up_flush_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	relay_conn_free(arg, "client closed");
}

static const char *
relay_pump_end_reason(const struct relay_conn *c, const struct bufferevent *bev, short what)
{
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING))
		return "idle timeout";
	if (what & BEV_EVENT_ERROR)
		return bev == c->cli ? "client error" : "server error";
	return bev == c->cli ? "client closed" : "server closed";
}

void
relay_pump_side_event(struct relay_conn *c, struct bufferevent *bev, short what)
{
	const char *reason;

	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && relay_pump_still_busy(c, bev))
		return;
	reason = relay_pump_end_reason(c, bev, what);
	if (bev == c->cli && c->up && evbuffer_get_length(bufferevent_get_output(c->up)) > 0) {
		relay_session_ended(c, reason);
		if (!relay_transition(c, RS_CLOSING))
			return;
		bufferevent_disable(c->cli, EV_READ);
		bufferevent_disable(c->up, EV_READ);
		bufferevent_setcb(c->up, NULL, relay_pump_up_flushed, relay_pump_up_flush_event, c);
		return;
	}
	if (bev == c->up && c->state == RS_RELAY) {
		relay_pump_move(c, c->up, c->cli, &c->bytes_down);
		relay_session_ended(c, reason);
		relay_finish(c);
		return;
	}
	relay_conn_free(c, reason);
}

static void
relay_pump_up_event(struct bufferevent *bev, short what, void *arg)
{
	relay_pump_side_event(arg, bev, what);
}

/* Callbacks, idle timeouts and read/write sizes of an established session's bufferevents. */
static void
relay_pump_setup(struct relay_conn *c)
{
	struct timeval idle = { (time_t)c->r->conf->idle_timeout, 0 };

	bufferevent_setcb(c->cli, relay_pump_cli_read, relay_pump_drained, relay_client_event, c);
	bufferevent_setcb(c->up, relay_pump_up_read, relay_pump_drained, relay_pump_up_event, c);
	bufferevent_set_timeouts(c->cli, &idle, NULL);
	bufferevent_set_timeouts(c->up, &idle, NULL);
	/* Bulk transfers: full 16 KB TLS records and fewer wake-ups per megabyte. */
	bufferevent_set_max_single_read(c->up, RELAY_HIGH_WATER / 4);
	bufferevent_set_max_single_write(c->cli, RELAY_HIGH_WATER / 4);
	bufferevent_set_max_single_read(c->cli, RELAY_HIGH_WATER / 4);
	bufferevent_set_max_single_write(c->up, RELAY_HIGH_WATER / 4);
	bufferevent_enable(c->cli, EV_READ);
	bufferevent_enable(c->up, EV_READ);
}

bool
relay_pump_unpark(struct relay_conn *c)
{
	relay_pump_park_cancel(c);
	if (c->cli == NULL)
		c->cli = bufferevent_openssl_socket_new(c->r->base, -1, c->ssl, BUFFEREVENT_SSL_OPEN, 0);
	if (c->up == NULL && c->cli != NULL)
		c->up = bufferevent_socket_new(c->r->base, c->up_fd, 0);
	if (c->cli == NULL || c->up == NULL)
		return false;
	bufferevent_openssl_set_allow_dirty_shutdown(c->cli, 1);
	relay_pump_setup(c);
	return true;
}

void
relay_pump_start(struct relay_conn *c)
{
	relay_pump_touch(c);
	relay_pump_setup(c);
	if (evbuffer_get_length(bufferevent_get_input(c->cli)) > 0)
		relay_pump_cli_read(c->cli, c);   /* bytes the client sent right after its request */
}

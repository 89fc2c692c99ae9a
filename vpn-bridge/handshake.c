/* handshake.c -- the server TLS handshake on the relay's event loop; a pending signature pauses only its own handshake. */
#include "vpn-bridge/handshake.h"

#include <event2/event_struct.h>   /* the two events live inside struct handshake */
#include <openssl/async.h>
#include <openssl/err.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <unistd.h>

#include "lib/log.h"
#include "vpn-bridge/keyproc.h"

/*
 * libevent's bufferevent_openssl takes SSL_ERROR_WANT_ASYNC for an error, so the
 * handshake runs here and the bufferevent gets the connection once it is established.
 * SSL_MODE_ASYNC is cleared then: reads and writes never sign, and starting a job for
 * each of them would only cost.
 */
struct handshake {
	SSL *ssl;
	evutil_socket_t fd;
	struct event_base *base;
	struct event io;              /* the socket, for what the handshake wants next */
	struct event job;             /* the paused job's wait fd */
	bool queued;                  /* waiting for a free async job */
	bool woken;                   /* taken from that queue to try again */
	TAILQ_ENTRY(handshake) next;
	handshake_done_fn done;
	void *arg;
};

static TAILQ_HEAD(, handshake) handshake_queue = TAILQ_HEAD_INITIALIZER(handshake_queue);

int
handshake_init(size_t max_jobs)
{
	return ASYNC_init_thread(max_jobs, 0) == 1 ? 0 : -1;
}

static void handshake_step(struct handshake *hs);

static void
handshake_on_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	handshake_step(arg);
}

/* A job may be back in the pool: the first handshake waiting for one tries again. */
static void
handshake_job_freed(void)
{
	struct handshake *hs = TAILQ_FIRST(&handshake_queue);

	if (hs == NULL)
		return;
	TAILQ_REMOVE(&handshake_queue, hs, next);
	hs->queued = false;
	hs->woken = true;
	event_active(&hs->io, EV_READ, 0);
}

/*
 * A job still paused inside SSL_do_handshake must run to its end before SSL_free:
 * OpenSSL would lose it (and its stack) for good, and once the pool's limit is
 * reached no handshake could start again. Its signature is failed, so it ends at once.
 * Returns false when it could not be ended (a wait fd that is not the key process's).
 */
static bool
handshake_end_job(struct handshake *hs)
{
	OSSL_ASYNC_FD fds[4];
	size_t n = 0;

	if (!SSL_waiting_for_async(hs->ssl))
		return true;
	if (SSL_get_all_async_fds(hs->ssl, NULL, &n) == 1 && n <= 4 &&
	    SSL_get_all_async_fds(hs->ssl, fds, &n) == 1)
		for (size_t i = 0; i < n; i++)
			keyproc_cancel(fds[i]);
	SSL_do_handshake(hs->ssl);
	if (SSL_waiting_for_async(hs->ssl))
		return false;
	handshake_job_freed();
	return true;
}

/* Frees hs; its SSL too (and closes the socket) unless it was handed on. */
static void
handshake_release(struct handshake *hs)
{
	event_del(&hs->io);
	event_del(&hs->job);
	if (hs->queued)
		TAILQ_REMOVE(&handshake_queue, hs, next);
	if (hs->woken)
		handshake_job_freed();   /* its turn for a job passes on */
	if (hs->ssl) {
		if (handshake_end_job(hs))
			SSL_free(hs->ssl);
		else
			log_warnx("a TLS handshake paused on a foreign wait fd: its memory is left allocated");
		ERR_clear_error();
		close(hs->fd);
	}
	free(hs);
}

static void
handshake_end(struct handshake *hs, bool ok)
{
	handshake_done_fn done = hs->done;
	void *arg = hs->arg;
	SSL *ssl = ok ? hs->ssl : NULL;

	if (ok) {
		SSL_clear_mode(ssl, SSL_MODE_ASYNC);
		hs->ssl = NULL;
	}
	handshake_release(hs);
	done(ssl, arg);
}

static int
handshake_watch(struct handshake *hs, struct event *ev, evutil_socket_t fd, short what)
{
	event_del(ev);
	event_assign(ev, hs->base, fd, what, handshake_on_event, hs);
	return event_add(ev, NULL);
}

/* The paused job's one wait fd turns readable when its signature is answered or failed. */
static int
handshake_watch_job(struct handshake *hs)
{
	OSSL_ASYNC_FD fd;
	size_t n = 0;

	if (SSL_get_all_async_fds(hs->ssl, NULL, &n) != 1 || n != 1 ||
	    SSL_get_all_async_fds(hs->ssl, &fd, &n) != 1)
		return -1;
	return handshake_watch(hs, &hs->job, fd, EV_READ);
}

static void
handshake_step(struct handshake *hs)
{
	bool woken = hs->woken;
	int rc = SSL_do_handshake(hs->ssl);
	int err = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(hs->ssl, rc);

	hs->woken = false;
	/* This call holds no job now: one may be free (it ended a paused one, or took none). */
	if (err != SSL_ERROR_WANT_ASYNC && err != SSL_ERROR_WANT_ASYNC_JOB)
		handshake_job_freed();
	switch (err) {
	case SSL_ERROR_NONE:
		handshake_end(hs, true);
		return;
	case SSL_ERROR_WANT_READ:
		if (handshake_watch(hs, &hs->io, hs->fd, EV_READ) == 0)
			return;
		break;
	case SSL_ERROR_WANT_WRITE:
		if (handshake_watch(hs, &hs->io, hs->fd, EV_WRITE) == 0)
			return;
		break;
	case SSL_ERROR_WANT_ASYNC:
		if (handshake_watch_job(hs) == 0)
			return;
		break;
	case SSL_ERROR_WANT_ASYNC_JOB:
		hs->queued = true;
		if (woken)   /* it was first in line and still is */
			TAILQ_INSERT_HEAD(&handshake_queue, hs, next);
		else
			TAILQ_INSERT_TAIL(&handshake_queue, hs, next);
		return;
	default:
		break;
	}
	handshake_end(hs, false);
}

struct handshake *
handshake_start(struct event_base *base, SSL *ssl, evutil_socket_t fd, handshake_done_fn done,
    void *arg)
{
	struct handshake *hs;

	if (SSL_set_fd(ssl, (int)fd) != 1 || (hs = calloc(1, sizeof *hs)) == NULL)
		return NULL;
	hs->ssl = ssl;
	hs->fd = fd;
	hs->base = base;
	hs->done = done;
	hs->arg = arg;
	SSL_set_accept_state(ssl);
	event_assign(&hs->job, base, -1, 0, handshake_on_event, hs);
	event_assign(&hs->io, base, fd, EV_READ, handshake_on_event, hs);
	if (event_add(&hs->io, NULL) < 0) {
		free(hs);
		return NULL;
	}
	return hs;
}

void
handshake_abort(struct handshake *hs)
{
	handshake_release(hs);
}

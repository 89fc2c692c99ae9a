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
 *
 * One persistent event watches the socket and is changed only when the handshake wants
 * the other direction: a handshake costs two epoll_ctl calls, not two per step. A paused
 * handshake (signature pending, or waiting for a job) is "parked": it is resumed through
 * the same event (event_active) by OpenSSL's async callback or by a freed job, and a
 * socket that turns readable meanwhile is unwatched until then, so that bytes sent early
 * cannot spin the loop.
 */
struct handshake {
	SSL *ssl;
	evutil_socket_t fd;
	struct event_base *base;
	struct event io;              /* the socket; also the resumption of a parked handshake */
	short watching;               /* EV_READ or EV_WRITE while io is added; 0 when not */
	bool parked;                  /* paused in its job, or waiting for one */
	bool wake;                    /* a parked handshake may go on: its next io run steps it */
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
	struct handshake *hs = arg;

	(void)fd;
	(void)what;
	if (hs->parked && !hs->wake) {
		event_del(&hs->io);   /* the socket, while the handshake cannot use it */
		hs->watching = 0;
		return;
	}
	handshake_step(hs);
}

/* A parked handshake goes on at the loop's next turn. */
static void
handshake_resume(struct handshake *hs)
{
	hs->wake = true;
	event_active(&hs->io, EV_READ, 0);
}

/* OpenSSL's async callback: the key process answered (or the signature failed). */
static int
handshake_async_ready(SSL *ssl, void *arg)
{
	(void)ssl;
	handshake_resume(arg);
	return 1;
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
	handshake_resume(hs);
}

/*
 * A job still paused inside SSL_do_handshake must run to its end before SSL_free:
 * OpenSSL would lose it (and its stack) for good, and once the pool's limit is
 * reached no handshake could start again. Its signature is failed, so it ends at once.
 * Returns false when it could not be ended (a pause that is not the key process's).
 */
static bool
handshake_end_job(struct handshake *hs)
{
	if (!SSL_waiting_for_async(hs->ssl))
		return true;
	keyproc_cancel(hs->ssl);
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
	if (hs->ssl && !handshake_end_job(hs)) {
		log_warnx("a TLS handshake paused outside the key process: its memory is left allocated");
		hs->ssl = NULL;
		close(hs->fd);
	}
	event_del(&hs->io);   /* after the job: ending it must not leave io active */
	if (hs->queued)
		TAILQ_REMOVE(&handshake_queue, hs, next);
	if (hs->woken)
		handshake_job_freed();   /* its turn for a job passes on */
	if (hs->ssl) {
		SSL_free(hs->ssl);
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

/* Watches the socket for what (EV_READ or EV_WRITE); no system call when it already does. */
static int
handshake_watch(struct handshake *hs, short what)
{
	if (hs->watching == what)
		return 0;
	event_del(&hs->io);
	event_assign(&hs->io, hs->base, hs->fd, what | EV_PERSIST, handshake_on_event, hs);
	if (event_add(&hs->io, NULL) < 0) {
		hs->watching = 0;
		return -1;
	}
	hs->watching = what;
	return 0;
}

static void
handshake_step(struct handshake *hs)
{
	bool woken = hs->woken;
	int rc, err;

	if (hs->queued) {   /* it asks for a job again now: in line once at most */
		TAILQ_REMOVE(&handshake_queue, hs, next);
		hs->queued = false;
	}
	rc = SSL_do_handshake(hs->ssl);
	err = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(hs->ssl, rc);
	hs->woken = hs->parked = hs->wake = false;
	/* This call holds no job now: one may be free (it ended a paused one, or took none). */
	if (err != SSL_ERROR_WANT_ASYNC && err != SSL_ERROR_WANT_ASYNC_JOB)
		handshake_job_freed();
	switch (err) {
	case SSL_ERROR_NONE:
		handshake_end(hs, true);
		return;
	case SSL_ERROR_WANT_READ:
		if (handshake_watch(hs, EV_READ) == 0)
			return;
		break;
	case SSL_ERROR_WANT_WRITE:
		if (handshake_watch(hs, EV_WRITE) == 0)
			return;
		break;
	case SSL_ERROR_WANT_ASYNC:
		hs->parked = true;   /* handshake_async_ready resumes it */
		return;
	case SSL_ERROR_WANT_ASYNC_JOB:
		hs->parked = hs->queued = true;
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
	/* Before the first job starts: OpenSSL hands the callback to the job's wait context then. */
	event_assign(&hs->io, base, fd, EV_READ | EV_PERSIST, handshake_on_event, hs);
	if (SSL_set_async_callback(ssl, handshake_async_ready) != 1 ||
	    SSL_set_async_callback_arg(ssl, hs) != 1 || event_add(&hs->io, NULL) < 0) {
		free(hs);
		return NULL;
	}
	hs->watching = EV_READ;
	SSL_set_accept_state(ssl);
	return hs;
}

void
handshake_abort(struct handshake *hs)
{
	handshake_release(hs);
}

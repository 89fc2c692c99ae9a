/* handshake.h -- the server TLS handshake on the relay's event loop, with signatures that do not stop the loop. */
#ifndef TIERGATE_BRIDGE_HANDSHAKE_H
#define TIERGATE_BRIDGE_HANDSHAKE_H

#include <event2/event.h>
#include <openssl/ssl.h>
#include <stddef.h>

struct handshake;

/* ssl: the established connection (now the caller's, with the socket), or NULL: failed and closed. */
typedef void (*handshake_done_fn)(SSL *ssl, void *arg);

/*
 * At most max_jobs handshakes wait for a signature at once (OpenSSL's async job pool
 * of this thread); the others wait for a job. Returns 0 or -1.
 */
int handshake_init(size_t max_jobs);
/*
 * Runs the server side of ssl's handshake on fd (non-blocking). With SSL_MODE_ASYNC a
 * handshake whose signature is pending in the key process pauses and is resumed when
 * OpenSSL's async callback says the signature is in (ssl's async callback is taken for
 * that). done runs once, from the loop. NULL: not started (the caller still owns ssl
 * and fd).
 */
struct handshake *handshake_start(struct event_base *base, SSL *ssl, evutil_socket_t fd,
    handshake_done_fn done, void *arg);
/* Ends it without calling done: a paused job is finished first, then ssl is freed and fd closed. */
void handshake_abort(struct handshake *hs);

#endif

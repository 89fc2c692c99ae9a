/* keyproc.h -- the TLS key process (relayd's "ca"): the server's private keys never enter a relay. */
#ifndef TIERGATE_BRIDGE_KEYPROC_H
#define TIERGATE_BRIDGE_KEYPROC_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vpn-bridge/config.h"
#include "vpn-bridge/keyproc_policy.h"

#define KEYPROC_MAX 1024   /* RSA up to 8192 bits */

/*
 * The wire between a relay and its key process (SOCK_SEQPACKET: both messages travel
 * with only len bytes of data). op is an enum keyproc_op; the key process signs only
 * what keyproc_policy_allows and answers len -1 to anything else.
 */
struct keyproc_req {
	uint32_t id;              /* echoed: answers find their caller by it */
	uint8_t key, op;
	uint16_t len;
	int32_t padding;
	uint8_t data[KEYPROC_MAX];
};

struct keyproc_res {
	uint32_t id;
	int32_t len;              /* -1: refused */
	uint8_t data[KEYPROC_MAX];
};

#define KEYPROC_REQ_HEAD offsetof(struct keyproc_req, data)
#define KEYPROC_RES_HEAD offsetof(struct keyproc_res, data)

/*
 * Forks one key process per relay: each loads bridge.certificates' keys, drops to
 * bridge.user (not dumpable) and signs for its relay only, over a socketpair whose
 * relay end is returned in relay_fds[i] (its pid in pids[i]). One process per relay
 * lets each share its relay's CPU (bridge.cpu_affinity): a signature is then a switch
 * on one core, not a wake-up of another. Returns 0, or -1 when a key does not load
 * (none is left running then).
 */
int keyproc_start(const struct bridge_conf *conf, unsigned n_relays, int *relay_fds, pid_t *pids);
/*
 * In a relay: installs on ctx a stand-in private key for the certificate just
 * loaded (index = its position in bridge.certificates) whose signatures are
 * made by the key process over fd. Returns 0 or -1.
 */
int keyproc_use_remote_key(SSL_CTX *ctx, int fd, unsigned index);
/*
 * Signatures one relay may have waiting in the key process at once (at most 256). The
 * relay sizes its OpenSSL async job pool to this: a handshake waiting for its signature
 * holds a job, and further handshakes wait for a free one.
 */
#define KEYPROC_MAX_PENDING 128

/*
 * The relay's connection to the key process (-1 when none). Its loop watches it and
 * calls keyproc_relay_read when readable: the answers are handed to the paused
 * handshakes (through their SSL's async callback). Returns -1 when the key process
 * has gone: every waiting handshake has then been failed, and the relay should stop.
 */
int keyproc_relay_fd(void);
int keyproc_relay_read(void);
/* Fails the signatures not answered within 2 s of now_us (clock_mono_us). */
void keyproc_relay_expire(uint64_t now_us);
/* Signatures sent and not answered yet. */
unsigned keyproc_pending(void);
/*
 * A handshake that is closed while its job waits: its signature fails now, without a
 * wake-up (a late answer is dropped), so resuming the job finishes it. waiter is the
 * argument its wait context's callback gets: for an SSL with an async callback, OpenSSL
 * passes the SSL itself (ssl_lib.c, ssl_async_wait_ctx_cb). Returns -1 when no signature
 * of that waiter is pending.
 */
int keyproc_cancel(const void *waiter);

#endif

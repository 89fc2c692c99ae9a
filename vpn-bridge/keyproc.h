/* keyproc.h -- the TLS key process (relayd's "ca"): the server's private keys never enter a relay. */
#ifndef TIERGATE_BRIDGE_KEYPROC_H
#define TIERGATE_BRIDGE_KEYPROC_H

#include <openssl/ssl.h>
#include <sys/types.h>

#include "vpn-bridge/config.h"

/*
 * Forks the key process: it loads bridge.certificates' keys, drops to
 * bridge.user (not dumpable) and signs for the relays on fds (one socketpair
 * end per relay; the other ends are returned in relay_fds). Returns its pid,
 * or -1 when a key does not load.
 */
pid_t keyproc_start(const struct bridge_conf *conf, unsigned n_relays, int *relay_fds);
/*
 * In a relay: installs on ctx a stand-in private key for the certificate just
 * loaded (index = its position in bridge.certificates) whose signatures are
 * made by the key process over fd. Returns 0 or -1.
 */
int keyproc_use_remote_key(SSL_CTX *ctx, int fd, unsigned index);
/* The relay's connection to the key process (-1 when none): its EOF means "stop". */
int keyproc_relay_fd(void);

#endif

/* crl.h -- the relay's device CRL: reloaded when its file changes (or on the parent's SIGHUP), checked again for resumed sessions. */
#ifndef TIERGATE_BRIDGE_CRL_H
#define TIERGATE_BRIDGE_CRL_H

#include <openssl/ssl.h>
#include <stdbool.h>

#include "lib/event.h"
#include "vpn-bridge/config.h"

struct crl_watch;

/* Watches conf->crl_file for ctx (already loaded by tls_server_ctx); NULL when there is no CRL. */
struct crl_watch *crl_watch_new(SSL_CTX *ctx, const struct bridge_conf *conf, struct ev_sink *events);
void crl_watch_free(struct crl_watch *w);
/*
 * Re-reads the CRL when its file changed (or always, when force): a new verify store with the
 * CA and the new CRL replaces the context's, so new handshakes see it. A file that does not
 * load keeps the last good CRL (logged). Past nextUpdate it logs and writes an event (once an
 * hour) and follows bridge.crl_expired.
 */
void crl_watch_check(struct crl_watch *w, bool force);
/*
 * For a session whose chain verified (at its handshake, maybe long ago: a resumed session
 * carries that result): true with *why when the current CRL revokes its certificate, or
 * when the CRL has expired and crl_expired = "refuse".
 */
bool crl_watch_refuses(struct crl_watch *w, SSL *ssl, const char **why);

#endif

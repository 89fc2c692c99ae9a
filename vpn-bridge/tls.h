/* tls.h -- the bridge's one server SSL_CTX (TLS 1.2/1.3, ECDSA+RSA, client CA, CRL) and peer checks. */
#ifndef TIERGATE_BRIDGE_TLS_H
#define TIERGATE_BRIDGE_TLS_H

#include <openssl/ssl.h>

#include "vpn-bridge/config.h"

/*
 * Builds the context from conf; NULL after logging every OpenSSL error.
 * keyfd >= 0: a relay's context, whose keys are stand-ins signing through the
 * key process on keyfd; -1: the key files are read here (configuration check).
 */
SSL_CTX *tls_server_ctx(const struct bridge_conf *conf, int keyfd);
/*
 * Session tickets: the keys they are sealed with are made before the relays are
 * forked (tls_ticket_keys_new), so that a ticket from one relay resumes on
 * another, and forgotten by the parent afterwards. A relay's context uses them;
 * without them each context has OpenSSL's own random keys.
 */
void tls_ticket_keys_new(void);
void tls_ticket_keys_forget(void);
/*
 * A TLS 1.3 session that has passed every check (device, user, destination)
 * gets its one resumption ticket now, with the next bytes written: no ticket is
 * made for a handshake that never logs in. 0, or -1 when OpenSSL refused.
 */
int tls_send_ticket(SSL *ssl);
/*
 * After the handshake: the client's certificate fingerprint into fp ("" when
 * none) and, when the chain or CRL check failed, the reason in *why.
 * Returns 0 when a certificate is present and verified.
 */
int tls_peer_check(SSL *ssl, char fp[BRIDGE_FP_HEX], const char **why);
/*
 * Seconds until the client certificate's notAfter (an open session must end then):
 * LONG_MAX without a certificate, negative once it has passed or when unreadable.
 */
long tls_peer_seconds_left(SSL *ssl);
/* SHA-256 of the DER certificate as hex. */
void tls_cert_fingerprint(X509 *cert, char fp[BRIDGE_FP_HEX]);
void tls_log_errors(const char *what);

#endif

/* tls.c -- server TLS setup: one SSL_CTX for every connection, chain + CRL checks kept for the audit log. */
#include "vpn-bridge/tls.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"
#include "vpn-bridge/keyproc.h"

/* Name (16), HMAC secret (32) and AES key (32) of the session ticket keys: OpenSSL's layout. */
static unsigned char tls_ticket_keys[80];
static bool tls_ticket_keys_set;

void
tls_log_errors(const char *what)
{
	unsigned long err;
	char buf[256];

	while ((err = ERR_get_error()) != 0) {
		ERR_error_string_n(err, buf, sizeof buf);
		log_warnx("%s: %s", what, buf);
	}
}

/*
 * The handshake is allowed to finish with a bad or missing client certificate:
 * the bridge then answers with an HTTP status and logs exactly why, instead of
 * a bare TLS alert nobody can read. Nothing is relayed before the checks.
 */
static bool tls_crl_expired_warn;

static int
tls_verify_keep_going(int preverify_ok, X509_STORE_CTX *ctx)
{
	/* crl_expired = "warn": an expired CRL still revokes, but does not refuse by itself. */
	if (!preverify_ok && tls_crl_expired_warn &&
	    X509_STORE_CTX_get_error(ctx) == X509_V_ERR_CRL_HAS_EXPIRED)
		X509_STORE_CTX_set_error(ctx, X509_V_OK);
	return 1;
}

static int
tls_load_crl(SSL_CTX *ctx, const char *path)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());

	if (lookup == NULL || X509_load_crl_file(lookup, path, X509_FILETYPE_PEM) <= 0) {
		tls_log_errors(path);
		return -1;
	}
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	return 0;
}

/* keyfd >= 0: the private keys stay in the key process; stand-ins sign through it. */
static int
tls_load_certs(SSL_CTX *ctx, const struct bridge_conf *conf, int keyfd)
{
	for (size_t i = 0; i < conf->n_certs; i++) {
		const struct bconf_cert *c = &conf->certs[i];
		if (SSL_CTX_use_certificate_chain_file(ctx, c->cert_file) != 1 ||
		    (keyfd < 0 ? SSL_CTX_use_PrivateKey_file(ctx, c->key_file, SSL_FILETYPE_PEM) != 1
		               : keyproc_use_remote_key(ctx, keyfd, (unsigned)i) < 0) ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			tls_log_errors(c->cert_file);
			return -1;
		}
	}
	return 0;
}

static int
tls_load_client_ca(SSL_CTX *ctx, const struct bridge_conf *conf)
{
	STACK_OF(X509_NAME) *names;

	if (SSL_CTX_load_verify_locations(ctx, conf->ca_file, NULL) != 1) {
		tls_log_errors(conf->ca_file);
		return -1;
	}
	names = SSL_load_client_CA_file(conf->ca_file);
	if (names)
		SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, tls_verify_keep_going);
	SSL_CTX_set_verify_depth(ctx, 4);
	tls_crl_expired_warn = conf->crl_expired_warn;
	if (conf->crl_file && tls_load_crl(ctx, conf->crl_file) < 0)
		return -1;
	return 0;
}

static int
tls_set_protocols(SSL_CTX *ctx, const struct bridge_conf *conf)
{
	char list[1024];

	if (SSL_CTX_set_min_proto_version(ctx, conf->tls_min) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, conf->tls_max) != 1)
		return -1;
	/*
	 * Never RSA key exchange: the key process refuses to decrypt (keyproc_policy.c), so
	 * such a suite could only fail its handshakes, and it has no forward secrecy.
	 */
	if ((size_t)snprintf(list, sizeof list, "%s:!kRSA", conf->ciphers ? conf->ciphers : "DEFAULT") >= sizeof list ||
	    SSL_CTX_set_cipher_list(ctx, list) != 1) {
		log_warnx("bridge.ciphers \"%s\" names no usable cipher (RSA key exchange is never offered)",
		    conf->ciphers ? conf->ciphers : "DEFAULT");
		return -1;
	}
	if (conf->ciphersuites && SSL_CTX_set_ciphersuites(ctx, conf->ciphersuites) != 1) {
		log_warnx("bridge.ciphersuites \"%s\" is not usable", conf->ciphersuites);
		return -1;
	}
	return 0;
}

/*
 * A certificate file that holds only the leaf would leave OpenSSL to build the chain
 * it sends from the verify store on every handshake (an X509_verify_cert with a
 * signature check each time, a fifth of the relay's handshake CPU). Build it once
 * here (errors ignored: a leaf from another CA is sent alone, as before); files that
 * carry their chain are sent as they are.
 *
 * The self-signed root is left out (RFC 8446 4.4.2 allows it): a client can only
 * verify the bridge with that root already in its own trust store, and an OpenSSL
 * client given the root anyway spends ~0.3 ms (measured) of each handshake on it.
 */
static void
tls_build_chains(SSL_CTX *ctx)
{
	int more = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST);

	for (; more == 1; more = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_NEXT)) {
		STACK_OF(X509) *chain = NULL;
		if (SSL_CTX_get0_chain_certs(ctx, &chain) == 1 && chain == NULL &&
		    SSL_CTX_build_cert_chain(ctx, SSL_BUILD_CHAIN_FLAG_IGNORE_ERROR |
		        SSL_BUILD_CHAIN_FLAG_CLEAR_ERROR | SSL_BUILD_CHAIN_FLAG_NO_ROOT) <= 0)
			ERR_clear_error();   /* not built: OpenSSL keeps chaining per handshake */
	}
	ERR_clear_error();
}

void
tls_ticket_keys_new(void)
{
	tls_ticket_keys_set = RAND_priv_bytes(tls_ticket_keys, sizeof tls_ticket_keys) == 1;
}

void
tls_ticket_keys_forget(void)
{
	OPENSSL_cleanse(tls_ticket_keys, sizeof tls_ticket_keys);
	tls_ticket_keys_set = false;
}

int
tls_send_ticket(SSL *ssl)
{
	if (SSL_version(ssl) != TLS1_3_VERSION)
		return 0;   /* TLS 1.2 sends its ticket within the handshake */
	return SSL_new_session_ticket(ssl) == 1 ? 0 : -1;
}

SSL_CTX *
tls_server_ctx(const struct bridge_conf *conf, int keyfd)
{
	static const unsigned char sid_ctx[] = "tiergate-bridge";
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL)
		return NULL;
	/* Idle sessions give their 34 KB of record buffers back: 10,000 idle staff cost little. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
	/*
	 * Resumption rides on stateless tickets; a server-side cache would cost memory
	 * and a lock per handshake for nothing. In TLS 1.3 none is sent with the
	 * handshake: the relay asks for one when the session is let through
	 * (tls_send_ticket), so scanners and failed logins get no resumption state and
	 * cost no ticket (about 7% of a handshake's instructions, measured). A ticket
	 * lives as long as a login token, at most the 7 days TLS 1.3 allows.
	 */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_timeout(ctx, conf->token_lifetime < 7 * 86400 ? (long)conf->token_lifetime : 7 * 86400);
	if (tls_ticket_keys_set &&
	    SSL_CTX_set_tlsext_ticket_keys(ctx, tls_ticket_keys, sizeof tls_ticket_keys) != 1)
		log_warnx("shared ticket keys not taken: each relay seals its own tickets");
	if (tls_set_protocols(ctx, conf) < 0 || tls_load_certs(ctx, conf, keyfd) < 0 ||
	    tls_load_client_ca(ctx, conf) < 0) {
		tls_log_errors("bridge TLS setup");
		SSL_CTX_free(ctx);
		return NULL;
	}
	tls_build_chains(ctx);
	/*
	 * Stand-in keys pause the handshake's job while the key process signs (keyproc.c);
	 * the relay resumes it when the answer is in (handshake.c).
	 */
	if (keyfd >= 0)
		SSL_CTX_set_mode(ctx, SSL_MODE_ASYNC);
	return ctx;
}

void
tls_cert_fingerprint(X509 *cert, char fp[BRIDGE_FP_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (X509_digest(cert, EVP_sha256(), md, &len) != 1 || len != 32) {
		fp[0] = '\0';
		return;
	}
	hex_encode(md, len, fp);
}

int
tls_peer_check(SSL *ssl, char fp[BRIDGE_FP_HEX], const char **why)
{
	X509 *cert = SSL_get1_peer_certificate(ssl);
	long result;

	fp[0] = '\0';
	if (cert == NULL) {
		*why = "no client certificate";
		return -1;
	}
	tls_cert_fingerprint(cert, fp);
	X509_free(cert);
	result = SSL_get_verify_result(ssl);
	if (result != X509_V_OK) {
		*why = X509_verify_cert_error_string(result);
		return -1;
	}
	/* A resumed session carries the verify result of a handshake made while it was valid. */
	if (tls_peer_seconds_left(ssl) < 0) {
		*why = "device certificate expired";
		return -1;
	}
	return 0;
}

long
tls_peer_seconds_left(SSL *ssl)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	int days = 0, secs = 0;

	if (cert == NULL)
		return LONG_MAX;
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert)) != 1)
		return -1;   /* unreadable: fail closed */
	if (days < 0 || secs < 0)
		return -1;
	return (long)days * 86400 + secs;
}

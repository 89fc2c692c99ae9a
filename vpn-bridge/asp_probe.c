/* asp_probe.c -- connects to one TLS endpoint as often as needed and judges it: versions, ciphers, chain, name, expiry, CRL. */
#include "vpn-bridge/asp_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/util.h"
#include "vpn-bridge/tls.h"

/*
 * One ordinary handshake (TLS 1.2 or newer, as the bridge itself connects)
 * gives the certificate; the chain is then verified by hand, once against the
 * CA alone and once more with the CRL, so that each failure has its own line.
 * Further handshakes, each allowed exactly one version and everything OpenSSL
 * can still speak (security level 0), find what the server accepts: the
 * versions, and the ciphers one by one (offer all, take away what the server
 * chose, again, until it refuses). Every accepted cipher is judged by its
 * properties from OpenSSL's cipher API, never by its name.
 */

#define ASP_PROBE_ALL_CIPHERS "ALL:COMPLEMENTOFALL:@SECLEVEL=0"
#define ASP_PROBE_TLS13_SUITES \
	"TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:" \
	"TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"
#define ASP_PROBE_MAX_ROUNDS 64

static struct asp_criterion *
asp_add(struct asp_report *r, const char *name, const char *subject, bool passed, const char *fmt, ...)
{
	struct asp_criterion *c;
	va_list ap;

	if (r->n == ASP_MAX_CRITERIA)
		return NULL;
	c = &r->c[r->n++];
	str_copy(c->name, name, sizeof c->name);
	str_copy(c->subject, subject ? subject : "", sizeof c->subject);
	c->passed = passed;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof c->detail, fmt, ap);
	va_end(ap);
	return c;
}

/* Non-blocking connect bounded by the timeout; a blocking socket with I/O timeouts after. */
static int
asp_connect(const struct asp_target *t)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	struct timeval tv = { (time_t)t->timeout, 0 };
	char portstr[8];
	int fd = -1, err = 0;
	socklen_t errlen = sizeof err;
	struct pollfd pfd;

	snprintf(portstr, sizeof portstr, "%u", t->port);
	if (getaddrinfo(t->address, portstr, &hints, &res) != 0 || res == NULL)
		return -1;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0 && errno != EINPROGRESS)
		err = errno;
	freeaddrinfo(res);
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (fd < 0 || err || poll(&pfd, 1, (int)t->timeout * 1000) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0 || err) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return fd;
}

/* A handshake on ctx; the caller reads what it needs from the SSL, then asp_close. */
static SSL *
asp_handshake(SSL_CTX *ctx, const struct asp_target *t, int *fd_out)
{
	int fd = asp_connect(t);
	SSL *ssl;

	*fd_out = fd;
	if (fd < 0)
		return NULL;
	ssl = SSL_new(ctx);
	if (ssl && SSL_set_fd(ssl, fd) == 1 &&
	    (t->servername == NULL || SSL_set_tlsext_host_name(ssl, t->servername) == 1) &&
	    SSL_connect(ssl) == 1)
		return ssl;
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
	*fd_out = -1;
	return NULL;
}

static void
asp_close(SSL *ssl, int fd)
{
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	if (fd >= 0)
		close(fd);
}

/* A client that speaks only `version`, with every cipher OpenSSL still has. */
static SSL_CTX *
asp_probe_ctx(int version)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_min_proto_version(ctx, version);
	SSL_CTX_set_max_proto_version(ctx, version);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (SSL_CTX_set_cipher_list(ctx, ASP_PROBE_ALL_CIPHERS) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, ASP_PROBE_TLS13_SUITES) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static const struct { int version; const char *name; } asp_versions[] = {
	{ TLS1_3_VERSION, "TLSv1.3" }, { TLS1_2_VERSION, "TLSv1.2" },
	{ TLS1_1_VERSION, "TLSv1.1" }, { TLS1_VERSION, "TLSv1" },
};
#define ASP_NVERSIONS (sizeof asp_versions / sizeof asp_versions[0])

static bool
asp_version_accepted(const struct asp_target *t, int version)
{
	SSL_CTX *ctx = asp_probe_ctx(version);
	SSL *ssl;
	int fd;

	if (ctx == NULL)
		return false;
	ssl = asp_handshake(ctx, t, &fd);
	asp_close(ssl, fd);
	SSL_CTX_free(ctx);
	return ssl != NULL;
}

/* accepted[i] for asp_versions[i]; the criterion passes with 1.2 or 1.3 and nothing older. */
static void
asp_check_versions(const struct asp_target *t, struct asp_report *r, bool accepted[ASP_NVERSIONS])
{
	char offers[64] = "", refuses[64] = "";
	bool old = false, modern = false;

	for (size_t i = 0; i < ASP_NVERSIONS; i++) {
		char *list = (accepted[i] = asp_version_accepted(t, asp_versions[i].version)) ? offers : refuses;
		size_t used = strlen(list);
		snprintf(list + used, 64 - used, "%s%s", used ? ", " : "", asp_versions[i].name);
		if (accepted[i])
			*(asp_versions[i].version >= TLS1_2_VERSION ? &modern : &old) = true;
	}
	if (!modern && !old)
		asp_add(r, "tls-versions", NULL, false, "no TLS version accepted (%s refused)", refuses);
	else if (old)
		asp_add(r, "tls-versions", NULL, false, "offers %s; TLS below 1.2 must be refused", offers);
	else
		asp_add(r, "tls-versions", NULL, true, "offers %s; refuses %s", offers, refuses);
}

void
asp_cipher_props_of(const SSL_CIPHER *cipher, struct asp_cipher_props *p)
{
	int alg_bits = 0;

	p->aead = SSL_CIPHER_is_aead(cipher) == 1;
	p->kx_nid = SSL_CIPHER_get_kx_nid(cipher);
	p->auth_nid = SSL_CIPHER_get_auth_nid(cipher);
	p->bits = SSL_CIPHER_get_bits(cipher, &alg_bits);
}

__attribute__((format(printf, 4, 5))) static void
asp_why_add(char *why, size_t size, size_t *used, const char *fmt, ...)
{
	va_list ap;

	if (*used && *used + 2 < size) {
		memcpy(why + *used, "; ", 3);
		*used += 2;
	}
	if (*used >= size)
		return;
	va_start(ap, fmt);
	*used += (size_t)vsnprintf(why + *used, size - *used, fmt, ap);
	va_end(ap);
}

bool
asp_cipher_judge(const struct asp_cipher_props *p, bool allow_cbc, char *why, size_t size)
{
	size_t used = 0;

	why[0] = '\0';
	if (p->auth_nid == NID_auth_null)
		asp_why_add(why, size, &used, "no server authentication (anonymous)");
	if (p->kx_nid != NID_kx_ecdhe && p->kx_nid != NID_kx_dhe && p->kx_nid != NID_kx_any)
		asp_why_add(why, size, &used, "no forward secrecy (static key exchange)");
	if (p->bits < 128)
		asp_why_add(why, size, &used, "%d-bit key (at least 128 required)", p->bits);
	if (!p->aead && !allow_cbc)
		asp_why_add(why, size, &used, "not AEAD (CBC or stream cipher)");
	if (used == 0)
		snprintf(why, size, "%s, forward secrecy, %d-bit key", p->aead ? "AEAD" : "not AEAD (allowed)",
		    p->bits);
	return used == 0;
}

static bool
asp_cipher_forbidden(const struct asp_target *t, const SSL_CIPHER *c)
{
	const char *std = SSL_CIPHER_standard_name(c);

	for (size_t i = 0; i < t->n_forbidden; i++)
		if (strcasecmp(t->forbidden[i], SSL_CIPHER_get_name(c)) == 0 ||
		    (std && strcasecmp(t->forbidden[i], std) == 0))
			return true;
	return false;
}

static void
asp_judge_cipher(const struct asp_target *t, struct asp_report *r, const char *version, const SSL_CIPHER *c)
{
	struct asp_cipher_props p;
	char why[160], subject[64];
	const char *std = SSL_CIPHER_standard_name(c);
	bool ok;

	asp_cipher_props_of(c, &p);
	ok = asp_cipher_judge(&p, t->allow_cbc, why, sizeof why);
	snprintf(subject, sizeof subject, "%s", std ? std : SSL_CIPHER_get_name(c));
	if (ok && asp_cipher_forbidden(t, c))
		asp_add(r, "cipher", subject, false, "%s: on the site's forbidden list", version);
	else
		asp_add(r, "cipher", subject, ok, "%s: %s", version, why);
}

/* Removes name from the colon-separated list in place. */
static void
asp_list_remove(char *list, const char *name)
{
	size_t n = strlen(name);
	char *p = list;

	while ((p = strstr(p, name)) != NULL) {
		bool starts = p == list || p[-1] == ':', ends = p[n] == ':' || p[n] == '\0';
		if (starts && ends) {
			memmove(p, p + n + (p[n] == ':'), strlen(p + n + (p[n] == ':')) + 1);
			size_t len = strlen(list);
			if (len && list[len - 1] == ':')
				list[len - 1] = '\0';
			return;
		}
		p += n;
	}
}

/* OpenSSL 3.0 exports no getter for a cipher's lowest version, only its name. */
static int
asp_cipher_min_version(const SSL_CIPHER *c)
{
	const char *v = SSL_CIPHER_get_version(c);

	if (strcmp(v, "TLSv1.3") == 0)
		return TLS1_3_VERSION;
	if (strcmp(v, "TLSv1.2") == 0)
		return TLS1_2_VERSION;
	return TLS1_VERSION;   /* "TLSv1.0", "SSLv3": usable from TLS 1.0 on */
}

/* Every cipher name OpenSSL has for versions up to `version`, colon-separated (TLS 1.2 and older). */
static char *
asp_cipher_names(SSL_CTX *ctx, int version)
{
	STACK_OF(SSL_CIPHER) *all = SSL_CTX_get_ciphers(ctx);
	size_t cap = 1, len = 0;
	char *list;

	for (int i = 0; i < sk_SSL_CIPHER_num(all); i++)
		cap += strlen(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(all, i))) + 1;
	list = xmalloc(cap);
	for (int i = 0; i < sk_SSL_CIPHER_num(all); i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(all, i);
		const char *name = SSL_CIPHER_get_name(c);
		if (asp_cipher_min_version(c) > version || asp_cipher_min_version(c) == TLS1_3_VERSION)
			continue;
		if (len)
			list[len++] = ':';
		memcpy(list + len, name, strlen(name));
		len += strlen(name);
	}
	list[len] = '\0';
	return list;
}

/* The ciphers the server accepts at one version: offer what is left until it refuses. */
static void
asp_check_ciphers(const struct asp_target *t, struct asp_report *r, int version, const char *vname)
{
	bool tls13 = version == TLS1_3_VERSION;
	SSL_CTX *ctx = asp_probe_ctx(version);
	char *left;

	if (ctx == NULL)
		return;
	left = tls13 ? xstrdup(ASP_PROBE_TLS13_SUITES) : asp_cipher_names(ctx, version);
	for (int round = 0; left[0] && round < ASP_PROBE_MAX_ROUNDS; round++) {
		int fd, set = tls13 ? SSL_CTX_set_ciphersuites(ctx, left) : SSL_CTX_set_cipher_list(ctx, left);
		SSL *ssl = set == 1 ? asp_handshake(ctx, t, &fd) : NULL;
		const SSL_CIPHER *c;
		if (ssl == NULL)
			break;
		c = SSL_get_current_cipher(ssl);
		asp_judge_cipher(t, r, vname, c);
		asp_list_remove(left, tls13 ? SSL_CIPHER_standard_name(c) : SSL_CIPHER_get_name(c));
		asp_close(ssl, fd);
	}
	ERR_clear_error();
	free(left);
	SSL_CTX_free(ctx);
}

static X509_STORE *
asp_store(const struct asp_target *t, X509_CRL *crl)
{
	X509_STORE *store = X509_STORE_new();
	int ok = store != NULL;

	if (ok && t->ca_file)
		ok = X509_STORE_load_file(store, t->ca_file) == 1;
	else if (ok)
		ok = X509_STORE_set_default_paths(store) == 1;
	if (ok && crl) {
		ok = X509_STORE_add_crl(store, crl) == 1;
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	}
	if (!ok) {
		X509_STORE_free(store);
		ERR_clear_error();
		return NULL;
	}
	return store;
}

/* X509_V_OK, a verification error, or -1 when the store could not be built. */
static int
asp_verify(const struct asp_target *t, X509 *leaf, STACK_OF(X509) *chain, X509_CRL *crl)
{
	X509_STORE *store = asp_store(t, crl);
	X509_STORE_CTX *vctx = store ? X509_STORE_CTX_new() : NULL;
	int result = -1;

	if (vctx && X509_STORE_CTX_init(vctx, store, leaf, chain) == 1) {
		X509_STORE_CTX_set_purpose(vctx, X509_PURPOSE_SSL_SERVER);
		result = X509_verify_cert(vctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(vctx);
	}
	X509_STORE_CTX_free(vctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return result;
}

static void
asp_check_chain(const struct asp_target *t, struct asp_report *r, X509 *leaf, STACK_OF(X509) *chain)
{
	int v = asp_verify(t, leaf, chain, NULL);
	const char *ca = t->ca_file ? t->ca_file : "the system's trust store";

	if (v < 0)
		asp_add(r, "chain", NULL, false, "the CA file %s cannot be read", ca);
	else if (v != X509_V_OK)
		asp_add(r, "chain", NULL, false, "chain not valid against the expected CA: %s",
		    X509_verify_cert_error_string(v));
	else
		asp_add(r, "chain", NULL, true, "leads to %s", ca);
}

static X509_CRL *
asp_read_crl(const char *path)
{
	FILE *f = fopen(path, "re");
	X509_CRL *crl = f ? PEM_read_X509_CRL(f, NULL, NULL, NULL) : NULL;

	if (f && crl == NULL) {
		rewind(f);
		crl = d2i_X509_CRL_fp(f, NULL);
	}
	if (f)
		fclose(f);
	ERR_clear_error();
	return crl;
}

static void
asp_check_revocation(const struct asp_target *t, struct asp_report *r, X509 *leaf, STACK_OF(X509) *chain)
{
	X509_CRL *crl;
	int v;

	if (t->crl_file == NULL)
		return;
	if ((crl = asp_read_crl(t->crl_file)) == NULL) {
		asp_add(r, "revocation", NULL, false, "%s is not a CRL (PEM or DER)", t->crl_file);
		return;
	}
	v = asp_verify(t, leaf, chain, crl);
	if (v == X509_V_ERR_CERT_REVOKED)
		asp_add(r, "revocation", NULL, false, "the certificate is revoked by %s", t->crl_file);
	else if (v != X509_V_OK && v != -1)
		asp_add(r, "revocation", NULL, false, "cannot be judged with %s: %s", t->crl_file,
		    X509_verify_cert_error_string(v));
	else if (v == X509_V_OK)
		asp_add(r, "revocation", NULL, true, "not revoked according to %s", t->crl_file);
	X509_CRL_free(crl);
}

static void
asp_check_leaf(const struct asp_target *t, struct asp_report *r, X509 *leaf)
{
	int days = 0, secs = 0;
	char fp[BRIDGE_FP_HEX];

	if (t->servername == NULL)
		asp_add(r, "host-name", NULL, false, "no server name given to check the certificate against");
	else if (X509_check_host(leaf, t->servername, 0, 0, NULL) != 1)
		asp_add(r, "host-name", NULL, false, "certificate does not match the host name %s", t->servername);
	else
		asp_add(r, "host-name", NULL, true, "certificate is valid for %s", t->servername);
	r->days_left = ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(leaf)) == 1 ? days : -1;
	if (r->days_left < (long)t->min_days)
		asp_add(r, "expiry", NULL, false, "certificate expires within %u days (%ld left)", t->min_days,
		    r->days_left);
	else
		asp_add(r, "expiry", NULL, true, "%ld days left (at least %u required)", r->days_left, t->min_days);
	if (t->pin_sha256 == NULL)
		return;
	tls_cert_fingerprint(leaf, fp);
	asp_add(r, "pin", NULL, strcasecmp(t->pin_sha256, fp) == 0,
	    strcasecmp(t->pin_sha256, fp) == 0 ? "the pinned certificate" : "certificate is not the pinned one");
}

/* The ordinary handshake (1.2 or newer) and everything read from its certificate. */
static void
asp_check_certificate(const struct asp_target *t, struct asp_report *r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = NULL;
	int fd = -1;
	X509 *leaf;

	if (ctx) {
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		ssl = asp_handshake(ctx, t, &fd);
	}
	if (ssl == NULL) {
		asp_add(r, "handshake", NULL, false, "TLS handshake failed (TLS below 1.2, or no common cipher)");
	} else if ((leaf = SSL_get0_peer_certificate(ssl)) == NULL) {
		asp_add(r, "handshake", NULL, false, "no server certificate");
	} else {
		str_copy(r->tls_version, SSL_get_version(ssl), sizeof r->tls_version);
		str_copy(r->cipher, SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)), sizeof r->cipher);
		asp_check_chain(t, r, leaf, SSL_get_peer_cert_chain(ssl));
		asp_check_leaf(t, r, leaf);
		asp_check_revocation(t, r, leaf, SSL_get_peer_cert_chain(ssl));
	}
	asp_close(ssl, fd);
	SSL_CTX_free(ctx);
}

void
asp_probe_run(const struct asp_target *t, struct asp_report *r)
{
	bool accepted[ASP_NVERSIONS];
	int fd;

	memset(r, 0, sizeof *r);
	r->days_left = -1;
	if ((fd = asp_connect(t)) < 0) {
		asp_add(r, "connect", NULL, false, "not reachable (connect failed or timed out)");
		return;
	}
	close(fd);
	asp_add(r, "connect", NULL, true, "%s port %u reached", t->address, t->port);
	asp_check_certificate(t, r);
	asp_check_versions(t, r, accepted);
	for (size_t i = 0; i < ASP_NVERSIONS; i++)
		if (accepted[i])
			asp_check_ciphers(t, r, asp_versions[i].version, asp_versions[i].name);
}

bool
asp_report_passed(const struct asp_report *r)
{
	return r->n > 0 && asp_report_first_failure(r) == NULL;
}

const struct asp_criterion *
asp_report_first_failure(const struct asp_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (!r->c[i].passed)
			return &r->c[i];
	return NULL;
}

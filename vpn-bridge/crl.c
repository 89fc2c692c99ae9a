/* crl.c -- the relay's device CRL: reloaded when its file changes (or on the parent's SIGHUP), checked again for resumed sessions. */
#include "vpn-bridge/crl.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/log.h"
#include "lib/util.h"
#include "vpn-bridge/tls.h"

struct crl_watch {
	SSL_CTX *ctx;
	const struct bridge_conf *conf;
	struct ev_sink *events;
	STACK_OF(X509_CRL) *crls;     /* what the context's store holds now */
	struct timespec mtime;
	ino_t ino;
	time_t expired_logged;        /* when the last "expired" warning went out */
	struct jbuf jb;
};

static STACK_OF(X509_CRL) *
crl_read(const char *path)
{
	FILE *f = fopen(path, "re");
	STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
	X509_CRL *crl;

	if (f == NULL || crls == NULL) {
		if (f)
			fclose(f);
		sk_X509_CRL_free(crls);
		return NULL;
	}
	while ((crl = PEM_read_X509_CRL(f, NULL, NULL, NULL)) != NULL)
		if (sk_X509_CRL_push(crls, crl) <= 0)
			X509_CRL_free(crl);
	ERR_clear_error();   /* the end of the file reads as an error */
	fclose(f);
	if (sk_X509_CRL_num(crls) == 0) {
		sk_X509_CRL_free(crls);
		return NULL;
	}
	return crls;
}

/* A verify store like tls.c's: the client CA and these CRLs, CRL checks on the whole chain. */
static X509_STORE *
crl_store(const struct bridge_conf *conf, STACK_OF(X509_CRL) *crls)
{
	X509_STORE *store = X509_STORE_new();

	if (store == NULL || X509_STORE_load_file(store, conf->ca_file) != 1) {
		X509_STORE_free(store);
		return NULL;
	}
	for (int i = 0; i < sk_X509_CRL_num(crls); i++)
		if (X509_STORE_add_crl(store, sk_X509_CRL_value(crls, i)) != 1) {
			X509_STORE_free(store);
			return NULL;
		}
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	return store;
}

static void
crl_event(struct crl_watch *w, const char *what, const char *detail)
{
	ev_begin(&w->jb, "bridge_crl", 0);
	jb_str(&w->jb, "file", w->conf->crl_file);
	jb_str(&w->jb, "what", what);
	jb_str(&w->jb, "detail", detail);
	jb_str(&w->jb, "crl_expired", w->conf->crl_expired_warn ? "warn" : "refuse");
	ev_end(&w->jb);
	ev_emit(w->events, &w->jb);
	jb_reset(&w->jb);
}

static void
crl_reload(struct crl_watch *w, const struct stat *st)
{
	STACK_OF(X509_CRL) *crls = crl_read(w->conf->crl_file);
	X509_STORE *store = crls ? crl_store(w->conf, crls) : NULL;
	char detail[64];

	w->mtime = st->st_mtim;
	w->ino = st->st_ino;
	if (store == NULL) {
		log_warnx("%s: CRL not loaded; the previous one stays in force", w->conf->crl_file);
		crl_event(w, "not loaded", "the previous CRL stays in force");
		sk_X509_CRL_pop_free(crls, X509_CRL_free);
		ERR_clear_error();
		return;
	}
	SSL_CTX_set_cert_store(w->ctx, store);   /* the context owns it; the old one goes */
	sk_X509_CRL_pop_free(w->crls, X509_CRL_free);
	w->crls = crls;
	w->expired_logged = 0;
	snprintf(detail, sizeof detail, "%d CRL(s)", sk_X509_CRL_num(crls));
	log_info("%s: CRL reloaded (%s)", w->conf->crl_file, detail);
	crl_event(w, "reloaded", detail);
}

static bool
crl_expired(const struct crl_watch *w)
{
	for (int i = 0; i < sk_X509_CRL_num(w->crls); i++) {
		const ASN1_TIME *next = X509_CRL_get0_nextUpdate(sk_X509_CRL_value(w->crls, i));
		if (next != NULL && X509_cmp_current_time(next) < 0)
			return true;
	}
	return false;
}

struct crl_watch *
crl_watch_new(SSL_CTX *ctx, const struct bridge_conf *conf, struct ev_sink *events)
{
	struct crl_watch *w;
	struct stat st;

	if (conf->crl_file == NULL)
		return NULL;
	w = xcalloc(1, sizeof *w);
	w->ctx = ctx;
	w->conf = conf;
	w->events = events;
	w->crls = crl_read(conf->crl_file);   /* what tls_server_ctx loaded */
	if (stat(conf->crl_file, &st) == 0) {
		w->mtime = st.st_mtim;
		w->ino = st.st_ino;
	}
	return w;
}

void
crl_watch_free(struct crl_watch *w)
{
	if (w == NULL)
		return;
	sk_X509_CRL_pop_free(w->crls, X509_CRL_free);
	jb_free(&w->jb);
	free(w);
}

void
crl_watch_check(struct crl_watch *w, bool force)
{
	struct stat st;
	time_t now = time(NULL);

	if (w == NULL)
		return;
	if (stat(w->conf->crl_file, &st) < 0) {
		if (force)
			log_warn("%s: the previous CRL stays in force", w->conf->crl_file);
	} else if (force || st.st_ino != w->ino || st.st_mtim.tv_sec != w->mtime.tv_sec ||
	    st.st_mtim.tv_nsec != w->mtime.tv_nsec)
		crl_reload(w, &st);
	if (crl_expired(w) && (w->expired_logged == 0 || now - w->expired_logged >= 3600)) {
		w->expired_logged = now;
		log_warnx("%s: THE DEVICE CRL IS PAST ITS nextUpdate: %s", w->conf->crl_file,
		    w->conf->crl_expired_warn ? "devices are still let in (crl_expired = \"warn\")" :
		    "every device is refused (crl_expired = \"refuse\")");
		crl_event(w, "expired", w->conf->crl_expired_warn ? "devices let in" : "devices refused");
	}
}

bool
crl_watch_refuses(struct crl_watch *w, SSL *ssl, const char **why)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	X509_REVOKED *rev;

	if (w == NULL || cert == NULL)
		return false;
	for (int i = 0; i < sk_X509_CRL_num(w->crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(w->crls, i);
		if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(cert)) == 0 &&
		    X509_CRL_get0_by_cert(crl, &rev, cert) == 1) {
			*why = "certificate revoked (current CRL)";
			return true;
		}
	}
	if (!w->conf->crl_expired_warn && crl_expired(w)) {
		*why = "CRL has expired";
		return true;
	}
	return false;
}

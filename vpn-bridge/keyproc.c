/* keyproc.c -- the TLS key process and the stand-in keys the relays sign with (relayd's ca.c). */

/*
 * A key whose operations run elsewhere needs OpenSSL's EC_KEY_METHOD and
 * RSA_METHOD, deprecated in 3.0 but still the way (a provider would be ten
 * times the code). OpenSSL 3 treats keys with such methods as "foreign" and
 * uses them through the legacy path.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "vpn-bridge/keyproc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

#define KEYPROC_MAX 1024   /* RSA up to 8192 bits */
#define KEYPROC_MAX_RELAYS 64

enum keyproc_op { KEYPROC_ECDSA_SIGN = 1, KEYPROC_RSA_PRIV_ENC, KEYPROC_RSA_PRIV_DEC };

struct keyproc_req {
	uint8_t key, op;
	uint16_t len;
	int32_t padding;
	uint8_t data[KEYPROC_MAX];
};

struct keyproc_res {
	int32_t len;              /* -1: refused */
	uint8_t data[KEYPROC_MAX];
};

/* ---- the key process ------------------------------------------------------------ */

static int
keyproc_do(EVP_PKEY *const *keys, size_t n_keys, const struct keyproc_req *q, struct keyproc_res *a)
{
	EVP_PKEY *k = q->key < n_keys ? keys[q->key] : NULL;
	unsigned siglen = KEYPROC_MAX;

	if (k == NULL || q->len > KEYPROC_MAX)
		return -1;
	if (q->op == KEYPROC_ECDSA_SIGN && EVP_PKEY_get_base_id(k) == EVP_PKEY_EC) {
		const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(k);
		if ((unsigned)ECDSA_size(ec) > KEYPROC_MAX ||
		    ECDSA_sign(0, q->data, q->len, a->data, &siglen, (EC_KEY *)ec) != 1)
			return -1;
		return (int)siglen;
	}
	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA)
		return -1;
	RSA *rsa = (RSA *)EVP_PKEY_get0_RSA(k);
	if (RSA_size(rsa) > KEYPROC_MAX)
		return -1;
	if (q->op == KEYPROC_RSA_PRIV_ENC)
		return RSA_private_encrypt(q->len, q->data, a->data, rsa, q->padding);
	if (q->op == KEYPROC_RSA_PRIV_DEC)
		return RSA_private_decrypt(q->len, q->data, a->data, rsa, q->padding);
	return -1;
}

static void
keyproc_serve(EVP_PKEY *const *keys, size_t n_keys, int *fds, unsigned n)
{
	struct pollfd pfd[KEYPROC_MAX_RELAYS];
	unsigned live = n;

	for (unsigned i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	while (live > 0) {
		if (poll(pfd, n, -1) < 0 && errno != EINTR)
			return;
		for (unsigned i = 0; i < n; i++) {
			struct keyproc_req q;
			struct keyproc_res a;
			ssize_t got;
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			got = recv(pfd[i].fd, &q, sizeof q, 0);
			if (got <= 0) {
				pfd[i].fd = -1;   /* that relay has gone */
				live--;
				continue;
			}
			a.len = got == (ssize_t)sizeof q ? keyproc_do(keys, n_keys, &q, &a) : -1;
			ERR_clear_error();
			send(pfd[i].fd, &a, sizeof a, MSG_NOSIGNAL);
		}
	}
}

static int
keyproc_load(const struct bridge_conf *conf, EVP_PKEY **keys)
{
	for (size_t i = 0; i < conf->n_certs; i++) {
		FILE *f = fopen(conf->certs[i].key_file, "re");
		keys[i] = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
		if (f)
			fclose(f);
		if (keys[i] == NULL) {
			log_warnx("cannot load the key %s", conf->certs[i].key_file);
			return -1;
		}
	}
	return 0;
}

/* Keys loaded, the process gives up root and cannot be traced or dumped by anyone. */
static void
keyproc_drop(const struct bridge_conf *conf)
{
	struct passwd *pw;

	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (geteuid() != 0 || conf->run_user == NULL || (pw = getpwnam(conf->run_user)) == NULL)
		return;
	if (setgroups(1, &pw->pw_gid) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		fatal("key process: dropping privileges");
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);   /* set again: a uid change resets it */
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

pid_t
keyproc_start(const struct bridge_conf *conf, unsigned n_relays, int *relay_fds)
{
	int ours[KEYPROC_MAX_RELAYS], ready[2];
	char status = 0;
	pid_t pid;

	if (n_relays > KEYPROC_MAX_RELAYS || pipe2(ready, O_CLOEXEC) < 0)
		return -1;
	for (unsigned i = 0; i < n_relays; i++) {
		int sp[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
			return -1;
		ours[i] = sp[0];
		relay_fds[i] = sp[1];
	}
	pid = fork();
	if (pid == 0) {
		EVP_PKEY *keys[4] = { NULL };
		log_procname("bridge[keys]");
		prctl(PR_SET_NAME, "tg-bridge-keys", 0, 0, 0);
		signal(SIGTERM, SIG_DFL);
		for (unsigned i = 0; i < n_relays; i++)
			close(relay_fds[i]);
		close(ready[0]);
		status = keyproc_load(conf, keys) == 0 ? 1 : 0;
		keyproc_drop(conf);
		if (write(ready[1], &status, 1) != 1 || !status)
			_exit(1);
		close(ready[1]);
		keyproc_serve(keys, conf->n_certs, ours, n_relays);
		_exit(0);
	}
	for (unsigned i = 0; i < n_relays; i++)
		close(ours[i]);
	close(ready[1]);
	if (pid < 0 || read(ready[0], &status, 1) != 1 || !status)
		pid = -1;
	close(ready[0]);
	return pid;
}

/* ---- the stand-in keys in a relay ------------------------------------------------- */

static int keyproc_fd = -1;
static int keyproc_ec_index = -1, keyproc_rsa_index = -1;

int
keyproc_relay_fd(void)
{
	return keyproc_fd;
}

/* One blocking round trip: the relay is single-threaded and a signature takes ~50 µs. */
static int
keyproc_call(uint8_t key, uint8_t op, const unsigned char *in, int len, int padding,
    unsigned char *out, int outsize)
{
	struct keyproc_req q;
	struct keyproc_res a;

	if (keyproc_fd < 0 || len < 0 || len > KEYPROC_MAX)
		return -1;
	memset(&q, 0, offsetof(struct keyproc_req, data));
	q.key = key;
	q.op = op;
	q.len = (uint16_t)len;
	q.padding = padding;
	memcpy(q.data, in, (size_t)len);
	if (send(keyproc_fd, &q, offsetof(struct keyproc_req, data) + sizeof q.data, MSG_NOSIGNAL) < 0 ||
	    recv(keyproc_fd, &a, sizeof a, 0) != (ssize_t)sizeof a || a.len < 0 || a.len > outsize)
		return -1;
	memcpy(out, a.data, (size_t)a.len);
	return a.len;
}

static int
keyproc_ec_sign(int type, const unsigned char *dgst, int dlen, unsigned char *sig, unsigned *siglen,
    const BIGNUM *kinv, const BIGNUM *r, EC_KEY *ec)
{
	intptr_t key = (intptr_t)EC_KEY_get_ex_data(ec, keyproc_ec_index);
	int n = keyproc_call((uint8_t)key, KEYPROC_ECDSA_SIGN, dgst, dlen, 0, sig, ECDSA_size(ec));

	(void)type;
	(void)kinv;
	(void)r;
	if (n < 0)
		return 0;
	*siglen = (unsigned)n;
	return 1;
}

static int
keyproc_rsa_enc(int flen, const unsigned char *from, unsigned char *to, RSA *rsa, int padding)
{
	intptr_t key = (intptr_t)RSA_get_ex_data(rsa, keyproc_rsa_index);

	return keyproc_call((uint8_t)key, KEYPROC_RSA_PRIV_ENC, from, flen, padding, to, RSA_size(rsa));
}

static int
keyproc_rsa_dec(int flen, const unsigned char *from, unsigned char *to, RSA *rsa, int padding)
{
	intptr_t key = (intptr_t)RSA_get_ex_data(rsa, keyproc_rsa_index);

	return keyproc_call((uint8_t)key, KEYPROC_RSA_PRIV_DEC, from, flen, padding, to, RSA_size(rsa));
}

static EVP_PKEY *
keyproc_remote_ec(const EVP_PKEY *pub, unsigned index)
{
	static EC_KEY_METHOD *meth;
	EC_KEY *ec = EVP_PKEY_get1_EC_KEY((EVP_PKEY *)pub);
	EVP_PKEY *pk = EVP_PKEY_new();
	int (*setup)(EC_KEY *, BN_CTX *, BIGNUM **, BIGNUM **) = NULL;
	ECDSA_SIG *(*sign_sig)(const unsigned char *, int, const BIGNUM *, const BIGNUM *, EC_KEY *) = NULL;

	if (meth == NULL) {
		meth = EC_KEY_METHOD_new(EC_KEY_get_default_method());
		EC_KEY_METHOD_get_sign(EC_KEY_get_default_method(), NULL, &setup, &sign_sig);
		EC_KEY_METHOD_set_sign(meth, keyproc_ec_sign, setup, sign_sig);
		keyproc_ec_index = EC_KEY_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	}
	if (ec == NULL || pk == NULL || EC_KEY_set_method(ec, meth) != 1 ||
	    EC_KEY_set_ex_data(ec, keyproc_ec_index, (void *)(intptr_t)index) != 1 ||
	    EVP_PKEY_assign_EC_KEY(pk, ec) != 1) {
		EC_KEY_free(ec);
		EVP_PKEY_free(pk);
		return NULL;
	}
	return pk;
}

static EVP_PKEY *
keyproc_remote_rsa(const EVP_PKEY *pub, unsigned index)
{
	static RSA_METHOD *meth;
	RSA *rsa = EVP_PKEY_get1_RSA((EVP_PKEY *)pub);
	EVP_PKEY *pk = EVP_PKEY_new();

	if (meth == NULL) {
		meth = RSA_meth_dup(RSA_get_default_method());
		RSA_meth_set1_name(meth, "tiergate key process");
		RSA_meth_set_priv_enc(meth, keyproc_rsa_enc);
		RSA_meth_set_priv_dec(meth, keyproc_rsa_dec);
		keyproc_rsa_index = RSA_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	}
	if (rsa == NULL || pk == NULL || RSA_set_method(rsa, meth) != 1 ||
	    RSA_set_ex_data(rsa, keyproc_rsa_index, (void *)(intptr_t)index) != 1 ||
	    EVP_PKEY_assign_RSA(pk, rsa) != 1) {
		RSA_free(rsa);
		EVP_PKEY_free(pk);
		return NULL;
	}
	return pk;
}

int
keyproc_use_remote_key(SSL_CTX *ctx, int fd, unsigned index)
{
	X509 *leaf = SSL_CTX_get0_certificate(ctx);
	EVP_PKEY *pub = leaf ? X509_get0_pubkey(leaf) : NULL;
	EVP_PKEY *stand_in = NULL;
	int rc;

	/* A stuck key process fails handshakes after 2 s instead of freezing the relay. */
	if (keyproc_fd != fd)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ 2, 0 }, sizeof(struct timeval));
	keyproc_fd = fd;
	if (pub && EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC)
		stand_in = keyproc_remote_ec(pub, index);
	else if (pub && EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA)
		stand_in = keyproc_remote_rsa(pub, index);
	if (stand_in == NULL)
		return -1;
	rc = SSL_CTX_use_PrivateKey(ctx, stand_in) == 1 ? 0 : -1;
	EVP_PKEY_free(stand_in);
	return rc;
}

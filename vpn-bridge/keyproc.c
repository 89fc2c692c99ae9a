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
#include <openssl/async.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
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
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "vpn-bridge/keyproc_policy.h"

#define KEYPROC_MAX_RELAYS 64
#define KEYPROC_MAX_KEYS 4 /* bridge.certificates */
/* A stuck key process fails handshakes after this, instead of holding them (or the relay). */
#define KEYPROC_TIMEOUT_US 2000000

/* ---- the key process ------------------------------------------------------------ */

/*
 * Most of an ECDSA signature is k*G for a fresh random k, which does not depend on
 * the message. The key process makes it after an answer has gone out and before it
 * sleeps, so the next request waits only for the few multiplications that do depend
 * on it (measured: ~30 us less per handshake). Each (1/k, r) pair signs once and is
 * cleared; a burst uses plain ECDSA_sign after the first.
 */
static struct {
	BIGNUM *kinv, *r;
} keyproc_pre[KEYPROC_MAX_KEYS];
_Static_assert(KEYPROC_MAX_KEYS == sizeof ((struct bridge_conf *)0)->certs / sizeof(struct bconf_cert),
    "one key per bridge.certificates entry");

static void
keyproc_precompute(EVP_PKEY *const *keys, size_t n_keys)
{
	for (size_t i = 0; i < n_keys; i++) {
		const EC_KEY *ec;
		if (keyproc_pre[i].kinv != NULL || EVP_PKEY_get_base_id(keys[i]) != EVP_PKEY_EC ||
		    (ec = EVP_PKEY_get0_EC_KEY(keys[i])) == NULL)
			continue;
		if (ECDSA_sign_setup((EC_KEY *)ec, NULL, &keyproc_pre[i].kinv, &keyproc_pre[i].r) != 1) {
			keyproc_pre[i].kinv = keyproc_pre[i].r = NULL;
			ERR_clear_error();
		}
	}
}

static int
keyproc_ecdsa(EC_KEY *ec, unsigned index, const struct keyproc_req *q, unsigned char *sig,
    unsigned *siglen)
{
	int ok;

	if (keyproc_pre[index].kinv == NULL)
		return ECDSA_sign(0, q->data, q->len, sig, siglen, ec);
	ok = ECDSA_sign_ex(0, q->data, q->len, sig, siglen, keyproc_pre[index].kinv,
	    keyproc_pre[index].r, ec);
	BN_clear_free(keyproc_pre[index].kinv);
	BN_clear_free(keyproc_pre[index].r);
	keyproc_pre[index].kinv = keyproc_pre[index].r = NULL;
	return ok;
}

static int
keyproc_do(EVP_PKEY *const *keys, size_t n_keys, const struct keyproc_req *q, struct keyproc_res *a)
{
	EVP_PKEY *k = q->key < n_keys && q->key < KEYPROC_MAX_KEYS ? keys[q->key] : NULL;
	unsigned siglen = KEYPROC_MAX;
	const char *why;

	if (k == NULL || q->len > KEYPROC_MAX)
		return -1;
	/* The relay is hostile: only the blocks a TLS signature is made of get near the key. */
	if (!keyproc_policy_allows(k, q->op, q->padding, q->data, q->len, &why)) {
		log_warnx("key process: request refused: %s", why);
		return -1;
	}
	if (q->op == KEYPROC_ECDSA_SIGN) {
		const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(k);
		if ((unsigned)ECDSA_size(ec) > KEYPROC_MAX ||
		    keyproc_ecdsa((EC_KEY *)ec, q->key, q, a->data, &siglen) != 1)
			return -1;
		return (int)siglen;
	}
	RSA *rsa = (RSA *)EVP_PKEY_get0_RSA(k);
	if (RSA_size(rsa) > KEYPROC_MAX)
		return -1;
	return RSA_private_encrypt(q->len, q->data, a->data, rsa, q->padding);
}

/* Signs one request into a; returns the answer's length on the wire. */
static size_t
keyproc_answer(EVP_PKEY *const *keys, size_t n_keys, const struct keyproc_req *q, ssize_t got,
    struct keyproc_res *a)
{
	a->id = got >= (ssize_t)KEYPROC_REQ_HEAD ? q->id : 0;
	a->len = got >= (ssize_t)KEYPROC_REQ_HEAD && (size_t)got == KEYPROC_REQ_HEAD + q->len ?
	    keyproc_do(keys, n_keys, q, a) : -1;
	ERR_clear_error();
	return KEYPROC_RES_HEAD + (a->len > 0 ? (size_t)a->len : 0);
}

/*
 * Serves the one relay this process signs for until it goes. It sleeps in recv, not in
 * poll: one system call per wake-up. Answers are never waited for (MSG_DONTWAIT): a relay
 * that stops reading loses them (its requests time out) instead of stopping this process.
 */
static void
keyproc_serve(EVP_PKEY *const *keys, size_t n_keys, int fd)
{
	struct keyproc_req q;
	struct keyproc_res a;

	for (;;) {
		ssize_t got;
		keyproc_precompute(keys, n_keys);
		got = recv(fd, &q, sizeof q, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return;   /* the relay has gone */
		send(fd, &a, keyproc_answer(keys, n_keys, &q, got, &a), MSG_DONTWAIT | MSG_NOSIGNAL);
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

/* Child `index`: keeps only its own end, loads the keys, says so on ready, serves. */
static _Noreturn void
keyproc_child(const struct bridge_conf *conf, unsigned n_relays, const int *relay_fds,
    const int *ours, unsigned index, int ready)
{
	EVP_PKEY *keys[KEYPROC_MAX_KEYS] = { NULL };
	char status;

	log_procname("bridge[keys]");
	prctl(PR_SET_NAME, "tg-bridge-keys", 0, 0, 0);
	signal(SIGTERM, SIG_DFL);
	for (unsigned i = 0; i < n_relays; i++) {
		close(relay_fds[i]);
		if (i != index)
			close(ours[i]);
	}
	status = keyproc_load(conf, keys) == 0 ? 1 : 0;
	keyproc_drop(conf);
	if (write(ready, &status, 1) != 1 || !status)
		_exit(1);
	close(ready);
	keyproc_serve(keys, conf->n_certs, ours[index]);
	_exit(0);
}

/* Kills and reaps the key processes started so far (a later one did not start). */
static void
keyproc_stop(pid_t *pids, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (pids[i] > 0) {
			kill(pids[i], SIGTERM);
			waitpid(pids[i], NULL, 0);
			pids[i] = -1;
		}
}

int
keyproc_start(const struct bridge_conf *conf, unsigned n_relays, int *relay_fds, pid_t *pids)
{
	int ours[KEYPROC_MAX_RELAYS], ready[2];
	unsigned started = 0, ok = 0;
	char status;

	if (n_relays == 0 || n_relays > KEYPROC_MAX_RELAYS || pipe2(ready, O_CLOEXEC) < 0)
		return -1;
	for (unsigned i = 0; i < n_relays; i++) {
		int sp[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
			fatal("key process socketpair");
		ours[i] = sp[0];
		relay_fds[i] = sp[1];
	}
	for (; started < n_relays; started++) {
		pids[started] = fork();
		if (pids[started] == 0) {
			close(ready[0]);
			keyproc_child(conf, n_relays, relay_fds, ours, started, ready[1]);
		}
		if (pids[started] < 0)
			break;
	}
	close(ready[1]);
	for (unsigned i = 0; i < n_relays; i++)
		close(ours[i]);
	while (ok < started && read(ready[0], &status, 1) == 1 && status)
		ok++;
	close(ready[0]);
	if (ok == n_relays)
		return 0;
	keyproc_stop(pids, started);
	for (unsigned i = 0; i < n_relays; i++)
		close(relay_fds[i]);
	return -1;
}

/* ---- the stand-in keys in a relay ------------------------------------------------- */

/*
 * A signature is a call to the key process. Inside an OpenSSL async job whose SSL has
 * an async callback (the relay's handshakes: handshake.c) the caller sends its request
 * and pauses: the relay's loop goes on with other connections while the key process
 * signs (on the relay's own core when bound: daemon.c). The loop reads the answer from
 * the key socket (keyproc_relay_read) and calls that callback, which resumes the
 * handshake. No wait fd: an eventfd per signature cost the relay six system calls per
 * handshake. Outside such a job (tools, tests) the caller waits on the socket.
 */
enum keyproc_state { KC_FREE, KC_WAITING, KC_DONE, KC_FAILED };

struct keyproc_call {
	uint32_t id;              /* generation << 8 | slot: a late answer finds no caller */
	uint8_t state;
	ASYNC_callback_fn wake;   /* the paused job's callback; NULL when the caller blocks */
	void *wake_arg;
	unsigned char *out;       /* the caller's buffer: valid while it waits */
	int outsize, len;
	uint64_t deadline_us;
};

_Static_assert(KEYPROC_MAX_PENDING <= 256, "a call's slot is the low byte of its id");

static int keyproc_fd = -1;
static bool keyproc_gone;
static int keyproc_ec_index = -1, keyproc_rsa_index = -1;
static struct keyproc_call keyproc_calls[KEYPROC_MAX_PENDING];
static uint32_t keyproc_generation;

int
keyproc_relay_fd(void)
{
	return keyproc_fd;
}

static struct keyproc_call *
keyproc_call_new(unsigned char *out, int outsize, ASYNC_callback_fn wake, void *wake_arg)
{
	for (unsigned i = 0; i < KEYPROC_MAX_PENDING; i++) {
		struct keyproc_call *call = &keyproc_calls[i];
		if (call->state != KC_FREE)
			continue;
		*call = (struct keyproc_call){ .id = ++keyproc_generation << 8 | i, .state = KC_WAITING,
			.wake = wake, .wake_arg = wake_arg, .out = out, .outsize = outsize, .len = -1,
			.deadline_us = clock_mono_us() + KEYPROC_TIMEOUT_US };
		return call;
	}
	return NULL;
}

/* The answer (len >= 0, already in out) or the failure (-1) reaches a waiting caller. */
static void
keyproc_settle(struct keyproc_call *call, int len)
{
	if (call->state != KC_WAITING)
		return;
	call->len = len;
	call->state = len >= 0 ? KC_DONE : KC_FAILED;
	if (call->wake)
		call->wake(call->wake_arg);
}

static void
keyproc_fail_all(void)
{
	for (unsigned i = 0; i < KEYPROC_MAX_PENDING; i++)
		keyproc_settle(&keyproc_calls[i], -1);
}

static void
keyproc_dispatch(const struct keyproc_res *a, ssize_t got)
{
	struct keyproc_call *call;

	if (got < (ssize_t)KEYPROC_RES_HEAD)
		return;
	call = &keyproc_calls[(a->id & 0xff) % KEYPROC_MAX_PENDING];
	if (call->state != KC_WAITING || call->id != a->id)
		return;   /* its caller gave up (timeout, connection closed) */
	if (a->len < 0 || a->len > call->outsize || got != (ssize_t)KEYPROC_RES_HEAD + a->len) {
		keyproc_settle(call, -1);
		return;
	}
	memcpy(call->out, a->data, (size_t)a->len);
	keyproc_settle(call, a->len);
}

/* The key process has gone: every caller fails now, later ones at once. */
static void
keyproc_lost(void)
{
	keyproc_gone = true;
	keyproc_fail_all();
}

int
keyproc_relay_read(void)
{
	struct keyproc_res a;

	if (keyproc_fd < 0)
		return 0;
	for (;;) {
		ssize_t got = recv(keyproc_fd, &a, sizeof a, MSG_DONTWAIT);
		if (got < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (got <= 0) {
			keyproc_lost();
			return -1;
		}
		keyproc_dispatch(&a, got);
	}
}

void
keyproc_relay_expire(uint64_t now_us)
{
	unsigned late = 0;

	for (unsigned i = 0; i < KEYPROC_MAX_PENDING; i++)
		if (keyproc_calls[i].state == KC_WAITING && keyproc_calls[i].deadline_us <= now_us) {
			keyproc_settle(&keyproc_calls[i], -1);
			late++;
		}
	if (late)
		log_warnx("key process did not answer %u signature(s) within %d s: handshakes failed",
		    late, KEYPROC_TIMEOUT_US / 1000000);
}

unsigned
keyproc_pending(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < KEYPROC_MAX_PENDING; i++)
		n += keyproc_calls[i].state == KC_WAITING;
	return n;
}

int
keyproc_cancel(const void *waiter)
{
	for (unsigned i = 0; i < KEYPROC_MAX_PENDING; i++) {
		struct keyproc_call *call = &keyproc_calls[i];
		if (call->state == KC_WAITING && call->wake != NULL && call->wake_arg == waiter) {
			call->wake = NULL;   /* its owner is ending it now: no wake-up to deliver */
			keyproc_settle(call, -1);
			return 0;
		}
	}
	return -1;
}

/* Outside a job: read answers (anyone's) until this caller's has come, at most 2 s each. */
static void
keyproc_wait_blocking(struct keyproc_call *call)
{
	struct keyproc_res a;

	while (call->state == KC_WAITING) {
		ssize_t got = recv(keyproc_fd, &a, sizeof a, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			keyproc_settle(call, -1);   /* SO_RCVTIMEO: the key process is stuck */
			return;
		}
		if (got == 0) {
			keyproc_lost();
			return;
		}
		keyproc_dispatch(&a, got);
	}
}

/*
 * Inside a job: pause until keyproc_relay_read, keyproc_cancel or a timeout settles the
 * call. A resumption before that (the socket turned readable) pauses again.
 */
static void
keyproc_wait_async(struct keyproc_call *call)
{
	while (call->state == KC_WAITING)
		if (ASYNC_pause_job() != 1 || (call->state == KC_WAITING && clock_mono_us() >= call->deadline_us)) {
			call->wake = NULL;   /* settled from inside the job: nobody to wake */
			keyproc_settle(call, -1);
		}
}

/* The callback a paused job is resumed through (SSL_set_async_callback), if any. */
static ASYNC_callback_fn
keyproc_job_waker(void **wake_arg)
{
	ASYNC_JOB *job = ASYNC_get_current_job();
	ASYNC_WAIT_CTX *wctx = job ? ASYNC_get_wait_ctx(job) : NULL;
	ASYNC_callback_fn wake = NULL;

	*wake_arg = NULL;
	if (wctx == NULL || ASYNC_WAIT_CTX_get_callback(wctx, &wake, wake_arg) != 1)
		return NULL;
	return wake;
}

static int
keyproc_send(const struct keyproc_call *call, uint8_t key, uint8_t op, const unsigned char *in,
    int len, int padding)
{
	struct keyproc_req q;

	memset(&q, 0, KEYPROC_REQ_HEAD);
	q.id = call->id;
	q.key = key;
	q.op = op;
	q.len = (uint16_t)len;
	q.padding = padding;
	memcpy(q.data, in, (size_t)len);
	/* Never blocks: a full socket means the key process is stuck, and this handshake fails. */
	if (send(keyproc_fd, &q, KEYPROC_REQ_HEAD + (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		if (errno == EPIPE || errno == ECONNRESET)
			keyproc_lost();
		return -1;
	}
	return 0;
}

/* One signature by the key process; returns its length or -1. */
static int
keyproc_call(uint8_t key, uint8_t op, const unsigned char *in, int len, int padding,
    unsigned char *out, int outsize)
{
	void *wake_arg;
	ASYNC_callback_fn wake = keyproc_job_waker(&wake_arg);
	struct keyproc_call *call;
	int n;

	if (keyproc_fd < 0 || keyproc_gone || len < 0 || len > KEYPROC_MAX)
		return -1;
	call = keyproc_call_new(out, outsize, wake, wake_arg);
	if (call == NULL || keyproc_send(call, key, op, in, len, padding) < 0) {
		if (call)
			call->state = KC_FREE;
		return -1;
	}
	if (wake)
		keyproc_wait_async(call);
	else
		keyproc_wait_blocking(call);
	n = call->state == KC_DONE ? call->len : -1;
	call->state = KC_FREE;
	return n;
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

/* RSA key exchange would make the key process a decryption oracle: never asked for (and refused there). */
static int
keyproc_rsa_dec(int flen, const unsigned char *from, unsigned char *to, RSA *rsa, int padding)
{
	(void)flen;
	(void)from;
	(void)to;
	(void)rsa;
	(void)padding;
	return -1;
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

	/* Outside a job, a stuck key process fails the signature after 2 s (in one, see keyproc_relay_expire). */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ 2, 0 }, sizeof(struct timeval));
	keyproc_fd = fd;
	keyproc_gone = false;
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

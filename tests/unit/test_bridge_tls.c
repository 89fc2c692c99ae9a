/* test_bridge_tls.c -- the bridge's handshakes with keys in a forked key process: asynchronous signing, job limit, cancel, timeout, key process death. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <errno.h>
#include <event2/event.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "tests/lib/unit.h"
#include "vpn-bridge/handshake.h"
#include "vpn-bridge/keyproc.h"
#include "vpn-bridge/tls.h"

/* Fewer jobs than the tests' concurrent handshakes: the rest must wait for a job, not fail. */
#define T_JOBS 4
#define T_MAX 32

enum { T_EC, T_RSA };

struct t_conn {
	struct handshake *hs;
	pid_t client;
	int state;                 /* 0 running, 1 established, -1 failed */
};

static struct {
	char dir[64];
	struct bridge_conf conf;
	EVP_PKEY *pub[2];
	pid_t keys;
	int keyfd;
	SSL_CTX *server, *client;
	struct event_base *base;
	struct event *key_ev;
	struct t_conn conns[T_MAX];
	unsigned n;
} t;

/* ---- fixtures: two self-signed certificates, a key process, a server context ---- */

static X509 *
t_self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_get_subject_name(x);

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"bridge.test", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, key);
	X509_sign(x, key, EVP_sha256());
	return x;
}

static void
t_write_pair(int i, EVP_PKEY *key)
{
	char path[128];
	X509 *x = t_self_signed(key);
	FILE *f;

	snprintf(path, sizeof path, "%s/k%d.pem", t.dir, i);
	t.conf.certs[i].key_file = xstrdup(path);
	f = fopen(path, "w");
	PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	snprintf(path, sizeof path, "%s/c%d.pem", t.dir, i);
	t.conf.certs[i].cert_file = xstrdup(path);
	f = fopen(path, "w");
	PEM_write_X509(f, x);
	fclose(f);
	t.pub[i] = X509_get_pubkey(x);
	X509_free(x);
}

static void
t_key_answers(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (keyproc_relay_read() < 0)
		event_del(t.key_ev);
}

/* A key process and a relay's server context (tls.c) signing through it. */
static int
t_start_keys(void)
{
	if (t.keys > 0) {
		kill(t.keys, SIGKILL);
		waitpid(t.keys, NULL, 0);
	}
	if (t.server) {
		close(t.keyfd);
		event_free(t.key_ev);
		SSL_CTX_free(t.server);
	}
	if (keyproc_start(&t.conf, 1, &t.keyfd, &t.keys) < 0)
		return -1;
	t.server = tls_server_ctx(&t.conf, t.keyfd);
	t.key_ev = event_new(t.base, t.keyfd, EV_READ | EV_PERSIST, t_key_answers, NULL);
	event_add(t.key_ev, NULL);
	return t.server ? 0 : -1;
}

static int
t_setup(void)
{
	EVP_PKEY *ec = EVP_EC_gen("P-256"), *rsa = EVP_RSA_gen(2048);

	snprintf(t.dir, sizeof t.dir, "/tmp/tg-bridge-tls.XXXXXX");
	if (ec == NULL || rsa == NULL || mkdtemp(t.dir) == NULL)
		return -1;
	t_write_pair(T_EC, ec);
	t_write_pair(T_RSA, rsa);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
	t.conf.n_certs = 2;
	t.conf.ca_file = t.conf.certs[T_EC].cert_file;
	t.conf.tls_min = TLS1_2_VERSION;
	t.conf.tls_max = TLS1_3_VERSION;
	t.conf.require_device = false;
	signal(SIGPIPE, SIG_IGN);
	t.base = event_base_new();
	t.client = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(t.client, SSL_VERIFY_NONE, NULL);
	if (t.base == NULL || handshake_init(T_JOBS) < 0)
		return -1;
	return t_start_keys();
}

/* ---- clients (forked, blocking) and the server loop ------------------------------- */

/*
 * Client: handshake with the given version and key type, then wait for the server's
 * "k" (sent once its side is done). Exit 0 on success, 2 when the wrong key signed.
 */
static _Noreturn void
t_client(int fd, int version, int kind)
{
	SSL *ssl = SSL_new(t.client);
	char k = 0;
	int ok;

	SSL_set_max_proto_version(ssl, version);
	SSL_set1_sigalgs_list(ssl, kind == T_EC ? "ECDSA+SHA256" : "rsa_pss_rsae_sha256:RSA+SHA256");
	SSL_set_fd(ssl, fd);
	ok = SSL_connect(ssl) == 1 && SSL_read(ssl, &k, 1) == 1 && k == 'k';
	if (ok) {
		EVP_PKEY *peer = X509_get0_pubkey(SSL_get0_peer_certificate(ssl));
		if (EVP_PKEY_eq(peer, t.pub[kind]) != 1)
			_exit(2);
	}
	_exit(ok ? 0 : 1);
}

static void
t_done(SSL *ssl, void *arg)
{
	struct t_conn *c = arg;

	c->hs = NULL;
	c->state = ssl ? 1 : -1;
	if (ssl) {
		int fd = SSL_get_fd(ssl);
		SSL_write(ssl, "k", 1);
		SSL_free(ssl);
		close(fd);
	}
}

/*
 * Client: its ClientHello and, right behind it, bytes of a record nobody asked for; then
 * it waits for the server to close. Exit 0 when it did.
 */
static _Noreturn void
t_client_early_bytes(int fd)
{
	static const char junk[] = "\x17\x03\x03\x00\x20" "early bytes a paused handshake must not spin on";
	SSL *ssl = SSL_new(t.client);
	BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
	char *hello, buf[4096];
	long len;

	SSL_set_bio(ssl, in, out);
	SSL_connect(ssl);   /* wants to read: the ClientHello is in out */
	len = BIO_get_mem_data(out, &hello);
	if (len <= 0 || write(fd, hello, (size_t)len) != len || write(fd, junk, sizeof junk) != (ssize_t)sizeof junk)
		_exit(1);
	while (read(fd, buf, sizeof buf) > 0)
		;
	_exit(0);
}

static struct t_conn *
t_connect(int version, int kind)
{
	struct t_conn *c = &t.conns[t.n++];
	int sp[2];

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp);
	c->state = 0;
	c->client = fork();
	if (c->client == 0) {
		/* Only its own socket: a server end held here would hide the server's close. */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != sp[1])
				close(fd);
		alarm(30);
		if (version == 0)
			t_client_early_bytes(sp[1]);
		t_client(sp[1], version, kind);
	}
	close(sp[1]);
	evutil_make_socket_nonblocking(sp[0]);
	c->hs = handshake_start(t.base, SSL_new(t.server), sp[0], t_done, c);
	return c;
}

/* Runs the loop until every handshake has ended or `ms` have passed. */
static void
t_run(unsigned ms)
{
	uint64_t end = clock_mono_us() + (uint64_t)ms * 1000;

	while (clock_mono_us() < end) {
		bool busy = false;
		for (unsigned i = 0; i < t.n; i++)
			busy |= t.conns[i].state == 0;
		if (!busy)
			return;
		event_base_loop(t.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
}

/* With the key process stopped: runs the loop until `n` signatures wait (at most 10 s). */
static void
t_run_until_pending(unsigned n)
{
	uint64_t end = clock_mono_us() + 10000000;

	while (keyproc_pending() < n && clock_mono_us() < end) {
		event_base_loop(t.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
	t_run(200);   /* and a little longer: no more than n may come */
}

/* Reaps the clients; returns how many ended with status `want`. */
static unsigned
t_reap(int want)
{
	unsigned hits = 0;

	for (unsigned i = 0; i < t.n; i++) {
		int status = -1;
		if (t.conns[i].hs)
			handshake_abort(t.conns[i].hs);
		waitpid(t.conns[i].client, &status, 0);
		hits += WIFEXITED(status) && WEXITSTATUS(status) == want;
	}
	t.n = 0;
	return hits;
}

static unsigned
t_count(int state)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t.n; i++)
		n += t.conns[i].state == state;
	return n;
}

/* ---- cases --------------------------------------------------------------------------- */

/* Outside an async job the stand-in keys block as before: tools and this test sign directly. */
static void
test_keyproc_blocking_sign(void)
{
	static const unsigned char msg[] = "to be signed";
	int more = SSL_CTX_set_current_cert(t.server, SSL_CERT_SET_FIRST);
	unsigned checked = 0;

	for (; more == 1; more = SSL_CTX_set_current_cert(t.server, SSL_CERT_SET_NEXT)) {
		EVP_PKEY *stand_in = SSL_CTX_get0_privatekey(t.server);
		X509 *cert = SSL_CTX_get0_certificate(t.server);
		unsigned char sig[512];
		size_t len = sizeof sig;
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		CHECK(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, stand_in) == 1);
		CHECK(EVP_DigestSign(md, sig, &len, msg, sizeof msg) == 1);
		EVP_MD_CTX_free(md);
		md = EVP_MD_CTX_new();
		CHECK(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, X509_get0_pubkey(cert)) == 1);
		CHECK(EVP_DigestVerify(md, sig, len, msg, sizeof msg) == 1);
		EVP_MD_CTX_free(md);
		checked++;
	}
	CHECK_INT(checked, 2);
	CHECK_INT(keyproc_pending(), 0);
	ERR_clear_error();
}

/* Sends one hand-made request on the relay's key socket; returns the answer's len (-1: refused, -2: none). */
static int
t_forged(uint8_t key, uint8_t op, int padding, const uint8_t *data, uint16_t len)
{
	struct keyproc_req q = { .id = 0xfffffff0u, .key = key, .op = op, .len = len, .padding = padding };
	struct keyproc_res a;
	ssize_t got;

	memcpy(q.data, data, len);
	if (send(t.keyfd, &q, KEYPROC_REQ_HEAD + len, MSG_NOSIGNAL) < 0)
		return -2;
	got = recv(t.keyfd, &a, sizeof a, 0);   /* SO_RCVTIMEO 2 s (keyproc_use_remote_key) */
	if (got < (ssize_t)KEYPROC_RES_HEAD || a.id != q.id)
		return -2;
	return a.len;
}

/*
 * A compromised relay writes its own requests: a raw RSA decryption, an unpadded RSA block
 * that is no PSS encoding, a PKCS#1 block that is no DigestInfo, an ECDSA "digest" of 100
 * bytes. The key process refuses each; the same socket still signs a real DigestInfo and
 * a real PSS block afterwards (so the refusals are the policy, not a dead process).
 */
static void
test_keyproc_refuses_forged(void)
{
	static const uint8_t di256[19] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
		0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
	uint8_t block[512], digest[32];
	RSA *pub = EVP_PKEY_get1_RSA(t.pub[T_RSA]);
	int size = RSA_size(pub);

	memset(block, 0x5a, sizeof block);
	block[0] = 0x01;
	memset(digest, 7, sizeof digest);
	CHECK_INT(t_forged(T_RSA, KEYPROC_RSA_PRIV_DEC, RSA_PKCS1_PADDING, block, (uint16_t)size), -1);
	CHECK_INT(t_forged(T_RSA, KEYPROC_RSA_PRIV_DEC, RSA_NO_PADDING, block, (uint16_t)size), -1);
	CHECK_INT(t_forged(T_RSA, KEYPROC_RSA_PRIV_ENC, RSA_NO_PADDING, block, (uint16_t)size), -1);
	CHECK_INT(t_forged(T_RSA, KEYPROC_RSA_PRIV_ENC, RSA_PKCS1_PADDING, block, 51), -1);
	CHECK_INT(t_forged(T_RSA, KEYPROC_RSA_PRIV_ENC, RSA_PKCS1_OAEP_PADDING, block, 51), -1);
	CHECK_INT(t_forged(T_EC, KEYPROC_ECDSA_SIGN, 0, block, 100), -1);
	CHECK_INT(t_forged(T_EC, KEYPROC_RSA_PRIV_ENC, RSA_PKCS1_PADDING, block, 51), -1);
	/* What TLS does ask for still passes. */
	memcpy(block, di256, sizeof di256);
	memcpy(block + sizeof di256, digest, sizeof digest);
	CHECK_INT(t_forged(T_RSA, KEYPROC_RSA_PRIV_ENC, RSA_PKCS1_PADDING, block, 51), size);
	CHECK(RSA_padding_add_PKCS1_PSS_mgf1(pub, block, digest, EVP_sha256(), EVP_sha256(), -1) == 1);
	CHECK_INT(t_forged(T_RSA, KEYPROC_RSA_PRIV_ENC, RSA_NO_PADDING, block, (uint16_t)size), size);
	block[size / 2] ^= 1;   /* one bit off inside the masked DB: no longer PSS */
	CHECK_INT(t_forged(T_RSA, KEYPROC_RSA_PRIV_ENC, RSA_NO_PADDING, block, (uint16_t)size), -1);
	CHECK_INT(t_forged(T_EC, KEYPROC_ECDSA_SIGN, 0, digest, 32) > 0, 1);
	RSA_free(pub);
}

/* ECDSA signature (DER) -> its r, as hex. */
static char *
t_sig_r(const unsigned char *der, size_t len)
{
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &der, (long)len);
	char *hex = sig ? BN_bn2hex(ECDSA_SIG_get0_r(sig)) : NULL;

	ECDSA_SIG_free(sig);
	return hex;
}

/*
 * The key process precomputes ECDSA nonces between requests: each one signs once. The
 * same digest signed four times (with pauses for the precomputation, and back to back)
 * gives four different r, and every signature verifies.
 */
static void
test_keyproc_nonce_fresh(void)
{
	static const unsigned char msg[] = "same message";
	EVP_PKEY *stand_in = NULL, *pub = NULL;
	char *r[4] = { NULL };
	int more = SSL_CTX_set_current_cert(t.server, SSL_CERT_SET_FIRST);

	for (; more == 1 && stand_in == NULL; more = SSL_CTX_set_current_cert(t.server, SSL_CERT_SET_NEXT))
		if (EVP_PKEY_get_base_id(SSL_CTX_get0_privatekey(t.server)) == EVP_PKEY_EC) {
			stand_in = SSL_CTX_get0_privatekey(t.server);
			pub = X509_get0_pubkey(SSL_CTX_get0_certificate(t.server));
		}
	CHECK(stand_in != NULL);
	for (unsigned i = 0; stand_in && i < 4; i++) {
		unsigned char sig[128];
		size_t len = sizeof sig;
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		if (i < 2)
			usleep(50000);
		CHECK(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, stand_in) == 1);
		CHECK(EVP_DigestSign(md, sig, &len, msg, sizeof msg) == 1);
		EVP_MD_CTX_free(md);
		md = EVP_MD_CTX_new();
		CHECK(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1);
		CHECK(EVP_DigestVerify(md, sig, len, msg, sizeof msg) == 1);
		EVP_MD_CTX_free(md);
		r[i] = t_sig_r(sig, len);
		CHECK(r[i] != NULL);
	}
	for (unsigned i = 0; i < 4; i++)
		for (unsigned j = i + 1; j < 4; j++)
			CHECK(r[i] && r[j] && strcmp(r[i], r[j]) != 0);
	for (unsigned i = 0; i < 4; i++)
		OPENSSL_free(r[i]);
	ERR_clear_error();
}

/* 24 at once: TLS 1.2 and 1.3, ECDSA and RSA; 4 jobs, so 20 wait for one and none fails. */
static void
test_handshakes_concurrent(void)
{
	for (unsigned i = 0; i < 24; i++)
		t_connect(i % 4 < 2 ? TLS1_3_VERSION : TLS1_2_VERSION, i % 2 ? T_RSA : T_EC);
	t_run(20000);
	CHECK_INT(t_count(1), 24);
	CHECK_INT(t_reap(0), 24);
	CHECK_INT(keyproc_pending(), 0);
}

/*
 * With the key process stopped, the loop still runs: as many signatures are requested
 * as there are jobs (the relay does not wait on the first); when it goes on, all finish.
 */
static void
test_signatures_pipelined(void)
{
	kill(t.keys, SIGSTOP);
	for (unsigned i = 0; i < 8; i++)
		t_connect(TLS1_3_VERSION, i % 2 ? T_RSA : T_EC);
	t_run_until_pending(T_JOBS);
	CHECK_INT(keyproc_pending(), T_JOBS);
	CHECK_INT(t_count(0), 8);
	kill(t.keys, SIGCONT);
	t_run(20000);
	CHECK_INT(t_count(1), 8);
	CHECK_INT(t_reap(0), 8);
}

/*
 * Connections closed while their job waits for a signature: the jobs are ended (not
 * leaked with SSL_free), so the pool still has its 4 jobs for the next handshakes.
 */
static void
test_abort_paused(void)
{
	kill(t.keys, SIGSTOP);
	for (unsigned i = 0; i < T_JOBS + 2; i++)
		t_connect(TLS1_3_VERSION, T_EC);
	t_run_until_pending(T_JOBS);
	CHECK_INT(keyproc_pending(), T_JOBS);
	for (unsigned i = 0; i < t.n; i++) {
		handshake_abort(t.conns[i].hs);
		t.conns[i].hs = NULL;
		t.conns[i].state = -1;
	}
	CHECK_INT(keyproc_pending(), 0);
	CHECK_INT(t_reap(1), T_JOBS + 2);   /* the clients saw their connection close */
	kill(t.keys, SIGCONT);              /* the late answers find no caller */
	for (unsigned i = 0; i < 2 * T_JOBS; i++)
		t_connect(i % 2 ? TLS1_2_VERSION : TLS1_3_VERSION, i % 3 ? T_EC : T_RSA);
	t_run(20000);
	CHECK_INT(t_count(1), 2 * T_JOBS);
	CHECK_INT(t_reap(0), 2 * T_JOBS);
}

static double
t_cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A handshake paused for its signature while its socket holds more bytes: the relay's
 * loop must not spin on that readable socket (it would burn a core until the key
 * process answers). The loop runs freely for 400 ms and may use a fraction of that CPU;
 * once the key process goes on, the handshake ends (the junk record fails it).
 */
static void
test_parked_early_bytes(void)
{
	double cpu0;

	kill(t.keys, SIGSTOP);
	t_connect(0, T_EC);
	t_run_until_pending(1);
	CHECK_INT(keyproc_pending(), 1);
	cpu0 = t_cpu_seconds();
	event_base_loopexit(t.base, &(struct timeval){ 0, 400000 });
	event_base_dispatch(t.base);
	CHECK(t_cpu_seconds() - cpu0 < 0.2);
	CHECK_INT(t_count(0), 1);
	kill(t.keys, SIGCONT);
	t_run(20000);
	CHECK_INT(keyproc_pending(), 0);
	CHECK_INT(t_count(-1), 1);
	CHECK_INT(t_reap(0), 1);
}

/* A stuck key process: the handshakes waiting 2 s fail; once it answers again, new ones work. */
static void
test_key_timeout(void)
{
	uint64_t t0 = clock_mono_us();

	kill(t.keys, SIGSTOP);
	t_connect(TLS1_3_VERSION, T_EC);
	t_connect(TLS1_2_VERSION, T_RSA);
	t_run_until_pending(2);
	CHECK_INT(keyproc_pending(), 2);
	keyproc_relay_expire(t0 + 1900000);   /* sent after t0: 1.9 s later is not yet 2 s */
	CHECK_INT(keyproc_pending(), 2);
	keyproc_relay_expire(clock_mono_us() + 2000000);
	CHECK_INT(keyproc_pending(), 0);
	t_run(2000);
	CHECK_INT(t_count(-1), 2);
	CHECK_INT(t_reap(1), 2);
	kill(t.keys, SIGCONT);
	t_connect(TLS1_3_VERSION, T_RSA);
	t_run(20000);
	CHECK_INT(t_count(1), 1);
	CHECK_INT(t_reap(0), 1);
}

/* The key process dies with handshakes waiting: they fail (no crash, no hang), later ones fail at once. */
static void
test_key_process_killed(void)
{
	kill(t.keys, SIGSTOP);
	for (unsigned i = 0; i < 3; i++)
		t_connect(TLS1_3_VERSION, i ? T_EC : T_RSA);
	t_run_until_pending(3);
	CHECK_INT(keyproc_pending(), 3);
	kill(t.keys, SIGKILL);
	waitpid(t.keys, NULL, 0);
	t.keys = 0;
	t_run(5000);
	CHECK_INT(t_count(-1), 3);
	CHECK_INT(t_reap(1), 3);
	t_connect(TLS1_3_VERSION, T_EC);
	t_run(5000);
	CHECK_INT(t_count(-1), 1);
	CHECK_INT(t_reap(1), 1);
	CHECK_INT(keyproc_pending(), 0);
	/* A new key process on a new socket: signing works again. */
	CHECK(t_start_keys() == 0);
	t_connect(TLS1_2_VERSION, T_EC);
	t_run(20000);
	CHECK_INT(t_count(1), 1);
	CHECK_INT(t_reap(0), 1);
}

/* The cipher suites ctx offers below TLS 1.3: how many use RSA key exchange, how many ECDHE. */
static void
t_count_kx(SSL_CTX *ctx, int *rsa, int *ecdhe)
{
	STACK_OF(SSL_CIPHER) *list = SSL_CTX_get_ciphers(ctx);

	*rsa = *ecdhe = 0;
	for (int i = 0; list != NULL && i < sk_SSL_CIPHER_num(list); i++) {
		int kx = SSL_CIPHER_get_kx_nid(sk_SSL_CIPHER_value(list, i));
		*rsa += kx == NID_kx_rsa;
		*ecdhe += kx == NID_kx_ecdhe;
	}
}

/* RSA key exchange is never offered (the key process would refuse to decrypt anyway). */
static void
test_no_rsa_key_exchange(void)
{
	SSL_CTX *ctx;
	int rsa, ecdhe;

	t_count_kx(t.server, &rsa, &ecdhe);   /* bridge.ciphers unset: OpenSSL's DEFAULT less kRSA */
	CHECK_INT(rsa, 0);
	CHECK(ecdhe > 0);
	t.conf.ciphers = (char *)"AES128-GCM-SHA256:AES256-SHA:ECDHE-ECDSA-AES128-GCM-SHA256";
	ctx = tls_server_ctx(&t.conf, -1);
	CHECK(ctx != NULL);
	if (ctx != NULL) {
		t_count_kx(ctx, &rsa, &ecdhe);
		CHECK_INT(rsa, 0);   /* named in the list, still left out */
		CHECK_INT(ecdhe, 1);
		SSL_CTX_free(ctx);
	}
	t.conf.ciphers = (char *)"AES128-GCM-SHA256";   /* nothing left: refused at start */
	ctx = tls_server_ctx(&t.conf, -1);
	CHECK(ctx == NULL);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	t.conf.ciphers = NULL;
}

static void
t_teardown(void)
{
	char cmd[128];

	if (t.keys > 0) {
		kill(t.keys, SIGKILL);
		waitpid(t.keys, NULL, 0);
	}
	event_free(t.key_ev);
	event_base_free(t.base);
	SSL_CTX_free(t.server);
	SSL_CTX_free(t.client);
	for (unsigned i = 0; i < 2; i++) {
		free(t.conf.certs[i].cert_file);
		free(t.conf.certs[i].key_file);
		EVP_PKEY_free(t.pub[i]);
	}
	snprintf(cmd, sizeof cmd, "rm -rf %s", t.dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", t.dir);
}

int
main(void)
{
	if (t_setup() < 0) {
		printf("FAIL bridge-tls setup: keys, key process or TLS context\n");
		return 1;
	}
	UNIT_RUN(test_keyproc_blocking_sign);
	UNIT_RUN(test_keyproc_nonce_fresh);
	UNIT_RUN(test_keyproc_refuses_forged);
	UNIT_RUN(test_handshakes_concurrent);
	UNIT_RUN(test_signatures_pipelined);
	UNIT_RUN(test_abort_paused);
	UNIT_RUN(test_parked_early_bytes);
	UNIT_RUN(test_key_timeout);
	UNIT_RUN(test_key_process_killed);
	UNIT_RUN(test_no_rsa_key_exchange);
	t_teardown();
	UNIT_EXIT();
}

/* tls_floor.c -- the bridge bench's floor: what OpenSSL itself holds per established server session, counted in-process, with and without a client certificate. */
#include <malloc.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 *   tls_floor SESSIONS SERVER-CERT SERVER-KEY CA DEVICE-CERT DEVICE-KEY
 *
 * Prints "device BYTES" and "none BYTES": OpenSSL's live bytes (malloc_usable_size, as the
 * relay's memory counts) per established TLS 1.3 server session after one ticket and a
 * request/answer, buffers released -- first with the server asking for and verifying a
 * device certificate (every bridge session), then without (a proxy that asks for none).
 * The server context is set up as vpn-bridge/tls.c sets up the bridge's. Client and server
 * run in this one process over socketpairs; only the server's allocations are counted.
 * It measures, it never judges.
 */

/* Counted only while the server's calls run: the client's allocations and frees are not. */
static long floor_live_bytes;
static int floor_counting;

static void *
floor_malloc(size_t n, const char *file, int line)
{
	void *p = malloc(n);

	(void)file;
	(void)line;
	if (p && floor_counting)
		floor_live_bytes += (long)malloc_usable_size(p);
	return p;
}

static void
floor_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	if (p && floor_counting)
		floor_live_bytes -= (long)malloc_usable_size(p);
	free(p);
}

static void *
floor_realloc(void *p, size_t n, const char *file, int line)
{
	size_t old = p ? malloc_usable_size(p) : 0;
	void *q = realloc(p, n);

	(void)file;
	(void)line;
	if (q && floor_counting)
		floor_live_bytes += (long)malloc_usable_size(q) - (long)old;
	return q;
}

static SSL_CTX *
floor_server_ctx(char **argv, int ask_device)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, argv[2]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1)
		return NULL;
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"floor", 5);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (ask_device) {
		if (SSL_CTX_load_verify_locations(ctx, argv[4], NULL) != 1)
			return NULL;
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		SSL_CTX_set_verify_depth(ctx, 4);
	}
	return ctx;
}

static SSL_CTX *
floor_client_ctx(char **argv, int present_device)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx && present_device && (SSL_CTX_use_certificate_file(ctx, argv[5], SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[6], SSL_FILETYPE_PEM) != 1))
		return NULL;
	return ctx;
}

/* Moves the handshake on at both ends, in turns, until both are done (non-blocking socketpair). */
static int
floor_handshake(SSL *srv, SSL *cli)
{
	for (int turn = 0; turn < 64; turn++) {
		int c = SSL_do_handshake(cli), s;

		floor_counting = 1;
		s = SSL_do_handshake(srv);
		floor_counting = 0;
		if (c == 1 && s == 1)
			return 0;
		if ((c != 1 && SSL_get_error(cli, c) != SSL_ERROR_WANT_READ) ||
		    (s != 1 && SSL_get_error(srv, s) != SSL_ERROR_WANT_READ))
			return -1;
	}
	return -1;
}

/* One ticket, a request and its answer (as a bridge session's CONNECT and 200), buffers released. */
static int
floor_exchange(SSL *srv, SSL *cli)
{
	char buf[256];
	int ok;

	floor_counting = 1;
	ok = SSL_new_session_ticket(srv) == 1;
	floor_counting = 0;
	ok = ok && SSL_write(cli, "CONNECT x:1 HTTP/1.1\r\n\r\n", 24) == 24;
	floor_counting = 1;
	ok = ok && SSL_read(srv, buf, sizeof buf) == 24 && SSL_write(srv, "HTTP/1.1 200 OK\r\n\r\n", 19) == 19;
	floor_counting = 0;
	ok = ok && SSL_read(cli, buf, sizeof buf) > 0;   /* the ticket is taken on the way to the answer */
	floor_counting = 1;
	(void)SSL_free_buffers(srv);
	floor_counting = 0;
	return ok ? 0 : -1;
}

/* Live bytes per server session with SESSIONS sessions held; -1 on a failed handshake. */
static long
floor_measure(char **argv, int sessions, int device)
{
	SSL_CTX *sctx = floor_server_ctx(argv, device), *cctx = floor_client_ctx(argv, device);
	SSL **held = calloc((size_t)sessions, sizeof *held);
	long before = floor_live_bytes, result = 0;

	if (sctx == NULL || cctx == NULL || held == NULL)
		return -1;
	for (int i = 0; i < sessions && result == 0; i++) {
		int sv[2];
		SSL *cli = SSL_new(cctx);

		if (cli == NULL || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
			return -1;
		floor_counting = 1;
		held[i] = SSL_new(sctx);
		floor_counting = held[i] && SSL_set_fd(held[i], sv[0]) == 1;
		floor_counting = 0;
		SSL_set_fd(cli, sv[1]);
		SSL_set_accept_state(held[i]);
		SSL_set_connect_state(cli);
		if (floor_handshake(held[i], cli) < 0 || floor_exchange(held[i], cli) < 0)
			result = -1;
		SSL_free(cli);
		close(sv[1]);
	}
	if (result == 0)
		result = (floor_live_bytes - before) / sessions;
	for (int i = 0; i < sessions; i++)
		SSL_free(held[i]);   /* counted or not: the totals are taken */
	free(held);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	return result;
}

int
main(int argc, char **argv)
{
	int sessions = argc == 7 ? atoi(argv[1]) : 0;
	long device, none;

	if (sessions <= 0 || sessions > 100000) {
		fprintf(stderr, "usage: tls_floor SESSIONS SERVER-CERT SERVER-KEY CA DEVICE-CERT DEVICE-KEY\n");
		return 2;
	}
	if (CRYPTO_set_mem_functions(floor_malloc, floor_realloc, floor_free) != 1) {
		fprintf(stderr, "tls_floor: OpenSSL has allocated already; cannot count\n");
		return 1;
	}
	device = floor_measure(argv, sessions, 1);
	none = floor_measure(argv, sessions, 0);
	if (device < 0 || none < 0) {
		ERR_print_errors_fp(stderr);
		fprintf(stderr, "tls_floor: a handshake failed\n");
		return 1;
	}
	printf("device %ld\nnone %ld\n", device, none);
	return 0;
}

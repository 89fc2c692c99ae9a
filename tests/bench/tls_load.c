/* tls_load.c -- the bridge bench's load tool: TLS handshakes/s, bulk download, idle sessions, and the backends. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 *   tls_load handshakes PORT SECONDS PROCS        full handshakes/s (no resumption)
 *   tls_load bulk PORT [CONNECT-OPTS]             one session, read to EOF: MB/s
 *   tls_load idle PORT COUNT [CONNECT-OPTS]       open COUNT sessions, print "ready", hold them
 *   tls_load source PORT MB                       backend: writes MB to each connection, closes
 *   tls_load sink PORT                            backend: accepts and holds connections
 * CONNECT-OPTS: DEST AUTH_B64 CERT KEY (through the bridge: CONNECT DEST with Basic AUTH;
 *   DEST "-": no CONNECT, the client certificate only, for a plain TLS proxy that asks for one).
 * Everything is on 127.0.0.1; it measures, it never judges.
 */

struct load_target {
	int port;
	const char *dest, *auth, *cert, *key;
};

static double
load_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
load_tcp(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
load_listen(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(fd, 4096) < 0) {
		perror("listen");
		exit(1);
	}
	return fd;
}

static SSL_CTX *
load_ctx(const struct load_target *t)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	/* Every handshake full: no session cache, no tickets. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (t->cert && (SSL_CTX_use_certificate_file(ctx, t->cert, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, t->key, SSL_FILETYPE_PEM) != 1)) {
		fprintf(stderr, "cannot load %s\n", t->cert);
		exit(1);
	}
	return ctx;
}

static SSL *
load_session(SSL_CTX *ctx, const struct load_target *t, int *fd_out)
{
	int fd = load_tcp(t->port);
	SSL *ssl;

	if (fd < 0)
		return NULL;
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		ERR_clear_error();
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	*fd_out = fd;
	return ssl;
}

/* Sends CONNECT and reads the answer head; 0 on "200". */
static int
load_connect(SSL *ssl, const struct load_target *t)
{
	char req[1024], head[2048];
	int n, used = 0;

	if (t->dest == NULL || strcmp(t->dest, "-") == 0)
		return 0;
	n = snprintf(req, sizeof req, "CONNECT %s HTTP/1.1\r\nProxy-Authorization: Basic %s\r\n\r\n",
	    t->dest, t->auth);
	if (SSL_write(ssl, req, n) != n)
		return -1;
	while (used < (int)sizeof head - 1) {
		int got = SSL_read(ssl, head + used, 1);   /* byte by byte: tunnel bytes stay unread */
		if (got <= 0)
			return -1;
		used += got;
		head[used] = '\0';
		if (used >= 4 && memcmp(head + used - 4, "\r\n\r\n", 4) == 0)
			return strncmp(head, "HTTP/1.1 200", 12) == 0 ? 0 : -1;
	}
	return -1;
}

static long
load_handshake_worker(const struct load_target *t, double seconds)
{
	SSL_CTX *ctx = load_ctx(t);
	double end = load_now() + seconds;
	long done = 0;

	while (load_now() < end) {
		int fd;
		SSL *ssl = load_session(ctx, t, &fd);
		if (ssl == NULL)
			continue;
		done++;
		SSL_free(ssl);
		close(fd);
	}
	SSL_CTX_free(ctx);
	return done;
}

static int
load_handshakes(const struct load_target *t, double seconds, int procs)
{
	int pfd[2];
	long total = 0, part;

	if (pipe(pfd) < 0)
		return 1;
	for (int i = 0; i < procs; i++)
		if (fork() == 0) {
			part = load_handshake_worker(t, seconds);
			if (write(pfd[1], &part, sizeof part) < 0)
				_exit(1);
			_exit(0);
		}
	close(pfd[1]);
	while (read(pfd[0], &part, sizeof part) == (ssize_t)sizeof part)
		total += part;
	while (wait(NULL) > 0)
		;
	printf("%.0f\n", (double)total / seconds);
	return 0;
}

static int
load_bulk(const struct load_target *t)
{
	SSL_CTX *ctx = load_ctx(t);
	char buf[65536];
	double start;
	long long bytes = 0;
	int fd, got;
	SSL *ssl = load_session(ctx, t, &fd);

	if (ssl == NULL || load_connect(ssl, t) < 0) {
		fprintf(stderr, "bulk: session not established\n");
		return 1;
	}
	start = load_now();
	while ((got = SSL_read(ssl, buf, sizeof buf)) > 0)
		bytes += got;
	printf("%.1f\n", (double)bytes / (load_now() - start) / 1e6);
	fprintf(stderr, "bulk: %lld bytes\n", bytes);
	return 0;
}

static int
load_idle(const struct load_target *t, int count)
{
	SSL_CTX *ctx = load_ctx(t);
	int open_ok = 0;

	for (int i = 0; i < count; i++) {
		int fd;
		SSL *ssl = load_session(ctx, t, &fd);
		if (ssl == NULL || load_connect(ssl, t) < 0) {
			fprintf(stderr, "idle: session %d failed\n", i);
			break;
		}
		open_ok++;   /* kept open on purpose: these are the idle sessions */
	}
	printf("ready %d\n", open_ok);
	fflush(stdout);
	pause();
	return 0;
}

static _Noreturn void
load_source(int port, long mb)
{
	static char zeros[65536];
	int lfd = load_listen(port);

	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		long long left = (long long)mb << 20;
		while (fd >= 0 && left > 0) {
			ssize_t n = write(fd, zeros, left < (long long)sizeof zeros ? (size_t)left : sizeof zeros);
			if (n <= 0)
				break;
			left -= n;
		}
		if (fd >= 0)
			close(fd);
	}
}

static _Noreturn void
load_sink(int port)
{
	int lfd = load_listen(port), ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd }, evs[256];
	char buf[4096];

	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == lfd) {
				int c = accept(lfd, NULL, NULL);
				struct epoll_event cev = { .events = EPOLLIN, .data.fd = c };
				if (c >= 0)
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
			} else if (read(fd, buf, sizeof buf) <= 0)
				close(fd);
		}
	}
}

static void
load_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char **argv)
{
	struct load_target t = { 0 };

	load_raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	if (argc < 3) {
		fprintf(stderr, "usage: see the comment at the top of tls_load.c\n");
		return 2;
	}
	t.port = (int)strtol(argv[2], NULL, 10);
	if (strcmp(argv[1], "handshakes") == 0 && argc >= 5)
		return load_handshakes(&t, strtod(argv[3], NULL), (int)strtol(argv[4], NULL, 10));
	if (strcmp(argv[1], "source") == 0 && argc >= 4)
		load_source(t.port, strtol(argv[3], NULL, 10));
	if (strcmp(argv[1], "sink") == 0)
		load_sink(t.port);
	int rest = strcmp(argv[1], "idle") == 0 ? 4 : 3;
	if (argc >= rest + 4) {
		t.dest = argv[rest];
		t.auth = argv[rest + 1];
		t.cert = argv[rest + 2];
		t.key = argv[rest + 3];
	}
	if (strcmp(argv[1], "bulk") == 0)
		return load_bulk(&t);
	if (strcmp(argv[1], "idle") == 0 && argc >= 4)
		return load_idle(&t, (int)strtol(argv[3], NULL, 10));
	fprintf(stderr, "unknown mode %s\n", argv[1]);
	return 2;
}

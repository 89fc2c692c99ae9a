/* connect.c -- tiergate-connect: a local port forwarded through the bridge (`-L 13389:10.20.1.5:3389`). */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

#define TGC_SECRET_MAX 256

struct tgc_opts {
	const char *bridge, *ca, *cert, *key, *user, *password_file, *otp, *forward, *listen_addr;
	char bridge_host[256], bridge_port[8], local_port[8], dest[300];
	char token[80];
	SSL_CTX *ctx;
	SSL_SESSION *session;   /* the login's TLS session: forwarded connections resume it */
};

static void
tgc_usage(void)
{
	fprintf(stderr,
	    "usage: tiergate-connect -b BRIDGE:PORT --ca CA.pem --cert DEV.pem --key DEV.key -u USER\n"
	    "                        -L LOCALPORT:DEST:PORT [--password-file F] [--otp CODE]\n"
	    "  The password comes from --password-file, $TIERGATE_PASSWORD or a prompt;\n"
	    "  the one-time code from --otp, $TIERGATE_OTP or a prompt. One login with the\n"
	    "  code, then every forwarded connection uses the session token it returned\n"
	    "  and resumes the login's TLS session (no new full handshake each time).\n");
}

static int
tgc_split_hostport(const char *text, char *host, size_t hostsize, char *port, size_t portsize)
{
	const char *colon = strrchr(text, ':');
	size_t len;

	if (colon == NULL || colon == text)
		return -1;
	len = (size_t)(colon - text);
	if (text[0] == '[' && colon[-1] == ']') {
		text++;
		len -= 2;
	}
	if (len >= hostsize || str_copy(port, colon + 1, portsize) >= portsize)
		return -1;
	memcpy(host, text, len);
	host[len] = '\0';
	return 0;
}

/* "-L 13389:10.20.1.5:3389": local port, then the destination as the bridge sees it. */
static int
tgc_parse_forward(struct tgc_opts *o)
{
	const char *colon = strchr(o->forward, ':');
	size_t len;

	if (colon == NULL || strchr(colon + 1, ':') == NULL)
		return -1;
	len = (size_t)(colon - o->forward);
	if (len == 0 || len >= sizeof o->local_port)
		return -1;
	memcpy(o->local_port, o->forward, len);
	o->local_port[len] = '\0';
	return str_copy(o->dest, colon + 1, sizeof o->dest) < sizeof o->dest ? 0 : -1;
}

static int
tgc_prompt(const char *prompt, char *out, size_t size)
{
	FILE *tty = fopen("/dev/tty", "r+e");
	struct termios old, quiet;
	int rc = -1;

	if (tty == NULL)
		return -1;
	fputs(prompt, tty);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	}
	if (fgets(out, (int)size, tty) != NULL) {
		out[strcspn(out, "\r\n")] = '\0';
		rc = 0;
	}
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	return rc;
}

static int
tgc_password(const struct tgc_opts *o, char *out, size_t size)
{
	const char *env = getenv("TIERGATE_PASSWORD");
	FILE *f;

	if (o->password_file) {
		f = fopen(o->password_file, "re");
		if (f == NULL || fgets(out, (int)size, f) == NULL) {
			if (f)
				fclose(f);
			return -1;
		}
		if (strchr(out, '\n') == NULL && fgetc(f) != EOF) {
			fclose(f);
			OPENSSL_cleanse(out, size);
			log_warnx("%s: password longer than %zu bytes", o->password_file, size - 2);
			return -1;
		}
		fclose(f);
		out[strcspn(out, "\r\n")] = '\0';
		return 0;
	}
	if (env)
		return str_copy(out, env, size) < size ? 0 : -1;
	return tgc_prompt("password: ", out, size);
}

static int
tgc_otp(const struct tgc_opts *o, char *out, size_t size)
{
	const char *code = o->otp ? o->otp : getenv("TIERGATE_OTP");

	if (code)
		return str_copy(out, code, size) < size ? 0 : -1;
	return tgc_prompt("one-time code: ", out, size);
}

static int
tgc_tcp_connect(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	int fd = -1;

	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

static SSL *
tgc_tls_connect(struct tgc_opts *o, int *fd_out)
{
	int fd = tgc_tcp_connect(o->bridge_host, o->bridge_port);
	SSL *ssl;

	if (fd < 0) {
		log_warn("connect to bridge %s", o->bridge);
		return NULL;
	}
	ssl = SSL_new(o->ctx);
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, o->bridge_host);
	SSL_set1_host(ssl, o->bridge_host);
	if (o->session)
		SSL_set_session(ssl, o->session);   /* expired or unknown: a full handshake, as OpenSSL decides */
	if (SSL_connect(ssl) != 1) {
		log_warnx("TLS to the bridge failed: %s", ERR_reason_error_string(ERR_get_error()));
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	*fd_out = fd;
	return ssl;
}

/* Base64 of in into out (with its NUL); -1 when out is too small. */
static int
tgc_base64(const char *in, char *out, size_t size)
{
	size_t len = strlen(in);

	if (len > INT_MAX / 2 || 4 * ((len + 2) / 3) + 1 > size)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)len);
	return 0;
}

/* "HTTP/1.1 200 ..." -> 200; -1 when it is not a status line. */
static int
tgc_status(const char *head)
{
	char code[4];
	unsigned long value;

	if (strncmp(head, "HTTP/1.", 7) != 0 || strlen(head) < 12 || head[8] != ' ')
		return -1;
	memcpy(code, head + 9, 3);
	code[3] = '\0';
	return parse_ulong(code, 999, &value) == 0 ? (int)value : -1;
}

/* Sends CONNECT, reads the answer head; leftover tunnel bytes are returned in extra. */
static int
tgc_request(SSL *ssl, const struct tgc_opts *o, const char *secret, char *head, size_t headsize,
    size_t *head_len, size_t *total)
{
	char cred[TGC_SECRET_MAX + 80], b64[2 * sizeof cred], req[sizeof b64 + 2 * sizeof o->dest + 100];
	int n, m;
	char *end = NULL;

	/* Only what was formatted goes out: a user, secret or destination too long is refused whole. */
	m = snprintf(cred, sizeof cred, "%s:%s", o->user, secret);
	n = m < 0 || (size_t)m >= sizeof cred || tgc_base64(cred, b64, sizeof b64) < 0 ? -1 :
	    snprintf(req, sizeof req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\nProxy-Authorization: Basic %s\r\n"
	    "User-Agent: tiergate-connect\r\n\r\n", o->dest, o->dest, b64);
	OPENSSL_cleanse(cred, sizeof cred);
	OPENSSL_cleanse(b64, sizeof b64);
	if (n < 0 || (size_t)n >= sizeof req) {
		OPENSSL_cleanse(req, sizeof req);
		log_warnx("user name, password or destination too long for a request");
		return -1;
	}
	m = SSL_write(ssl, req, n);
	OPENSSL_cleanse(req, sizeof req);
	if (m != n)
		return -1;
	*total = 0;
	while (end == NULL && *total < headsize - 1) {
		int got = SSL_read(ssl, head + *total, (int)(headsize - 1 - *total));
		if (got <= 0)
			return -1;
		*total += (size_t)got;
		head[*total] = '\0';
		end = strstr(head, "\r\n\r\n");
	}
	if (end == NULL)
		return -1;
	*head_len = (size_t)(end - head) + 4;
	return tgc_status(head);
}

static void
tgc_take_token(struct tgc_opts *o, const char *head)
{
	const char *p = strcasestr(head, "\r\nX-Tiergate-Token:");
	size_t len;

	if (p == NULL)
		return;
	p += strlen("\r\nX-Tiergate-Token:");
	p += strspn(p, " ");
	len = strcspn(p, "\r\n");
	if (len + 7 < sizeof o->token)
		snprintf(o->token, sizeof o->token, "token:%.*s", (int)len, p);
}

/* Copies bytes both ways until either side closes. */
static void
tgc_pump(SSL *ssl, int tls_fd, int local_fd)
{
	char buf[16384];
	struct pollfd pfd[2] = { { .fd = tls_fd, .events = POLLIN }, { .fd = local_fd, .events = POLLIN } };

	for (;;) {
		if (SSL_pending(ssl) == 0 && poll(pfd, 2, -1) < 0 && errno != EINTR)
			return;
		if (SSL_pending(ssl) > 0 || (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			int got = SSL_read(ssl, buf, sizeof buf);
			if (got <= 0 || write(local_fd, buf, (size_t)got) != got)
				return;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t got = read(local_fd, buf, sizeof buf);
			if (got <= 0 || SSL_write(ssl, buf, (int)got) != got)
				return;
		}
	}
}

/* One forwarded connection (a child process): CONNECT with the token, then pump. */
static int
tgc_forward(struct tgc_opts *o, int local_fd)
{
	char head[4096];
	size_t head_len, total;
	int fd = -1, status;
	SSL *ssl = tgc_tls_connect(o, &fd);

	if (ssl == NULL)
		return 1;
	status = tgc_request(ssl, o, o->token, head, sizeof head, &head_len, &total);
	if (status != 200) {
		log_warnx("bridge answered %d for %s (token expired? restart to log in again)", status, o->dest);
		return 1;
	}
	if (total > head_len && write(local_fd, head + head_len, total - head_len) < 0)
		return 1;
	tgc_pump(ssl, fd, local_fd);
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	return 0;
}

/* The one login with password + OTP; keeps the token it returns. */
static int
tgc_login(struct tgc_opts *o)
{
	char pw[TGC_SECRET_MAX], otp[16], secret[TGC_SECRET_MAX + 16], head[4096];
	size_t head_len, total;
	int fd = -1, status = -1;
	SSL *ssl;

	if (tgc_password(o, pw, sizeof pw) < 0 || tgc_otp(o, otp, sizeof otp) < 0) {
		log_warnx("no password or one-time code");
		return -1;
	}
	snprintf(secret, sizeof secret, "%s%s", pw, otp);
	OPENSSL_cleanse(pw, sizeof pw);
	ssl = tgc_tls_connect(o, &fd);
	if (ssl != NULL) {
		status = tgc_request(ssl, o, secret, head, sizeof head, &head_len, &total);
		if (status == 200) {
			tgc_take_token(o, head);
			/* The bridge's ticket came with its 200 (it gives none before a login). */
			o->session = SSL_get1_session(ssl);
			if (o->session && !SSL_SESSION_is_resumable(o->session)) {
				SSL_SESSION_free(o->session);
				o->session = NULL;
			}
		}
		SSL_shutdown(ssl);   /* without close_notify, SSL_free marks the session not resumable */
		SSL_free(ssl);
		close(fd);
	}
	OPENSSL_cleanse(secret, sizeof secret);
	if (status != 200 || o->token[0] == '\0') {
		log_warnx("login refused (status %d)", status);
		return -1;
	}
	log_info("logged in as %s; forwarding %s:%s to %s", o->user,
	    o->listen_addr, o->local_port, o->dest);
	return 0;
}

static int
tgc_listen(const struct tgc_opts *o)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res = NULL;
	int fd = -1, one = 1;

	if (getaddrinfo(o->listen_addr, o->local_port, &hints, &res) != 0)
		return -1;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 16) < 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

static void
tgc_serve(struct tgc_opts *o, int listen_fd)
{
	signal(SIGCHLD, SIG_IGN);   /* children are reaped by the kernel */
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			log_warn("accept");
			return;
		}
		pid_t pid = fork();
		if (pid == 0) {
			close(listen_fd);
			_exit(tgc_forward(o, fd));
		}
		close(fd);
	}
}

static int
tgc_parse(int argc, char **argv, struct tgc_opts *o)
{
	static const struct option longs[] = {
		{ "bridge", required_argument, NULL, 'b' }, { "ca", required_argument, NULL, 'C' },
		{ "cert", required_argument, NULL, 'c' }, { "key", required_argument, NULL, 'k' },
		{ "user", required_argument, NULL, 'u' }, { "password-file", required_argument, NULL, 'p' },
		{ "otp", required_argument, NULL, 'o' }, { "listen", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "b:C:c:k:u:p:o:l:L:", longs, NULL)) != -1) {
		switch (ch) {
		case 'b': o->bridge = optarg; break;
		case 'C': o->ca = optarg; break;
		case 'c': o->cert = optarg; break;
		case 'k': o->key = optarg; break;
		case 'u': o->user = optarg; break;
		case 'p': o->password_file = optarg; break;
		case 'o': o->otp = optarg; break;
		case 'l': o->listen_addr = optarg; break;
		case 'L': o->forward = optarg; break;
		default: return -1;
		}
	}
	if (!o->bridge || !o->ca || !o->cert || !o->key || !o->user || !o->forward ||
	    tgc_parse_forward(o) < 0 ||
	    tgc_split_hostport(o->bridge, o->bridge_host, sizeof o->bridge_host, o->bridge_port,
	    sizeof o->bridge_port) < 0)
		return -1;
	return 0;
}

static SSL_CTX *
tgc_ctx(const struct tgc_opts *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(ctx, o->ca, NULL) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1) {
		log_warnx("cannot load %s / %s / %s", o->ca, o->cert, o->key);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int
main(int argc, char **argv)
{
	struct tgc_opts o;
	int listen_fd;

	memset(&o, 0, sizeof o);
	o.listen_addr = "127.0.0.1";
	log_init("tiergate-connect", 0, LOG_LVL_INFO);
	if (tgc_parse(argc, argv, &o) < 0) {
		tgc_usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	o.ctx = tgc_ctx(&o);
	if (o.ctx == NULL)
		return 1;
	listen_fd = tgc_listen(&o);
	if (listen_fd < 0) {
		log_warn("listen on %s:%s", o.listen_addr, o.local_port);
		return 1;
	}
	if (tgc_login(&o) < 0)
		return 1;
	tgc_serve(&o, listen_fd);
	return 1;
}

/* metrics.c -- the Prometheus endpoint: a tiny HTTP/1.0 server answering GET /metrics on a local address. */
#include "gw/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/util.h"

#define METRICS_REQ_MAX 2048

/* Splits "1.2.3.4:9750" / "[::1]:9750" into a socket address. */
static int
metrics_parse(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(text, ':');
	unsigned long port;
	size_t hlen;

	if (colon == NULL || parse_ulong(colon + 1, 65535, &port) < 0 || port == 0)
		return -1;
	hlen = (size_t)(colon - text);
	if (hlen >= 2 && text[0] == '[' && text[hlen - 1] == ']') {
		text++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof host)
		return -1;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof *sin;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof *sin6;
		return 0;
	}
	return -1;
}

int
metrics_listen(const char *listen_addr, char *why, size_t why_size)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (metrics_parse(listen_addr, &ss, &len) < 0) {
		snprintf(why, why_size, "metrics_listen \"%s\": expected ADDR:PORT such as "
		    "127.0.0.1:9750 or [::1]:9750", listen_addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 16) < 0) {
		snprintf(why, why_size, "metrics endpoint %s: %s", listen_addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int
metrics_read_request(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			return 0;
	}
	buf[len] = '\0';
	return len > 0 ? 0 : -1;
}

static void
metrics_send(int fd, const char *status, const char *type, const char *body, size_t body_len)
{
	char head[256];
	int hlen = snprintf(head, sizeof head, "HTTP/1.0 %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, type, body_len);
	struct iovec iov[2] = { { head, (size_t)hlen }, { (void *)body, body_len } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

	/* Short local answers: one sendmsg; a peer too slow to take them loses them. */
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0)
		return;
}

void
metrics_serve_one(int lfd, metrics_fn fn, void *arg)
{
	char req[METRICS_REQ_MAX], *body = NULL;
	size_t body_len = 0;
	struct timeval tv = { 1, 0 };
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	FILE *out;

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (metrics_read_request(fd, req, sizeof req) < 0) {
		close(fd);
		return;
	}
	if (!str_has_prefix(req, "GET /metrics ") && !str_has_prefix(req, "GET /metrics?")) {
		static const char nf[] = "not found: try /metrics\n";
		metrics_send(fd, "404 Not Found", "text/plain", nf, sizeof nf - 1);
	} else if ((out = open_memstream(&body, &body_len)) != NULL) {
		fn(out, arg);
		fclose(out);
		metrics_send(fd, "200 OK", "text/plain; version=0.0.4", body, body_len);
		free(body);
	}
	close(fd);
}

/* evforward.c -- sends a copy of each event line to a syslog collector as RFC 5424 (UDP, TCP or a local socket). */
#include "lib/evforward.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/event.h"
#include "lib/log.h"
#include "lib/util.h"

enum ev_transport { EVF_UDP, EVF_TCP, EVF_UNIX };

struct ev_forward {
	enum ev_transport transport;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int fd;                     /* -1 until connected (TCP reconnects on the next line) */
	int facility;
	char app[48], host[64];
	pthread_mutex_t lock;
	unsigned long dropped;
};

static struct ev_forward *ev_forward_the;

static const struct { const char *name; int code; } ev_facilities[] = {
	{ "user", 1 }, { "daemon", 3 }, { "auth", 4 }, { "local0", 16 }, { "local1", 17 }, { "local2", 18 },
	{ "local3", 19 }, { "local4", 20 }, { "local5", 21 }, { "local6", 22 }, { "local7", 23 },
};

struct ev_forward *
ev_forward_global(void)
{
	return ev_forward_the;
}

unsigned long
ev_forward_dropped(const struct ev_forward *f)
{
	return f ? f->dropped : 0;
}

uint16_t
ev_forward_tcp_port(const struct ev_forward *f)
{
	if (f == NULL || f->transport != EVF_TCP)
		return 0;
	return ntohs(f->addr.ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)&f->addr)->sin6_port :
	    ((const struct sockaddr_in *)&f->addr)->sin_port);
}

/* "udp:HOST:PORT", "tcp:HOST:PORT" or "unix:/PATH" into f's address. */
static int
ev_forward_target(struct ev_forward *f, const char *spec)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICSERV }, *res = NULL;
	char host[256];
	const char *rest, *colon;

	if (str_has_prefix(spec, "unix:")) {
		struct sockaddr_un *un = (struct sockaddr_un *)&f->addr;
		if (strlen(spec + 5) == 0 || strlen(spec + 5) >= sizeof un->sun_path || spec[5] != '/')
			return -1;
		f->transport = EVF_UNIX;
		un->sun_family = AF_UNIX;
		str_copy(un->sun_path, spec + 5, sizeof un->sun_path);
		f->addrlen = sizeof *un;
		return 0;
	}
	if (!str_has_prefix(spec, "udp:") && !str_has_prefix(spec, "tcp:"))
		return -1;
	f->transport = spec[0] == 'u' ? EVF_UDP : EVF_TCP;
	rest = spec + 4;
	colon = strrchr(rest, ':');
	if (colon == NULL || colon == rest || (size_t)(colon - rest) >= sizeof host)
		return -1;
	memcpy(host, rest, (size_t)(colon - rest));
	host[colon - rest] = '\0';
	hints.ai_socktype = f->transport == EVF_UDP ? SOCK_DGRAM : SOCK_STREAM;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || res == NULL)
		return -1;
	memcpy(&f->addr, res->ai_addr, res->ai_addrlen);
	f->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int
ev_forward_connect(struct ev_forward *f)
{
	int type = f->transport == EVF_TCP ? SOCK_STREAM : SOCK_DGRAM;
	int fd = socket(f->addr.ss_family, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&f->addr, f->addrlen) < 0) {
		close(fd);
		return -1;
	}
	f->fd = fd;
	return 0;
}

static int
ev_forward_facility(const char *name)
{
	for (size_t i = 0; i < sizeof ev_facilities / sizeof ev_facilities[0]; i++)
		if (strcmp(ev_facilities[i].name, name) == 0)
			return ev_facilities[i].code;
	return -1;
}

int
ev_forward_configure(const config_t *cfg, const char *app, struct diags *d)
{
	static const char *const known[] = { "syslog", "facility", NULL };
	const config_setting_t *g = config_lookup(cfg, "events");
	const char *spec = NULL, *facility = "local0";
	struct ev_forward *f;

	if (g == NULL)
		return 0;
	conf_check_members(g, known, d);
	conf_get_str(g, "syslog", &spec, d);
	conf_get_str(g, "facility", &facility, d);
	if (spec == NULL)
		return 0;
	f = xcalloc(1, sizeof *f);
	f->fd = -1;
	f->facility = ev_forward_facility(facility);
	if (f->facility < 0 || ev_forward_target(f, spec) < 0) {
		diags_add(d, DIAG_ERROR, g, f->facility < 0 ? "events.facility \"%s\" is not a syslog facility" :
		    "events.syslog \"%s\" is not udp:HOST:PORT, tcp:HOST:PORT or unix:/PATH",
		    f->facility < 0 ? facility : spec);
		free(f);
		return -1;
	}
	str_copy(f->app, app, sizeof f->app);
	if (gethostname(f->host, sizeof f->host) < 0 || f->host[0] == '\0')
		str_copy(f->host, "-", sizeof f->host);
	pthread_mutex_init(&f->lock, NULL);
	if (f->transport != EVF_TCP && ev_forward_connect(f) < 0)
		log_warn("events.syslog %s: cannot connect (copies are counted as dropped)", spec);
	ev_forward_the = f;
	return 0;
}

/* MSGID: the event's name, from "event":"NAME" near the start of the line. */
static void
ev_forward_msgid(const char *line, size_t len, char out[33])
{
	const char *at = memmem(line, len < 120 ? len : 120, "\"event\":\"", 9);
	size_t n = 0;

	if (at)
		for (at += 9; at < line + len && *at != '"' && n < 32; at++)
			if (*at > 32 && *at < 127)
				out[n++] = *at;
	if (n == 0)
		out[n++] = '-';
	out[n] = '\0';
}

static int
ev_forward_write(struct ev_forward *f, const char *head, size_t head_len, const char *line, size_t len)
{
	char frame[24];
	struct msghdr msg = { 0 };
	struct iovec iov[3];
	int n = 0;

	if (f->transport == EVF_TCP) {   /* RFC 6587 octet counting */
		iov[n++] = (struct iovec){ frame, (size_t)snprintf(frame, sizeof frame, "%zu ", head_len + len) };
	}
	iov[n++] = (struct iovec){ (void *)head, head_len };
	iov[n++] = (struct iovec){ (void *)line, len };
	msg.msg_iov = iov;
	msg.msg_iovlen = (size_t)n;
	return sendmsg(f->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? -1 : 0;
}

void
ev_forward_send(struct ev_forward *f, const char *line, size_t len)
{
	char head[256], stamp[40], msgid[33];
	struct timespec now;
	struct tm tm;
	int head_len;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	ev_forward_msgid(line, len, msgid);
	/* PRI = facility * 8 + severity 6 (informational); no structured data: the JSON is the message */
	head_len = snprintf(head, sizeof head, "<%d>1 %s.%06ldZ %s %s %d %s - ", f->facility * 8 + 6, stamp,
	    now.tv_nsec / 1000, f->host, f->app, (int)getpid(), msgid);
	pthread_mutex_lock(&f->lock);
	if ((f->fd >= 0 || ev_forward_connect(f) == 0) &&
	    ev_forward_write(f, head, (size_t)head_len, line, len) == 0) {
		pthread_mutex_unlock(&f->lock);
		return;
	}
	f->dropped++;
	if (f->transport == EVF_TCP && f->fd >= 0) {   /* reconnect with the next line */
		close(f->fd);
		f->fd = -1;
	}
	pthread_mutex_unlock(&f->lock);
}

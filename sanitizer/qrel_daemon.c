/* qrel_daemon.c -- tiergate-quarantined's socket: accept, name the caller by SO_PEERCRED, check the group, dispatch, audit. */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/qrel_daemon.h"
#include "sanitizer/qrel_int.h"

#define QREL_IO_TIMEOUT_MS 5000

void
qrel_reply_ok(struct qrel_reply *rp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rp->status, sizeof rp->status, fmt, ap);
	va_end(ap);
	rp->ok = true;
}

void
qrel_reply_err(struct qrel_reply *rp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rp->status, sizeof rp->status, fmt, ap);
	va_end(ap);
	rp->ok = false;
	jb_reset(&rp->body);
}

void
qrel_event_begin(struct jbuf *jb, const char *event, const struct qrel_caller *who)
{
	ev_begin(jb, event, 0);
	jb_uint(jb, "operator_uid", who->uid);
	jb_str(jb, "operator", who->name);
	jb_int(jb, "operator_pid", who->pid);
}

void
qrel_event_end(struct qrel_daemon *d, struct jbuf *jb, bool ok, const char *error)
{
	jb_bool(jb, "ok", ok);
	if (!ok && error)
		jb_str(jb, "error", error);
	ev_end(jb);
	if (ev_emit(d->events, jb) < 0)
		log_warn("cannot write the event");
	jb_free(jb);
}

/* Membership now (not at start): removing someone from the group takes effect at once. */
static bool
qrel_in_group(const char *user, gid_t primary, const char *group)
{
	struct group *g = getgrnam(group);
	gid_t groups[256];
	int n = (int)ARRAY_LEN(groups);

	if (g == NULL || getgrouplist(user, primary, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == g->gr_gid)
			return true;
	return false;
}

static int
qrel_caller_get(struct qrel_daemon *d, int fd, struct qrel_caller *who)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	struct passwd *pw;

	memset(who, 0, sizeof *who);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof cred)
		return -1;
	who->pid = cred.pid;
	who->uid = cred.uid;
	who->gid = cred.gid;
	pw = getpwuid(cred.uid);
	if (pw == NULL) {
		snprintf(who->name, sizeof who->name, "uid%u", (unsigned)cred.uid);
		return 0;
	}
	str_copy(who->name, pw->pw_name, sizeof who->name);
	who->admin = qrel_in_group(pw->pw_name, pw->pw_gid, d->sc->admin_group);
	who->portal = d->have_portal && cred.uid == d->portal_uid;
	return 0;
}

/* Reads one request line within the time and size limits. Returns its length or -1. */
static ssize_t
qrel_read_line(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	while (len < cap) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;
		if (poll(&p, 1, QREL_IO_TIMEOUT_MS) <= 0)
			return -1;
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return len ? (ssize_t)len : -1;
		len += (size_t)r;
		if (memchr(buf + len - (size_t)r, '\n', (size_t)r))
			return (ssize_t)len;
	}
	return (ssize_t)len;   /* full without a newline: the parser refuses it */
}

static void
qrel_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		struct pollfd p = { fd, POLLOUT, 0 };
		ssize_t w;
		if (poll(&p, 1, QREL_IO_TIMEOUT_MS) <= 0)
			return;
		w = send(fd, buf, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		len -= (size_t)w;
	}
}

static void
qrel_denied(struct qrel_daemon *d, const struct qrel_caller *who, const char *verb, const char *why,
    struct qrel_reply *rp)
{
	struct jbuf jb = JBUF_INIT;

	qrel_event_begin(&jb, "quarantine_denied", who);
	jb_str(&jb, "request", verb);
	qrel_event_end(d, &jb, false, why);
	qrel_reply_err(rp, "%s", why);
}

static void
qrel_dispatch(struct qrel_daemon *d, const struct qrel_caller *who, char *line, size_t len,
    struct qrel_reply *rp)
{
	struct relsock_req req;
	const char *err = NULL;
	char verb[16];

	str_copy(verb, line, sizeof verb);
	verb[strcspn(verb, "\t\n")] = '\0';
	if (relsock_parse(line, len, &req, &err) < 0) {
		qrel_denied(d, who, verb[0] ? verb : "-", err, rp);
		return;
	}
	if (relsock_verb_is_portal(req.verb)) {
		if (!who->portal)
			qrel_denied(d, who, verb, "only the portal may send this request", rp);
		else
			qrel_portal_handle(d, who, &req, rp);
	} else if (!who->admin) {
		qrel_denied(d, who, verb, "not a member of the release admin group", rp);
	} else {
		qrel_admin_handle(d, who, &req, rp);
	}
}

static void
qrel_serve_one(struct qrel_daemon *d, int fd)
{
	char line[RELSOCK_LINE_MAX + 1];
	struct qrel_caller who;
	struct qrel_reply rp = { false, "", JBUF_INIT, NULL, 0 };
	ssize_t len;

	if (qrel_caller_get(d, fd, &who) < 0) {
		log_warn("SO_PEERCRED");
		return;
	}
	len = qrel_read_line(fd, line, sizeof line);
	if (len <= 0)
		qrel_denied(d, &who, "-", "no request line within the time limit", &rp);
	else
		qrel_dispatch(d, &who, line, (size_t)len, &rp);
	qrel_write_all(fd, rp.ok ? "OK " : "ERR ", rp.ok ? 3 : 4);
	qrel_write_all(fd, rp.status, strlen(rp.status));
	qrel_write_all(fd, "\n", 1);
	if (rp.ok && rp.raw)
		qrel_write_all(fd, rp.raw, rp.raw_len);
	else if (rp.ok && rp.body.len) {
		qrel_write_all(fd, jb_cstr(&rp.body), rp.body.len);
		qrel_write_all(fd, "\n", 1);
	}
	jb_free(&rp.body);
	free(rp.raw);
}

int
qrel_daemon_listen(struct qrel_daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof sa.sun_path];
	char *slash;

	if (strlen(d->sc->release_socket) >= sizeof sa.sun_path)
		fatalx("release_socket %s: path too long", d->sc->release_socket);
	str_copy(sa.sun_path, d->sc->release_socket, sizeof sa.sun_path);
	str_copy(dir, sa.sun_path, sizeof dir);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (dir_make_all(dir, 0755) < 0)
			fatal("mkdir %s", dir);
	}
	unlink(sa.sun_path);
	d->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (d->listen_fd < 0 || bind(d->listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(d->listen_fd, 16) < 0)
		fatal("release socket %s", sa.sun_path);
	/* anyone may connect: who they are is the kernel's answer, and refusals are events */
	if (chmod(sa.sun_path, 0666) < 0)
		fatal("chmod %s", sa.sun_path);
	return 0;
}

void
qrel_daemon_run(struct qrel_daemon *d, volatile int *stop)
{
	while (!*stop) {
		struct pollfd p = { d->listen_fd, POLLIN, 0 };
		int fd;
		if (poll(&p, 1, 1000) <= 0)
			continue;
		fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		qrel_serve_one(d, fd);
		close(fd);
	}
	unlink(d->sc->release_socket);
}

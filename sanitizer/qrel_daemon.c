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

/*
 * Connections are read side by side (a client that connects and says nothing
 * holds only its own slot, until its deadline), at most QREL_CONNS_PER_UID per
 * uid; a complete line is then handled at once, one at a time, so two
 * approvals of one request never race.
 */
#define QREL_CONNS 64
#define QREL_CONNS_PER_UID 8

struct qrel_conn {
	int fd;                       /* -1: free */
	struct qrel_caller who;
	uint64_t deadline_us;
	size_t len;
	char line[RELSOCK_LINE_MAX + 1];
};

static void
qrel_answer(struct qrel_daemon *d, struct qrel_conn *c, bool timed_out)
{
	struct qrel_reply rp = { false, "", JBUF_INIT, NULL, 0 };
	char head[sizeof rp.status + 8];

	if (timed_out || c->len == 0)
		qrel_denied(d, &c->who, "-", "no request line within the time limit", &rp);
	else
		qrel_dispatch(d, &c->who, c->line, c->len, &rp);
	/* the status line in one write: a client may read it in one piece */
	snprintf(head, sizeof head, "%s%s\n", rp.ok ? "OK " : "ERR ", rp.status);
	qrel_write_all(c->fd, head, strlen(head));
	if (rp.ok && rp.raw)
		qrel_write_all(c->fd, rp.raw, rp.raw_len);
	else if (rp.ok && rp.body.len) {
		qrel_write_all(c->fd, jb_cstr(&rp.body), rp.body.len);
		qrel_write_all(c->fd, "\n", 1);
	}
	jb_free(&rp.body);
	free(rp.raw);
	close(c->fd);
	c->fd = -1;
}

static void
qrel_accept(struct qrel_daemon *d, struct qrel_conn *conns)
{
	struct qrel_conn *slot = NULL;
	struct qrel_caller who;
	int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), same_uid = 0;

	if (fd < 0)
		return;
	if (qrel_caller_get(d, fd, &who) < 0) {
		log_warn("SO_PEERCRED");
		close(fd);
		return;
	}
	for (int i = 0; i < QREL_CONNS; i++) {
		if (conns[i].fd < 0 && slot == NULL)
			slot = &conns[i];
		same_uid += conns[i].fd >= 0 && conns[i].who.uid == who.uid;
	}
	if (slot == NULL || same_uid >= QREL_CONNS_PER_UID) {
		struct qrel_reply rp = { false, "", JBUF_INIT, NULL, 0 };
		qrel_denied(d, &who, "-", "too many open connections", &rp);
		close(fd);
		return;
	}
	slot->fd = fd;
	slot->who = who;
	slot->len = 0;
	slot->deadline_us = clock_mono_us() + QREL_IO_TIMEOUT_MS * 1000ull;
}

/* Reads what is there; answers when the line is complete, the buffer full or the client done. */
static void
qrel_conn_read(struct qrel_daemon *d, struct qrel_conn *c)
{
	ssize_t r = read(c->fd, c->line + c->len, sizeof c->line - c->len);

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r > 0)
		c->len += (size_t)r;
	if (r <= 0 || memchr(c->line, '\n', c->len) != NULL || c->len == sizeof c->line)
		qrel_answer(d, c, false);
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
	static struct qrel_conn conns[QREL_CONNS];
	struct pollfd pfd[QREL_CONNS + 1];

	for (int i = 0; i < QREL_CONNS; i++)
		conns[i].fd = -1;
	while (!*stop) {
		uint64_t now = clock_mono_us();
		if (d->reopen && *d->reopen) {
			*d->reopen = 0;
			if (ev_sink_reopen(d->events) < 0)
				log_warn("SIGHUP: reopening the event file");
			else
				log_info("SIGHUP: event file reopened");
		}
		pfd[0] = (struct pollfd){ d->listen_fd, POLLIN, 0 };
		for (int i = 0; i < QREL_CONNS; i++)
			pfd[i + 1] = (struct pollfd){ conns[i].fd, POLLIN, 0 };   /* fd -1 is ignored by poll */
		if (poll(pfd, QREL_CONNS + 1, 250) < 0)
			continue;
		for (int i = 0; i < QREL_CONNS; i++) {
			if (conns[i].fd < 0)
				continue;
			if (pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR))
				qrel_conn_read(d, &conns[i]);
			else if (now > conns[i].deadline_us)
				qrel_answer(d, &conns[i], true);
		}
		if (pfd[0].revents & POLLIN)
			qrel_accept(d, conns);
	}
	unlink(d->sc->release_socket);
}

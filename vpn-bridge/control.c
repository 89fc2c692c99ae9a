/* control.c -- the auth process's loop: relay requests over socketpairs, admin commands over a unix socket. */
#include "vpn-bridge/control.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/evadmin.h"
#include "lib/event.h"
#include "lib/log.h"
#include "lib/util.h"
#include "vpn-bridge/ctlcmd.h"
#include "vpn-bridge/userdb.h"

#define CONTROL_MAX_FDS 70

static volatile sig_atomic_t control_stop, control_hup;

static void
control_on_signal(int sig)
{
	if (sig == SIGHUP)
		control_hup = 1;
	else
		control_stop = 1;
}

/* SIGHUP: each relay re-reads the CRL (a fixed record on its auth socket, as revocations go). */
static void
control_tell_reload(const int *fds, int n)
{
	struct authend end;

	memset(&end, 0, sizeof end);
	end.id = AUTHEND_ID;
	end.kind = AUTHEND_RELOAD;
	str_copy(end.reason, "SIGHUP", sizeof end.reason);
	log_info("SIGHUP: the relays re-read the CRL");
	for (int i = 0; i < n; i++)
		if (send(fds[i], &end, sizeof end, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			log_warn("cannot tell relay %d to reload", i);
}

/*
 * SIGHUP after log rotation: the auth process opens the event file by its path and hands
 * each relay a descriptor of it (SCM_RIGHTS beside an AUTHEND_REOPEN record): the relays,
 * under seccomp and Landlock, open no file for writing themselves.
 */
static void
control_reopen_events(struct auth *a, const int *fds, int n)
{
	struct ev_sink *events = auth_events(a);
	union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
	struct authend end;
	struct iovec iov = { &end, sizeof end };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
		.msg_controllen = sizeof ctl.buf };
	struct cmsghdr *cm;
	struct stat st;
	int fd = ev_sink_new_fd(events);

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);   /* stdout or a pipe: nothing rotates */
		return;
	}
	memset(&end, 0, sizeof end);
	end.id = AUTHEND_ID;
	end.kind = AUTHEND_REOPEN;
	str_copy(end.reason, "SIGHUP", sizeof end.reason);
	memset(&ctl, 0, sizeof ctl);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	for (int i = 0; i < n; i++)
		if (sendmsg(fds[i], &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			log_warn("cannot hand relay %d the reopened event file", i);
	if (ev_sink_swap(events, fd) < 0)
		log_warn("SIGHUP: reopening the event file");
	else
		log_info("SIGHUP: event file reopened, the relays handed it");
}

static int
control_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (str_copy(sun->sun_path, path, sizeof sun->sun_path) >= sizeof sun->sun_path) {
		log_warnx("control socket path too long: %s", path);
		return -1;
	}
	return 0;
}

int
control_listen(const char *path)
{
	struct sockaddr_un sun;
	int fd;
	mode_t old;

	if (control_addr(path, &sun) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	old = umask(077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 || listen(fd, 8) < 0) {
		log_warn("control socket %s", path);
		umask(old);
		close(fd);
		return -1;
	}
	umask(old);
	return fd;
}

/* Only root or the user running the bridge may send commands; *uid is the caller, from the kernel. */
static bool
control_peer_ok(int fd, uid_t *uid)
{
	struct ucred cred;
	socklen_t len = sizeof cred;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	*uid = cred.uid;
	return cred.uid == 0 || cred.uid == getuid();
}

static void
control_unlock(struct auth *a, uid_t operator_uid, const char *what, char *reply, size_t replysize)
{
	int r = auth_unlock(a, what);

	snprintf(reply, replysize, "ok %s %s\n", what, r ? "unlocked" : "was not locked");
	log_info("admin unlock of %s", what);
	ev_admin_emit(auth_events(a), "unlock", operator_uid, what, r ? "unlocked" : "was not locked");
}

static void
control_revoke(struct auth *a, uid_t operator_uid, const char *user, char *reply, size_t replysize)
{
	size_t n;

	if (!userdb_name_ok(user)) {
		snprintf(reply, replysize, "error bad user name\n");
		return;
	}
	n = auth_revoke_user(a, user, "revoked by admin");
	snprintf(reply, replysize, "ok %s: %zu token(s) revoked, open sessions ended\n", user, n);
	ev_admin_emit(auth_events(a), "revoke", operator_uid, user, "tokens and sessions ended");
}

static void
control_command(struct auth *a, uid_t operator_uid, char *line, char *reply, size_t replysize)
{
	const char *verb, *arg;

	if (ctlcmd_parse(line, &verb, &arg) < 0) {
		snprintf(reply, replysize, "error unknown command (try: unlock USER|ADDRESS, revoke USER, "
		    "user-changed USER, device-changed FINGERPRINT)\n");
		return;
	}
	if (strcmp(verb, "unlock") == 0)
		control_unlock(a, operator_uid, arg, reply, replysize);
	else if (strcmp(verb, "revoke") == 0)
		control_revoke(a, operator_uid, arg, reply, replysize);
	else {
		/* An admin tool wrote a file: re-read it now rather than at the next second's look. */
		auth_watch(a);
		snprintf(reply, replysize, "ok %s %s\n", verb, arg);
	}
}

static void
control_accept(struct auth *a, int listen_fd)
{
	struct timeval tv = { 2, 0 };
	char line[256], reply[320];
	ssize_t got;
	uid_t peer = (uid_t)-1;
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	got = read(fd, line, sizeof line - 1);
	if (got > 0 && control_peer_ok(fd, &peer)) {
		line[got] = '\0';
		control_command(a, peer, line, reply, sizeof reply);
		if (write(fd, reply, strlen(reply)) < 0)
			log_warn("control reply");
	}
	close(fd);
}

/* One request from a relay; returns -1 when that relay has gone. */
static int
control_relay_request(struct auth *a, int fd)
{
	struct authreq req;
	struct authres res;
	ssize_t got = recv(fd, &req, sizeof req, 0);

	if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
		return -1;
	if (got != (ssize_t)sizeof req)
		return 0;
	auth_handle(a, &req, &res);
	OPENSSL_cleanse(&req, sizeof req);
	if (send(fd, &res, sizeof res, MSG_NOSIGNAL) < 0)
		log_warn("answer to relay");
	return 0;
}

static void
control_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = control_on_signal;   /* no SA_RESTART: poll returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int
control_serve(struct auth *a, const int *fds, int n, int control_fd)
{
	struct pollfd pfd[CONTROL_MAX_FDS];
	int live = n;

	if (n + 1 > CONTROL_MAX_FDS)
		return -1;
	control_signals();
	auth_set_relays(a, fds, n);
	for (int i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	pfd[n] = (struct pollfd){ .fd = control_fd, .events = POLLIN };
	while (!control_stop && live > 0) {
		int ready = poll(pfd, (nfds_t)n + 1, 1000);
		if (control_hup) {
			control_hup = 0;
			control_reopen_events(a, fds, n);
			control_tell_reload(fds, n);
		}
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (ready == 0) {
			auth_watch(a);   /* files changed by hand: revocations apply within a second */
			continue;
		}
		for (int i = 0; i < n; i++)
			if (pfd[i].revents && control_relay_request(a, pfd[i].fd) < 0) {
				pfd[i].fd = -1;
				live--;
			}
		if (pfd[n].revents & POLLIN)
			control_accept(a, control_fd);
	}
	/* Relays gone without being asked: exit non-zero so the service manager restarts us. */
	return control_stop ? 0 : 1;
}

int
control_request(const char *path, const char *command, char *reply, size_t replysize)
{
	struct sockaddr_un sun;
	struct timeval tv = { 5, 0 };
	ssize_t got;
	int fd;

	if (control_addr(path, &sun) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0 ||
	    write(fd, command, strlen(command)) < 0 || shutdown(fd, SHUT_WR) < 0 ||
	    (got = read(fd, reply, replysize - 1)) <= 0) {
		close(fd);
		return -1;
	}
	reply[got] = '\0';
	close(fd);
	return 0;
}

/* milter_zygote.c -- a warm process that forks one fresh child per message: per-message isolation without exec per message. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/event.h"
#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/mail/mail.h"
#include "sanitizer/mail/milter_child.h"
#include "sanitizer/mail/milter_conf.h"
#include "sanitizer/mail/milter_memfd.h"
#include "sanitizer/mail/milter_parse.h"
#include "sanitizer/mail/milter_zygote.h"
#include "sanitizer/internal.h"

/*
 * Daemon side: one SOCK_SEQPACKET to the zygote. A request is one message
 * carrying five descriptors: the reply socket, the mail, the output, the
 * report and the envelope (a memfd: reason, sender, recipients, NUL-separated).
 * On the reply socket the child first writes its pid, then one status byte
 * when done; EOF before the status is a crash, silence past the timeout a kill.
 */
#define ZYGOTE_FDS 5
#define MILTER_ZYGOTE_PARSER_KILLED 2   /* status byte: the sandboxed parser died by a signal */
extern char **environ;

static pthread_mutex_t milter_zygote_lock = PTHREAD_MUTEX_INITIALIZER;
static int milter_zygote_sock = -1;
static pid_t milter_zygote_pid = -1;
static const char *milter_zygote_self, *milter_zygote_config;

static int
milter_zygote_spawn(void)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { (char *)milter_zygote_self, (char *)"--zygote", (char *)"--config",
		(char *)(milter_zygote_config ? milter_zygote_config : ""), NULL };
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
	if (milter_zygote_config == NULL)
		argv[2] = NULL;
	rc = posix_spawn(&milter_zygote_pid, milter_zygote_self, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	if (rc != 0) {
		close(sv[0]);
		milter_zygote_pid = -1;
		return -1;
	}
	milter_zygote_sock = sv[0];
	return 0;
}

int
milter_zygote_start(const char *self, const char *config)
{
	int rc;

	milter_zygote_self = self;
	milter_zygote_config = config;
	pthread_mutex_lock(&milter_zygote_lock);
	rc = milter_zygote_spawn();
	pthread_mutex_unlock(&milter_zygote_lock);
	return rc;
}

/* Replaces a zygote that stopped answering (caller holds the lock). */
static void
milter_zygote_restart(void)
{
	if (milter_zygote_sock >= 0)
		close(milter_zygote_sock);
	milter_zygote_sock = -1;
	if (milter_zygote_pid > 0) {
		kill(milter_zygote_pid, SIGKILL);
		waitpid(milter_zygote_pid, NULL, 0);
		log_warnx("milter: zygote gone; starting a new one");
	}
	milter_zygote_pid = -1;
	milter_zygote_spawn();
}

static int
milter_zygote_send(const int fds[ZYGOTE_FDS])
{
	char byte = 'J', control[CMSG_SPACE(sizeof(int) * ZYGOTE_FDS)];
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;

	memset(control, 0, sizeof control);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control;
	msg.msg_controllen = sizeof control;
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * ZYGOTE_FDS);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * ZYGOTE_FDS);
	if (sendmsg(milter_zygote_sock, &msg, MSG_NOSIGNAL) != 1) {
		log_warn("milter: sending to the zygote");
		return -1;
	}
	return 0;
}

/* Sends a request, restarting the zygote once if it is gone. */
static int
milter_zygote_request(const int fds[ZYGOTE_FDS])
{
	int rc = -1;

	pthread_mutex_lock(&milter_zygote_lock);
	if (milter_zygote_sock >= 0)
		rc = milter_zygote_send(fds);
	if (rc < 0 && milter_zygote_self) {
		milter_zygote_restart();
		if (milter_zygote_sock >= 0)
			rc = milter_zygote_send(fds);
	}
	pthread_mutex_unlock(&milter_zygote_lock);
	return rc;
}

/* The envelope as NUL-separated strings: slot, reason ("" for none), sender, recipients. */
static int
milter_zygote_envelope(const struct milter_worker_job *job)
{
	int fd = memfd_create("tiergate-env", MFD_CLOEXEC);
	struct mbuf env = MBUF_INIT;
	size_t want;
	ssize_t n;

	if (fd < 0)
		return -1;
	mbuf_printf(&env, "%u", job->slot);
	mbuf_addc(&env, '\0');
	mbuf_add(&env, job->quarantine_only ? job->quarantine_only : "", 1 +
	    strlen(job->quarantine_only ? job->quarantine_only : ""));
	mbuf_add(&env, job->sender ? job->sender : "", 1 + strlen(job->sender ? job->sender : ""));
	for (size_t i = 0; i < job->n_recipients; i++)
		mbuf_add(&env, job->recipients[i], strlen(job->recipients[i]) + 1);
	n = env.failed ? -1 : write(fd, env.data, env.len);
	want = env.len;
	mbuf_free(&env);
	if (n < 0 || (size_t)n != want || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads len bytes before deadline: 0, -1 on EOF or error, -2 on timeout. */
static int
milter_zygote_read_until(int fd, void *buf, size_t len, uint64_t deadline)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { fd, POLLIN, 0 };
		uint64_t now = clock_mono_us();
		int wait_ms = now >= deadline ? 0 : (int)((deadline - now) / 1000) + 1;
		ssize_t n;
		int r = poll(&p, 1, wait_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return -2;
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* Waits for the child's pid and status byte; kills its group past the timeout. */
static int
milter_zygote_wait(int reply, unsigned timeout)
{
	uint64_t deadline = clock_mono_us() + (uint64_t)timeout * 1000000u;
	unsigned char status;
	pid_t pid;
	int r;

	if (milter_zygote_read_until(reply, &pid, sizeof pid, deadline) < 0 || pid <= 0) {
		log_warnx("milter: the zygote did not start a worker");
		return MILTER_ZYGOTE_UNAVAILABLE;
	}
	r = milter_zygote_read_until(reply, &status, 1, deadline);
	if (r == -2) {
		log_warnx("milter: worker %d timed out after %u s; killed", (int)pid, timeout);
		kill(-pid, SIGKILL);
		return MILTER_WORKER_CRASHED;
	}
	if (r < 0) {
		log_warnx("milter: worker %d died before it finished (crash)", (int)pid);
		return MILTER_WORKER_CRASHED;
	}
	if (status == MILTER_ZYGOTE_PARSER_KILLED)
		return MILTER_WORKER_CRASHED;
	return status == 0 ? 0 : MILTER_WORKER_FAILED;
}

int
milter_zygote_run(const struct milter_worker_job *job, int out_fd, int rep_fd)
{
	int sv[2], env_fd, rc = MILTER_ZYGOTE_UNAVAILABLE;
	bool sent;

	if (milter_zygote_self == NULL || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return MILTER_ZYGOTE_UNAVAILABLE;
	env_fd = milter_zygote_envelope(job);
	sent = env_fd >= 0 && milter_zygote_request((int[ZYGOTE_FDS]){ sv[1], job->in_fd, out_fd, rep_fd,
	    env_fd }) == 0;
	close(sv[1]);   /* the child holds its copy: EOF on sv[0] means it is gone */
	if (env_fd >= 0)
		close(env_fd);
	if (sent)
		rc = milter_zygote_wait(sv[0], job->timeout);
	else
		log_warnx("milter: cannot hand the message to the zygote; starting a worker instead");
	close(sv[0]);
	return rc;
}

/* Zygote side: receives one request's descriptors. 1 = daemon gone, 0 = got them, -1 = skip. */
static int
milter_zygote_receive(int sock, int fds[ZYGOTE_FDS])
{
	char byte, control[CMSG_SPACE(sizeof(int) * ZYGOTE_FDS)];
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;
	ssize_t n;

	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control;
	msg.msg_controllen = sizeof control;
	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n == 0)
		return 1;
	if (n < 0)
		return errno == EINTR ? -1 : 1;
	cm = CMSG_FIRSTHDR(&msg);
	if (cm == NULL || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int) * ZYGOTE_FDS))
		return -1;
	memcpy(fds, CMSG_DATA(cm), sizeof(int) * ZYGOTE_FDS);
	return 0;
}

/* Splits the envelope memfd into reason, sender and recipients (pointers into *buf). */
static int
milter_zygote_envelope_read(int fd, char **buf, struct mail_envelope *env, const char **reason,
    unsigned *slot)
{
	size_t len, at, n = 0;
	const char **rcpts;

	if (milter_memfd_read(fd, buf, &len) < 0)
		return -1;
	rcpts = xcalloc(len + 1, sizeof *rcpts);
	*slot = (unsigned)strtoul(*buf, NULL, 10);
	at = strlen(*buf) + 1;
	*reason = at < len ? *buf + at : "";
	at += at < len ? strlen(*buf + at) + 1 : 0;
	env->sender = at < len ? *buf + at : "";
	at += at < len ? strlen(*buf + at) + 1 : 0;
	while (at < len) {
		rcpts[n++] = *buf + at;
		at += strlen(*buf + at) + 1;
	}
	env->recipients = rcpts;
	env->n_recipients = n;
	env->source = "milter";
	if ((*reason)[0] == '\0')
		*reason = NULL;
	return 0;
}

/* The forked child: one message, then _exit (never returns to the zygote loop). */
static void __attribute__((noreturn))
milter_zygote_child(const struct milter_child_ctx *cx, const int fds[ZYGOTE_FDS])
{
	struct mail_envelope env = { NULL, NULL, 0, NULL };
	const char *reason = NULL;
	unsigned char status = 75;
	pid_t self = getpid();
	char *buf = NULL;
	unsigned slot = 0;
	int rc;

	signal(SIGCHLD, SIG_DFL);   /* the sanitizer waits for its own workers */
	setpgid(0, 0);              /* a timeout kills this child and what it forked */
	log_procname("tiergate-milter[worker]");
	if (write(fds[0], &self, sizeof self) == (ssize_t)sizeof self &&
	    milter_zygote_envelope_read(fds[4], &buf, &env, &reason, &slot) == 0) {
		rc = milter_child_sanitize(cx, &env, reason, slot, fds[1], fds[2], fds[3]);
		status = rc == 0 ? 0 : rc == MILTER_CHILD_CRASHED ? MILTER_ZYGOTE_PARSER_KILLED : 75;
	}
	if (write(fds[0], &status, 1) != 1)
		log_warnx("milter: the daemon went away before the result");
	_exit(0);
}

static void
milter_zygote_loop(int sock, const struct milter_child_ctx *cx)
{
	int fds[ZYGOTE_FDS], r;

	signal(SIGCHLD, SIG_IGN);   /* children are reaped by the kernel; the daemon watches them */
	while ((r = milter_zygote_receive(sock, fds)) != 1) {
		pid_t pid;
		if (r < 0)
			continue;
		/* logrotate renamed the event files: the message process starts with the new ones */
		ev_sink_refresh(cx->sink);
		ev_sink_refresh(san_ctx_events(cx->san));
		pid = fork();
		if (pid == 0) {
			close(sock);
			milter_zygote_child(cx, fds);
		}
		if (pid < 0)
			log_warn("milter: zygote fork");   /* the daemon sees EOF: falls back to spawning */
		for (int i = 0; i < ZYGOTE_FDS; i++)
			close(fds[i]);
	}
}

int
milter_zygote_main(int argc, char **argv)
{
	const char *config = NULL;
	struct san_config sc;
	struct milter_config mc;
	struct san_ctx *san;
	struct mail_ctx *mail;
	struct ev_sink *sink;

	log_init("tiergate-milter[zygote]", 0, LOG_LVL_INFO);
	close_range(4, ~0U, 0);   /* nothing of the daemon's (listening socket, connections) */
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--config") == 0)
			config = argv[i + 1];
	if (milter_config_read(config, &sc, &mc) < 0)
		return 1;
	san = san_ctx_new(&sc);
	if (san)
		san_ctx_warm(san);   /* once here: every message process inherits it */
	mail = san ? mail_ctx_new(san, &mc.mail) : NULL;
	if (mail == NULL || milter_parse_prepare() < 0)
		return 1;
	/* office attachments as page images: one warm converter for every message process (lo_service.c) */
	milter_child_office(san, &sc, true);
	if (!sandbox_can_setuid() && mc.parser_uid_base != 0)
		log_warnx("milter: neither root nor CAP_SETUID and CAP_SETGID: the MIME parser keeps the daemon's uid");
	sink = mc.events ? ev_sink_open(mc.events) : san_ctx_events(san);
	ev_sink_follow(sink, true);   /* message processes are not sandboxed: they may follow the path */
	ev_sink_follow(san_ctx_events(san), true);
	struct milter_child_ctx cx = { mail, san, &sc, &mc.mail, sink,
		sandbox_can_setuid() ? mc.parser_uid_base : 0, NULL };
	milter_zygote_loop(3, &cx);
	/* the daemon is gone: closing the converter service's socket (the ctx owns it) lets it end now */
	mail_ctx_free(mail);
	san_ctx_free(san);
	return 0;
}

/* lo_service.c -- the converter service: one process owning a warm pool, serving the processes forked after it. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/lo.h"

/*
 * Why a process of its own: the milter's message process (the broker) is forked
 * per message, so a pool there would start LibreOffice for every mail. The
 * zygote forks this service once (a spawned `--worker` and `tiergate-sanitize
 * --mail` fork one each, cold: LibreOffice starts at their first document); each message process inherits one end of a
 * SOCK_SEQPACKET pair and, per document, sends it the end of a fresh socketpair
 * (SCM_RIGHTS) to ask on. The MIME parser never holds the descriptor
 * (sandbox_enter closes it) and, when the milter runs as root, has another uid:
 * the service answers only sockets made by a process of its own uid.
 */
struct lo_service_conn {
	int fd;
	struct lo_pool *lp;
	struct lo_chan_limits lim;
};

static void *
lo_service_conn_main(void *arg)
{
	struct lo_service_conn *c = arg;

	lo_chan_serve(c->fd, c->lp, &c->lim);
	close(c->fd);
	free(c);
	return NULL;
}

/* One descriptor passed on the service socket: 1 got, 0 at EOF (every asker gone), -1 a bad message. */
static int
lo_service_receive(int sock, int *fd)
{
	union { struct cmsghdr hdr; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
	char byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
	ssize_t n;

	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return n == 0 ? 0 : -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)) || (msg.msg_flags & MSG_CTRUNC))
		return -1;
	memcpy(fd, CMSG_DATA(c), sizeof *fd);
	return 1;
}

/* The socket must come from a process of our uid (SO_PEERCRED: who made it, not what it says). */
static bool
lo_service_peer_ok(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof cred;

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == getuid();
}

static void __attribute__((noreturn))
lo_service_main(int sock, const struct san_config *cfg, bool warm)
{
	struct lo_pool *lp;
	pthread_attr_t attr;
	int fd, r;

	log_procname("sanitizer[office]");
	prctl(PR_SET_NAME, "tg-office");    /* what ps shows: not a message process */
	prctl(PR_SET_PDEATHSIG, SIGTERM);   /* the converters die with bwrap's --die-with-parent */
	signal(SIGCHLD, SIG_DFL);           /* the pool reaps its sandboxes */
	lp = lo_pool_new(cfg);
	if (warm)
		lo_pool_warm(lp);   /* else LibreOffice starts at the first document */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	while ((r = lo_service_receive(sock, &fd)) != 0) {
		pthread_t t;
		if (r < 0)
			continue;
		if (!lo_service_peer_ok(fd)) {
			log_warnx("sanitizer: office service: a socket from another uid refused");
			close(fd);
			continue;
		}
		struct lo_service_conn *c = xcalloc(1, sizeof *c);
		c->fd = fd;
		c->lp = lp;
		c->lim = (struct lo_chan_limits){ cfg->max_input_bytes, cfg->max_output_bytes, 1, cfg->max_input_bytes };
		if (pthread_create(&t, &attr, lo_service_conn_main, c) != 0) {
			close(fd);
			free(c);
		}
	}
	lo_pool_free(lp);
	_exit(0);
}

int
lo_service_start(const struct san_config *cfg, bool warm)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		lo_service_main(sv[1], cfg, warm);
	}
	close(sv[1]);
	return sv[0];
}

/* The asking side (lo_pool_remote): a fresh socket per document, its other end handed to the service. */
int
lo_service_ask(int svc_fd, const char *ext, const uint8_t *data, size_t len, size_t max_output,
    struct lo_output *out, char *why, size_t why_size)
{
	union { struct cmsghdr hdr; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
	struct iovec iov = { (void *)"C", 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
	int sv[2], rc;

	memset(out, 0, sizeof *out);
	memset(&ctl, 0, sizeof ctl);
	snprintf(why, why_size, "office converter service unreachable");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &sv[1], sizeof(int));
	while ((rc = (int)sendmsg(svc_fd, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	close(sv[1]);
	rc = rc < 0 ? -1 : lo_chan_request(sv[0], ext, data, len, max_output, out, why, why_size);
	close(sv[0]);
	return rc;
}

/* ctl.c -- the control socket: `tiergate-gw ctl stats|flows|reload` over a unix socket, server and client. */
#include "gw/ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

#define CTL_CMD_MAX 256
#define CTL_TIMEOUT_S 2

static int
ctl_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (str_copy(sun->sun_path, path, sizeof sun->sun_path) >= sizeof sun->sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static void
ctl_timeouts(int fd, int seconds)
{
	struct timeval tv = { seconds, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int
ctl_listen(const char *path, char *why, size_t why_size)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	if (ctl_addr(path, &sun) < 0 || (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(why, why_size, "control socket %s: %s", path, strerror(errno));
		return -1;
	}
	/* Only a socket is removed: a typo in the path must not delete somebody's file. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 8) < 0) {
		snprintf(why, why_size, "control socket %s: %s (does its directory exist? is another "
		    "tiergate-gw using it?)", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads one line (the command) without the newline. */
static int
ctl_read_line(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	buf[len] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return len > 0 ? 0 : -1;
}

static void
ctl_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

void
ctl_serve_one(int lfd, ctl_handler_fn fn, void *arg)
{
	char cmd[CTL_CMD_MAX], *answer = NULL;
	size_t answer_len = 0;
	FILE *out;
	struct ucred cred = { .uid = (uid_t)-1 };
	socklen_t cred_len = sizeof cred;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) < 0)
		cred.uid = (uid_t)-1;
	ctl_timeouts(fd, CTL_TIMEOUT_S);
	if (ctl_read_line(fd, cmd, sizeof cmd) == 0 && (out = open_memstream(&answer, &answer_len))) {
		fn(cmd, out, cred.uid, arg);
		fclose(out);
		ctl_write_all(fd, answer, answer_len);
		free(answer);
	}
	close(fd);
}

/* Prints the body; the status line decides the exit status. */
static int
ctl_print_answer(FILE *in, FILE *out)
{
	char line[4096];
	int rc = 1;

	if (fgets(line, sizeof line, in) == NULL) {
		fprintf(stderr, "tiergate-gw ctl: empty answer\n");
		return 1;
	}
	if (strcmp(line, "ok\n") == 0)
		rc = 0;
	else
		fputs(line, stderr);
	while (fgets(line, sizeof line, in))
		fputs(line, rc == 0 ? out : stderr);
	return rc;
}

int
ctl_client(const char *path, const char *cmd, FILE *out)
{
	struct sockaddr_un sun;
	FILE *in;
	int fd, rc;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || ctl_addr(path, &sun) < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		fprintf(stderr, "tiergate-gw ctl: cannot reach %s: %s (is tiergate-gw running? "
		    "is this the control_socket of its config?)\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 2;
	}
	ctl_timeouts(fd, 30);
	ctl_write_all(fd, cmd, strlen(cmd));
	ctl_write_all(fd, "\n", 1);
	shutdown(fd, SHUT_WR);
	in = fdopen(fd, "r");
	if (in == NULL) {
		close(fd);
		return 2;
	}
	rc = ctl_print_answer(in, out);
	fclose(in);
	return rc;
}

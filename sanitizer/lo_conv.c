/* lo_conv.c -- one converter slot: a bubblewrap sandbox holding the UNO driver and a warm soffice, spoken to over two pipes. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/util.h"
#include "sanitizer/lo.h"

/* lo_driver.py, conf/office/fonts.conf and registrymodifications.xcu as C strings (generated at build). */
#include "lo_embed.h"

#define LO_LINE_MAX 512

void
lo_output_free(struct lo_output *out)
{
	free(out->pdf);
	free(out->text);
	memset(out, 0, sizeof *out);
}

/* A memfd holding text, for bwrap's --file / --ro-bind-data (the sandbox sees only a copy). */
static int
lo_memfd(const char *name, const char *text)
{
	int fd = memfd_create(name, 0);
	size_t len = strlen(text), done = 0;

	if (fd < 0)
		return -1;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* The bwrap command line: empty network, read-only system, private tmpfs home and profile. */
static void
lo_bwrap_argv(const char **argv, size_t cap, char fdbuf[3][16], const int fds[3], const char *soffice)
{
	size_t n = 0;

	for (int i = 0; i < 3; i++)
		snprintf(fdbuf[i], 16, "%d", fds[i]);
#define A(x) do { if (n + 1 < cap) argv[n++] = (x); } while (0)
	A("bwrap"); A("--unshare-all"); A("--die-with-parent"); A("--new-session");
	A("--cap-drop"); A("ALL"); A("--clearenv");
	A("--ro-bind"); A("/usr"); A("/usr"); A("--ro-bind"); A("/etc"); A("/etc");
	A("--symlink"); A("usr/lib"); A("/lib"); A("--symlink"); A("usr/lib64"); A("/lib64");
	A("--symlink"); A("usr/bin"); A("/bin"); A("--symlink"); A("usr/sbin"); A("/sbin");
	A("--dev"); A("/dev"); A("--proc"); A("/proc"); A("--tmpfs"); A("/tmp");
	A("--dir"); A("/tmp/profile/user");
	A("--file"); A(fdbuf[0]); A("/tmp/profile/user/registrymodifications.xcu");
	A("--ro-bind-data"); A(fdbuf[1]); A("/opt/tg/driver.py");
	A("--ro-bind-data"); A(fdbuf[2]); A("/opt/tg/fonts.conf");
	A("--setenv"); A("HOME"); A("/tmp"); A("--setenv"); A("PATH"); A("/usr/bin:/bin");
	A("--setenv"); A("LANG"); A("C.UTF-8"); A("--setenv"); A("FONTCONFIG_FILE"); A("/opt/tg/fonts.conf");
	A("--setenv"); A("SAL_USE_VCLPLUGIN"); A("svp");
	A("--"); A("/usr/bin/python3"); A("/opt/tg/driver.py"); A(soffice);
#undef A
	argv[n] = NULL;
}

/* In the forked child: limits, the dropped user, only our fds, then bwrap. Never returns. */
static void __attribute__((noreturn))
lo_child(const struct lo_limits *lim, int in_fd, int out_fd, const int fds[3])
{
	const char *argv[80];
	char fdbuf[3][16];
	struct rlimit as = { lim->memory, lim->memory };
	int devnull = open("/dev/null", O_RDWR);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || devnull < 0 || dup2(devnull, 2) < 0)
		_exit(126);
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	for (int i = 0; i < 3; i++)
		fcntl(fds[i], F_SETFD, 0);
	if (setrlimit(RLIMIT_AS, &as) < 0)
		_exit(126);
	if (lim->drop && (setgroups(0, NULL) < 0 || setgid(lim->gid) < 0 || setuid(lim->uid) < 0))
		_exit(126);
	signal(SIGPIPE, SIG_DFL);
	sigset_t none;   /* a daemon's signalfd blocks signals: the sandbox must get them as usual */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	lo_bwrap_argv(argv, sizeof argv / sizeof argv[0], fdbuf, fds, lim->soffice);
	execv("/usr/bin/bwrap", (char *const *)argv);
	_exit(127);
}

/* Waits until fd is ready or the deadline: 1 ready, 0 timed out, -1 error. */
static int
lo_wait(int fd, short events, uint64_t deadline)
{
	for (;;) {
		uint64_t now = clock_mono_us();
		struct pollfd p = { fd, events, 0 };
		int rc;

		if (now >= deadline)
			return 0;
		rc = poll(&p, 1, (int)((deadline - now) / 1000) + 1);
		if (rc < 0 && errno == EINTR)
			continue;
		return rc < 0 ? -1 : rc > 0 ? 1 : 0;
	}
}

/* Reads exactly n bytes before the deadline: 0, -1 (EOF/error), -2 (timed out). */
static int
lo_read_full(int fd, uint8_t *buf, size_t n, uint64_t deadline)
{
	size_t got = 0;

	while (got < n) {
		int w = lo_wait(fd, POLLIN, deadline);
		ssize_t r;
		if (w <= 0)
			return w == 0 ? -2 : -1;
		r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* One reply line (without '\n'), at most LO_LINE_MAX - 1 bytes: 0, -1, -2 as above. */
static int
lo_read_line(int fd, char *line, uint64_t deadline)
{
	size_t n = 0;

	while (n + 1 < LO_LINE_MAX) {
		int rc = lo_read_full(fd, (uint8_t *)line + n, 1, deadline);
		if (rc < 0)
			return rc;
		if (line[n] == '\n') {
			line[n] = '\0';
			return 0;
		}
		n++;
	}
	return -1;
}

static int
lo_write_full(int fd, const uint8_t *p, size_t n, uint64_t deadline)
{
	while (n > 0) {
		int w = lo_wait(fd, POLLOUT, deadline);
		ssize_t r;
		if (w <= 0)
			return w == 0 ? -2 : -1;
		r = write(fd, p, n);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
lo_spawn(struct lo_slot *s, const struct lo_limits *lim, const int fds[3])
{
	int to[2], from[2];

	if (pipe2(to, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(from, O_CLOEXEC) < 0) {
		close(to[0]);
		close(to[1]);
		return -1;
	}
	s->pid = fork();
	if (s->pid == 0)
		lo_child(lim, to[0], from[1], fds);
	close(to[0]);
	close(from[1]);
	if (s->pid < 0) {
		s->pid = 0;
		close(to[1]);
		close(from[0]);
		return -1;
	}
	s->to_fd = to[1];
	s->from_fd = from[0];
	return 0;
}

int
lo_slot_start(struct lo_slot *s, const struct lo_limits *lim, char *why, size_t why_size)
{
	int fds[3] = { lo_memfd("lo-xcu", LO_REGISTRY_XCU), lo_memfd("lo-driver", LO_DRIVER_PY),
		lo_memfd("lo-fonts", LO_FONTS_CONF) };
	uint64_t start = clock_mono_us();
	char line[LO_LINE_MAX];
	int rc = -1;

	memset(s, 0, sizeof *s);
	if (fds[0] >= 0 && fds[1] >= 0 && fds[2] >= 0)
		rc = lo_spawn(s, lim, fds);
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (rc < 0) {
		snprintf(why, why_size, "converter could not be started: %s", strerror(errno));
		return -1;
	}
	/* a cold start (profile, fonts) takes seconds: a minute on top of the per-document limit */
	rc = lo_read_line(s->from_fd, line, start + ((uint64_t)lim->timeout + 60) * 1000000);
	if (rc < 0 || strcmp(line, "READY") != 0) {
		snprintf(why, why_size, "converter did not start (%s)", rc == -2 ? "timed out" : "exited");
		lo_slot_stop(s);
		return -1;
	}
	s->start_usec = clock_mono_us() - start;
	return 0;
}

void
lo_slot_stop(struct lo_slot *s)
{
	int status;

	if (s->pid > 0) {
		kill(s->pid, SIGKILL);   /* bwrap's death kills its child (--die-with-parent), so the pid namespace */
		while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (s->pid > 0) {
		close(s->to_fd);
		close(s->from_fd);
	}
	memset(s, 0, sizeof *s);
}

/* The driver's refusal, as printable ASCII for a reason (it is hostile text). */
static void
lo_refusal(const char *line, char *why, size_t why_size)
{
	char clean[160];
	size_t n = 0;

	for (const char *p = line; *p && n + 1 < sizeof clean; p++)
		clean[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
	clean[n] = '\0';
	snprintf(why, why_size, "%s", clean);
}

/* "OK <pdf_len> <txt_len>" exactly: decimal, no sign, a PDF of at least one byte, both within max_output. */
int
lo_parse_reply(const char *line, size_t max_output, size_t *pdf_len, size_t *txt_len)
{
	size_t v[2] = { 0, 0 };
	const char *p = line;

	if (strncmp(p, "OK ", 3) != 0)
		return -1;
	p += 3;
	for (int i = 0; i < 2; i++) {
		if (*p < '0' || *p > '9')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (v[i] > (max_output - (size_t)(*p - '0')) / 10)
				return -1;   /* past max_output: refused before it can overflow */
			v[i] = v[i] * 10 + (size_t)(*p - '0');
		}
		if (i == 0 && *p++ != ' ')
			return -1;
	}
	if (*p != '\0' || v[0] == 0 || v[1] > max_output - v[0])
		return -1;
	*pdf_len = v[0];
	*txt_len = v[1];
	return 0;
}

/* Reads "OK pdf_len txt_len" and the bytes after it. */
static int
lo_read_result(struct lo_slot *s, const struct lo_limits *lim, const char *line, uint64_t deadline,
    struct lo_output *out)
{
	size_t pdf_len, txt_len;

	if (lo_parse_reply(line, lim->max_output, &pdf_len, &txt_len) < 0)
		return -1;
	out->pdf = xmalloc(pdf_len);
	out->pdf_len = pdf_len;
	out->text = xmalloc(txt_len + 1);
	out->text_len = txt_len;
	if (lo_read_full(s->from_fd, out->pdf, pdf_len, deadline) < 0 ||
	    lo_read_full(s->from_fd, out->text, txt_len, deadline) < 0) {
		lo_output_free(out);
		return -1;
	}
	return 0;
}

int
lo_slot_convert(struct lo_slot *s, const struct lo_limits *lim, const char *ext, unsigned max_pages,
    const uint8_t *data, size_t len, struct lo_output *out, bool *slot_ok, char *why, size_t why_size)
{
	uint64_t deadline = clock_mono_us() + (uint64_t)lim->timeout * 1000000;
	char line[LO_LINE_MAX];
	int rc;

	memset(out, 0, sizeof *out);
	*slot_ok = false;
	snprintf(line, sizeof line, "CONV %s %u %zu\n", ext, max_pages, len);
	rc = lo_write_full(s->to_fd, (const uint8_t *)line, strlen(line), deadline);
	if (rc == 0)
		rc = lo_write_full(s->to_fd, data, len, deadline);
	if (rc == 0)
		rc = lo_read_line(s->from_fd, line, deadline);
	if (rc == 0 && strncmp(line, "ERR ", 4) == 0) {
		s->docs++;
		*slot_ok = true;
		lo_refusal(line + 4, why, why_size);
		return -1;
	}
	if (rc == 0 && lo_read_result(s, lim, line, deadline, out) == 0) {
		s->docs++;
		*slot_ok = true;
		return 0;
	}
	if (rc == -2)
		snprintf(why, why_size, "the document hung the office converter (no result in %u s)", lim->timeout);
	else
		snprintf(why, why_size, "the document crashed the office converter");
	lo_slot_stop(s);
	return -1;
}

/* milter_worker.c -- each message is rebuilt in a fresh process: a crash or hang there costs a tempfail, never the daemon. */
#include "sanitizer/mail/milter_worker.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/event.h"
#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/mail/mail.h"
#include "sanitizer/mail/milter_conf.h"

#define MILTER_WORKER_TEMPFAIL 75   /* EX_TEMPFAIL */

extern char **environ;

int
milter_worker_read_fd(int fd, char **data, size_t *len)
{
	struct stat st;
	size_t got = 0;

	if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return -1;
	*data = malloc((size_t)st.st_size + 1);
	if (*data == NULL)
		return -1;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	(*data)[got] = '\0';
	*len = got;
	return 0;
}

static char **
milter_worker_argv(const struct milter_worker_job *job)
{
	char **argv = xcalloc(10 + 2 * job->n_recipients, sizeof *argv);
	size_t n = 0;

	argv[n++] = (char *)job->self;
	argv[n++] = (char *)"--worker";
	if (job->config) {
		argv[n++] = (char *)"--config";
		argv[n++] = (char *)job->config;
	}
	if (job->quarantine_only) {
		argv[n++] = (char *)"--quarantine-only";
		argv[n++] = (char *)job->quarantine_only;
	}
	argv[n++] = (char *)"--sender";
	argv[n++] = (char *)(job->sender ? job->sender : "");
	for (size_t i = 0; i < job->n_recipients; i++) {
		argv[n++] = (char *)"--rcpt";
		argv[n++] = job->recipients[i];
	}
	return argv;
}

/* Waits for pid up to timeout seconds; kills it past that. Returns the wait status or -1. */
static int
milter_worker_wait(pid_t pid, unsigned timeout)
{
	uint64_t deadline = clock_mono_us() + (uint64_t)timeout * 1000000u;
	struct timespec pause = { 0, 5 * 1000 * 1000 };
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (clock_mono_us() > deadline) {
			log_warnx("milter: worker %d timed out after %u s; killed", (int)pid, timeout);
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		nanosleep(&pause, NULL);
	}
}

static int
milter_worker_spawn(const struct milter_worker_job *job, int out_fd, int rep_fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char **argv = milter_worker_argv(job);
	int rc;

	/* its own process group: a timeout kills the worker and the sanitizer children it forked */
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, job->in_fd, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, rep_fd, 3);
	rc = posix_spawn(pid, job->self, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(argv);
	if (rc != 0) {
		errno = rc;
		log_warn("milter: cannot start worker %s", job->self);
		return -1;
	}
	return 0;
}

static int
milter_worker_collect(int out_fd, int rep_fd, struct milter_worker_out *out)
{
	char *rep = NULL;
	size_t rep_len;
	unsigned long body_at, n_added;
	int rc = -1;

	if (milter_worker_read_fd(rep_fd, &rep, &rep_len) < 0)
		return -1;
	if (sscanf(rep, "%lu %lu", &body_at, &n_added) == 2 &&
	    milter_worker_read_fd(out_fd, &out->msg, &out->len) == 0 && body_at <= out->len) {
		out->body_at = body_at;
		out->n_added = n_added;
		rc = 0;
	}
	free(rep);
	return rc;
}

int
milter_worker_run(const struct milter_worker_job *job, struct milter_worker_out *out)
{
	int out_fd = memfd_create("tiergate-out", MFD_CLOEXEC);
	int rep_fd = memfd_create("tiergate-rep", MFD_CLOEXEC);
	int status = -1, rc = -1;
	bool spawned = false;
	pid_t pid;

	memset(out, 0, sizeof *out);
	if (out_fd >= 0 && rep_fd >= 0) {
		/* the warm zygote forks a fresh child per message; spawning is the fallback */
		int zrc = milter_zygote_run(job, out_fd, rep_fd);
		if (zrc != MILTER_ZYGOTE_UNAVAILABLE) {
			rc = zrc == 0 ? milter_worker_collect(out_fd, rep_fd, out) :
			    zrc == MILTER_WORKER_CRASHED ? zrc : -1;
			close(out_fd);
			close(rep_fd);
			return rc;
		}
	}
	if (out_fd >= 0 && rep_fd >= 0 && milter_worker_spawn(job, out_fd, rep_fd, &pid) == 0) {
		spawned = true;
		status = milter_worker_wait(pid, job->timeout);
	}
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		rc = milter_worker_collect(out_fd, rep_fd, out);
	} else if (status != -1 && WIFSIGNALED(status)) {
		log_warnx("milter: worker killed by signal %d", WTERMSIG(status));
		rc = MILTER_WORKER_CRASHED;
	} else if (status != -1) {
		log_warnx("milter: worker failed (exit %d)", WEXITSTATUS(status));
	} else if (spawned) {
		rc = MILTER_WORKER_CRASHED;   /* timed out and killed */
	}
	if (out_fd >= 0)
		close(out_fd);
	if (rep_fd >= 0)
		close(rep_fd);
	return rc;
}

void
milter_worker_out_free(struct milter_worker_out *out)
{
	free(out->msg);
	memset(out, 0, sizeof *out);
}

static int
milter_worker_write(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One "mail" event: envelope, sizes, per-part actions, quarantine id, duration. */
static void
milter_worker_event(struct ev_sink *sink, const struct mail_envelope *env,
    const struct mail_report *rep)
{
	struct jbuf jb = JBUF_INIT;

	if (sink == NULL)
		return;
	ev_begin(&jb, "mail", 0);
	jb_str(&jb, "source", env->source);
	jb_str(&jb, "sender", env->sender);
	jb_arr_begin(&jb, "recipients");
	for (size_t i = 0; i < env->n_recipients; i++)
		jb_str(&jb, NULL, env->recipients[i]);
	jb_arr_end(&jb);
	mail_report_json(rep, &jb);
	ev_end(&jb);
	ev_emit(sink, &jb);
	jb_free(&jb);
}

struct milter_worker_args {
	const char *config, *sender, *quarantine_only;
	const char **rcpts;
	size_t n_rcpts;
};

static int
milter_worker_args(int argc, char **argv, struct milter_worker_args *a)
{
	static const struct option opts[] = {
		{ "worker", no_argument, NULL, 'w' }, { "config", required_argument, NULL, 'c' },
		{ "sender", required_argument, NULL, 's' }, { "rcpt", required_argument, NULL, 'r' },
		{ "quarantine-only", required_argument, NULL, 'q' }, { NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof *a);
	a->rcpts = xcalloc((size_t)argc, sizeof *a->rcpts);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'c')
			a->config = optarg;
		else if (c == 's')
			a->sender = optarg;
		else if (c == 'r')
			a->rcpts[a->n_rcpts++] = optarg;
		else if (c == 'q')
			a->quarantine_only = optarg;
		else if (c != 'w')
			return -1;
	}
	return 0;
}

int
milter_worker_sanitize(struct mail_ctx *mail, struct ev_sink *sink, const struct mail_envelope *env,
    const char *quarantine_only, int in_fd, int out_fd, int rep_fd)
{
	struct mail_result res;
	char line[64], *msg = NULL;
	size_t len;
	int rc = -1;

	if (milter_worker_read_fd(in_fd, &msg, &len) < 0)
		return -1;
	if (quarantine_only ? mail_quarantine_notice(mail, (const uint8_t *)msg, len, env,
	    quarantine_only, &res) < 0 : mail_sanitize(mail, (const uint8_t *)msg, len, env, &res) < 0) {
		free(msg);
		return -1;
	}
	free(msg);
	snprintf(line, sizeof line, "%zu %zu\n", res.body_at, res.n_added);
	if (milter_worker_write(out_fd, res.out, res.out_len) == 0 &&
	    milter_worker_write(rep_fd, line, strlen(line)) == 0)
		rc = 0;
	milter_worker_event(sink, env, &res.report);
	mail_result_free(&res);
	return rc;
}

int
milter_worker_main(int argc, char **argv)
{
	struct milter_worker_args a;
	struct san_config sc;
	struct milter_config mc;
	struct san_ctx *san = NULL;
	struct mail_ctx *mail = NULL;
	struct ev_sink *sink = NULL;
	int rc = -1;

	log_init("tiergate-milter[worker]", 0, LOG_LVL_INFO);
	close_range(4, ~0U, 0);   /* nothing of the daemon's (listening socket, connections) */
	if (milter_worker_args(argc, argv, &a) < 0 || milter_config_read(a.config, &sc, &mc) < 0)
		return MILTER_WORKER_TEMPFAIL;
	/* no RLIMIT_CPU here: the sanitizer's own workers set theirs, and a lower hard
	 * limit inherited from us would make them fail; the daemon's wall-clock
	 * timeout kills this whole process group instead */
	if ((san = san_ctx_new(&sc)) != NULL && (mail = mail_ctx_new(san, &mc.mail)) != NULL) {
		struct mail_envelope env = { a.sender, a.rcpts, a.n_rcpts, "milter" };
		sink = mc.events ? ev_sink_open(mc.events) : NULL;
		rc = milter_worker_sanitize(mail, sink ? sink : san_ctx_events(san), &env,
		    a.quarantine_only, 0, 1, 3);
	}
	if (sink)
		ev_sink_close(sink);
	mail_ctx_free(mail);
	if (san)
		san_ctx_free(san);
	free(a.rcpts);
	milter_config_free(&mc);
	san_config_free(&sc);
	return rc == 0 ? 0 : MILTER_WORKER_TEMPFAIL;
}

/* milter_worker.c -- daemon side: each message is rebuilt in a fresh process (zygote child, else spawned); a crash or hang costs a tempfail, never the daemon. */
#include "sanitizer/mail/milter_worker.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/mail/milter_child.h"
#include "sanitizer/mail/milter_memfd.h"
#include "sanitizer/mail/milter_zygote.h"

extern char **environ;

static char **
milter_worker_argv(const struct milter_worker_job *job)
{
	char **argv = xcalloc(12 + 2 * job->n_recipients, sizeof *argv);
	static __thread char slot[16];
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
	snprintf(slot, sizeof slot, "%u", job->slot);
	argv[n++] = (char *)"--slot";
	argv[n++] = slot;
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

	if (milter_memfd_read(rep_fd, &rep, &rep_len) < 0)
		return -1;
	if (sscanf(rep, "%lu %lu", &body_at, &n_added) == 2 &&
	    milter_memfd_read(out_fd, &out->msg, &out->len) == 0 && body_at <= out->len) {
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
	} else if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == MILTER_CHILD_EXIT_CRASHED) {
		rc = MILTER_WORKER_CRASHED;   /* its sandboxed parser was killed */
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

/* verify_sched.c -- running the cases in parallel worker processes and reporting them in order. */
#include "gw/verify/verify_sched.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gw/verify/verify_str.h"
#include "lib/log.h"
#include "lib/util.h"

/* Set by SIGINT/SIGTERM/SIGHUP (a CI job cancelled): stop, kill the workers, clean up. */
static volatile sig_atomic_t vsched_stop_signal;

struct vsched_slot {
	pid_t pid;            /* 0: not started or reaped */
	uint64_t start_us;
	bool done;
};

static char *
vsched_result_path(const struct vopts *opts, size_t i)
{
	return vs_printf("%s/%zu.result", opts->workdir, i);
}

static void
vsched_worker(const struct vopts *opts, const struct vcase_ref *ref, size_t i)
{
	struct vresult res;
	char *path = vsched_result_path(opts, i);

	/* A worker never outlives the run (e.g. when CI cancels the job). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	vrun_case(opts, ref, i, &res);
	if (vresult_save(&res, path) < 0)
		_exit(3);
	_exit(0);
}

static int
vsched_start(const struct vopts *opts, const struct vcase_list *cases, size_t i,
    struct vsched_slot *slot)
{
	fflush(NULL);
	slot->start_us = clock_mono_us();
	slot->pid = fork();
	if (slot->pid < 0) {
		log_warn("fork");
		slot->pid = 0;
		return -1;
	}
	if (slot->pid == 0)
		vsched_worker(opts, &cases->v[i], i);
	return 0;
}

/* The worker's result, or a failure saying how the worker itself died. */
static void
vsched_collect(const struct vopts *opts, size_t i, int status, struct vresult *res)
{
	char *path = vsched_result_path(opts, i);

	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) || vresult_load(res, path) < 0) {
		memset(res, 0, sizeof *res);
		res->status = VSTATUS_FAIL;
		res->details = xstrdup("");
		if (WIFSIGNALED(status))
			res->reason = vs_printf("tiergate-verify's worker for this case was killed by signal %d "
			    "(%s): a bug in tiergate-verify, please report it", WTERMSIG(status),
			    strsignal(WTERMSIG(status)));
		else
			res->reason = vs_printf("tiergate-verify's worker for this case failed (status %d)",
			    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	free(path);
}

/* The details start with the first failure's reason, already on the FAIL line: skip it there. */
static const char *
vsched_skip_reason(const struct vresult *res)
{
	const char *d = res->details;
	size_t n = res->reason ? strlen(res->reason) : 0;

	if (n && strncmp(d, "  ", 2) == 0 && strncmp(d + 2, res->reason, n) == 0 && d[n + 2] == '\n')
		return d + n + 3;
	return d;
}

void
vsched_print(const struct vopts *opts, const struct vcase_ref *ref, const struct vresult *res,
    FILE *out)
{
	bool show_details = res->status != VSTATUS_PASS || opts->verbose;

	if (res->status == VSTATUS_PASS || res->status == VSTATUS_SAME)
		fprintf(out, "%s %s (%zu check%s)\n", vstatus_word(res->status), ref->name, res->nchecks,
		    res->nchecks == 1 ? "" : "s");
	else
		fprintf(out, "%s %s: %s\n", vstatus_word(res->status), ref->name,
		    res->reason ? res->reason : "failed");
	if (show_details && res->details && res->details[0])
		fputs(vsched_skip_reason(res), out);
	fflush(out);
}

/* Waits for any worker; returns its case index, or -1 when none is running. */
static long
vsched_reap(const struct vopts *opts, struct vsched_slot *slots, size_t n, struct vresult *results)
{
	int status;
	pid_t pid;

	do
		pid = waitpid(-1, &status, 0);
	while (pid < 0 && errno == EINTR && !vsched_stop_signal);
	if (pid < 0)
		return vsched_stop_signal ? -3 : -1;
	for (size_t i = 0; i < n; i++)
		if (slots[i].pid == pid) {
			slots[i].pid = 0;
			slots[i].done = true;
			vsched_collect(opts, i, status, &results[i]);
			results[i].seconds = (double)(clock_mono_us() - slots[i].start_us) / 1e6;
			return (long)i;
		}
	return -2;   /* not ours (cannot happen: workers are our only children) */
}

/* waitpid found no child although workers were counted as running: fail them rather than spin. */
static size_t
vsched_lost(const struct vopts *opts, struct vsched_slot *slots, size_t n, struct vresult *results)
{
	for (size_t i = 0; i < n; i++)
		if (slots[i].pid != 0) {
			slots[i].pid = 0;
			slots[i].done = true;
			vsched_collect(opts, i, 1 << 8, &results[i]);
		}
	return 0;
}

static void
vsched_on_signal(int sig)
{
	vsched_stop_signal = sig;
}

/* No SA_RESTART: the signal interrupts waitpid, so the loop sees it at once. */
static void
vsched_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = vsched_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Kills the running workers (their tiergate-gw children follow by PDEATHSIG) and reaps them. */
static void
vsched_abort(struct vsched_slot *slots, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (slots[i].pid > 0)
			kill(slots[i].pid, SIGKILL);
	for (size_t i = 0; i < n; i++)
		if (slots[i].pid > 0) {
			while (waitpid(slots[i].pid, NULL, 0) < 0 && errno == EINTR)
				;
			slots[i].pid = 0;
		}
}

int
vsched_interrupted(void)
{
	return vsched_stop_signal;
}

void
vsched_run(const struct vopts *opts, const struct vcase_list *cases, struct vresult *results,
    FILE *out)
{
	struct vsched_slot *slots = xcalloc(cases->n, sizeof *slots);
	size_t next = 0, printed = 0, running = 0;

	vsched_catch_signals();
	while (printed < cases->n && !vsched_stop_signal) {
		while (next < cases->n && running < (size_t)opts->jobs) {
			if (vsched_start(opts, cases, next, &slots[next]) < 0) {
				vsched_collect(opts, next, 1 << 8, &results[next]);
				slots[next].done = true;
			} else {
				running++;
			}
			next++;
		}
		if (running > 0) {
			long reaped = vsched_reap(opts, slots, cases->n, results);
			if (reaped >= 0)
				running--;
			else if (reaped != -3)
				running = vsched_lost(opts, slots, cases->n, results);
		}
		while (printed < cases->n && slots[printed].done) {
			vsched_print(opts, &cases->v[printed], &results[printed], out);
			printed++;
		}
	}
	if (vsched_stop_signal)
		vsched_abort(slots, cases->n);
	free(slots);
}

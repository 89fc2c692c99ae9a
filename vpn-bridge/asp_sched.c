/* asp_sched.c -- the scheduled ASP connection checks in a root-side child of the parent; the relays only read the state file. */
#include "vpn-bridge/asp_sched.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/event.h"
#include "lib/log.h"
#include "vpn-bridge/asp.h"

#define ASP_SCHED_MAX_RELAYS 64

static pid_t asp_sched_pid;
static pid_t asp_sched_relays[ASP_SCHED_MAX_RELAYS];
static unsigned asp_sched_n;

/* The checker died: the relays stop, so the parent's loop ends with "relays gone" (exit 1). */
static void
asp_sched_on_child(int sig)
{
	int saved = errno, status;

	(void)sig;
	if (asp_sched_pid > 0 && waitpid(asp_sched_pid, &status, WNOHANG) == asp_sched_pid) {
		asp_sched_pid = 0;
		for (unsigned i = 0; i < asp_sched_n; i++)
			kill(asp_sched_relays[i], SIGTERM);
	}
	errno = saved;
}

static _Noreturn void
asp_sched_loop(const struct bridge_conf *conf, struct ev_sink *events)
{
	log_procname("bridge[asp]");
	prctl(PR_SET_NAME, "tg-bridge-asp", 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	ev_sink_follow(events, true);   /* root, not sandboxed: finds the rotated event file itself */
	for (;;) {
		sleep(conf->asp_check_interval);   /* at start, asp-check's last results stand */
		if (getppid() == 1)
			_exit(0);   /* the parent is gone */
		if (asp_check_run(conf, NULL, NULL, events) < 0)
			log_warnx("scheduled ASP check: could not run (see above)");
	}
}

pid_t
asp_sched_start(const struct bridge_conf *conf, struct ev_sink *events, const pid_t *relay_pids,
    unsigned n)
{
	struct sigaction sa;
	pid_t pid;

	if (conf->n_asps == 0 || conf->asp_check_interval == 0 || n > ASP_SCHED_MAX_RELAYS)
		return 0;
	memcpy(asp_sched_relays, relay_pids, n * sizeof *relay_pids);
	asp_sched_n = n;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = asp_sched_on_child;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	pid = fork();
	if (pid == 0)
		asp_sched_loop(conf, events);
	if (pid < 0) {
		log_warn("fork for the scheduled ASP check");
		return -1;
	}
	asp_sched_pid = pid;
	return pid;
}

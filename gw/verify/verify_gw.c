/* verify_gw.c -- running tiergate-gw --pcap as a subprocess for one replay, bounded in time. */
#include "gw/verify/verify_gw.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gw/verify/verify_str.h"
#include "lib/util.h"

#define VGW_OUTPUT_LINES 12   /* of tiergate-gw's messages kept for the report */

static void
vgw_child(const struct vgw_job *job)
{
	int null = open("/dev/null", O_RDONLY);
	int log = open(job->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char *argv[] = { (char *)job->gw, "--pcap", (char *)job->pcap, "--config",
		(char *)job->policy, "--events", (char *)job->events, NULL };

	prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlive the worker (cancelled CI job) */
	if (null < 0 || log < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
		_exit(126);
	execv(job->gw, argv);
	dprintf(2, "cannot run %s: %s\n", job->gw, strerror(errno));
	_exit(127);
}

/* Waits for pid up to timeout_s; kills it past that. Returns the wait status, or -1 on timeout. */
static int
vgw_wait(pid_t pid, int timeout_s)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), status = 0;
	struct pollfd pfd = { pidfd, POLLIN, 0 };
	int ready = 1;

	if (pidfd >= 0) {
		do
			ready = poll(&pfd, 1, timeout_s * 1000);
		while (ready < 0 && errno == EINTR);
		close(pidfd);
	}
	if (ready == 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return ready == 0 ? -1 : status;
}

/* The first lines tiergate-gw printed, and its first non-empty line for the one-line reason. */
static char *
vgw_read_output(const char *path, char **first_line)
{
	uint8_t *text;
	size_t len, cut = 0;
	int lines = 0;

	*first_line = NULL;
	if (file_read_all(path, 1 << 20, &text, &len) < 0)
		return xstrdup("");
	while (cut < len && lines < VGW_OUTPUT_LINES)
		if (text[cut++] == '\n')
			lines++;
	text[cut] = '\0';
	for (char *line = (char *)text; *line != '\0';) {
		size_t n = strcspn(line, "\n");
		if (n > 0) {
			char save = line[n];
			line[n] = '\0';
			*first_line = vs_one_line(line, 300);
			line[n] = save;
			break;
		}
		line++;   /* an empty line: skip its newline */
	}
	return (char *)text;
}

static char *
vgw_status_text(int status, int timeout_s)
{
	if (status == -1)
		return vs_printf("timed out after %ds", timeout_s);
	if (WIFSIGNALED(status))
		return vs_printf("was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	if (WEXITSTATUS(status) == 127)
		return xstrdup("could not be started");
	return vs_printf("exited %d", WEXITSTATUS(status));
}

int
vgw_run(const struct vgw_job *job, char **reason, char **output)
{
	pid_t pid;
	int status;
	char *how, *first;

	*reason = *output = NULL;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		*reason = vs_printf("cannot fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		vgw_child(job);
	status = vgw_wait(pid, job->timeout_s);
	if (status == 0)
		return 0;
	how = vgw_status_text(status, job->timeout_s);
	*output = vgw_read_output(job->log, &first);
	*reason = vs_printf("tiergate-gw %s on %s%s%s", how, job->pcap_name ? job->pcap_name : job->pcap,
	    first ? ": " : "", first ? first : "");
	free(how);
	free(first);
	return -1;
}

char *
vgw_command(const struct vgw_job *job)
{
	return vs_printf("%s --pcap %s --config %s --events %s", job->gw, job->pcap, job->policy,
	    job->events);
}

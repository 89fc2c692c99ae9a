/* iptrules.c -- the iptables rules the live gateway needs: print, install (atomic, idempotent), remove. */
#include "gw/iptrules.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

#define IPTRULES_MAX 16
#define IPTRULES_LINE 256
#define IPTRULES_ARGS 32

struct iptrules {
	char line[IPTRULES_MAX][IPTRULES_LINE];   /* "-A CHAIN ..." as iptables-restore reads it */
	int n;
};

static void
iptrules_add(struct iptrules *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
iptrules_add(struct iptrules *r, const char *fmt, ...)
{
	va_list ap;

	if (r->n >= IPTRULES_MAX)
		fatalx("iptrules: rule table too small");
	va_start(ap, fmt);
	vsnprintf(r->line[r->n++], IPTRULES_LINE, fmt, ap);
	va_end(ap);
}

/*
 * Decided flows first (their connmark), then the packet the queue just marked
 * (its verdict is NF_REPEAT with the mark set: it comes back here, the mark is
 * saved to the connmark and the packet settled), then the queue. A rejected
 * flow's first packet was answered from user space; the kernel answers the rest.
 */
static void
iptrules_offload(const struct nfqconf *c, const struct iptrules_marks *mk, bool v6, struct iptrules *r)
{
	const char *ch = c->chain;
	uint32_t m = mk->accept | mk->drop | mk->reject;

	iptrules_add(r, "-A %s -m connmark --mark 0x%x/0x%x -j ACCEPT", ch, mk->accept, m);
	iptrules_add(r, "-A %s -m connmark --mark 0x%x/0x%x -j DROP", ch, mk->drop, m);
	iptrules_add(r, "-A %s -p tcp -m connmark --mark 0x%x/0x%x -j REJECT --reject-with tcp-reset",
	    ch, mk->reject, m);
	iptrules_add(r, "-A %s -m connmark --mark 0x%x/0x%x -j REJECT --reject-with %s", ch,
	    mk->reject, m, v6 ? "icmp6-adm-prohibited" : "icmp-admin-prohibited");
	iptrules_add(r, "-A %s -m mark ! --mark 0x0/0x%x -j CONNMARK --save-mark --mask 0x%x", ch, m, m);
	iptrules_add(r, "-A %s -m mark --mark 0x%x/0x%x -j ACCEPT", ch, mk->accept, m);
	iptrules_add(r, "-A %s -m mark --mark 0x%x/0x%x -j DROP", ch, mk->drop, m);
	iptrules_add(r, "-A %s -m mark --mark 0x%x/0x%x -j DROP", ch, mk->reject, m);
}

static void
iptrules_build(const struct nfqconf *c, const struct iptrules_marks *mk, bool v6, struct iptrules *r)
{
	char target[96];
	unsigned first = c->queue[0].num, last = c->queue[c->n_queues - 1].num;

	r->n = 0;
	if (c->offload)
		iptrules_offload(c, mk, v6, r);
	if (first == last)
		snprintf(target, sizeof target, "--queue-num %u", first);
	else
		snprintf(target, sizeof target, "--queue-balance %u:%u", first, last);
	if (c->ha_pair) {
		char gate[32];
		nfqconf_gate_chain(c, gate);
		/* A packet conntrack cannot place (a segment outside the window of a stale entry)
		 * is no new flow: the queue would decide a flow from its middle. */
		iptrules_add(r, "-A %s -m conntrack --ctstate INVALID -j DROP", c->chain);
		iptrules_add(r, "-A %s -j %s", c->chain, gate);   /* undecided packets pass the gate */
	}
	iptrules_add(r, "-A %s -j NFQUEUE %s%s", c->chain, target,
	    nfqconf_all_fail_open(c) ? " --queue-bypass" : "");
}

/* "iptables" -> "ip6tables", "iptables-legacy" -> "ip6tables-legacy". */
static void
iptrules_cmd(const struct nfqconf *c, int v6, const char *suffix, char *out, size_t size)
{
	const char *base = c->iptables;

	if (v6 && str_has_prefix(base, "ip"))
		snprintf(out, size, "ip6%s%s", base + 2, suffix);
	else
		snprintf(out, size, "%s%s", base, suffix);
}

/* The HA gate: made closed (a node starts as standby); --ha-state master opens it. */
static void
iptrules_print_gate(const struct nfqconf *c, const char *cmd, FILE *out)
{
	char gate[32];

	if (!c->ha_pair)
		return;
	nfqconf_gate_chain(c, gate);
	fprintf(out, "# HA gate: closed on a standby (nothing undecided is queued or decided there);\n"
	    "# keepalived's notify opens it with --ha-state master after conntrackd's commit.\n");
	fprintf(out, "%s -w -t filter -N %s\n%s -w -t filter -A %s -j DROP\n", cmd, gate, cmd, gate);
}

void
iptrules_print(const struct nfqconf *c, const struct iptrules_marks *mk, FILE *out)
{
	struct iptrules r;
	char cmd[80];

	fprintf(out, "# tiergate-gw: chain %s (filter table), jumped to from the top of FORWARD;\n"
	    "# queues %u-%u, %s, decided flows %s.\n", c->chain, c->queue[0].num,
	    c->queue[c->n_queues - 1].num,
	    nfqconf_all_fail_open(c) ? "fail-open (bypassed when the gateway is down)" : "fail-closed",
	    c->offload ? "continue in the kernel by connmark" : "stay in the queue");
	for (int v6 = 0; v6 <= 1; v6++) {
		iptrules_build(c, mk, v6, &r);
		iptrules_cmd(c, v6, "", cmd, sizeof cmd);
		fprintf(out, "%s -w -t filter -N %s\n", cmd, c->chain);
		iptrules_print_gate(c, cmd, out);
		for (int i = 0; i < r.n; i++)
			fprintf(out, "%s -w -t filter %s\n", cmd, r.line[i]);
		fprintf(out, "%s -w -t filter -I FORWARD 1 -j %s\n", cmd, c->chain);
	}
}

/* --- running iptables ------------------------------------------------------ */

static int
iptrules_split(char *text, char *argv[IPTRULES_ARGS])
{
	int n = 0;
	char *save = NULL;

	for (char *tok = strtok_r(text, " ", &save); tok && n < IPTRULES_ARGS - 1;
	    tok = strtok_r(NULL, " ", &save))
		argv[n++] = tok;
	argv[n] = NULL;
	return n;
}

static void
iptrules_child(char *const argv[], int in_fd, bool quiet)
{
	int devnull = open("/dev/null", O_RDWR);

	if (in_fd >= 0)
		dup2(in_fd, STDIN_FILENO);
	else if (devnull >= 0)
		dup2(devnull, STDIN_FILENO);
	if (quiet && devnull >= 0) {
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
	}
	execvp(argv[0], argv);
	if (!quiet)
		fprintf(stderr, "tiergate-gw: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Runs "cmd args..." (args split on spaces) with input on stdin; returns its exit status. */
static int
iptrules_run(const char *cmd, const char *args, const char *input, bool quiet)
{
	char text[IPTRULES_LINE * 2], *argv[IPTRULES_ARGS];
	int pipefd[2] = { -1, -1 }, status;
	pid_t pid;

	snprintf(text, sizeof text, "%s %s", cmd, args);
	iptrules_split(text, argv);
	if (input && pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0)
		iptrules_child(argv, pipefd[0], quiet);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pid > 0 && input) {
		size_t len = strlen(input), off = 0;
		while (off < len) {
			ssize_t w = write(pipefd[1], input + off, len - off);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
	}
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool
iptrules_jump_present(const struct nfqconf *c, const char *cmd)
{
	char args[IPTRULES_LINE];

	snprintf(args, sizeof args, "-w -t filter -C FORWARD -j %s", c->chain);
	return iptrules_run(cmd, args, NULL, true) == 0;
}

static const char *
iptrules_gate_name(const struct nfqconf *c, char gate[32])
{
	nfqconf_gate_chain(c, gate);
	return gate;
}

static bool
iptrules_chain_present(const char *cmd, const char *chain)
{
	char args[IPTRULES_LINE];

	snprintf(args, sizeof args, "-w -t filter -S %s", chain);
	return iptrules_run(cmd, args, NULL, true) == 0;
}

static int
iptrules_install_family(const struct nfqconf *c, const struct iptrules_marks *mk, int v6)
{
	struct iptrules r;
	char cmd[80], restore[96], gate[32], input[IPTRULES_MAX * IPTRULES_LINE + 512];
	size_t len;

	iptrules_build(c, mk, v6, &r);
	iptrules_cmd(c, v6, "", cmd, sizeof cmd);
	iptrules_cmd(c, v6, "-restore", restore, sizeof restore);
	/* With --noflush, declaring an existing chain empties it: old rules go in the same commit. */
	len = (size_t)snprintf(input, sizeof input, "*filter\n:%s - [0:0]\n", c->chain);
	if (c->ha_pair && !iptrules_chain_present(cmd, iptrules_gate_name(c, gate)))
		len += (size_t)snprintf(input + len, sizeof input - len, ":%s - [0:0]\n-A %s -j DROP\n",
		    gate, gate);   /* a new gate is closed; an existing one keeps its state */
	for (int i = 0; i < r.n; i++)
		len += (size_t)snprintf(input + len, sizeof input - len, "%s\n", r.line[i]);
	if (!iptrules_jump_present(c, cmd))
		len += (size_t)snprintf(input + len, sizeof input - len, "-I FORWARD 1 -j %s\n", c->chain);
	snprintf(input + len, sizeof input - len, "COMMIT\n");
	if (iptrules_run(restore, "-w --noflush", input, false) != 0) {
		log_warnx("%s refused the rules for chain %s (see its message above)", restore, c->chain);
		return -1;
	}
	return 0;
}

int
iptrules_install(const struct nfqconf *c, const struct iptrules_marks *mk)
{
	if (iptrules_install_family(c, mk, 0) < 0 || iptrules_install_family(c, mk, 1) < 0)
		return -1;
	log_info("installed chain %s and its jump from FORWARD (IPv4 and IPv6)", c->chain);
	return 0;
}

/* Flushes and deletes chain; a no-op when it is absent. */
static int
iptrules_delete_chain(const char *cmd, const char *chain)
{
	char args[IPTRULES_LINE];

	if (!iptrules_chain_present(cmd, chain))
		return 0;
	snprintf(args, sizeof args, "-w -t filter -F %s", chain);
	if (iptrules_run(cmd, args, NULL, false) != 0)
		return -1;
	snprintf(args, sizeof args, "-w -t filter -X %s", chain);
	return iptrules_run(cmd, args, NULL, false) == 0 ? 0 : -1;
}

static int
iptrules_remove_family(const struct nfqconf *c, int v6)
{
	char cmd[80], args[IPTRULES_LINE], gate[32];

	iptrules_cmd(c, v6, "", cmd, sizeof cmd);
	/* The jump may have been added twice by hand: remove every copy, but never loop forever. */
	for (int i = 0; i < 16 && iptrules_jump_present(c, cmd); i++) {
		snprintf(args, sizeof args, "-w -t filter -D FORWARD -j %s", c->chain);
		if (iptrules_run(cmd, args, NULL, false) != 0)
			return -1;
	}
	if (iptrules_delete_chain(cmd, c->chain) < 0)
		return -1;
	return iptrules_delete_chain(cmd, iptrules_gate_name(c, gate));
}

int
iptrules_remove(const struct nfqconf *c)
{
	int rc = iptrules_remove_family(c, 0);

	if (iptrules_remove_family(c, 1) < 0)
		rc = -1;
	if (rc == 0)
		log_info("removed chain %s and its jump from FORWARD", c->chain);
	return rc;
}

bool
iptrules_present(const struct nfqconf *c)
{
	char cmd[80];

	iptrules_cmd(c, 0, "", cmd, sizeof cmd);
	return iptrules_jump_present(c, cmd);
}

/* The gate's state in one iptables-restore commit per family: empty (open) or one DROP (closed). */
int
iptrules_gate(const struct nfqconf *c, bool open)
{
	char restore[96], gate[32], input[256];

	if (!c->ha_pair) {
		log_warnx("nfqueue.ha_pair is not set: this gateway has no HA gate");
		return -1;
	}
	iptrules_gate_name(c, gate);
	snprintf(input, sizeof input, "*filter\n:%s - [0:0]\n%s%s%sCOMMIT\n", gate,
	    open ? "" : "-A ", open ? "" : gate, open ? "" : " -j DROP\n");
	for (int v6 = 0; v6 <= 1; v6++) {
		iptrules_cmd(c, v6, "-restore", restore, sizeof restore);
		if (iptrules_run(restore, "-w --noflush", input, false) != 0) {
			log_warnx("%s refused the gate chain %s (see its message above)", restore, gate);
			return -1;
		}
	}
	return 0;
}

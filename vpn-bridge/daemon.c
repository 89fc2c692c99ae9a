/* daemon.c -- privilege separation: the parent keeps the secrets, forked relays hold the network. */
#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "vpn-bridge/asp_sched.h"
#include "vpn-bridge/auth.h"
#include "vpn-bridge/bridge.h"
#include "vpn-bridge/control.h"
#include "vpn-bridge/keyproc.h"
#include "vpn-bridge/privfiles.h"
#include "vpn-bridge/relay.h"
#include "vpn-bridge/tls.h"

#define DAEMON_MAX_WORKERS 64

/* workers[0..n) are the relays, workers[n..2n) their key processes (when there are). */
struct daemon_worker {
	pid_t pid;       /* 0: not started */
	int auth_end;    /* a relay: the parent's end of its auth socketpair */
};

static int
daemon_listen(const struct bridge_conf *conf, bool reuseport)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char port[8];
	int fd, one = 1;

	snprintf(port, sizeof port, "%u", conf->listen_port);
	if (getaddrinfo(conf->listen_host, port, &hints, &res) != 0 || res == NULL) {
		log_warnx("bridge.listen: cannot use address %s", conf->listen_host);
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (reuseport)
			setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
		if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
			log_warn("bind %s:%s", conf->listen_host, port);
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

/* The relay parses hostile TLS and HTTP: as root it first becomes the configured user. */
static void
daemon_drop_privileges(const struct bridge_conf *conf)
{
	struct passwd *pw;

	if (geteuid() != 0) {
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		return;
	}
	if (conf->run_user == NULL || conf->run_user[0] == '\0')
		fatalx("running as root: set bridge.user to the account the relay runs as");
	pw = getpwnam(conf->run_user);
	if (pw == NULL)
		fatalx("bridge.user \"%s\": no such user", conf->run_user);
	if (setgroups(1, &pw->pw_gid) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		fatal("dropping privileges to %s", conf->run_user);
	if (setuid(0) == 0)
		fatalx("could regain root after dropping privileges");
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* Relay `index`: its own socketpairs to the auth and key processes, its own SSL_CTX. */
static pid_t
daemon_spawn_relay(const struct bridge_conf *conf, const struct policy *zones, const int *keyfds,
    unsigned n, struct daemon_worker *workers, unsigned index, struct ev_sink *events)
{
	int sp[2], listen_fd;
	SSL_CTX *ctx;
	pid_t pid;

	listen_fd = daemon_listen(conf, conf->workers > 1);
	if (listen_fd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		for (unsigned i = 0; i < index; i++)
			close(workers[i].auth_end);
		for (unsigned i = 0; i < n; i++)
			if (i != index && keyfds[i] >= 0)
				close(keyfds[i]);
		close(sp[0]);
		log_procname("bridge[relay]");
		prctl(PR_SET_NAME, "tg-bridge-relay", 0, 0, 0);   /* what ps and top show */
		ctx = tls_server_ctx(conf, keyfds[index]);   /* certificates read while still root */
		if (ctx == NULL)
			fatalx("TLS setup failed (see above)");
		daemon_drop_privileges(conf);
		_exit(relay_run(conf, zones, ctx, listen_fd, sp[1], events, index == 0));
	}
	close(listen_fd);
	close(sp[1]);
	if (keyfds[index] >= 0)
		close(keyfds[index]);
	workers[index].pid = pid;
	workers[index].auth_end = sp[0];
	return pid;
}

/* Stops the n relays and their key processes (those started); a crashed one is named in the log. */
static void
daemon_stop_workers(struct daemon_worker *workers, unsigned n)
{
	for (unsigned i = 0; i < 2 * n; i++)
		if (workers[i].pid > 0)
			kill(workers[i].pid, SIGTERM);
	for (unsigned i = 0; i < 2 * n; i++) {
		int status = 0;
		if (workers[i].pid <= 0 || waitpid(workers[i].pid, &status, 0) != workers[i].pid)
			continue;
		if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM)
			log_warnx("%s %d was killed by signal %d (%s)", i >= n ?
			    "key process" : "relay", (int)workers[i].pid, WTERMSIG(status),
			    strsignal(WTERMSIG(status)));
	}
}

/* Secrets are read only after the relays are forked, so no relay ever had them in memory. */
static int
daemon_auth_loop(const struct bridge_conf *conf, struct daemon_worker *workers, unsigned n,
    struct ev_sink *events)
{
	int fds[DAEMON_MAX_WORKERS];
	int control_fd = -1, rc;
	struct auth *a;

	log_procname("bridge[auth]");
	a = auth_new(conf, events);
	if (a == NULL)
		return 1;
	if (conf->control_socket && (control_fd = control_listen(conf->control_socket)) < 0)
		log_warnx("no control socket: unlock will not work");
	for (unsigned i = 0; i < n; i++)
		fds[i] = workers[i].auth_end;
	rc = control_serve(a, fds, (int)n, control_fd);
	if (rc > 0)
		log_warnx("every relay process has gone: stopping");
	if (control_fd >= 0) {
		close(control_fd);
		unlink(conf->control_socket);
	}
	auth_free(a);
	return rc != 0 ? 1 : 0;
}

/*
 * The zone model of the same site file. A site file with zones must load
 * (a broken policy stops the bridge); one without zones runs without the guard.
 */
static struct policy *
daemon_load_zones(const struct bridge_conf *conf)
{
	struct diags d;
	struct policy *zones;

	if (!conf->has_zones) {
		log_warnx("%s has no zones: destinations are not checked against the mynumber zone",
		    conf->path);
		return NULL;
	}
	diags_init(&d, conf->path);
	zones = policy_load(conf->path, &d);
	if (zones == NULL) {
		diags_log(&d);
		fatalx("%s: the zone model does not load", conf->path);
	}
	diags_free(&d);
	return zones;
}

/*
 * bridge.cpu_affinity: relay i and its key process are both bound to the i-th CPU the
 * daemon may use (round robin). A signature then wakes a process on the relay's own
 * core, a plain switch, instead of another core: on a VM that other core is often idle,
 * and waking it goes through the hypervisor (a SEQPACKET round trip measured 4 us on one
 * core, 80 us across two; docs/platform-notes.md).
 */
static void
daemon_place(const struct daemon_worker *workers, unsigned n)
{
	cpu_set_t allowed, one;
	int cpus[CPU_SETSIZE];
	unsigned n_cpus = 0;

	if (sched_getaffinity(0, sizeof allowed, &allowed) < 0)
		return;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &allowed))
			cpus[n_cpus++] = c;
	if (n_cpus < 2)
		return;
	for (unsigned i = 0; i < n; i++) {
		int cpu = cpus[i % n_cpus];
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(workers[i].pid, sizeof one, &one) < 0 ||
		    (workers[n + i].pid > 0 && sched_setaffinity(workers[n + i].pid, sizeof one, &one) < 0)) {
			log_warn("bridge.cpu_affinity: binding relay %u to CPU %d", i, cpu);
			return;
		}
		log_info("relay %u%s on CPU %d", i, workers[n + i].pid > 0 ? " and its key process" : "", cpu);
	}
}

int
daemon_run(struct bridge_conf *conf, const struct bridge_opts *opts)
{
	struct daemon_worker workers[2 * DAEMON_MAX_WORKERS];
	unsigned n = conf->workers < DAEMON_MAX_WORKERS ? conf->workers : DAEMON_MAX_WORKERS;
	struct ev_sink *events;
	int keyfds[DAEMON_MAX_WORKERS];
	pid_t keys[DAEMON_MAX_WORKERS];
	struct policy *zones;
	pid_t relay_pids[DAEMON_MAX_WORKERS], asp_pid;
	char why[512];
	int rc;

	(void)opts;
	if (privfiles_check(conf, why, sizeof why) < 0)
		fatalx("%s", why);
	zones = daemon_load_zones(conf);
	memset(workers, 0, sizeof workers);
	/* First the key processes: the server keys are read there and nowhere else. */
	for (unsigned i = 0; i < n; i++)
		keyfds[i] = -1;
	if (conf->key_process && keyproc_start(conf, n, keyfds, keys) < 0)
		fatalx("the key processes did not start (see above)");
	if (!conf->key_process)
		log_warnx("bridge.key_process = false: the relays hold the TLS private keys");
	for (unsigned i = 0; conf->key_process && i < n; i++)
		workers[n + i].pid = keys[i];
	/* opened after the key processes start: they hold no descriptor of the event file (nor of a rotated one) */
	if ((events = ev_sink_open(conf->events_file ? conf->events_file : "-")) == NULL) {
		daemon_stop_workers(workers, n);
		fatal("events file %s", conf->events_file);
	}
	tls_ticket_keys_new();   /* one set for every relay: a ticket resumes on any of them */
	for (unsigned i = 0; i < n; i++)
		if (daemon_spawn_relay(conf, zones, keyfds, n, workers, i, events) < 0) {
			daemon_stop_workers(workers, n);
			fatal("starting relay %u", i);
		}
	tls_ticket_keys_forget();
	for (unsigned i = 0; i < n; i++)
		relay_pids[i] = workers[i].pid;
	if ((asp_pid = asp_sched_start(conf, events, relay_pids, n)) < 0) {
		daemon_stop_workers(workers, n);
		fatalx("the scheduled ASP check did not start");
	}
	if (conf->cpu_affinity)
		daemon_place(workers, n);
	log_info("listening on %s:%u with %u relay process(es)", conf->listen_host,
	    conf->listen_port, n);
	rc = daemon_auth_loop(conf, workers, n, events);
	if (asp_pid > 0) {
		signal(SIGCHLD, SIG_DFL);
		kill(asp_pid, SIGTERM);
		waitpid(asp_pid, NULL, 0);
	}
	daemon_stop_workers(workers, n);
	if (zones)
		policy_unref(zones);
	ev_sink_close(events);
	return rc;
}

/* live.c -- tiergate-gw's live mode: command line, start-up (bind, drop privileges, threads), the main loop, shut-down. */
#include "gw/live.h"

#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gw/ctl.h"
#include "gw/frontend.h"
#include "gw/iptrules.h"
#include "gw/metrics.h"
#include "gw/privdrop.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/evforward.h"

#define LIVE_DEFAULT_CONFIG "/etc/tiergate/tiergate.conf"

enum live_mode { LIVE_RUN, LIVE_CHECK, LIVE_PRINT_RULES, LIVE_INSTALL_RULES, LIVE_REMOVE_RULES, LIVE_CTL,
	LIVE_HA_STATE };

struct live_opts {
	enum live_mode mode;
	const char *config;
	const char *events;          /* overrides gateway.events */
	const char *user;            /* overrides nfqueue.user */
	const char *ctl_socket;      /* overrides nfqueue.control_socket */
	const char *metrics;         /* overrides nfqueue.metrics_listen */
	const char *ctl_cmd;
	const char *ha_role;         /* overrides gateway.node */
	const char *ha_state;        /* --ha-state: master, backup, fault, stop */
	bool syslog;
	enum log_level level;
};

static void
live_usage(FILE *out)
{
	fprintf(out,
	    "usage: tiergate-gw --config FILE [--events FILE] [--user USER] [--ctl-socket PATH]\n"
	    "                   [--metrics ADDR:PORT] [--syslog] [-v]      run the inline gateway\n"
	    "       tiergate-gw --config FILE --check                     load and check, print \"configuration OK\"\n"
	    "       tiergate-gw --config FILE --print-rules | --install-rules | --remove-rules\n"
	    "       tiergate-gw [--config FILE | --ctl-socket PATH] ctl stats|flows|reload\n"
	    "       tiergate-gw --config FILE [--ha-role NAME] ...           name this node of a pair in its events\n"
	    "       tiergate-gw --config FILE --ha-state master|backup|fault|stop   keepalived's notify hook\n"
	    "       tiergate-gw --pcap FILE --config FILE ...             offline replay (see --pcap --help)\n");
}

static int
live_parse_args(int argc, char **argv, struct live_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' }, { "events", required_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'u' }, { "ctl-socket", required_argument, NULL, 's' },
		{ "metrics", required_argument, NULL, 'm' }, { "check", no_argument, NULL, 'k' },
		{ "print-rules", no_argument, NULL, 'P' }, { "install-rules", no_argument, NULL, 'I' },
		{ "remove-rules", no_argument, NULL, 'R' }, { "syslog", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
		{ "ha-role", required_argument, NULL, 'n' }, { "ha-state", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 } };
	int ch;

	memset(o, 0, sizeof *o);
	o->config = LIVE_DEFAULT_CONFIG;
	o->level = LOG_LVL_INFO;
	while ((ch = getopt_long(argc, argv, "c:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'e': o->events = optarg; break;
		case 'u': o->user = optarg; break;
		case 's': o->ctl_socket = optarg; break;
		case 'm': o->metrics = optarg; break;
		case 'k': o->mode = LIVE_CHECK; break;
		case 'P': o->mode = LIVE_PRINT_RULES; break;
		case 'I': o->mode = LIVE_INSTALL_RULES; break;
		case 'R': o->mode = LIVE_REMOVE_RULES; break;
		case 'S': o->syslog = true; break;
		case 'v': o->level = LOG_LVL_DEBUG; break;
		case 'n': o->ha_role = optarg; break;
		case 'H': o->mode = LIVE_HA_STATE; o->ha_state = optarg; break;
		case 'h': live_usage(stdout); exit(0);
		default: live_usage(stderr); return -1;
		}
	}
	if (optind < argc && strcmp(argv[optind], "ctl") == 0 && optind + 2 == argc) {
		o->mode = LIVE_CTL;
		o->ctl_cmd = argv[optind + 1];
	} else if (optind < argc) {
		fprintf(stderr, "tiergate-gw: unexpected argument '%s'\n", argv[optind]);
		live_usage(stderr);
		return -1;
	}
	return 0;
}

/* --- configuration --------------------------------------------------------- */

/* Reads the nfqueue and gateway groups; the policy is loaded separately (it is what reloads change). */
static int
live_load_settings(struct live *lv, const struct live_opts *o)
{
	struct diags d;
	config_t cfg;
	int rc;

	diags_init(&d, o->config);
	config_init(&cfg);
	nfqconf_defaults(&lv->nfq);
	gw_config_defaults(&lv->gw);
	rc = conf_load(&cfg, o->config, &d);
	if (rc == 0 && nfqconf_parse(&cfg, &lv->nfq, &d) < 0)
		rc = -1;
	if (rc == 0 && gw_config_load(&cfg, &lv->gw, &d) < 0)
		rc = -1;
	if (rc == 0 && ev_forward_configure(&cfg, "tiergate-gw", &d) < 0)
		rc = -1;
	config_destroy(&cfg);
	diags_print(&d, stderr);
	diags_free(&d);
	if (o->user)
		str_copy(lv->nfq.user, o->user, sizeof lv->nfq.user);
	if (o->ctl_socket)
		str_copy(lv->nfq.control_socket, o->ctl_socket, sizeof lv->nfq.control_socket);
	if (o->metrics)
		str_copy(lv->nfq.metrics_listen, o->metrics, sizeof lv->nfq.metrics_listen);
	if (o->events)
		str_copy(lv->gw.events, o->events, sizeof lv->gw.events);
	if (o->ha_role && !gw_config_node_ok(o->ha_role)) {
		fprintf(stderr, "tiergate-gw: --ha-role '%s': a node name is 1-63 letters, digits, "
		    "'.', '_' or '-'\n", o->ha_role);
		rc = -1;
	} else if (o->ha_role) {
		str_copy(lv->gw.node, o->ha_role, sizeof lv->gw.node);
	}
	lv->mark_mask = lv->gw.mark_accept | lv->gw.mark_drop | lv->gw.mark_reject;
	return rc;
}

static int
live_load_policy(struct live *lv)
{
	struct diags d;

	diags_init(&d, lv->config_path);
	lv->policy = policy_load(lv->config_path, &d);
	diags_print(&d, stderr);
	diags_free(&d);
	return lv->policy ? 0 : -1;
}

static int
live_rules(const struct live *lv, enum live_mode mode)
{
	struct iptrules_marks mk = { lv->gw.mark_accept, lv->gw.mark_drop, lv->gw.mark_reject };

	if (mode == LIVE_PRINT_RULES) {
		iptrules_print(&lv->nfq, &mk, stdout);
		return 0;
	}
	if (mode == LIVE_INSTALL_RULES)
		return iptrules_install(&lv->nfq, &mk) == 0 ? 0 : 1;
	return iptrules_remove(&lv->nfq) == 0 ? 0 : 1;
}

/* --- start-up -------------------------------------------------------------- */

static void
live_open_raw(struct live *lv)
{
	lv->raw4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	lv->raw6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (lv->raw4 < 0 || lv->raw6 < 0)
		log_warn("raw socket for reject answers (rejects will be plain drops)");
}

static void
live_open_sink(struct live *lv)
{
	if (lv->gw.events[0] == '\0')
		return;
	lv->sink = ev_sink_open(lv->gw.events);
	if (lv->sink == NULL)
		fatal("cannot open the event file %s (gateway.events or --events)", lv->gw.events);
}

static void
live_bind_queues(struct live *lv)
{
	char why[512];

	for (unsigned i = 0; i < lv->nfq.n_queues; i++) {
		struct nfqsock_opts so = {
			.num = lv->nfq.queue[i].num, .queue_maxlen = lv->nfq.queue_maxlen,
			.copy_range = lv->nfq.copy_range, .socket_buffer = lv->nfq.socket_buffer,
			.batch = lv->nfq.batch, .gso = lv->nfq.gso, .fail_open = lv->nfq.queue[i].fail_open,
		};
		struct live_queue *q = &lv->queue[i];

		q->index = i;
		q->sock = nfqsock_open(&so, why, sizeof why);
		if (q->sock == NULL)
			fatalx("%s", why);
		lv->n_queues++;
	}
}

static void
live_start_engines(struct live *lv)
{
	for (unsigned i = 0; i < lv->n_queues; i++) {
		lv->queue[i].engine = gw_engine_new(&lv->gw, lv->policy, lv->sink);
		if (lv->queue[i].engine == NULL)
			fatalx("queue %u: the packet engine could not start (see above)",
			    nfqsock_num(lv->queue[i].sock));
		gw_engine_share_names(lv->queue[i].engine, lv->queue[0].engine);
	}
}

/* Files the unprivileged process must write or remove later are handed to it now. */
static void
live_hand_over_files(const struct live *lv)
{
	struct stat st;

	if (geteuid() != 0 || lv->gw.events[0] == '\0' || stat(lv->gw.events, &st) < 0 ||
	    !S_ISREG(st.st_mode))
		return;
	char why[256];
	uid_t uid;
	gid_t gid;
	if (privdrop_user_ids(lv->nfq.user, &uid, &gid, why, sizeof why) == 0 &&
	    chown(lv->gw.events, uid, gid) < 0)
		log_warn("chown %s to %s (reopening it after rotation may fail)", lv->gw.events,
		    lv->nfq.user);
}

static void
live_check_rules(const struct live *lv)
{
	if (!iptrules_present(&lv->nfq))
		log_warnx("the jump to chain %s is not in FORWARD: no packet will reach the gateway "
		    "until 'tiergate-gw --config %s --install-rules' is run", lv->nfq.chain,
		    lv->config_path);
}

/* --- the main thread's loop -------------------------------------------------- */

struct live_main {
	struct live *lv;
	int sig_fd, ctl_fd, metrics_fd;
};

static void
live_ctl_handler(const char *cmd, FILE *answer, uid_t peer, void *arg)
{
	struct live *lv = arg;

	if (strcmp(cmd, "stats") == 0)
		live_stats_text(lv, answer);
	else if (strcmp(cmd, "flows") == 0)
		live_flows_text(lv, answer);
	else if (strcmp(cmd, "reload") == 0)
		live_reload(lv, answer, peer, "ctl reload");
	else if (strncmp(cmd, "ha ", 3) == 0)
		live_ha_changed(lv, cmd + 3, answer);
	else
		fprintf(answer, "error: unknown command '%s' (stats, flows, reload)\n", cmd);
}

static void
live_metrics_handler(FILE *out, void *arg)
{
	live_stats_prometheus(arg, out);
}

static void
live_on_signal(struct live_main *m)
{
	struct signalfd_siginfo si;

	if (read(m->sig_fd, &si, sizeof si) != sizeof si)
		return;
	if (si.ssi_signo == SIGHUP) {
		log_info("SIGHUP: reloading %s", m->lv->config_path);
		live_reload(m->lv, NULL, si.ssi_uid, "SIGHUP");
	} else {
		log_info("signal %u: stopping", si.ssi_signo);
		m->lv->stopping = 1;
	}
}

static void
live_loop(struct live_main *m)
{
	struct pollfd pfd[3] = { { m->sig_fd, POLLIN, 0 }, { m->ctl_fd, POLLIN, 0 },
		{ m->metrics_fd, POLLIN, 0 } };

	while (!m->lv->stopping) {
		if (poll(pfd, 3, 1000) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[0].revents & POLLIN)
			live_on_signal(m);
		if (pfd[1].revents & POLLIN)
			ctl_serve_one(m->ctl_fd, live_ctl_handler, m->lv);
		if (pfd[2].revents & POLLIN)
			metrics_serve_one(m->metrics_fd, live_metrics_handler, m->lv);
		live_reload_watch(m->lv, time(NULL));
	}
}

/* Signals go to the main thread's signalfd only: block them before any thread starts. */
static int
live_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static void
live_open_control(struct live *lv, struct live_main *m)
{
	char why[512];

	m->ctl_fd = -1;
	m->metrics_fd = -1;
	if (lv->nfq.control_socket[0] && (m->ctl_fd = ctl_listen(lv->nfq.control_socket, why, sizeof why)) < 0)
		fatalx("%s", why);
	if (lv->nfq.metrics_listen[0] &&
	    (m->metrics_fd = metrics_listen(lv->nfq.metrics_listen, why, sizeof why)) < 0)
		fatalx("%s", why);
}

static void
live_shutdown(struct live *lv, struct live_main *m)
{
	for (unsigned i = 0; i < lv->n_queues; i++)
		live_queue_stop(&lv->queue[i]);
	for (unsigned i = 0; i < lv->n_queues; i++) {
		gw_engine_free(lv->queue[i].engine);
		nfqsock_close(lv->queue[i].sock);
	}
	if (m->ctl_fd >= 0 && unlink(lv->nfq.control_socket) < 0)
		log_debug("removing %s: %s", lv->nfq.control_socket, strerror(errno));
	ev_sink_close(lv->sink);
	policy_unref(lv->policy);
	log_info("stopped");
}

static void
live_start_threads(struct live *lv)
{
	for (unsigned i = 0; i < lv->n_queues; i++)
		if (live_queue_start(lv, &lv->queue[i]) < 0)
			fatal("starting the thread of queue %u", lv->queue[i].index);
}

static int
live_run(struct live *lv)
{
	struct live_main m = { .lv = lv };
	uid_t started_by = getuid();   /* the operator who started it, before the drop */
	char why[512];

	if (!privdrop_can_bind())
		fatalx("binding NFQUEUE queues needs CAP_NET_ADMIN: run tiergate-gw as root (it drops "
		    "to nfqueue.user '%s' at once) or with the capability (conf/tiergate-gw.service)",
		    lv->nfq.user);
	if (geteuid() == 0)
		live_check_rules(lv);
	live_bind_queues(lv);   /* first: "already bound" is the likeliest start-up error */
	live_open_sink(lv);
	live_open_raw(lv);
	live_start_engines(lv);
	live_open_control(lv, &m);
	live_hand_over_files(lv);
	nfqsock_kstats_open();   /* root-only file: kept open for ctl stats and /metrics */
	if (privdrop_to(lv->nfq.user, false, why, sizeof why) < 0)
		fatalx("%s", why);
	m.sig_fd = live_signals();
	if (m.sig_fd < 0)
		fatal("signalfd");
	lv->started_us = ev_now_us();
	live_start_threads(lv);
	log_info("ready: queues %u-%u bound, policy %s (%s), events %s, control %s, metrics %s",
	    lv->nfq.queue[0].num, lv->nfq.queue[lv->n_queues - 1].num, policy_source(lv->policy),
	    policy_model_name(policy_model(lv->policy)), lv->gw.events[0] ? lv->gw.events : "off",
	    lv->nfq.control_socket[0] ? lv->nfq.control_socket : "off",
	    lv->nfq.metrics_listen[0] ? lv->nfq.metrics_listen : "off");
	live_policy_event(lv, "policy_load", started_by, "start", "applied");
	live_reload_announce(lv);
	live_loop(&m);
	live_shutdown(lv, &m);
	return 0;
}

int
gw_live_main(int argc, char **argv)
{
	static struct live lv;
	struct live_opts o;

	if (live_parse_args(argc, argv, &o) < 0)
		return 2;
	log_init("tiergate-gw", o.syslog, o.level);
	lv.config_path = o.config;
	lv.raw4 = lv.raw6 = -1;
	pthread_rwlock_init(&lv.sink_lock, NULL);
	/* ctl with an explicit socket needs no config file (it may not be readable by the caller). */
	if (o.mode == LIVE_CTL && o.ctl_socket)
		return ctl_client(o.ctl_socket, o.ctl_cmd, stdout);
	if (live_load_settings(&lv, &o) < 0)
		return 1;
	if (o.mode == LIVE_CTL)
		return ctl_client(lv.nfq.control_socket, o.ctl_cmd, stdout);
	if (o.mode == LIVE_PRINT_RULES || o.mode == LIVE_INSTALL_RULES || o.mode == LIVE_REMOVE_RULES)
		return live_rules(&lv, o.mode);
	if (o.mode == LIVE_HA_STATE)
		return live_ha_state(&lv, o.ha_state);
	if (live_load_policy(&lv) < 0)
		return 1;
	if (o.mode == LIVE_CHECK) {
		printf("configuration OK\n");
		return 0;
	}
	return live_run(&lv) == 0 ? 0 : 1;
}

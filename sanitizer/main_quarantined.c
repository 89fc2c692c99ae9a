/* main_quarantined.c -- tiergate-quarantined: the release daemon (root), answering admins and the portal on a local socket. */
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/conf.h"
#include "lib/event.h"
#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/qrel_daemon.h"
#include "sanitizer/qrel_int.h"

static volatile int qrel_stop;

static void
qrel_on_signal(int sig)
{
	(void)sig;
	qrel_stop = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: tiergate-quarantined --config FILE [-n] [-d]\n"
	    "  -n  check the configuration and exit\n"
	    "  -d  log debug lines\n");
	exit(2);
}

static int
qrel_load_config(const char *path, struct san_config *sc)
{
	config_t cfg;
	struct diags d;
	int rc = 0;

	san_config_defaults(sc);
	config_init(&cfg);
	diags_init(&d, path);
	if (conf_load(&cfg, path, &d) < 0 || san_config_load(sc, config_root_setting(&cfg), &d) < 0 ||
	    diags_count(&d, DIAG_ERROR) > 0)
		rc = -1;
	diags_print(&d, stderr);
	diags_free(&d);
	config_destroy(&cfg);
	return rc;
}

/* The key and the portal's uid are looked up once; a missing one is said at start. */
static int
qrel_prepare(struct qrel_daemon *d)
{
	const struct san_config *sc = d->sc;
	struct passwd *pw;

	if (sc->token_key) {
		if (reltoken_key_load(sc->token_key, d->key) < 0) {
			log_warnx("token_key %s: cannot read 32 bytes (or 64 hex digits)", sc->token_key);
			return -1;
		}
		d->have_key = true;
	}
	if (sc->portal_user) {
		if ((pw = getpwnam(sc->portal_user)) == NULL) {
			log_warnx("portal_user %s: no such user", sc->portal_user);
			return -1;
		}
		d->portal_uid = pw->pw_uid;
		d->have_portal = true;
	}
	if (dir_make_all(sc->requests_dir, 0700) < 0) {
		log_warn("requests_dir %s", sc->requests_dir);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	struct san_config sc;
	struct qrel_daemon d;
	bool check_only = false;
	int c;

	log_init("tiergate-quarantined", 0, LOG_LVL_INFO);
	while ((c = getopt_long(argc, argv, "c:ndh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'n': check_only = true; break;
		case 'd': log_set_level(LOG_LVL_DEBUG); break;
		default: usage();
		}
	}
	if (config == NULL || optind != argc)
		usage();
	if (qrel_load_config(config, &sc) < 0) {
		san_config_free(&sc);
		return 1;
	}
	memset(&d, 0, sizeof d);
	d.sc = &sc;
	if (qrel_prepare(&d) < 0) {
		san_config_free(&sc);
		return 1;
	}
	if (check_only) {
		printf("configuration OK\n");
		san_config_free(&sc);
		return 0;
	}
	d.events = ev_sink_open(sc.events ? sc.events : "-");
	if (d.events == NULL)
		fatal("events %s", sc.events);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, qrel_on_signal);
	signal(SIGINT, qrel_on_signal);
	qrel_daemon_listen(&d);   /* before the umask: the socket's directory must be searchable */
	umask(077);
	log_info("listening on %s (admin group %s, %u approval(s))", sc.release_socket, sc.admin_group,
	    sc.release_approvals);
	qrel_daemon_run(&d, &qrel_stop);
	ev_sink_close(d.events);
	san_config_free(&sc);
	return 0;
}

/* main_quarantined.c -- tiergate-quarantined: the release daemon (root), answering admins and the portal on a local socket. */
#include <getopt.h>
#include <openssl/crypto.h>
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

static volatile int qrel_stop, qrel_reopen;

static void
qrel_on_signal(int sig)
{
	if (sig == SIGHUP)
		qrel_reopen = 1;   /* the event file after log rotation */
	else
		qrel_stop = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: tiergate-quarantined --config FILE [-n] [-d]\n"
	    "       tiergate-quarantined --config FILE --add-approver NAME   (password on stdin; prints the TOTP secret)\n"
	    "  -n  check the configuration (and the approvers file's owner and mode) and exit\n"
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
	return qrel_login_prepare(d);
}

/* Enrols an approver in the daemon's own file: the portal never sees a hash or a secret. */
static int
qrel_add_approver(const struct san_config *sc, const char *name)
{
	char password[300], secret[160];
	size_t n;
	mode_t old;
	int rc;

	if (sc->approvers == NULL) {
		fprintf(stderr, "tiergate-quarantined: no sanitizer.quarantine.approvers file configured\n");
		return 1;
	}
	if (fgets(password, sizeof password, stdin) == NULL)
		return 1;
	n = strcspn(password, "\r\n");
	password[n] = '\0';
	old = umask(077);
	rc = n < 8 || n > RELSOCK_SECRET_MAX ? -1 : qrel_login_add(sc->approvers, name, password, secret, sizeof secret);
	umask(old);
	OPENSSL_cleanse(password, sizeof password);
	if (rc < 0) {
		fprintf(stderr, "tiergate-quarantined: cannot add %s (name [A-Za-z0-9._@-], password of 8 to 256 bytes)\n",
		    name);
		return 1;
	}
	printf("%s\n", secret);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "add-approver", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *add = NULL;
	struct san_config sc;
	struct qrel_daemon d;
	bool check_only = false;
	int c;

	log_init("tiergate-quarantined", 0, LOG_LVL_INFO);
	while ((c = getopt_long(argc, argv, "c:a:ndh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'a': add = optarg; break;
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
	if (add) {
		c = qrel_add_approver(&sc, add);
		san_config_free(&sc);
		return c;
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
	signal(SIGHUP, qrel_on_signal);
	d.reopen = &qrel_reopen;
	qrel_daemon_listen(&d);   /* before the umask: the socket's directory must be searchable */
	umask(077);
	log_info("listening on %s (admin group %s, %u approval(s))", sc.release_socket, sc.admin_group,
	    sc.release_approvals);
	qrel_daemon_run(&d, &qrel_stop);
	ev_sink_close(d.events);
	san_config_free(&sc);
	return 0;
}

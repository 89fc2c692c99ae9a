/* main_portal.c -- tiergate-portal: the 原本 release portal (HTTPS, unprivileged), a client of tiergate-quarantined only. */
#include <event2/event.h>
#include <event2/http.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/portal.h"

SSL_CTX *portal_tls_new(const struct portal_conf *c);
struct evhttp *portal_http_new(struct event_base *base, struct portal *p);

static void
usage(void)
{
	fprintf(stderr, "usage: tiergate-portal --config FILE [-n] [-d]\n"
	    "  -n  check the configuration and certificate, then exit\n"
	    "approvers are enrolled with tiergate-quarantined --add-approver (the daemon checks their logins)\n");
	exit(2);
}

/* After the key, the port and the files are open: the rest runs as the portal's own user. */
static void
portal_drop(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0 || user == NULL)
		return;
	if ((pw = getpwnam(user)) == NULL)
		fatalx("user %s: no such user", user);
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		fatal("cannot become %s", user);
	if (setuid(0) == 0)
		fatalx("still root after dropping to %s", user);
}

static void
portal_on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/* SIGHUP: the event file is opened again after log rotation (made for the portal's user). */
static void
portal_on_hup(evutil_socket_t fd, short what, void *arg)
{
	struct portal *p = arg;

	(void)fd;
	(void)what;
	if (ev_sink_reopen(p->events) < 0)
		log_warn("SIGHUP: reopening the event file %s", p->conf.events);
	else
		log_info("SIGHUP: event file reopened");
}

/* Every 30 s: timed-out sessions end, and so do their tickets in the daemon. */
static void
portal_on_sweep(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	portal_sessions_sweep(arg);
}

static int
portal_run(struct portal *p)
{
	struct event_base *base = event_base_new();
	struct evhttp *http;
	struct event *sig_term, *sig_int, *sig_hup, *sweep;

	if (base == NULL || (http = portal_http_new(base, p)) == NULL)
		return 1;
	p->events = ev_sink_open(p->conf.events ? p->conf.events : "-");
	if (p->events == NULL)
		fatal("events %s", p->conf.events);
	portal_drop(p->conf.user);
	sig_term = evsignal_new(base, SIGTERM, portal_on_signal, base);
	sig_int = evsignal_new(base, SIGINT, portal_on_signal, base);
	event_add(sig_term, NULL);
	sig_hup = evsignal_new(base, SIGHUP, portal_on_hup, p);
	event_add(sig_int, NULL);
	event_add(sig_hup, NULL);
	sweep = event_new(base, -1, EV_PERSIST, portal_on_sweep, p);
	if (sweep == NULL || event_add(sweep, &(struct timeval){ 30, 0 }) < 0)
		fatalx("cannot start the session sweep");
	log_info("listening on https://%s/ (release socket %s)", p->conf.listen, p->conf.socket);
	event_base_dispatch(base);
	event_free(sig_term);
	event_free(sig_int);
	event_free(sig_hup);
	event_free(sweep);
	evhttp_free(http);
	event_base_free(base);
	ev_sink_close(p->events);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	static struct portal p;
	const char *config = NULL;
	bool check = false;
	int c;

	log_init("tiergate-portal", 0, LOG_LVL_INFO);
	while ((c = getopt_long(argc, argv, "c:ndh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'n': check = true; break;
		case 'd': log_set_level(LOG_LVL_DEBUG); break;
		default: usage();
		}
	}
	if (config == NULL || optind != argc)
		usage();
	if (portal_conf_load(&p.conf, config) < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	if ((p.ssl = portal_tls_new(&p.conf)) == NULL)
		return 1;
	if (getrandom(p.secret, sizeof p.secret, 0) != (ssize_t)sizeof p.secret)
		fatal("getrandom");
	if (check) {
		printf("configuration OK\n");
		return 0;
	}
	return portal_run(&p);
}

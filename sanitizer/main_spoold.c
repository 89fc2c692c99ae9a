/* main_spoold.c -- tiergate-spoold: watch the inbox (inotify + scans), sanitize into the outbox, stop cleanly on SIGTERM. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/conf.h"
#include "lib/event.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/evforward.h"
#include "sanitizer/quarantine.h"
#include "sanitizer/sanitize.h"
#include "sanitizer/spool.h"

#define EXPIRE_EVERY 3600

static void
usage(void)
{
	fprintf(stderr, "usage: tiergate-spoold [--config FILE] [--syslog] [--debug]\n"
	    "       tiergate-spoold --config FILE --check   (prints \"configuration OK\")\n");
	exit(2);
}

static int
load_config(const char *path, struct san_config *sc, struct spool_config *sp)
{
	config_t cfg;
	struct diags d;
	int rc = 0;

	san_config_defaults(sc);
	spool_config_defaults(sp);
	if (path == NULL)
		return 0;
	config_init(&cfg);
	diags_init(&d, path);
	if (conf_load(&cfg, path, &d) < 0)
		rc = -1;
	else if ((san_config_load(sc, config_root_setting(&cfg), &d) | spool_config_load(sp, config_root_setting(&cfg), &d) |
	    ev_forward_configure(&cfg, "tiergate-spoold", &d)) < 0)
		rc = -1;
	diags_print(&d, stderr);
	diags_free(&d);
	config_destroy(&cfg);
	return rc;
}

static int
signals_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* blocked before any thread starts, so every thread inherits the mask */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

/* Returns false when the inotify queue overflowed (a scan catches up). */
static void
read_inotify(int fd, struct spool *s)
{
	char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n = read(fd, buf, sizeof buf);

	for (char *p = buf; n > 0 && p < buf + n;) {
		struct inotify_event *ev = (struct inotify_event *)p;
		if (ev->mask & IN_Q_OVERFLOW)
			spool_scan(s);
		else if (ev->len && (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)))
			spool_offer(s, ev->name);
		p += sizeof *ev + ev->len;
	}
}

/* SIGHUP: the event files are opened again (after log rotation); it meant nothing before. */
static void
reopen_events(struct spool *s, struct san_ctx *ctx)
{
	if (ev_sink_reopen(spool_events(s)) < 0)
		log_warn("spoold: SIGHUP: reopening the spool event file");
	if (ev_sink_reopen(san_ctx_events(ctx)) < 0)
		log_warn("spoold: SIGHUP: reopening the sanitizer event file");
	log_info("spoold: SIGHUP: event files reopened");
}

static void
run(struct spool *s, struct san_ctx *ctx, const struct san_config *sc, int sfd, int ifd)
{
	time_t last_expire = 0;

	for (;;) {
		struct pollfd p[2] = { { sfd, POLLIN, 0 }, { ifd, POLLIN, 0 } };
		int r = poll(p, 2, 1000);
		if (r < 0 && errno != EINTR)
			fatal("poll");
		if (r > 0 && (p[0].revents & POLLIN)) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) == sizeof si && si.ssi_signo == SIGHUP) {
				reopen_events(s, ctx);
			} else {
				log_info("spoold: signal %u: finishing files in progress", si.ssi_signo);
				return;
			}
		}
		if (r > 0 && (p[1].revents & POLLIN))
			read_inotify(ifd, s);
		spool_scan(s);   /* files no watched writer closed: taken once quiet */
		if (time(NULL) - last_expire >= EXPIRE_EVERY) {
			last_expire = time(NULL);
			int n = quarantine_expire(sc->quarantine_dir, sc->quarantine_retention_days, last_expire);
			if (n > 0)
				log_info("spoold: %d quarantine item(s) expired", n);
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "syslog", no_argument, NULL, 's' },
		{ "debug", no_argument, NULL, 'd' }, { "check", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	int c, to_syslog = 0, check = 0, sfd, ifd;
	enum log_level level = LOG_LVL_INFO;
	struct san_config sc;
	struct spool_config sp;
	struct san_ctx *ctx;
	struct spool *s;

	while ((c = getopt_long(argc, argv, "c:sdnh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 's': to_syslog = 1; break;
		case 'd': level = LOG_LVL_DEBUG; break;
		case 'n': check = 1; break;
		default: usage();
		}
	}
	log_init("tiergate-spoold", to_syslog, level);
	if (load_config(config, &sc, &sp) < 0)
		return 1;
	if (check) {
		printf("configuration OK\n");
		return 0;
	}
	sfd = signals_fd();
	ctx = san_ctx_new(&sc);
	if (ctx == NULL || sfd < 0)
		fatalx("cannot start the sanitizer");
	san_ctx_warm(ctx);
	san_ctx_office_start(ctx, false);   /* office files as page images; the first one starts the converter */
	if (quarantine_open(sc.quarantine_dir) < 0)
		fatal("cannot create quarantine %s", sc.quarantine_dir);
	s = spool_start(&sp, ctx);
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ifd < 0 || inotify_add_watch(ifd, sp.inbox, IN_CLOSE_WRITE | IN_MOVED_TO) < 0)
		fatal("inotify on %s", sp.inbox);
	log_info("spoold: watching %s -> %s (%u workers)", sp.inbox, sp.outbox, sp.workers);
	spool_scan(s);
	run(s, ctx, &sc, sfd, ifd);
	spool_stop(s);
	san_ctx_free(ctx);
	san_config_free(&sc);
	spool_config_free(&sp);
	log_info("spoold: stopped");
	return 0;
}

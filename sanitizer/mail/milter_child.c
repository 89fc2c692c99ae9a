/* milter_child.c -- the message process (zygote child or `tiergate-milter --worker`): one message rebuilt, its event written. */
#include "sanitizer/mail/milter_child.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/event.h"
#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/mail/mail.h"
#include "sanitizer/mail/milter_conf.h"
#include "sanitizer/mail/milter_memfd.h"

#define MILTER_CHILD_TEMPFAIL 75   /* EX_TEMPFAIL */

static int
milter_child_write(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One "mail" event: envelope, sizes, per-part actions, quarantine id, duration. */
static void
milter_child_event(struct ev_sink *sink, const struct mail_envelope *env,
    const struct mail_report *rep)
{
	struct jbuf jb = JBUF_INIT;

	if (sink == NULL)
		return;
	ev_begin(&jb, "mail", 0);
	jb_str(&jb, "source", env->source);
	jb_str(&jb, "sender", env->sender);
	jb_arr_begin(&jb, "recipients");
	for (size_t i = 0; i < env->n_recipients; i++)
		jb_str(&jb, NULL, env->recipients[i]);
	jb_arr_end(&jb);
	mail_report_json(rep, &jb);
	ev_end(&jb);
	ev_emit(sink, &jb);
	jb_free(&jb);
}

struct milter_child_args {
	const char *config, *sender, *quarantine_only;
	const char **rcpts;
	size_t n_rcpts;
};

static int
milter_child_args(int argc, char **argv, struct milter_child_args *a)
{
	static const struct option opts[] = {
		{ "worker", no_argument, NULL, 'w' }, { "config", required_argument, NULL, 'c' },
		{ "sender", required_argument, NULL, 's' }, { "rcpt", required_argument, NULL, 'r' },
		{ "quarantine-only", required_argument, NULL, 'q' }, { NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof *a);
	a->rcpts = xcalloc((size_t)argc, sizeof *a->rcpts);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'c')
			a->config = optarg;
		else if (c == 's')
			a->sender = optarg;
		else if (c == 'r')
			a->rcpts[a->n_rcpts++] = optarg;
		else if (c == 'q')
			a->quarantine_only = optarg;
		else if (c != 'w')
			return -1;
	}
	return 0;
}

int
milter_child_sanitize(struct mail_ctx *mail, struct ev_sink *sink, const struct mail_envelope *env,
    const char *quarantine_only, int in_fd, int out_fd, int rep_fd)
{
	struct mail_result res;
	char line[64], *msg = NULL;
	size_t len;
	int rc = -1;

	if (milter_memfd_read(in_fd, &msg, &len) < 0)
		return -1;
	if (quarantine_only ? mail_quarantine_notice(mail, (const uint8_t *)msg, len, env,
	    quarantine_only, &res) < 0 : mail_sanitize(mail, (const uint8_t *)msg, len, env, &res) < 0) {
		free(msg);
		return -1;
	}
	free(msg);
	snprintf(line, sizeof line, "%zu %zu\n", res.body_at, res.n_added);
	if (milter_child_write(out_fd, res.out, res.out_len) == 0 &&
	    milter_child_write(rep_fd, line, strlen(line)) == 0)
		rc = 0;
	milter_child_event(sink, env, &res.report);
	mail_result_free(&res);
	return rc;
}

int
milter_child_main(int argc, char **argv)
{
	struct milter_child_args a;
	struct san_config sc;
	struct milter_config mc;
	struct san_ctx *san = NULL;
	struct mail_ctx *mail = NULL;
	struct ev_sink *sink = NULL;
	int rc = -1;

	log_init("tiergate-milter[worker]", 0, LOG_LVL_INFO);
	close_range(4, ~0U, 0);   /* nothing of the daemon's (listening socket, connections) */
	if (milter_child_args(argc, argv, &a) < 0 || milter_config_read(a.config, &sc, &mc) < 0)
		return MILTER_CHILD_TEMPFAIL;
	/* no RLIMIT_CPU here: the sanitizer's own workers set theirs, and a lower hard
	 * limit inherited from us would make them fail; the daemon's wall-clock
	 * timeout kills this whole process group instead */
	if ((san = san_ctx_new(&sc)) != NULL && (mail = mail_ctx_new(san, &mc.mail)) != NULL) {
		struct mail_envelope env = { a.sender, a.rcpts, a.n_rcpts, "milter" };
		sink = mc.events ? ev_sink_open(mc.events) : NULL;
		rc = milter_child_sanitize(mail, sink ? sink : san_ctx_events(san), &env,
		    a.quarantine_only, 0, 1, 3);
	}
	if (sink)
		ev_sink_close(sink);
	mail_ctx_free(mail);
	if (san)
		san_ctx_free(san);
	free(a.rcpts);
	milter_config_free(&mc);
	san_config_free(&sc);
	return rc == 0 ? 0 : MILTER_CHILD_TEMPFAIL;
}

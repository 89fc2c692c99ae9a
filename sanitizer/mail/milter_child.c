/* milter_child.c -- the message process (zygote child or `tiergate-milter --worker`): one message rebuilt, its event written. */
#include "sanitizer/mail/milter_child.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/event.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/mail/mail.h"
#include "sanitizer/mail/milter_conf.h"
#include "sanitizer/mail/milter_memfd.h"
#include "sanitizer/mail/milter_parse.h"
#include "sanitizer/mail/milter_wire.h"
#include "sanitizer/internal.h"
#include "sanitizer/lo.h"
#include "sanitizer/quarantine.h"

#define MILTER_CHILD_TEMPFAIL 75   /* EX_TEMPFAIL */

/* The message as the broker holds it, and where the result goes. */
struct milter_child_msg {
	const struct mail_envelope *env;
	const uint8_t *msg;
	size_t len;
	int out_fd, rep_fd;
};

/* Appends the members of a JSON object (its text without the braces) to the object being built. */
static void
milter_child_splice(struct jbuf *jb, const char *members, size_t len)
{
	char *grown;

	if (len == 0 || jb->oom)
		return;
	grown = realloc(jb->buf, jb->len + len + 2);
	if (grown == NULL) {
		jb->oom = true;
		return;
	}
	jb->buf = grown;
	jb->cap = jb->len + len + 2;
	jb->buf[jb->len++] = ',';
	memcpy(jb->buf + jb->len, members, len);
	jb->len += len;
	jb->buf[jb->len] = '\0';
}

/* One "mail" event: the broker's envelope, then the members of the parser's report (checked JSON). */
static void
milter_child_event(struct ev_sink *sink, const struct mail_envelope *env, const char *report)
{
	struct jbuf jb = JBUF_INIT;
	struct json_value v;
	struct json_error err;
	size_t len = report ? strlen(report) : 0;

	if (sink == NULL || report == NULL)
		return;
	if (json_parse(report, len, &v, &err) < 0)
		return;
	if (v.type == JSON_OBJECT && len > 2 && report[0] == '{' && report[len - 1] == '}') {
		ev_begin(&jb, "mail", 0);
		jb_str(&jb, "source", env->source);
		jb_str(&jb, "sender", env->sender);
		jb_arr_begin(&jb, "recipients");
		for (size_t i = 0; i < env->n_recipients; i++)
			jb_str(&jb, NULL, env->recipients[i]);
		jb_arr_end(&jb);
		milter_child_splice(&jb, report + 1, len - 2);
		ev_end(&jb);
		ev_emit(sink, &jb);
		jb_free(&jb);
	} else {
		log_warnx("milter: the parser's report is not a JSON object; no event");
	}
	json_free(&v);
}

struct milter_child_args {
	const char *config, *sender, *quarantine_only;
	const char **rcpts;
	size_t n_rcpts;
	unsigned slot;
};

static int
milter_child_args(int argc, char **argv, struct milter_child_args *a)
{
	static const struct option opts[] = {
		{ "worker", no_argument, NULL, 'w' }, { "config", required_argument, NULL, 'c' },
		{ "sender", required_argument, NULL, 's' }, { "rcpt", required_argument, NULL, 'r' },
		{ "quarantine-only", required_argument, NULL, 'q' }, { "slot", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
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
		else if (c == 'n')
			a->slot = (unsigned)strtoul(optarg, NULL, 10);
		else if (c != 'w')
			return -1;
	}
	return 0;
}

/* 'S': one attachment through san_buffer (its own sandboxed worker), the result back (an office text beside it). */
static int
milter_child_serve_sanitize(const struct milter_child_ctx *cx, int sock, const struct mwire_frame *fr)
{
	struct san_result r;
	char action[16];

	if (fr->n != 3 || fr->f[2].data == NULL)   /* name and type may be NULL (a uuencoded file) */
		return -1;
	if (san_buffer(cx->san, (const uint8_t *)fr->f[2].data, fr->f[2].len, mwire_str(fr, 0),
	    mwire_str(fr, 1), &r) < 0) {
		struct mwire_field failed[7] = { mwire_s("-1") };
		return mwire_send(sock, 'R', failed, 7);
	}
	snprintf(action, sizeof action, "%d", (int)r.action);
	/* office pages come with their text (office.output = "both"): one more attachment, NAME.txt */
	const struct san_result *beside = r.action == SAN_FLATTENED && r.n_members == 1 &&
	    r.members[0].action == SAN_TEXT && r.members[0].out ? &r.members[0] : NULL;
	struct mwire_field reply[9] = { mwire_s("0"), mwire_s(action), mwire_s(r.reason),
		mwire_s(r.detected_mime), mwire_s(r.out_name), mwire_s(r.out_mime),
		{ (const char *)r.out, r.out_len },
		mwire_s(beside ? beside->out_name : NULL),
		{ beside ? (const char *)beside->out : NULL, beside ? beside->out_len : 0 } };
	int rc = mwire_send(sock, 'R', reply, beside ? 9 : 7);
	san_result_free(&r);
	return rc;
}

#define MILTER_CHILD_LINES_MAX 500
#define MILTER_CHILD_LINE_MAX 600

/*
 * The parser's one line per attachment, for the portal's page: the parser is
 * hostile, so only printable text is kept (controls dropped), each line and
 * the count bounded. The portal escapes them again when it shows them.
 */
static char **
milter_child_part_lines(const char *text, size_t *n)
{
	char **lines = xcalloc(MILTER_CHILD_LINES_MAX + 1, sizeof *lines);

	*n = 0;
	while (text && *text && *n < MILTER_CHILD_LINES_MAX) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text), used = 0;
		char *line = xmalloc(MILTER_CHILD_LINE_MAX + 1);
		for (size_t i = 0; i < len && used < MILTER_CHILD_LINE_MAX; i++)
			if ((unsigned char)text[i] >= 0x20 && text[i] != 0x7f)
				line[used++] = text[i];
		line[used] = '\0';
		lines[(*n)++] = line;
		text += len + (nl != NULL);
	}
	return lines;
}

/* 'Q': the original -- the broker's own copy, never the parser's -- into the quarantine. */
static int
milter_child_serve_quarantine(const struct milter_child_ctx *cx, int sock, const struct mwire_frame *fr,
    const struct milter_child_msg *m)
{
	struct quarantine_meta meta;
	char id[SAN_SHA256_HEX] = "";
	const char *report = mwire_str(fr, 2);
	struct json_value v;
	struct json_error err;
	bool object = false;

	if (fr->n != 3 && fr->n != 4)
		return -1;
	if (report && json_parse(report, strlen(report), &v, &err) == 0) {
		object = v.type == JSON_OBJECT;
		json_free(&v);
	}
	memset(&meta, 0, sizeof meta);
	meta.kind = "mail";
	meta.name = mwire_str(fr, 0);
	meta.declared_mime = "message/rfc822";
	meta.reason = mwire_str(fr, 1) ? mwire_str(fr, 1) : "original of a sanitized mail";
	meta.source = m->env->source ? m->env->source : "milter";
	meta.sender = m->env->sender ? m->env->sender : "";
	meta.recipients = m->env->recipients;
	meta.n_recipients = m->env->n_recipients;
	meta.report_json = object ? report : NULL;
	char **lines = milter_child_part_lines(fr->n == 4 ? mwire_str(fr, 3) : NULL, &meta.n_findings);
	meta.findings = (const char *const *)lines;
	int put = quarantine_put(cx->sc->quarantine_dir, m->msg, m->len, &meta, id);
	for (size_t i = 0; i < meta.n_findings; i++)
		free(lines[i]);
	free(lines);
	if (put < 0) {
		struct mwire_field failed[1] = { { NULL, 0 } };
		return mwire_send(sock, 'I', failed, 1);
	}
	char *links = mail_links_text(cx->mail, (const char *const *)m->env->recipients, m->env->n_recipients, id);
	struct mwire_field reply[2] = { mwire_s(id), mwire_s(links) };
	int rc = mwire_send(sock, 'I', reply, links ? 2 : 1);
	free(links);
	return rc;
}

/* A copy of text when it is one JSON object, else NULL. */
static char *
milter_child_object(const char *text)
{
	struct json_value v;
	struct json_error err;
	bool object;

	if (json_parse(text, strlen(text), &v, &err) < 0)
		return NULL;
	object = v.type == JSON_OBJECT;
	json_free(&v);
	return object ? strdup(text) : NULL;
}

/* 'D': the rebuilt message and its line to the daemon (which checks them), the event. */
static int
milter_child_serve_done(const struct milter_child_ctx *cx, const struct mwire_frame *fr,
    const struct milter_child_msg *m)
{
	const char *line = mwire_str(fr, 1);
	char rep[64];

	if (fr->n != 3 || fr->f[0].data == NULL || line == NULL || strlen(line) > 40)
		return -1;
	snprintf(rep, sizeof rep, "%s\n", line);
	if (fd_write_all(m->out_fd, fr->f[0].data, fr->f[0].len) < 0 ||
	    fd_write_all(m->rep_fd, rep, strlen(rep)) < 0)
		return -1;
	milter_child_event(cx->sink, m->env, mwire_str(fr, 2));
	if (cx->report_json && mwire_str(fr, 2))
		*cx->report_json = milter_child_object(mwire_str(fr, 2));
	return 0;
}

/* Answers the parser until it is done: 0, or -1 when it died, lied about the frame, or gave up. */
static int
milter_child_broker(const struct milter_child_ctx *cx, int sock, const struct milter_child_msg *m)
{
	size_t max = cx->mail_cfg->max_output_bytes + cx->mail_cfg->max_message_bytes + (1u << 20);

	for (;;) {
		struct mwire_frame fr;
		int rc = -1;
		if (mwire_recv(sock, max > 0xFFFFFFF0u ? 0xFFFFFFF0u : max, &fr) != 0)
			return -1;
		if (fr.type == 'S')
			rc = milter_child_serve_sanitize(cx, sock, &fr);
		else if (fr.type == 'Q')
			rc = milter_child_serve_quarantine(cx, sock, &fr, m);
		else if (fr.type == 'D')
			rc = milter_child_serve_done(cx, &fr, m) == 0 ? 1 : -1;
		mwire_frame_free(&fr);
		if (rc != 0)
			return rc > 0 ? 0 : -1;
	}
}

int
milter_child_rebuild(const struct milter_child_ctx *cx, const struct mail_envelope *env,
    const char *quarantine_only, unsigned slot, const uint8_t *msg, size_t len, int out_fd, int rep_fd)
{
	struct milter_child_msg m = { env, msg, len, out_fd, rep_fd };
	int sv[2], status = 0, rc;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		struct milter_parse_job job = { msg, len, env, quarantine_only, sv[1], slot, cx->uid_base };
		close(sv[0]);
		milter_parse_main(cx->mail, cx->sc, &job);
	}
	close(sv[1]);
	rc = pid < 0 ? -1 : milter_child_broker(cx, sv[0], &m);
	close(sv[0]);
	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status)) {
		log_warnx("milter: the mail parser was killed by signal %d%s", WTERMSIG(status),
		    WTERMSIG(status) == SIGSYS ? " (a system call its sandbox forbids)" : "");
		return MILTER_CHILD_CRASHED;
	}
	return rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

void
milter_child_office(struct san_ctx *san, const struct san_config *sc, bool warm)
{
	int svc;

	if (sc->office_output == SAN_OFFICE_TEXT)
		return;
	if ((svc = lo_service_start(sc, warm)) < 0)
		log_warn("milter: no office converter: office attachments become text");
	san_ctx_office_remote(san, svc);   /* the ctx owns svc: closing it ends the service */
}

int
milter_child_sanitize(const struct milter_child_ctx *cx, const struct mail_envelope *env,
    const char *quarantine_only, unsigned slot, int in_fd, int out_fd, int rep_fd)
{
	char *msg = NULL;
	size_t len;
	int rc;

	if (milter_memfd_read(in_fd, &msg, &len) < 0)
		return -1;
	rc = milter_child_rebuild(cx, env, quarantine_only, slot, (const uint8_t *)msg, len, out_fd, rep_fd);
	free(msg);
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
	if ((san = san_ctx_new(&sc)) != NULL && (mail = mail_ctx_new(san, &mc.mail)) != NULL &&
	    milter_parse_prepare() == 0) {
		/* no zygote: this process's own converter service, started at the first office part */
		milter_child_office(san, &sc, false);
		struct mail_envelope env = { a.sender, a.rcpts, a.n_rcpts, "milter" };
		sink = mc.events ? ev_sink_open(mc.events) : NULL;
		ev_sink_follow(sink, true);
		struct milter_child_ctx cx = { mail, san, &sc, &mc.mail, sink ? sink : san_ctx_events(san),
			sandbox_can_setuid() ? mc.parser_uid_base : 0, NULL };
		rc = milter_child_sanitize(&cx, &env, a.quarantine_only, a.slot, 0, 1, 3);
	}
	if (sink)
		ev_sink_close(sink);
	mail_ctx_free(mail);
	if (san)
		san_ctx_free(san);
	free(a.rcpts);
	milter_config_free(&mc);
	san_config_free(&sc);
	return rc == 0 ? 0 : rc == MILTER_CHILD_CRASHED ? MILTER_CHILD_EXIT_CRASHED : MILTER_CHILD_TEMPFAIL;
}

/* milter_parse.c -- the mail parser process: GMime, RFC 2047/2231, base64/QP and iconv of one message under the file worker's seccomp filter and rlimits, in a uid of its own; file work and the quarantine are asked of the broker. */
#include "sanitizer/mail/milter_parse.h"

#include <dirent.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/internal.h"
#include "sanitizer/mail/mail_int.h"
#include "sanitizer/mail/milter_wire.h"

static struct sandbox_ids milter_parse_ids;   /* the strict filter, compiled once */
static iconv_t *milter_parse_held;            /* every converter, open for the life of the process */
static size_t milter_parse_n_held;

/* Opens (and keeps) a converter from each charset a gconv-modules file names. */
static void
milter_parse_gconv_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char line[512];

	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f)) {
		char from[128], to[128];
		iconv_t cd;
		if (sscanf(line, "module %127s %127s", from, to) != 2 || strcmp(to, "INTERNAL") != 0)
			continue;
		from[strcspn(from, "/")] = '\0';
		cd = iconv_open("UTF-8", from);
		if (cd == (iconv_t)-1)
			continue;
		iconv_t *grown = realloc(milter_parse_held, (milter_parse_n_held + 1) * sizeof *grown);
		if (grown == NULL) {
			iconv_close(cd);
			break;
		}
		milter_parse_held = grown;
		milter_parse_held[milter_parse_n_held++] = cd;
	}
	fclose(f);
}

/* glibc loads a gconv module at the first iconv_open that needs it: here, all of them. */
static void
milter_parse_gconv_all(void)
{
	static const char *const dirs[] = { "/usr/lib/x86_64-linux-gnu/gconv",
		"/usr/lib/aarch64-linux-gnu/gconv", "/usr/lib64/gconv", "/usr/lib/gconv" };

	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		char path[512];
		DIR *d;
		struct dirent *e;
		snprintf(path, sizeof path, "%s/gconv-modules", dirs[i]);
		milter_parse_gconv_file(path);
		snprintf(path, sizeof path, "%s/gconv-modules.d", dirs[i]);
		if ((d = opendir(path)) == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			char conf[768];
			if (strstr(e->d_name, ".conf") == NULL)
				continue;
			snprintf(conf, sizeof conf, "%s/%s", path, e->d_name);
			milter_parse_gconv_file(conf);
		}
		closedir(d);
	}
}

int
milter_parse_prepare(void)
{
	if (milter_parse_ids.bpf != NULL)
		return 0;
	milter_parse_gconv_all();
	tzset();
	(void)g_get_charset(NULL);
	if (milter_parse_n_held < 10)
		log_warnx("milter: only %zu charset converters could be loaded", milter_parse_n_held);
	return sandbox_compile_strict(&milter_parse_ids);
}

/* --- the two requests the rebuild makes of the broker --------------------------------- */

static char *
milter_parse_dup(const struct mwire_frame *fr, size_t i)
{
	const char *s = mwire_str(fr, i);

	return s ? strdup(s) : NULL;
}

/* What the broker hooks need: the socket, and the context that reads its request links. */
struct milter_parse_hook {
	int sock;
	const struct mail_ctx *mail;
};

/* An office document's text beside its pages (fields 7 and 8 of the answer): one text member. */
static void
milter_parse_beside(const struct mwire_frame *fr, struct san_result *res)
{
	struct san_result *m;

	if (fr->f[8].data == NULL || res->action != SAN_FLATTENED || (m = calloc(1, sizeof *m)) == NULL)
		return;
	m->action = SAN_TEXT;
	m->out_name = milter_parse_dup(fr, 7);
	m->out_mime = strdup("text/plain; charset=utf-8");
	m->out = malloc(fr->f[8].len ? fr->f[8].len : 1);
	if (m->out)
		memcpy(m->out, fr->f[8].data, fr->f[8].len);
	m->out_len = m->out ? fr->f[8].len : 0;
	res->members = m;
	res->n_members = 1;
}

static int
milter_parse_sanitize(void *arg, const uint8_t *data, size_t len, const char *name,
    const char *media, struct san_result *res)
{
	int sock = ((struct milter_parse_hook *)arg)->sock;
	struct mwire_field req[3] = { mwire_s(name), mwire_s(media), { (const char *)data, len } };
	struct mwire_frame fr;
	char *end;
	long action;
	int rc = -1;

	memset(res, 0, sizeof *res);
	if (req[2].data == NULL)
		req[2].data = "";
	if (mwire_send(sock, 'S', req, 3) < 0 || mwire_recv(sock, 0xFFFFFFF0u, &fr) != 0)
		return -1;
	if (fr.type == 'R' && (fr.n == 7 || fr.n == 9) && mwire_str(&fr, 0) && strcmp(mwire_str(&fr, 0), "0") == 0 &&
	    mwire_str(&fr, 1)) {
		action = strtol(mwire_str(&fr, 1), &end, 10);
		res->action = (enum san_action)action;
		res->reason = milter_parse_dup(&fr, 2);
		res->detected_mime = milter_parse_dup(&fr, 3);
		res->out_name = milter_parse_dup(&fr, 4);
		res->out_mime = milter_parse_dup(&fr, 5);
		if (fr.f[6].data) {
			res->out = malloc(fr.f[6].len ? fr.f[6].len : 1);
			if (res->out)
				memcpy(res->out, fr.f[6].data, fr.f[6].len);
			res->out_len = fr.f[6].len;
		}
		if (fr.n == 9)
			milter_parse_beside(&fr, res);
		rc = *end == '\0' ? 0 : -1;
	}
	mwire_frame_free(&fr);
	if (rc < 0)
		san_result_free(res);
	return rc;
}

static int
milter_parse_quarantine(void *arg, struct mail_report *rep, char id[SAN_SHA256_HEX])
{
	struct milter_parse_hook *h = arg;
	int sock = h->sock;
	struct jbuf jb = JBUF_INIT;
	struct mwire_frame fr;
	int rc = -1;

	jb_obj_open(&jb);
	mail_report_json(rep, &jb);
	jb_obj_end(&jb);
	size_t n_lines;
	char **lines = mail_part_lines(rep, &n_lines);
	struct mbuf joined = MBUF_INIT;
	for (size_t i = 0; i < n_lines; i++) {
		mbuf_printf(&joined, "%s\n", lines[i]);
		free(lines[i]);
	}
	free(lines);
	struct mwire_field req[4] = { mwire_s(rep->subject), mwire_s(rep->reason),
		mwire_s(jb.oom ? NULL : jb_cstr(&jb)), mwire_s(joined.failed ? NULL : mbuf_cstr(&joined)) };
	if (mwire_send(sock, 'Q', req, 4) == 0 && mwire_recv(sock, 65536, &fr) == 0) {
		const char *got = mwire_str(&fr, 0);
		if (fr.type == 'I' && got && strlen(got) == SAN_SHA256_HEX - 1) {
			memcpy(id, got, SAN_SHA256_HEX);
			if (fr.n == 2)   /* the request links the broker signed */
				mail_links_from_text(h->mail, mwire_str(&fr, 1), rep);
			rc = 0;
		}
		mwire_frame_free(&fr);
	}
	jb_free(&jb);
	mbuf_free(&joined);
	return rc;
}

/* The result: the rebuilt message, "BODY_AT N_ADDED", the report for the event. */
static int
milter_parse_done(int sock, const struct mail_result *res)
{
	struct jbuf jb = JBUF_INIT;
	char line[64];
	char *out = res->out;
	size_t out_len = res->out_len;
	int rc;

	snprintf(line, sizeof line, "%zu %zu", res->body_at, res->n_added);
	jb_obj_open(&jb);
	mail_report_json(&res->report, &jb);
	jb_obj_end(&jb);
	{
		struct mwire_field done[3] = { { out, out_len }, mwire_s(line),
			mwire_s(jb.oom ? NULL : jb_cstr(&jb)) };
		rc = mwire_send(sock, 'D', done, 3);
	}
	jb_free(&jb);
	return rc;
}

void
milter_parse_main(struct mail_ctx *mail, const struct san_config *sc, const struct milter_parse_job *job)
{
	struct sandbox_ids ids = milter_parse_ids;
	struct milter_parse_hook hook = { job->sock, mail };
	int sock = job->sock;
	struct mail_hooks hooks = { milter_parse_sanitize, milter_parse_quarantine, &hook };
	struct mail_result res;
	int rc;

	log_procname("tiergate-milter[parser]");
	mail_ctx_drop_link_key(mail);   /* a parser that is taken over cannot sign request links */
	ids.drop = job->uid_base != 0;
	ids.uid = (uid_t)(job->uid_base + job->slot);
	ids.gid = (gid_t)(job->uid_base + job->slot);
	if (ids.bpf == NULL || sandbox_enter(sc, &ids, sock) < 0) {
		log_warnx("milter: the mail parser could not enter its sandbox");
		_exit(70);
	}
#ifdef TIERGATE_TEST_HOOKS
	if (job->quarantine_only == NULL)
		milter_test_hook_enter(job->msg, job->len, sock);
#endif
	mail_ctx_set_hooks(mail, &hooks);
	rc = job->quarantine_only ?
	    mail_quarantine_notice(mail, job->msg, job->len, job->env, job->quarantine_only, &res) :
	    mail_sanitize(mail, job->msg, job->len, job->env, &res);
	if (rc < 0)
		_exit(75);
#ifdef TIERGATE_TEST_HOOKS
	if (job->quarantine_only == NULL)
		milter_test_hook_forge(job->msg, job->len, &res.out, &res.out_len);
#endif
	rc = milter_parse_done(sock, &res);
	_exit(rc == 0 ? 0 : 75);
}

/* fuzz_mime.c -- libFuzzer target for the mail path as the sandboxed parser runs it (broker hooks set): header words, parameters, transfer decodings, the MIME walk and rebuild, the notice-only path; every rebuild must pass the daemon's check. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/event.h"
#include "lib/json.h"
#include "lib/log.h"
#include "sanitizer/mail/mail.h"
#include "sanitizer/mail/milter_check.h"
#include "sanitizer/mail/mime_codec.h"
#include "sanitizer/mail/mime_words.h"
#include "sanitizer/sanitize.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct san_ctx *fuzz_san;
static struct mail_ctx *fuzz_mail;

/*
 * The broker's side of the parser's two requests (milter_child.c): the file
 * sanitizer as the broker calls it, and a quarantine that only hands out an id
 * (nothing is written while fuzzing).
 */
static int
fuzz_broker_sanitize(void *arg, const uint8_t *data, size_t len, const char *name, const char *media,
    struct san_result *res)
{
	return san_buffer(fuzz_san, data, len, name, media, res);
}

static int
fuzz_broker_quarantine(void *arg, struct mail_report *rep, char id[SAN_SHA256_HEX])
{
	memset(id, 'a', SAN_SHA256_HEX - 1);
	id[SAN_SHA256_HEX - 1] = '\0';
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct san_config sc;
	struct mail_config mc;

	log_init("fuzz_mime", 0, LOG_LVL_ERROR);
	san_config_defaults(&sc);
	free(sc.events);
	sc.events = NULL;
	fuzz_san = san_ctx_new(&sc);
	san_config_free(&sc);
	mail_config_defaults(&mc);
	mc.max_parts = 50;
	fuzz_mail = fuzz_san ? mail_ctx_new(fuzz_san, &mc) : NULL;
	if (fuzz_mail) {   /* as milter_parse_main sets them: the parser's real entry */
		struct mail_hooks hooks = { fuzz_broker_sanitize, fuzz_broker_quarantine, NULL };
		mail_ctx_set_hooks(fuzz_mail, &hooks);
	}
	return 0;
}

static void
fuzz_decoders(const uint8_t *data, size_t size)
{
	struct mbuf out = MBUF_INIT;
	char *s, *name = NULL;
	size_t end;
	long at;

	free(mime_words_decode((const char *)data, size));
	free(mime_param_get((const char *)data, size, "filename"));
	free(mime_media_type((const char *)data, size));
	mime_b64_decode((const char *)data, size, &out, NULL);
	mime_qp_decode((const char *)data, size, false, &out);
	at = mime_uu_find((const char *)data, size, 0);
	if (at >= 0 && mime_uu_decode((const char *)data, size, (size_t)at, &out, &name, &end) == 0)
		free(name);
	s = strndup((const char *)data, size);
	if (s) {
		mbuf_reset(&out);
		mime_param_write(&out, "filename", s);
		free(s);
	}
	mbuf_free(&out);
}

/* What a rebuild hands on: the body inside the message, a report that is JSON (it becomes an event). */
static void
fuzz_mime_check(const struct mail_result *res)
{
	struct jbuf jb = JBUF_INIT;
	struct json_value v;
	struct json_error err;

	char why[256];

	if (res->body_at > res->out_len || (res->out_len && res->out == NULL))
		abort();
	/* what the rebuild writes is what the daemon's check lets through: else good mail is refused */
	if (milter_check_rebuilt(res->out, res->out_len, res->body_at, res->n_added, why, sizeof why) < 0) {
		fprintf(stderr, "fuzz_mime: the daemon's check refuses a rebuild: %s\n", why);
		abort();
	}
	jb_obj_open(&jb);
	mail_report_json(&res->report, &jb);
	jb_obj_end(&jb);
	if (!jb.oom) {
		if (json_parse(jb_cstr(&jb), strlen(jb_cstr(&jb)), &v, &err) < 0)
			abort();
		json_free(&v);
	}
	jb_free(&jb);
}

/* The MIME walk and rebuild; its output, a message we wrote, must walk again without an internal error. */
static void
fuzz_mime_rebuild(const uint8_t *data, size_t size)
{
	static const char *const rcpts[] = { "kanri@city.example.lg.jp", "\xe5\xae\x9b@example.jp" };
	const struct mail_envelope env = { "sender@example.jp", rcpts, 2, "milter" };
	struct mail_result res, again;

	if (mail_sanitize(fuzz_mail, data, size, NULL, &res) == 0) {
		fuzz_mime_check(&res);
		if (res.out_len <= 65536) {
			if (mail_sanitize(fuzz_mail, (const uint8_t *)res.out, res.out_len, &env, &again) < 0)
				abort();
			fuzz_mime_check(&again);
			mail_result_free(&again);
		}
		mail_result_free(&res);
	}
	/* the notice-only path (a message that failed three times): no walk, the notice built alone */
	if (mail_quarantine_notice(fuzz_mail, data, size, &env, "fuzz: sanitizing failed", &res) == 0) {
		fuzz_mime_check(&res);
		mail_result_free(&res);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	fuzz_decoders(data, size);
	if (fuzz_mail)
		fuzz_mime_rebuild(data, size);
	return 0;
}

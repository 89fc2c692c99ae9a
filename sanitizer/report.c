/* report.c -- the per-file JSON report, the "sanitize" event, and handing a blocked original to the quarantine. */
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/internal.h"
#include "sanitizer/quarantine.h"

static void
report_fields(const struct san_result *res, struct jbuf *jb)
{
	jb_str(jb, "name", res->name);
	jb_str(jb, "action", san_action_name(res->action));
	jb_str(jb, "reason", res->reason);
	jb_str(jb, "detected_type", res->detected_mime);
	jb_str(jb, "declared_type", res->declared_mime);
	jb_bool(jb, "encrypted", res->encrypted);
	jb_arr_begin(jb, "findings");
	for (size_t i = 0; i < res->n_findings; i++)
		jb_str(jb, NULL, res->findings[i]);
	jb_arr_end(jb);
	if (res->pages)
		jb_uint(jb, "pages", res->pages);
	jb_str(jb, "sha256_in", res->sha256_in[0] ? res->sha256_in : NULL);
	jb_str(jb, "sha256_out", res->sha256_out[0] ? res->sha256_out : NULL);
	jb_str(jb, "output_name", res->out_name);
	jb_str(jb, "output_type", res->out_mime);
	jb_uint(jb, "output_size", res->out_len);
}

static void
report_object(const struct san_result *res, struct jbuf *jb, const char *key, bool top)
{
	if (key)
		jb_obj_begin(jb, key);
	else
		jb_obj_open(jb);
	report_fields(res, jb);
	if (top) {
		jb_obj_begin(jb, "duration_ms");
		jb_double(jb, "total", (double)res->usec_total / 1000.0);
		jb_double(jb, "worker", (double)res->usec_worker / 1000.0);
		jb_obj_end(jb);
	}
	if (res->n_members) {
		jb_arr_begin(jb, "members");
		for (size_t i = 0; i < res->n_members; i++)
			report_object(&res->members[i], jb, NULL, false);
		jb_arr_end(jb);
	}
	jb_obj_end(jb);
}

void
san_report_json(const struct san_result *res, struct jbuf *jb, const char *key)
{
	report_object(res, jb, key, true);
}

int
san_report_write(const struct san_result *res, const char *path)
{
	struct jbuf jb = JBUF_INIT;
	int rc;

	san_report_json(res, &jb, NULL);
	if (jb.oom) {
		jb_free(&jb);
		return -1;
	}
	char *text = xmalloc(jb.len + 2);
	memcpy(text, jb_cstr(&jb), jb.len);
	text[jb.len] = '\n';
	rc = file_write_atomic(path, text, jb.len + 1, 0640);
	free(text);
	jb_free(&jb);
	return rc;
}

void
san_event(struct san_ctx *ctx, const struct san_result *res, const char *source, const char *quarantine_id)
{
	struct ev_sink *sink = san_ctx_events(ctx);
	struct jbuf jb = JBUF_INIT;

	if (sink == NULL)
		return;
	ev_begin(&jb, "sanitize", 0);
	jb_str(&jb, "source", source);
	report_fields(res, &jb);
	jb_double(&jb, "duration_ms", (double)res->usec_total / 1000.0);
	jb_str(&jb, "quarantine_id", quarantine_id);
	if (res->n_members)
		jb_uint(&jb, "members", res->n_members);
	ev_end(&jb);
	ev_emit(sink, &jb);
	jb_free(&jb);
}

int
san_quarantine_original(struct san_ctx *ctx, const uint8_t *data, size_t len,
    const struct san_result *res, const char *kind, const char *source,
    const char *sender, const char *const *recipients, size_t n_recipients,
    char id[SAN_SHA256_HEX])
{
	const struct san_config *cfg = san_ctx_config(ctx);
	struct jbuf jb = JBUF_INIT;
	struct quarantine_meta meta = {
		.kind = kind, .name = res->name, .declared_mime = res->declared_mime,
		.detected_mime = res->detected_mime,
		.reason = res->reason ? res->reason : san_action_name(res->action),
		.source = source, .findings = (const char *const *)res->findings,
		.n_findings = res->n_findings, .sender = sender, .recipients = recipients,
		.n_recipients = n_recipients, .report_json = NULL,
	};
	int rc;

	san_report_json(res, &jb, NULL);
	meta.report_json = jb.oom ? NULL : jb_cstr(&jb);
	rc = quarantine_put(cfg->quarantine_dir, data, len, &meta, id);
	jb_free(&jb);
	return rc;
}

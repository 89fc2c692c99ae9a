/* lo_render.c -- in the worker: an office document's converted PDF to page images, its converted text beside them. */
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "sanitizer/charset.h"
#include "sanitizer/internal.h"
#include "sanitizer/lo.h"

/* The converter's text (hostile bytes) cleaned like any text, as a member of the result: NAME.txt. */
static void
lo_render_text(const struct san_job *job, const struct lo_output *office, struct san_result *res)
{
	struct san_result *m;
	char *clean = NULL;
	size_t clean_len = 0;

	const uint8_t *text = office->text;
	size_t text_len = office->text_len;
	char *from_pdf = NULL;

	/* a presentation's text comes from the PDF the converter printed (lo_pdftext.c, lo_driver.py) */
	if (text_len == 0 && res->detected_mime && (strstr(res->detected_mime, "presentation") ||
	    strstr(res->detected_mime, "powerpoint")) &&
	    lo_pdftext(office->pdf, office->pdf_len, job->cfg->max_text_bytes, &from_pdf, &text_len) < 0) {
		res_finding(res, "document text larger than the limit or unreadable: no text beside the pages");
		return;
	}
	if (from_pdf)
		text = (const uint8_t *)from_pdf;
	if (text_len > job->cfg->max_text_bytes) {
		res_finding(res, "document text larger than the limit: no text beside the pages");
		free(from_pdf);
		return;
	}
	int decoded = charset_to_utf8("UTF-8", text, text_len, &clean, &clean_len, NULL);
	free(from_pdf);
	if (decoded < 0) {
		res_finding(res, "document text could not be decoded: no text beside the pages");
		return;
	}
	res->members = realloc(res->members, (res->n_members + 1) * sizeof *res->members);
	if (res->members == NULL)
		abort();   /* the worker dies: the parent blocks the file */
	m = &res->members[res->n_members++];
	memset(m, 0, sizeof *m);
	res_set_str(&m->name, res->name);
	res_set_str(&m->detected_mime, res->detected_mime);
	res_text(m, clean, clean_len, false);   /* the parent checks it and names it NAME.txt */
}

/* A UTF-16LE name (an OLE directory entry) in the bytes. */
static bool
lo_render_has_utf16(const uint8_t *data, size_t len, const char *ascii)
{
	uint8_t pat[64];
	size_t n = strlen(ascii) < 32 ? strlen(ascii) : 32;

	for (size_t i = 0; i < n; i++) {
		pat[2 * i] = (uint8_t)ascii[i];
		pat[2 * i + 1] = 0;
	}
	return memmem(data, len, pat, 2 * n) != NULL;
}

/*
 * Whether the document carries macros (a finding only: they are never run,
 * the converter's profile disables them, and pages keep none): OOXML's
 * vbaProject part, ODF's Basic/ or Scripts/ folders (ZIP names are plain in
 * the local headers), an OLE file's VBA storage or Macros stream.
 */
static bool
lo_render_has_macros(const uint8_t *data, size_t len)
{
	if (len >= 4 && memcmp(data, "PK\3\4", 4) == 0)
		return memmem(data, len, "vbaProject.bin", 14) || memmem(data, len, "Basic/", 6) ||
		    memmem(data, len, "Scripts/", 8);
	return lo_render_has_utf16(data, len, "_VBA_PROJECT") || lo_render_has_utf16(data, len, "Macros") ||
	    lo_render_has_utf16(data, len, "PROJECTwm");
}

/* Embedded (OLE or ODF) objects: OOXML embeddings/, ODF object folders, an OLE ObjectPool storage. */
static bool
lo_render_has_objects(const uint8_t *data, size_t len)
{
	if (len >= 4 && memcmp(data, "PK\3\4", 4) == 0)
		return memmem(data, len, "/embeddings/", 12) || memmem(data, len, "ObjectReplacements/", 19);
	return lo_render_has_utf16(data, len, "ObjectPool") || lo_render_has_utf16(data, len, "MBD0");
}

bool
lo_render(const struct san_job *job, const uint8_t *data, size_t len, enum san_kind kind,
    struct san_result *res)
{
	if (job->office == NULL && job->office_refused && (kind == KIND_OOXML || kind == KIND_ODF)) {
		/* a document LibreOffice will not open may still hold text office.c can read */
		res_finding(res, "not printed as pages (%s): text only", job->office_why);
		return false;
	}
	if (job->office == NULL) {
		res_block(res, "%s could not be converted: %s", detect_kind_name(kind),
		    job->office_why ? job->office_why : "no converter");
		return true;
	}
	flatten_pdf(job, job->office->pdf, job->office->pdf_len, res);
	if (res->action == SAN_BLOCKED)
		return true;
	res_finding(res, "office document printed to %u page images by the converter", res->pages);
	if (lo_render_has_macros(data, len))
		res_finding(res, "macros removed: never run, not in the pages");
	if (lo_render_has_objects(data, len))
		res_finding(res, "embedded objects drawn as printed (never opened, updated or run), not kept");
	unsigned links = kind == KIND_OOXML || kind == KIND_ODF ? office_count_links(data, len, job->cfg) : 0;
	if (links > 0)
		res_finding(res, "%u linked image%s, file%s or object%s from elsewhere never fetched: printed as the document "
		    "stored them", links, links == 1 ? "" : "s", links == 1 ? "" : "s", links == 1 ? "" : "s");
	if (job->cfg->office_output == SAN_OFFICE_BOTH)
		lo_render_text(job, job->office, res);
	return true;
}

/*
 * An office document inside an archive: only the worker finds it, so the
 * worker asks the parent's converter over its channel (lo_chan.c) and renders
 * the answer as it would the file's own. false: not converted here (no
 * channel, not a format LibreOffice reads, or refused and office.c may read it).
 */
bool
lo_render_member(const struct san_job *job, const uint8_t *data, size_t len, const char *name,
    enum san_kind kind, struct san_result *res)
{
	struct san_job inner = *job;
	struct lo_output out = { 0 };
	char why[256] = "";
	const char *ext;
	bool done;
	int rc;

	if (job->lo_fd <= 0 || job->office_src == data || job->cfg->office_output == SAN_OFFICE_TEXT ||
	    (ext = lo_sniff(data, len, name)) == NULL)
		return false;
	rc = lo_chan_request(job->lo_fd, ext, data, len, job->cfg->max_output_bytes, &out, why, sizeof why);
	inner.office = rc == 0 ? &out : NULL;
	inner.office_why = rc == 0 ? NULL : why;
	inner.office_refused = rc == -2;
	inner.office_src = data;
	done = lo_render(&inner, data, len, kind, res);
	lo_output_free(&out);
	return done;
}

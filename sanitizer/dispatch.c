/* dispatch.c -- inside the worker: name the true type, note mismatches, hand the bytes to their one rebuild. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"
#include "sanitizer/charset.h"
#include "sanitizer/cleanres.h"
#include "sanitizer/internal.h"

static const char *
name_extension(const char *name)
{
	const char *base = name ? strrchr(name, '/') : NULL, *dot;

	base = base ? base + 1 : name;
	dot = base ? strrchr(base, '.') : NULL;
	return dot && dot != base ? dot : NULL;
}

/* Kinds that legitimately share bytes with another kind (an HTML file saved as .txt is still text). */
static bool
kinds_compatible(enum san_kind a, enum san_kind b)
{
	if (a == b)
		return true;
	if ((a == KIND_TEXT && b == KIND_HTML) || (a == KIND_HTML && b == KIND_TEXT))
		return true;
	/* .tar.gz saved after a browser already unpacked the gzip layer, or the reverse */
	if ((a == KIND_TAR && b == KIND_GZIP) || (a == KIND_GZIP && b == KIND_TAR))
		return true;
	return (a == KIND_ZIP && (b == KIND_OOXML || b == KIND_ODF)) ||
	    (b == KIND_ZIP && (a == KIND_OOXML || a == KIND_ODF));
}

static void
dispatch_mismatch(const char *name, const char *declared, const char *mime, enum san_kind kind,
    struct san_result *res)
{
	enum san_kind by_name = detect_kind_of_name(name);
	enum san_kind by_decl = detect_kind(declared);

	if (by_name != KIND_OTHER && !kinds_compatible(by_name, kind))
		res_finding(res, "extension mismatch: %s but content is %s", name_extension(name), mime);
	if (declared && by_decl != KIND_OTHER && !kinds_compatible(by_decl, kind))
		res_finding(res, "declared type mismatch: %s but content is %s", declared, mime);
}

/* Where a format's own end marker says the file ends: bytes after it are what polyglots hide in. */
static const uint8_t *
dispatch_last(const uint8_t *data, size_t len, const char *marker, size_t mlen)
{
	size_t n = len;   /* the last occurrence starts below data + n: searched from the end backwards */

	while (n >= mlen) {
		const uint8_t *m = memrchr(data, marker[0], n - mlen + 1);
		if (m == NULL)
			break;
		if (memcmp(m, marker, mlen) == 0)
			return m + mlen;
		n = (size_t)(m - data) + mlen - 1;
	}
	return NULL;
}

static void
dispatch_trailing(const char *mime, const uint8_t *data, size_t len, struct san_result *res)
{
	const uint8_t *end = NULL;
	size_t extra;

	if (strcmp(mime, "application/pdf") == 0)
		end = dispatch_last(data, len, "%%EOF", 5);
	else if (strcmp(mime, "image/png") == 0)
		end = dispatch_last(data, len, "IEND\xae\x42\x60\x82", 8);
	else if (strcmp(mime, "image/jpeg") == 0)
		end = dispatch_last(data, len, "\xff\xd9", 2);
	if (end == NULL)
		return;
	while (end < data + len && (*end == '\r' || *end == '\n' || *end == ' ' || *end == '\0'))
		end++;
	extra = (size_t)(data + len - end);
	if (extra > 0)
		res_finding(res, "%zu bytes after the end of the %s (polyglot?)", extra, mime);
}

static void
dispatch_text(const struct san_job *job, const uint8_t *data, size_t len, bool csv, struct san_result *res)
{
	char *text = NULL;
	size_t text_len = 0;
	const char *charset = NULL;

	struct textclean_counts found = { 0 };
	size_t clean_len = 0;
	char *clean = cleanres_utf8_input(data, len, &clean_len, &found);
	int rc = clean ? charset_to_utf8("UTF-8", (const uint8_t *)clean, clean_len, &text, &text_len, &charset)
	    : charset_to_utf8(NULL, data, len, &text, &text_len, &charset);

	free(clean);
	cleanres_findings(res, &found, "text");
	if (rc < 0) {
		res_block(res, "out of memory decoding text");
		return;
	}
	if (text_len > job->cfg->max_text_bytes) {
		free(text);
		res_block(res, "text larger than the limit");
		return;
	}
	if (charset && strcmp(charset, "UTF-8") != 0 && strcmp(charset, "US-ASCII") != 0)
		res_finding(res, "charset %s converted to UTF-8", charset);
	res_text(res, text, text_len, csv);
}

/* Content a reader of the original would not have seen is left out of the text: say how much. */
static void
dispatch_hidden_findings(const struct text_hidden *h, struct san_result *res)
{
	if (h->html_elements)
		res_finding(res, "HTML: %u hidden element%s left out (display:none, visibility:hidden, "
		    "hidden, font-size:0)", h->html_elements, h->html_elements == 1 ? "" : "s");
	if (h->word_runs)
		res_finding(res, "Word: %u run%s of hidden text (w:vanish) left out", h->word_runs,
		    h->word_runs == 1 ? "" : "s");
	if (h->sheets)
		res_finding(res, "Excel: %u hidden sheet%s (hidden/veryHidden) left out", h->sheets,
		    h->sheets == 1 ? "" : "s");
	if (h->slides)
		res_finding(res, "PowerPoint: %u hidden slide%s left out", h->slides, h->slides == 1 ? "" : "s");
}

static void
dispatch_to_text(const struct san_job *job, const uint8_t *data, size_t len, enum san_kind kind,
    struct san_result *res)
{
	char *text = NULL, why[256] = "";
	size_t text_len = 0;
	struct text_hidden hidden = { 0 };
	int rc;

	struct textclean_counts found = { 0 };
	size_t clean_len = 0;
	char *clean_in = kind == KIND_HTML ? cleanres_utf8_input(data, len, &clean_len, &found) : NULL;

	cleanres_findings(res, &found, "text");
	if (clean_in)
		rc = html_to_text((const uint8_t *)clean_in, clean_len, job->cfg->max_text_bytes, &text,
		    &text_len, &hidden);
	else if (kind == KIND_HTML)
		rc = html_to_text(data, len, job->cfg->max_text_bytes, &text, &text_len, &hidden);
	else
		rc = office_to_text(data, len, kind, job->cfg, &text, &text_len, why, sizeof why, &hidden);
	free(clean_in);
	dispatch_hidden_findings(&hidden, res);
	if (rc < 0) {
		if (strcmp(why, "encrypted") == 0)
			res->encrypted = true;
		res_block(res, "%s", *why ? why : "document could not be read");
		return;
	}
	/* the parsers' UTF-8 is cleaned by the parent like any text (cleanres_output) */
	res_text(res, text, text_len, false);
}

static void
dispatch_blocked_kind(enum san_kind kind, const char *mime, const char *name, struct san_result *res)
{
	const char *ext = name_extension(name);

	switch (kind) {
	case KIND_EXECUTABLE:
		if (ext && detect_kind_of_name(name) != KIND_EXECUTABLE)
			res_block(res, "executable content (%s) disguised as %s", mime, ext);
		else
			res_block(res, "executable content (%s)", mime);
		break;
	case KIND_LEGACY_OFFICE:
		if (ext && (strcasecmp(ext, ".jtd") == 0 || strcasecmp(ext, ".jtdc") == 0)) {
			res_block(res, "Ichitaro (一太郎 %s) documents cannot be read here: "
			    "ask the sender to save it as PDF or Word (.docx)", ext);
			break;
		}
		res_block(res, "legacy binary office document (%s) is not accepted: "
		    "ask the sender for PDF or docx/xlsx/pptx", mime);
		break;
	case KIND_RTF:
		res_block(res, "RTF is not accepted: ask the sender for PDF or docx");
		break;
	case KIND_ARCHIVE_OTHER:
		res_block(res, "archive type %s is not supported (ZIP, tar and gzip only)", mime);
		break;
	default:
		res_block(res, "file type %s is not accepted", mime);
		break;
	}
}

/* CSV or TSV: formula cells get neutralised (csvsafe.c). */
static bool
dispatch_is_csv(const char *mime, const char *name)
{
	const char *ext = name_extension(name);

	return strcmp(mime, "text/csv") == 0 || strcmp(mime, "text/tab-separated-values") == 0 ||
	    (ext && (strcasecmp(ext, ".csv") == 0 || strcasecmp(ext, ".tsv") == 0 || strcasecmp(ext, ".tab") == 0));
}

static bool
dispatch_is_archive(enum san_kind kind)
{
	return kind == KIND_ZIP || kind == KIND_TAR || kind == KIND_GZIP;
}

void
dispatch_sanitize(const struct san_job *job, const uint8_t *data, size_t len,
    const char *name, const char *declared_mime, struct san_result *res)
{
	enum san_kind kind;
	const char *mime;

	res_set_str(&res->name, name);
	res_set_str(&res->declared_mime, declared_mime);
	res->detected_mime = detect_mime(job->magic, data, len);
	mime = res->detected_mime;
	kind = detect_kind(mime);
	if (kind == KIND_ZIP || (kind == KIND_OTHER && len > 4 && memcmp(data, "PK\3\4", 4) == 0))
		kind = detect_office_zip(data, len, name);
	dispatch_mismatch(name, declared_mime, mime, kind, res);
	dispatch_trailing(mime, data, len, res);
	if (strcmp(mime, "application/encrypted") == 0) {   /* password-protected office (OLE wrapper) */
		res->encrypted = true;
		res_block(res, "encrypted");
		return;
	}
	/* the one nesting guard: every archive (ZIP, tar, gzip) comes through here, at its depth */
	if (dispatch_is_archive(kind) && job->depth >= job->cfg->archive_max_depth) {
		res_block(res, "archive nested deeper than %u levels", job->cfg->archive_max_depth);
		return;
	}
	if (job->office_src == data && (job->office || job->office_why) && (kind == KIND_OOXML ||
	    kind == KIND_ODF || kind == KIND_LEGACY_OFFICE || kind == KIND_RTF) &&
	    lo_render(job, data, len, kind, res))   /* the converter's pages (and text), or its failure */
		return;
	if (job->depth > 0 && (kind == KIND_OOXML || kind == KIND_ODF || kind == KIND_LEGACY_OFFICE ||
	    kind == KIND_RTF) && lo_render_member(job, data, len, name, kind, res))
		return;   /* an archive's office member: its pages (and text) by the parent's converter */
	enum imgdecode_type photo = imgdecode_sniff(data, len);
	if (photo != IMGDECODE_NONE && (kind == KIND_IMAGE || kind == KIND_OTHER)) {
		imgdecode_image(job, data, len, photo, res);   /* HEIC/HEIF, WebP: MuPDF reads neither */
		return;
	}
	switch (kind) {
	case KIND_PDF:
		if (pdfscan_buffer(data, len, res) == PDFSCAN_ENCRYPTED_USER) {
			res->encrypted = true;
			res_block(res, "encrypted");
			return;
		}
		flatten_pdf(job, data, len, res);
		break;
	case KIND_IMAGE:
		flatten_image(job, data, len, mime, res);
		break;
	case KIND_OOXML:
	case KIND_ODF:
	case KIND_HTML:
		dispatch_to_text(job, data, len, kind, res);
		break;
	case KIND_TEXT:
		dispatch_text(job, data, len, dispatch_is_csv(mime, name), res);
		break;
	case KIND_ZIP:
		archive_zip(job, data, len, name, res);
		break;
	case KIND_TAR:
	case KIND_GZIP:
		tarball_sanitize(job, data, len, name, kind == KIND_GZIP, res);
		break;
	default:
		dispatch_blocked_kind(kind, mime, name, res);
		break;
	}
}

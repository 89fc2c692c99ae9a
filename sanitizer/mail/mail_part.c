/* mail_part.c -- one MIME leaf at a time: decode it, turn it into text or a sanitized attachment, record why. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/textclean.h"
#include "sanitizer/charset.h"
#include "sanitizer/mail/mail_int.h"
#include "sanitizer/mail/mime_codec.h"
#include "sanitizer/mail/mime_words.h"

static void
mail_part_note(void *arg, const char *line)
{
	struct mbuf *why = arg;

	mbuf_printf(why, "%s%s", why->len ? "; " : "", line);
}

/* reason through the cleaner, with what the cleaner took out of the name after it. */
static char *
mail_part_clean_reason(const char *reason, const struct textclean_counts *name_found)
{
	struct mbuf why = MBUF_INIT;
	char *clean = reason ? textclean_name_dup(reason, strlen(reason), NULL) : NULL;

	if (clean)
		mbuf_addstr(&why, clean);
	free(clean);
	textclean_report(name_found, "name", mail_part_note, &why);
	if (why.len == 0) {
		mbuf_free(&why);
		return NULL;
	}
	return mbuf_take(&why, NULL);
}

/* Text of the body through the cleaner; what it removed is recorded as a note on the body. */
static char *
mail_part_clean_body(struct mail_build *b, const char *utf8, size_t len, size_t *out_len)
{
	struct textclean_counts found = { 0 };
	char *clean = textclean_text_dup(utf8, len, out_len, &found);
	struct mbuf why = MBUF_INIT;

	if (clean && textclean_report(&found, "text", mail_part_note, &why) > 0) {
		char *note = mbuf_take(&why, NULL);
		mail_part_record(b, NULL, "text/plain", "body", note, len);
		free(note);
	}
	mbuf_free(&why);
	return clean;
}

struct mail_part_report *
mail_part_record(struct mail_build *b, const char *name, const char *media, const char *action,
    const char *reason, size_t size_in)
{
	struct mail_report *rep = b->rep;
	struct mail_part_report *p;

	if (rep->n_parts == rep->cap_parts) {
		size_t cap = rep->cap_parts ? rep->cap_parts * 2 : 8;
		struct mail_part_report *grown = realloc(rep->parts, cap * sizeof *grown);
		if (grown == NULL) {
			b->internal_error = true;
			return NULL;
		}
		rep->parts = grown;
		rep->cap_parts = cap;
	}
	p = &rep->parts[rep->n_parts++];
	memset(p, 0, sizeof *p);
	/* what the notice and the report show: through the one cleaner (lib/textclean.c), removals said */
	struct textclean_counts found = { 0 };
	p->name = name ? textclean_name_dup(name, strlen(name), &found) : NULL;
	p->declared_mime = media ? textclean_name_dup(media, strlen(media), NULL) : NULL;
	p->action = action;
	p->reason = mail_part_clean_reason(reason, &found);
	p->size_in = size_in;
	p->depth = b->depth;
	return p;
}

/* The Content-Transfer-Encoding of obj, lower-cased and trimmed, into enc. */
static void
mail_part_encoding(GMimeObject *obj, char *enc, size_t size)
{
	const char *raw = mime_header_raw(obj, "Content-Transfer-Encoding");
	size_t n = 0;

	enc[0] = '\0';
	if (raw == NULL)
		return;
	raw += strspn(raw, " \t\r\n");
	while (n + 1 < size && raw[n] && !isspace((unsigned char)raw[n]) && raw[n] != ';') {
		enc[n] = (char)tolower((unsigned char)raw[n]);
		n++;
	}
	enc[n] = '\0';
}

/* The bytes of the part as they stand in the message (still transfer-encoded). */
static void
mail_part_raw(GMimeObject *obj, struct mbuf *raw)
{
	GMimeDataWrapper *wrapper = g_mime_part_get_content(GMIME_PART(obj));
	GMimeStream *stream = wrapper ? g_mime_data_wrapper_get_stream(wrapper) : NULL;
	char chunk[16384];
	ssize_t n;

	if (stream == NULL)
		return;
	g_mime_stream_reset(stream);
	while ((n = g_mime_stream_read(stream, chunk, sizeof chunk)) > 0)
		mbuf_add(raw, chunk, (size_t)n);
	g_mime_stream_reset(stream);
}

bool
mail_part_content(GMimeObject *obj, struct mbuf *out)
{
	struct mbuf raw = MBUF_INIT;
	struct mime_b64_stats stats = { 0, 0 };
	char enc[32];
	bool ok = true;

	mail_part_raw(obj, &raw);
	mail_part_encoding(obj, enc, sizeof enc);
	if (strcmp(enc, "base64") == 0) {
		/* our decoder: GMime 3.2.13 stops at a '=' inside the stream */
		mime_b64_decode(mbuf_cstr(&raw), raw.len, out, &stats);
		ok = stats.invalid == 0 && stats.dangling == 0;
	} else if (strcmp(enc, "quoted-printable") == 0) {
		mime_qp_decode(mbuf_cstr(&raw), raw.len, false, out);
	} else if (strstr(enc, "uue") != NULL || strstr(enc, "uuencode") != NULL) {
		long at = mime_uu_find(mbuf_cstr(&raw), raw.len, 0);
		char *name = NULL;
		size_t end;
		ok = at >= 0 && mime_uu_decode(raw.data, raw.len, (size_t)at, out, &name, &end) == 0;
		free(name);
	} else {
		mbuf_add(out, raw.data, raw.len);
	}
	mbuf_free(&raw);
	return ok;
}

static char *
mail_part_param(GMimeObject *obj, const char *header, const char *param)
{
	const char *raw = mime_header_raw(obj, header);

	return raw ? mime_param_get(raw, strlen(raw), param) : NULL;
}

/* The attachment's file name: Content-Disposition filename, else Content-Type name. */
static char *
mail_part_filename(GMimeObject *obj)
{
	char *name = mail_part_param(obj, "Content-Disposition", "filename");

	if (name == NULL || name[0] == '\0') {
		free(name);
		name = mail_part_param(obj, "Content-Type", "name");
	}
	if (name && name[0] == '\0') {
		free(name);
		name = NULL;
	}
	return name;
}

/* Appends decoded text to the body, a separator line between inline parts. */
static void
mail_part_body_add(struct mail_build *b, const char *utf8, size_t len, bool same_part)
{
	if (b->have_body && b->body.len && !same_part)
		mbuf_addstr(&b->body, "\n\n----\n\n");
	mbuf_add(&b->body, utf8, len);
	b->have_body = true;
}

/* True when bytes hold multi-byte UTF-8 and nothing that is not UTF-8. */
static bool
mail_part_is_utf8(const char *bytes, size_t len)
{
	bool multibyte = false;

	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)bytes[i];
		size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 :
		    (c & 0xf8) == 0xf0 ? 4 : 0;
		if (n == 0 || i + n > len)
			return false;
		for (size_t k = 1; k < n; k++)
			if (((unsigned char)bytes[i + k] & 0xc0) != 0x80)
				return false;
		multibyte |= n > 1;
		i += n;
	}
	return multibyte;
}

/*
 * A single-byte Western label decodes any bytes "cleanly", so a client that
 * labels UTF-8 Japanese as ISO-8859-1 would give mojibake: valid multi-byte
 * UTF-8 wins over such a label.
 */
static const char *
mail_part_label(const char *label, const char *bytes, size_t len)
{
	static const char *const single_byte[] = { "iso-8859-", "us-ascii", "windows-125", "cp125",
		"latin", "ascii" };

	if (label == NULL)
		return NULL;
	label = mail_charset_alias(label);
	for (size_t i = 0; i < sizeof single_byte / sizeof single_byte[0]; i++)
		if (strncasecmp(label, single_byte[i], strlen(single_byte[i])) == 0)
			return mail_part_is_utf8(bytes, len) ? "UTF-8" : label;
	return label;
}

static void
mail_part_body_bytes(struct mail_build *b, const char *label, const char *bytes, size_t len,
    bool same_part)
{
	char *utf8 = NULL;
	size_t utf8_len = 0;

	if (charset_to_utf8(mail_part_label(label, bytes, len), (const uint8_t *)bytes, len, &utf8,
	    &utf8_len, NULL) < 0) {
		b->internal_error = true;
		return;
	}
	char *clean = mail_part_clean_body(b, utf8, utf8_len, &utf8_len);
	free(utf8);
	if (clean == NULL) {
		b->internal_error = true;
		return;
	}
	utf8 = clean;
	if (strstr(utf8, "-----BEGIN PGP MESSAGE-----") != NULL) {
		b->rep->encrypted = true;
		b->never_reason = strdup("encrypted message (inline PGP): it cannot be opened to be sanitized");
	} else if (strstr(utf8, "-----BEGIN PGP SIGNED MESSAGE-----") != NULL) {
		b->rep->signed_mail = true;
	}
	mail_part_body_add(b, utf8, utf8_len, same_part);
	free(utf8);
}

/* A uuencoded file found in the text goes through the sanitizer like an attachment. */
static void
mail_part_uu_file(struct mail_build *b, const struct mbuf *file, const char *raw_name)
{
	char *name = mime_words_decode(raw_name, strlen(raw_name));

	mbuf_addstr(&b->body, "\n[uuencoded file removed from the text, see the notice]\n");
	mail_part_sanitize(b, (const uint8_t *)mbuf_cstr((struct mbuf *)file), file->len, name, NULL,
	    "uuencoded in the text");
	free(name);
}

/* Text with uuencoded files in it: the text stays, each file goes through the sanitizer. */
static void
mail_part_text_uu(struct mail_build *b, const char *label, const char *text, size_t len)
{
	size_t from = 0, end;
	long at;

	while ((at = mime_uu_find(text, len, from)) >= 0) {
		struct mbuf file = MBUF_INIT;
		char *name = NULL;
		if (mime_uu_decode(text, len, (size_t)at, &file, &name, &end) < 0) {
			mbuf_free(&file);
			break;
		}
		mail_part_body_bytes(b, label, text + from, (size_t)at - from, from > 0);
		mail_part_uu_file(b, &file, name);
		free(name);
		mbuf_free(&file);
		from = end;
	}
	if (from < len || from == 0)
		mail_part_body_bytes(b, label, text + from, len - from, from > 0);
}

void
mail_part_text(struct mail_build *b, GMimeObject *obj, const char *media)
{
	struct mbuf bytes = MBUF_INIT;
	char *label = mail_part_param(obj, "Content-Type", "charset");

	if (!mail_part_content(obj, &bytes)) {
		b->rep->broken_mime = true;
		mail_part_record(b, NULL, media, "body", "broken transfer encoding: decoded as far as possible",
		    bytes.len);
	}
	mail_part_text_uu(b, label, mbuf_cstr(&bytes), bytes.len);
	free(label);
	mbuf_free(&bytes);
}

/* Writes one sanitized attachment as a MIME part (base64) into b->parts. */
static void
mail_part_emit(struct mail_build *b, const char *mime, const char *name, const uint8_t *data,
    size_t len)
{
	char *clean = name ? textclean_name_dup(name, strlen(name), NULL) : NULL;

	name = clean;   /* the name written into the part: never a raw decoded one */
	mbuf_printf(&b->parts, "--%s\nContent-Type: %s", b->boundary, mime);
	if (name)
		mime_param_write(&b->parts, "name", name);
	mbuf_addstr(&b->parts, "\nContent-Disposition: attachment");
	if (name)
		mime_param_write(&b->parts, "filename", name);
	mbuf_addstr(&b->parts, "\nContent-Transfer-Encoding: base64\n\n");
	mime_b64_encode(data, len, 76, &b->parts);
	free(clean);
}

static const char *
mail_part_action(enum san_action action)
{
	switch (action) {
	case SAN_FLATTENED: return "flattened";
	case SAN_TEXT: return "text";
	case SAN_REENCODED: return "reencoded";
	case SAN_ARCHIVE: return "archive";
	default: return "blocked";
	}
}

/* The reason for a blocked result, with the first finding when it adds something. */
static char *
mail_part_reason(const struct san_result *r, const char *note)
{
	struct mbuf why = MBUF_INIT;

	if (r->reason)
		mbuf_addstr(&why, r->reason);
	if (note)
		mbuf_printf(&why, "%s%s", why.len ? "; " : "", note);
	return why.len ? mbuf_take(&why, NULL) : NULL;
}

int
mail_part_san(struct mail_build *b, const uint8_t *data, size_t len, const char *name,
    const char *media, struct san_result *r)
{
	const struct mail_hooks *h = &b->mc->hooks;

	if (h->sanitize)
		return h->sanitize(h->arg, data, len, name, media, r);
	return san_buffer(b->mc->san, data, len, name, media, r);
}

void
mail_part_sanitize(struct mail_build *b, const uint8_t *data, size_t len, const char *name,
    const char *media, const char *note)
{
	struct san_result r;
	struct mail_part_report *p;
	char *reason;

	if (mail_part_san(b, data, len, name, media, &r) < 0) {
		log_warnx("mail: sanitizer unavailable for %s", name ? name : "(unnamed part)");
		b->internal_error = true;
		return;
	}
	reason = mail_part_reason(&r, note);
	p = mail_part_record(b, name, media, mail_part_action(r.action), reason, len);
	free(reason);
	if (p && r.detected_mime)
		p->detected_mime = strdup(r.detected_mime);
	if (p && r.action != SAN_BLOCKED && r.out != NULL) {
		const char *out_name = r.out_name ? r.out_name : name;
		mail_part_emit(b, r.out_mime ? r.out_mime : "application/octet-stream", out_name,
		    r.out, r.out_len);
		p->out_name = out_name ? strdup(out_name) : NULL;
		p->size_out = r.out_len;
		if (r.action == SAN_FLATTENED && r.n_members == 1 && r.members[0].out)   /* an office text beside */
			mail_part_emit(b, "text/plain; charset=utf-8", r.members[0].out_name ? r.members[0].out_name : name,
			    r.members[0].out, r.members[0].out_len);
	} else if (p && r.action != SAN_BLOCKED) {
		p->action = "blocked";
	}
	san_result_free(&r);
}

void
mail_part_removed(struct mail_build *b, GMimeObject *obj, const char *media, const char *reason)
{
	struct mbuf bytes = MBUF_INIT;
	char *name = GMIME_IS_PART(obj) ? mail_part_filename(obj) : NULL;

	if (GMIME_IS_PART(obj))
		mail_part_content(obj, &bytes);
	mail_part_record(b, name, media, "removed", reason, bytes.len);
	free(name);
	mbuf_free(&bytes);
}

void
mail_part_attachment(struct mail_build *b, GMimeObject *obj, const char *media)
{
	struct mbuf bytes = MBUF_INIT;
	char *name = mail_part_filename(obj);
	bool ok = mail_part_content(obj, &bytes);

	if (!ok) {
		/* what we would hand on is a guess at the bytes: keep the original in quarantine only */
		b->rep->broken_mime = true;
		mail_part_record(b, name, media, "blocked",
		    "broken transfer encoding (bad base64 or uuencode): the file cannot be recovered", bytes.len);
	} else if (strcmp(media, "message/rfc822") == 0 || strcmp(media, "message/global") == 0) {
		mail_nested(b, (const uint8_t *)mbuf_cstr(&bytes), bytes.len, name);
	} else {
		mail_part_sanitize(b, (const uint8_t *)mbuf_cstr(&bytes), bytes.len, name, media, NULL);
	}
	free(name);
	mbuf_free(&bytes);
}

#define MAIL_PART_HTML_FAILED \
	"[HTML本文をテキストに変換できませんでした / the HTML body could not be converted to text]"

/*
 * HTML goes through the file sanitizer's HTML-to-text (links written out, not
 * clickable). It is converted to UTF-8 first with the part's label, which the
 * bytes alone may not reveal; the BOM tells the HTML reader so.
 */
void
mail_part_html(struct mail_build *b, GMimeObject *obj, bool as_body)
{
	struct mbuf bytes = MBUF_INIT, html = MBUF_INIT;
	char *label = mail_part_param(obj, "Content-Type", "charset"), *utf8 = NULL;
	size_t utf8_len = 0;
	struct san_result r;

	mail_part_content(obj, &bytes);
	if (charset_to_utf8(mail_part_label(label, mbuf_cstr(&bytes), bytes.len),
	    (const uint8_t *)mbuf_cstr(&bytes), bytes.len, &utf8, &utf8_len, NULL) < 0) {
		b->internal_error = true;
		goto out;
	}
	mbuf_addstr(&html, "\xEF\xBB\xBF");
	mbuf_add(&html, utf8, utf8_len);
	if (!as_body) {
		char *name = mail_part_filename(obj);
		mail_part_sanitize(b, (const uint8_t *)html.data, html.len, name ? name : "message.html",
		    "text/html", NULL);
		free(name);
		goto out;
	}
	if (mail_part_san(b, (const uint8_t *)html.data, html.len, "message.html", "text/html",
	    &r) < 0) {
		b->internal_error = true;
		goto out;
	}
	b->rep->html_converted = true;
	if (r.action == SAN_TEXT && r.out)
		mail_part_body_add(b, (const char *)r.out, r.out_len, false);
	else
		mail_part_body_add(b, MAIL_PART_HTML_FAILED, strlen(MAIL_PART_HTML_FAILED), false);
	mail_part_record(b, NULL, "text/html", "body", "HTML body converted to text (links are not clickable)",
	    bytes.len);
	san_result_free(&r);
out:
	free(utf8);
	free(label);
	mbuf_free(&bytes);
	mbuf_free(&html);
}

/* True for a line that is only base64 alphabet and long: an attachment that lost its MIME frame. */
static bool
mail_part_b64_line(const char *line, size_t len)
{
	if (len < 40)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)line[i]) && !strchr("+/=\r", line[i]))
			return false;
	return true;
}

/*
 * Mail whose boundary is missing: what GMime could not split is shown as
 * text (never passed on as MIME), and runs of base64 lines -- an attachment
 * we can no longer frame -- are left out.
 */
void
mail_part_broken_text(struct mail_build *b, const char *bytes, size_t len)
{
	struct mbuf kept = MBUF_INIT;
	size_t i = 0, dropped = 0;

	while (i < len) {
		const char *nl = memchr(bytes + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - bytes) + 1 : len;
		if (mail_part_b64_line(bytes + i, end - i - (nl ? 1 : 0)))
			dropped++;
		else
			mbuf_add(&kept, bytes + i, end - i);
		i = end;
	}
	mail_part_body_bytes(b, NULL, mbuf_cstr(&kept), kept.len, false);
	mail_part_record(b, NULL, "multipart/*", "body",
	    dropped ? "broken MIME structure: shown as text, encoded data left out"
		    : "broken MIME structure: shown as text", len);
	mbuf_free(&kept);
}

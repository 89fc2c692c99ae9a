/* mail.c -- mail 無害化: splits the headers, walks the MIME tree, quarantines the original, assembles the rebuilt message. */
#include "sanitizer/mail/mail.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "lib/log.h"
#include "lib/textclean.h"
#include "lib/util.h"
#include "sanitizer/mail/mail_int.h"
#include "sanitizer/mail/mime_codec.h"
#include "sanitizer/mail/mime_words.h"
#include "sanitizer/quarantine.h"
#include "sanitizer/reltoken.h"

/* The header block of a message: where it ends and how lines end. */
struct mail_head {
	size_t len;        /* bytes of the header block, without the empty line */
	size_t body_at;    /* first byte of the body */
	bool crlf;
};

void
mail_config_defaults(struct mail_config *mc)
{
	mc->max_depth = 3;
	mc->max_parts = 500;
	mc->max_message_bytes = 50u << 20;
	mc->max_output_bytes = 100u << 20;
	mc->notice_lang = MAIL_NOTICE_JA_EN;
	mc->quarantine_originals = true;
}

/* The release portal's link key: read once; without it notices say "ask the administrator". */
static void
mail_link_key_load(struct mail_ctx *mc)
{
	const struct san_config *sc = mc->san ? san_ctx_config(mc->san) : NULL;

	if (sc == NULL || sc->token_key == NULL || sc->portal_url == NULL)
		return;
	if (reltoken_key_load(sc->token_key, mc->link_key) < 0)
		log_warn("token_key %s: cannot read the key; notices carry no request link", sc->token_key);
	else
		mc->have_link_key = true;
}

/* "RCPT\tURL\n" for each recipient: one request link each, so only a recipient of this mail can ask. */
char *
mail_links_text(const struct mail_ctx *mc, const char *const *rcpts, size_t n, const char *qid)
{
	const struct san_config *sc = mc->san ? san_ctx_config(mc->san) : NULL;
	int64_t expiry;
	struct mbuf text = MBUF_INIT;
	char *out;

	if (!mc->have_link_key || sc == NULL || qid == NULL || qid[0] == '\0' || n == 0)
		return NULL;
	expiry = (int64_t)time(NULL) + (int64_t)sc->request_days * 86400;
	for (size_t i = 0; i < n; i++) {
		char *url;
		if (rcpts[i] == NULL || strpbrk(rcpts[i], "\t\r\n") != NULL)
			continue;
		if ((url = reltoken_link(mc->link_key, sc->portal_url, qid, rcpts[i], expiry)) == NULL)
			continue;
		mbuf_printf(&text, "%s\t%s\n", rcpts[i], url);
		free(url);
	}
	out = text.failed || text.len == 0 ? NULL : xstrdup(mbuf_cstr(&text));
	mbuf_free(&text);
	return out;
}

void
mail_links_from_text(const struct mail_ctx *mc, const char *text, struct mail_report *rep)
{
	const struct san_config *sc = mc->san ? san_ctx_config(mc->san) : NULL;
	size_t lines = 0;
	const char *p;

	if (text == NULL || sc == NULL || sc->portal_url == NULL)
		return;
	for (p = text; *p; p++)
		lines += *p == '\n';
	rep->link_rcpt = xcalloc(lines + 1, sizeof *rep->link_rcpt);
	rep->link_url = xcalloc(lines + 1, sizeof *rep->link_url);
	for (p = text; *p;) {
		const char *tab = strchr(p, '\t'), *nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		if (tab && tab < nl && str_has_prefix(tab + 1, sc->portal_url)) {
			rep->link_rcpt[rep->n_links] = strndup(p, (size_t)(tab - p));
			rep->link_url[rep->n_links++] = strndup(tab + 1, (size_t)(nl - tab - 1));
		}
		p = nl + 1;
	}
}

/* Not sandboxed (the CLI's in-process path): the links are made here. */
static void
mail_request_links(struct mail_ctx *mc, const struct mail_envelope *env, struct mail_report *rep)
{
	char *text;

	if (env == NULL || rep->link_url != NULL)
		return;
	text = mail_links_text(mc, (const char *const *)env->recipients, env->n_recipients, rep->quarantine_id);
	mail_links_from_text(mc, text, rep);
	free(text);
}

void
mail_ctx_drop_link_key(struct mail_ctx *mc)
{
	OPENSSL_cleanse(mc->link_key, sizeof mc->link_key);
	mc->have_link_key = false;
}

struct mail_ctx *
mail_ctx_new(struct san_ctx *san, const struct mail_config *config)
{
	static bool gmime_ready;
	struct mail_ctx *mc = calloc(1, sizeof *mc);

	if (mc == NULL)
		return NULL;
	if (!gmime_ready) {
		g_mime_init();
		gmime_ready = true;
	}
	mc->san = san;
	mc->config = *config;
	mail_link_key_load(mc);
	return mc;
}

void
mail_ctx_set_hooks(struct mail_ctx *mc, const struct mail_hooks *hooks)
{
	mc->hooks = *hooks;
}

void
mail_ctx_free(struct mail_ctx *mc)
{
	free(mc);
}

static void
mail_head_find(const uint8_t *msg, size_t len, struct mail_head *h)
{
	const char *s = (const char *)msg;

	h->crlf = false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\n')
			continue;
		if (i > 0 && s[i - 1] == '\r')
			h->crlf = true;
		if (i + 1 < len && s[i + 1] == '\n') {
			h->len = i + 1;
			h->body_at = i + 2;
			return;
		}
		if (i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n') {
			h->len = i + 1;
			h->body_at = i + 3;
			return;
		}
		if (i == 0) {   /* no headers at all */
			h->len = 0;
			h->body_at = 1;
			return;
		}
	}
	h->len = len;
	h->body_at = len;
}

/* Headers that describe the old body, or that a sender could forge to look sanitized. */
static bool
mail_head_replaced(const char *field, size_t len)
{
	static const char *const names[] = { "content-", "mime-version:", "x-tiergate-sanitized:" };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (len >= strlen(names[i]) && strncasecmp(field, names[i], strlen(names[i])) == 0)
			return true;
	return false;
}

/* Calls fn for each header field (with its continuation lines and line end). */
static void
mail_head_fields(const char *s, size_t len, void (*fn)(const char *, size_t, void *), void *arg)
{
	size_t i = 0;

	while (i < len) {
		size_t end = i;
		do {
			const char *nl = memchr(s + end, '\n', len - end);
			end = nl ? (size_t)(nl - s) + 1 : len;
		} while (end < len && (s[end] == ' ' || s[end] == '\t'));
		fn(s + i, end - i, arg);
		i = end;
	}
}

struct mail_head_scan {
	struct mbuf *kept;
	struct mail_report *rep;
};

static char *
mail_head_value(const char *field, size_t len)
{
	const char *colon = memchr(field, ':', len);
	size_t at, end = len;

	if (colon == NULL)
		return NULL;
	at = (size_t)(colon - field) + 1;
	while (at < end && isspace((unsigned char)field[at]))
		at++;
	while (end > at && isspace((unsigned char)field[end - 1]))
		end--;
	return strndup(field + at, end - at);
}

/*
 * A field the daemon's check (milter_check.c) lets through: a name of
 * printable ASCII then ':', no line over RFC 5322's 998 bytes. Anything else
 * in a header block is not kept (an mbox "From " line, binary junk).
 */
static bool
mail_head_field_ok(const char *field, size_t len)
{
	size_t name = 0, line = 0;

	while (name < len && field[name] >= 33 && field[name] <= 126 && field[name] != ':')
		name++;
	if (name == 0 || name >= len || field[name] != ':')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (field[i] == '\n') {
			line = 0;
			continue;
		}
		if (field[i] == '\0' || (field[i] == '\r' && (i + 1 >= len || field[i + 1] != '\n')))
			return false;
		if (field[i] != '\r' && ++line > 998)
			return false;
	}
	return true;
}

static void
mail_head_scan_field(const char *field, size_t len, void *arg)
{
	struct mail_head_scan *scan = arg;

	if (len >= 8 && strncasecmp(field, "subject:", 8) == 0 && scan->rep->subject == NULL) {
		char *raw = mail_head_value(field, len);
		char *decoded = raw ? mime_words_decode(raw, strlen(raw)) : NULL;
		/* as the notice and the report show it: through the one cleaner (lib/textclean.c) */
		scan->rep->subject = decoded ? textclean_name_dup(decoded, strlen(decoded), NULL) : NULL;
		free(decoded);
		free(raw);
	} else if (len >= 11 && strncasecmp(field, "message-id:", 11) == 0 && !scan->rep->message_id) {
		scan->rep->message_id = mail_head_value(field, len);
	}
	if (scan->kept && !mail_head_replaced(field, len) && mail_head_field_ok(field, len))
		mbuf_add(scan->kept, field, len);
}

/* Copies the header fields that stay, byte for byte; notes subject and message-id. */
static void
mail_head_keep(const uint8_t *msg, const struct mail_head *h, struct mbuf *kept,
    struct mail_report *rep)
{
	struct mail_head_scan scan = { kept, rep };

	mail_head_fields((const char *)msg, h->len, mail_head_scan_field, &scan);
	if (kept->len && kept->data[kept->len - 1] != '\n')
		mbuf_addstr(kept, h->crlf ? "\r\n" : "\n");
}

static void
mail_boundary(char *out, size_t size)
{
	uint8_t rnd[12];
	char hex[25];

	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		memset(rnd, 0x5a, sizeof rnd);   /* unguessable is nicer, but base64 never holds "=_" anyway */
	for (size_t i = 0; i < sizeof rnd; i++) {
		static const char digits[] = "0123456789abcdef";
		hex[2 * i] = digits[rnd[i] >> 4];
		hex[2 * i + 1] = digits[rnd[i] & 15];
	}
	hex[24] = '\0';
	snprintf(out, size, "=_tiergate_%s", hex);
}

static void
mail_build_init(struct mail_build *b, struct mail_ctx *mc, struct mail_report *rep,
    unsigned depth, unsigned *parts_seen)
{
	memset(b, 0, sizeof *b);
	b->mc = mc;
	b->rep = rep;
	b->depth = depth;
	b->parts_seen = parts_seen;
	b->parts.limit = mc->config.max_output_bytes;
	mail_boundary(b->boundary, sizeof b->boundary);
}

static void
mail_build_free(struct mail_build *b)
{
	mbuf_free(&b->body);
	mbuf_free(&b->parts);
	free(b->never_reason);
}

/* Parses msg with GMime and visits its parts. */
static void
mail_walk_message(struct mail_build *b, const uint8_t *msg, size_t len, const struct mail_head *h)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer((const char *)msg, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *message = g_mime_parser_construct_message(parser, NULL);
	GMimeObject *top = message ? g_mime_message_get_mime_part(message) : NULL;

	if (top != NULL) {
		mime_walk(b, top);
	} else if (h->body_at < len) {
		b->rep->broken_mime = true;
		mail_part_broken_text(b, (const char *)msg + h->body_at, len - h->body_at);
	}
	if (message)
		g_object_unref(message);
	g_object_unref(parser);
	g_object_unref(stream);
}

static size_t
mail_count(const struct mail_report *rep, const char *action)
{
	size_t n = 0;

	for (size_t i = 0; i < rep->n_parts; i++)
		n += strcmp(rep->parts[i].action, action) == 0;
	return n;
}

/* The X-Tiergate-Sanitized value: what was done and where the original is. */
static void
mail_stamp(struct mbuf *out, const struct mail_report *rep, unsigned depth, const char *qid)
{
	static const char *const actions[] = { "flattened", "text", "reencoded", "archive",
		"message", "blocked", "removed" };

	if (depth > 0) {   /* an attached message: the outer stamp and notice tell the story */
		mbuf_addstr(out, "sanitized; attached message");
		return;
	}
	if (rep->verdict == MAIL_QUARANTINED) {
		mbuf_addstr(out, "quarantined; body=notice");
	} else {
		mbuf_printf(out, "sanitized; body=%s", rep->html_converted ? "html-to-text" : "text");
		for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
			if (mail_count(rep, actions[i]))
				mbuf_printf(out, "; %s=%zu", actions[i], mail_count(rep, actions[i]));
		if (rep->signed_mail)
			mbuf_addstr(out, "; signature=invalidated");
		if (rep->broken_mime)
			mbuf_addstr(out, "; broken-mime");
	}
	if (qid && qid[0])
		mbuf_printf(out, ";\n\tquarantine=%s", qid);
}

static void
mail_text_part(struct mbuf *out, const char *boundary, const char *text, size_t len,
    const char *notice_name)
{
	if (boundary == NULL) {   /* the whole body: its headers are the message's */
		mime_b64_encode(text, len, 76, out);
		return;
	}
	mbuf_printf(out, "--%s\n", boundary);
	mbuf_addstr(out, "Content-Type: text/plain; charset=UTF-8");
	if (notice_name) {
		mbuf_addstr(out, "\nContent-Disposition: inline");
		mime_param_write(out, "filename", notice_name);
	}
	mbuf_addstr(out, "\nContent-Transfer-Encoding: base64\n\n");
	mime_b64_encode(text, len, 76, out);
}

static void
mail_add_header(struct mbuf *out, struct mail_result *res, const char *field)
{
	mbuf_addstr(out, field);
	mbuf_addc(out, '\n');
	if (res) {
		char **grown = realloc(res->added_headers, (res->n_added + 1) * sizeof *grown);
		if (grown == NULL) {
			out->failed = true;
			return;
		}
		res->added_headers = grown;
		res->added_headers[res->n_added] = strdup(field);
		if (res->added_headers[res->n_added] == NULL)
			out->failed = true;
		else
			res->n_added++;
	}
}

/* New top-level headers: MIME-Version, Content-Type, Content-Transfer-Encoding, the stamp. */
static void
mail_assemble_headers(struct mbuf *out, struct mail_build *b, bool multipart, const char *qid,
    struct mail_result *res)
{
	struct mbuf field = MBUF_INIT;

	mail_add_header(out, res, "MIME-Version: 1.0");
	mbuf_printf(&field, multipart ? "Content-Type: multipart/mixed; boundary=\"%s\""
				      : "Content-Type: text/plain; charset=UTF-8", b->boundary);
	mail_add_header(out, res, field.data);
	mail_add_header(out, res, multipart ? "Content-Transfer-Encoding: 7bit"
					    : "Content-Transfer-Encoding: base64");
	mbuf_reset(&field);
	mbuf_addstr(&field, "X-Tiergate-Sanitized: ");
	mail_stamp(&field, b->rep, b->depth, qid);
	mail_add_header(out, res, field.data);
	mbuf_free(&field);
}

/*
 * Writes the rebuilt message: kept headers, new headers, then the body (text,
 * notice, sanitized parts). A message with nothing but its text stays a
 * single text/plain part.
 */
static void
mail_assemble(struct mail_build *b, const struct mbuf *kept, const char *qid, bool with_notice,
    struct mbuf *out, size_t *body_at, struct mail_result *res)
{
	struct mbuf notice = MBUF_INIT;
	bool quarantined = b->rep->verdict == MAIL_QUARANTINED && b->depth == 0;
	bool multipart;

	if (quarantined)
		notice_write_quarantined(&notice, b->rep, b->mc->config.notice_lang);
	else if (with_notice && b->rep->n_parts > 0)
		notice_write(&notice, b->rep, b->mc->config.notice_lang);
	multipart = !quarantined && (notice.len > 0 || b->parts.len > 0);
	mbuf_add(out, kept->data, kept->len);
	mail_assemble_headers(out, b, multipart, qid, res);
	mbuf_addc(out, '\n');
	*body_at = out->len;
	if (quarantined) {
		mail_text_part(out, NULL, notice.data, notice.len, NULL);
	} else if (!multipart) {
		mail_text_part(out, NULL, mbuf_cstr(&b->body), b->body.len, NULL);
	} else {
		mbuf_addstr(out, "This is a multi-part message in MIME format.\n");
		mail_text_part(out, b->boundary, mbuf_cstr(&b->body), b->body.len, NULL);
		if (notice.len)
			mail_text_part(out, b->boundary, notice.data, notice.len,
			    "tiergate-無害化のお知らせ.txt");
		mbuf_add(out, b->parts.data, b->parts.len);
		mbuf_printf(out, "--%s--\n", b->boundary);
	}
	mbuf_free(&notice);
}

void
mail_nested(struct mail_build *b, const uint8_t *msg, size_t len, const char *name)
{
	struct mail_build inner;
	struct mail_head h;
	struct mbuf kept = MBUF_INIT, out = MBUF_INIT;
	struct mail_report inner_head = { 0 };
	size_t index = b->rep->n_parts, body_at;

	if (b->depth + 1 > b->mc->config.max_depth) {
		mail_part_record(b, name, "message/rfc822", "removed",
		    "attached message nested too deeply", len);
		return;
	}
	mail_head_find(msg, len, &h);
	mail_head_keep(msg, &h, &kept, &inner_head);
	/* an attached message often has no file name: its subject names it in the notice */
	if (mail_part_record(b, name ? name : inner_head.subject, "message/rfc822", "message", NULL,
	    len) == NULL) {
		free(inner_head.subject);
		free(inner_head.message_id);
		mbuf_free(&kept);
		return;
	}
	free(inner_head.subject);
	free(inner_head.message_id);
	mail_build_init(&inner, b->mc, b->rep, b->depth + 1, b->parts_seen);
	mail_walk_message(&inner, msg, len, &h);
	if (inner.internal_error) {
		b->internal_error = true;
	} else if (inner.never_reason) {
		b->rep->parts[index].action = "removed";
		b->rep->parts[index].reason = strdup(inner.never_reason);
	} else {
		mail_assemble(&inner, &kept, NULL, false, &out, &body_at, NULL);
		mbuf_printf(&b->parts, "--%s\nContent-Type: message/rfc822\n"
		    "Content-Disposition: attachment\nContent-Transfer-Encoding: 8bit\n\n", b->boundary);
		mbuf_add(&b->parts, out.data, out.len);
		mbuf_addc(&b->parts, '\n');
		b->rep->parts[index].size_out = out.len;
		b->parts.failed |= out.failed;
	}
	mail_build_free(&inner);
	mbuf_free(&kept);
	mbuf_free(&out);
}

void
mail_crlf(const char *in, size_t len, struct mbuf *out)
{
	size_t from = 0;

	for (size_t i = 0; i < len; i++) {
		if (in[i] != '\n' || (i > 0 && in[i - 1] == '\r'))
			continue;
		mbuf_add(out, in + from, i - from);
		mbuf_addstr(out, "\r\n");
		from = i + 1;
	}
	mbuf_add(out, in + from, len - from);
}

/* One line per attachment, "name (type): action: reason": what the release portal shows the recipient. */
char **
mail_part_lines(const struct mail_report *rep, size_t *n)
{
	char **lines = xcalloc(rep->n_parts + 1, sizeof *lines);

	*n = 0;
	for (size_t i = 0; i < rep->n_parts; i++) {
		const struct mail_part_report *p = &rep->parts[i];
		char *line = NULL;
		if (strcmp(p->action, "body") == 0)
			continue;
		if (asprintf(&line, "%s (%s, %zu bytes): %s%s%s%s%s", p->name ? p->name : "(no name)",
		    p->declared_mime ? p->declared_mime : "?", p->size_in, p->action,
		    p->out_name ? " -> " : "", p->out_name ? p->out_name : "",
		    p->reason ? ": " : "", p->reason ? p->reason : "") < 0)
			continue;
		lines[(*n)++] = line;
	}
	return lines;
}

static int
mail_quarantine(struct mail_ctx *mc, const uint8_t *msg, size_t len, const struct mail_envelope *env,
    struct mail_report *rep)
{
	const struct san_config *sc;
	struct jbuf jb = JBUF_INIT;
	struct quarantine_meta meta;
	int rc;

	if (mc->hooks.quarantine)   /* sandboxed: the broker holds the original and the quarantine */
		return mc->hooks.quarantine(mc->hooks.arg, rep, rep->quarantine_id);
	sc = san_ctx_config(mc->san);
	memset(&meta, 0, sizeof meta);
	meta.kind = "mail";
	meta.name = rep->subject;
	meta.declared_mime = "message/rfc822";
	meta.reason = rep->reason ? rep->reason : "original of a sanitized mail";
	meta.source = env && env->source ? env->source : "mail";
	meta.sender = env && env->sender ? env->sender : "";
	meta.recipients = env ? env->recipients : NULL;
	meta.n_recipients = env ? env->n_recipients : 0;
	jb_obj_open(&jb);
	mail_report_json(rep, &jb);
	jb_obj_end(&jb);
	meta.report_json = jb.oom ? NULL : jb_cstr(&jb);
	meta.findings = (const char *const *)mail_part_lines(rep, &meta.n_findings);
	rc = quarantine_put(sc->quarantine_dir, msg, len, &meta, rep->quarantine_id);
	for (size_t i = 0; i < meta.n_findings; i++)
		free((char *)(uintptr_t)meta.findings[i]);
	free((void *)(uintptr_t)meta.findings);
	jb_free(&jb);
	return rc;
}

/* Walks the message (depth 0); returns -1 on an internal error. */
static int
mail_sanitize_walk(struct mail_build *b, const uint8_t *msg, size_t len, const struct mail_head *h,
    const char *never_reason)
{
	if (never_reason)
		b->never_reason = strdup(never_reason);
	else if (len > b->mc->config.max_message_bytes)
		b->never_reason = strdup("message larger than the configured limit");
	else
		mail_walk_message(b, msg, len, h);
	if (b->internal_error)
		return -1;
	if (b->never_reason) {
		b->rep->verdict = MAIL_QUARANTINED;
		b->rep->reason = strdup(b->never_reason);
	}
	return 0;
}

static void
mail_result_take(struct mail_result *res, struct mbuf *out, bool crlf)
{
	struct mbuf converted = MBUF_INIT;

	if (crlf) {
		size_t lone_lf = 0;
		for (size_t i = 0; i < res->body_at; i++)
			lone_lf += out->data[i] == '\n' && (i == 0 || out->data[i - 1] != '\r');
		mail_crlf(out->data, out->len, &converted);
		res->body_at += lone_lf;   /* one CR added per line before the body */
		mbuf_free(out);
		*out = converted;
	}
	res->out = mbuf_take(out, &res->out_len);
	res->report.size_out = res->out_len;
}

static int mail_rebuild(struct mail_ctx *mc, const uint8_t *msg, size_t len,
    const struct mail_envelope *env, const char *never_reason, struct mail_result *res);

static void
mail_result_headers_free(struct mail_result *res)
{
	for (size_t i = 0; i < res->n_added; i++)
		free(res->added_headers[i]);
	free(res->added_headers);
	res->added_headers = NULL;
	res->n_added = 0;
}

int
mail_sanitize(struct mail_ctx *mc, const uint8_t *msg, size_t len, const struct mail_envelope *env,
    struct mail_result *res)
{
	return mail_rebuild(mc, msg, len, env, NULL, res);
}

int
mail_quarantine_notice(struct mail_ctx *mc, const uint8_t *msg, size_t len,
    const struct mail_envelope *env, const char *reason, struct mail_result *res)
{
	return mail_rebuild(mc, msg, len, env, reason, res);
}

static int
mail_rebuild(struct mail_ctx *mc, const uint8_t *msg, size_t len, const struct mail_envelope *env,
    const char *never_reason, struct mail_result *res)
{
	uint64_t start = clock_mono_us();
	unsigned parts_seen = 0;
	struct mail_build b;
	struct mail_head h;
	struct mbuf kept = MBUF_INIT, out = MBUF_INIT;
	const uint8_t *orig = msg;
	size_t orig_len = len;
	int rc = -1;

	memset(res, 0, sizeof *res);
	res->report.size_in = len;
	if (len >= 3 && memcmp(msg, "\xEF\xBB\xBF", 3) == 0) {
		/* a UTF-8 BOM before the first header: without this, no header would be one */
		msg += 3;
		len -= 3;
	}
	mail_build_init(&b, mc, &res->report, 0, &parts_seen);
	mail_head_find(msg, len, &h);
	mail_head_keep(msg, &h, &kept, &res->report);
	if (mail_sanitize_walk(&b, msg, len, &h, never_reason) < 0)
		goto out;
	if (mc->config.quarantine_originals && mail_quarantine(mc, orig, orig_len, env, &res->report) < 0)
		goto out;
	mail_request_links(mc, env, &res->report);
	out.limit = mc->config.max_output_bytes;
	mail_assemble(&b, &kept, res->report.quarantine_id, true, &out, &res->body_at, res);
	if (out.failed || b.parts.failed || b.body.failed) {
		/* too big to deliver rebuilt: the recipient gets the notice, the original waits */
		mail_result_headers_free(res);
		mbuf_reset(&out);
		res->report.verdict = MAIL_QUARANTINED;
		free(res->report.reason);
		res->report.reason = strdup("rebuilt message larger than the configured limit");
		mail_assemble(&b, &kept, res->report.quarantine_id, true, &out, &res->body_at, res);
	}
	if (out.failed || kept.failed)
		goto out;
	mail_result_take(res, &out, h.crlf);
	res->report.usec = clock_mono_us() - start;
	rc = 0;
out:
	if (rc < 0)
		log_warnx("mail: cannot rebuild %s: internal error, the message is to be retried",
		    res->report.message_id ? res->report.message_id : "(no Message-ID)");
	mail_build_free(&b);
	mbuf_free(&kept);
	mbuf_free(&out);
	return rc;
}

void
mail_result_free(struct mail_result *res)
{
	struct mail_report *rep = &res->report;

	for (size_t i = 0; i < rep->n_parts; i++) {
		free(rep->parts[i].name);
		free(rep->parts[i].declared_mime);
		free(rep->parts[i].detected_mime);
		free(rep->parts[i].reason);
		free(rep->parts[i].out_name);
	}
	free(rep->parts);
	for (size_t i = 0; i < rep->n_links; i++) {
		free(rep->link_rcpt[i]);
		free(rep->link_url[i]);
	}
	free(rep->link_rcpt);
	free(rep->link_url);
	free(rep->reason);
	free(rep->subject);
	free(rep->message_id);
	mail_result_headers_free(res);
	free(res->out);
	memset(res, 0, sizeof *res);
}

void
mail_report_json(const struct mail_report *rep, struct jbuf *jb)
{
	jb_str(jb, "verdict", rep->verdict == MAIL_SANITIZED ? "sanitized" : "quarantined");
	if (rep->reason)
		jb_str(jb, "reason", rep->reason);
	jb_str(jb, "message_id", rep->message_id);
	jb_str(jb, "subject", rep->subject);
	jb_uint(jb, "size_in", rep->size_in);
	jb_uint(jb, "size_out", rep->size_out);
	jb_str(jb, "quarantine_id", rep->quarantine_id[0] ? rep->quarantine_id : NULL);
	jb_bool(jb, "html_converted", rep->html_converted);
	jb_bool(jb, "signed", rep->signed_mail);
	jb_bool(jb, "encrypted", rep->encrypted);
	jb_bool(jb, "broken_mime", rep->broken_mime);
	jb_arr_begin(jb, "parts");
	for (size_t i = 0; i < rep->n_parts; i++) {
		const struct mail_part_report *p = &rep->parts[i];
		jb_obj_open(jb);
		jb_str(jb, "name", p->name);
		jb_str(jb, "declared_mime", p->declared_mime);
		if (p->detected_mime)
			jb_str(jb, "detected_mime", p->detected_mime);
		jb_str(jb, "action", p->action);
		jb_str(jb, "reason", p->reason);
		jb_str(jb, "out_name", p->out_name);
		jb_uint(jb, "size_in", p->size_in);
		jb_uint(jb, "size_out", p->size_out);
		jb_uint(jb, "depth", p->depth);
		jb_obj_end(jb);
	}
	jb_arr_end(jb);
	jb_uint(jb, "duration_us", rep->usec);
}

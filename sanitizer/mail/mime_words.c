/* mime_words.c -- header text done by hand: RFC 2047 encoded-words, RFC 2231 parameters, and writing both. */
#include "sanitizer/mail/mime_words.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sanitizer/charset.h"
#include "sanitizer/mail/mime_codec.h"

#define MIME_MAX_SECTIONS 64

/* Consecutive encoded-words of one charset, joined as bytes before conversion. */
struct mime_pending {
	char charset[64];
	struct mbuf bytes;
};

/*
 * Labels mail clients write that glibc's iconv does not know by that name
 * (checked against `iconv -l` on Debian 12): mapped before iconv is asked,
 * so such a part is decoded, not guessed at.
 */
const char *
mail_charset_alias(const char *label)
{
	static const char *const map[][2] = {
		{ "unicode-1-1-utf-7", "UTF-7" }, { "csunicode11utf7", "UTF-7" }, { "x-utf-7", "UTF-7" },
		{ "utf7", "UTF-7" }, { "ks_c_5601-1987", "CP949" }, { "ks_c_5601", "CP949" },
		{ "x-gbk", "GBK" }, { "x-euc-tw", "EUC-TW" }, { "ms950", "CP950" }, { "x-x-big5", "BIG5" },
		{ "windows-874", "CP874" }, { "x-cp1250", "CP1250" }, { "x-cp1251", "CP1251" },
		{ "x-mac-roman", "MACINTOSH" }, { "x-mac-cyrillic", "MAC-CYRILLIC" },
		{ "unicode", "UTF-16" }, { "unicodefffe", "UTF-16BE" }, { "x-unicode20utf8", "UTF-8" },
	};

	if (label == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcasecmp(label, map[i][0]) == 0)
			return map[i][1];
	return label;
}

static void
mime_convert_append(struct mbuf *out, const char *charset, const char *bytes, size_t len)
{
	char *utf8 = NULL;
	size_t utf8_len = 0;
	bool ascii = true;

	charset = mail_charset_alias(charset);

	for (size_t i = 0; i < len && ascii; i++)
		ascii = (unsigned char)bytes[i] < 0x80 && bytes[i] != 0x1b && bytes[i] >= 0x20;
	if (ascii && (charset == NULL || strncasecmp(charset, "UTF-7", 5) != 0)) {
		mbuf_add(out, bytes, len);
		return;
	}
	if (charset_to_utf8_opts(charset, (const uint8_t *)bytes, len, CHARSET_SINGLE_LINE, &utf8,
	    &utf8_len, NULL) == 0)
		mbuf_add(out, utf8, utf8_len);
	else
		out->failed = true;
	free(utf8);
}

static void
mime_pending_flush(struct mime_pending *p, struct mbuf *out)
{
	if (p->charset[0] == '\0')
		return;
	mime_convert_append(out, p->charset, p->bytes.data, p->bytes.len);
	mbuf_reset(&p->bytes);
	p->charset[0] = '\0';
}

/* An encoded-word found in header text: "=?charset[*lang]?B|Q?text?=". */
struct mime_word {
	char charset[64];
	bool base64;
	const char *text;
	size_t text_len;
	size_t total_len;
};

/* Recognises an encoded-word at s[0..len); false when there is none. */
static bool
mime_word_parse(const char *s, size_t len, struct mime_word *w)
{
	const char *cs, *enc, *end;
	size_t cs_len;

	if (len < 8 || s[0] != '=' || s[1] != '?')
		return false;
	cs = s + 2;
	enc = memchr(cs, '?', len - 2);
	if (enc == NULL || enc + 3 >= s + len || enc[2] != '?' || strchr("BbQq", enc[1]) == NULL)
		return false;
	w->text = enc + 3;
	end = memmem(w->text, (size_t)(s + len - w->text), "?=", 2);
	if (end == NULL || memchr(w->text, ' ', (size_t)(end - w->text)) != NULL)
		return false;
	cs_len = strcspn(cs, "*?");
	if (cs_len == 0 || cs_len >= sizeof w->charset || cs + cs_len > enc)
		return false;
	memcpy(w->charset, cs, cs_len);
	w->charset[cs_len] = '\0';
	w->base64 = enc[1] == 'B' || enc[1] == 'b';
	w->text_len = (size_t)(end - w->text);
	w->total_len = (size_t)(end + 2 - s);
	return true;
}

/* Adds a word's bytes to the pending run, flushing first when the charset changes. */
static void
mime_word_take(const struct mime_word *w, struct mime_pending *p, struct mbuf *out)
{
	if (strcasecmp(w->charset, p->charset) != 0) {
		mime_pending_flush(p, out);
		memcpy(p->charset, w->charset, strlen(w->charset) + 1);
	}
	if (w->base64)
		mime_b64_decode(w->text, w->text_len, &p->bytes, NULL);
	else
		mime_qp_decode(w->text, w->text_len, true, &p->bytes);
}

/* Removes folding (CRLF or LF before whitespace) and stray line breaks. */
static void
mime_unfold(const char *raw, size_t len, struct mbuf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (raw[i] == '\r' || raw[i] == '\n')
			continue;
		mbuf_addc(out, raw[i]);
	}
}

static bool
mime_only_space(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

/* Text between words: dropped when it is only space between two words (RFC 2047 6.2). */
static void
mime_plain_flush(struct mbuf *plain, struct mime_pending *p, struct mbuf *out, bool word_follows)
{
	if (plain->len == 0)
		return;
	if (!(word_follows && p->charset[0] && mime_only_space(plain->data, plain->len))) {
		mime_pending_flush(p, out);
		mime_convert_append(out, NULL, plain->data, plain->len);
	}
	mbuf_reset(plain);
}

char *
mime_words_decode(const char *raw, size_t len)
{
	struct mbuf unfolded = MBUF_INIT, out = MBUF_INIT, plain = MBUF_INIT;
	struct mime_pending p = { "", MBUF_INIT };
	struct mime_word w;
	size_t i = 0;

	mime_unfold(raw, len, &unfolded);
	while (i < unfolded.len) {
		if (!mime_word_parse(unfolded.data + i, unfolded.len - i, &w)) {
			mbuf_addc(&plain, unfolded.data[i++]);
			continue;
		}
		mime_plain_flush(&plain, &p, &out, true);
		mime_word_take(&w, &p, &out);
		i += w.total_len;
	}
	mime_plain_flush(&plain, &p, &out, false);
	mime_pending_flush(&p, &out);
	mbuf_free(&plain);
	mbuf_free(&unfolded);
	mbuf_free(&p.bytes);
	if (out.failed) {
		mbuf_free(&out);
		return NULL;
	}
	return mbuf_take(&out, NULL);
}

/* One parameter as written: attribute and the value with quotes removed. */
struct mime_rawparam {
	struct mbuf attr, value;
};

static size_t
mime_skip_space(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
		i++;
	return i;
}

/* Reads a quoted string at s[i] == '"'; returns the index after it. */
static size_t
mime_read_quoted(const char *s, size_t len, size_t i, struct mbuf *value)
{
	for (i++; i < len && s[i] != '"'; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == '\r' || s[i] == '\n')
			continue;
		mbuf_addc(value, s[i]);
	}
	return i < len ? i + 1 : len;
}

/* Reads the next "attr=value" starting at s[i]; returns the index after it. */
static size_t
mime_read_param(const char *s, size_t len, size_t i, struct mime_rawparam *rp)
{
	size_t end;

	mbuf_reset(&rp->attr);
	mbuf_reset(&rp->value);
	i = mime_skip_space(s, len, i);
	while (i < len && s[i] != '=' && s[i] != ';')
		mbuf_addc(&rp->attr, s[i++]);
	while (rp->attr.len && isspace((unsigned char)rp->attr.data[rp->attr.len - 1]))
		rp->attr.data[--rp->attr.len] = '\0';
	if (i >= len || s[i] == ';')
		return i;
	i = mime_skip_space(s, len, i + 1);
	if (i < len && s[i] == '"') {
		i = mime_read_quoted(s, len, i, &rp->value);
		while (i < len && s[i] != ';')
			i++;
		return i;
	}
	/* unquoted: up to ';' (Outlook also leaves =?..?= words unquoted) */
	end = i;
	while (end < len && s[end] != ';')
		end++;
	mime_unfold(s + i, end - i, &rp->value);
	while (rp->value.len && isspace((unsigned char)rp->value.data[rp->value.len - 1]))
		rp->value.data[--rp->value.len] = '\0';
	return end;
}

/* Skips the media type (or disposition type) before the first ';'. */
static size_t
mime_params_start(const char *s, size_t len)
{
	size_t i = 0;
	bool quoted = false;

	for (; i < len && (quoted || s[i] != ';'); i++) {
		if (s[i] == '"')
			quoted = !quoted;
		else if (s[i] == '\\' && quoted)
			i++;
	}
	return i;
}

/* RFC 2231 sections of one parameter, by number. */
struct mime_sections {
	struct mbuf part[MIME_MAX_SECTIONS];
	bool extended[MIME_MAX_SECTIONS], present[MIME_MAX_SECTIONS];
	struct mbuf single;   /* name*= */
	struct mbuf plain;    /* name= */
	bool has_single, has_plain, has_sections;
};

/* Files one raw parameter under the sections of name when it is one of them. */
static void
mime_sections_add(struct mime_sections *sec, const char *name, const struct mime_rawparam *rp)
{
	const char *attr = mbuf_cstr((struct mbuf *)&rp->attr), *rest;
	size_t name_len = strlen(name);
	char *end;
	unsigned long n;

	if (strncasecmp(attr, name, name_len) != 0)
		return;
	rest = attr + name_len;
	if (*rest == '\0' && !sec->has_plain) {
		mbuf_add(&sec->plain, rp->value.data, rp->value.len);
		sec->has_plain = true;
	} else if (strcmp(rest, "*") == 0 && !sec->has_single) {
		mbuf_add(&sec->single, rp->value.data, rp->value.len);
		sec->has_single = true;
	} else if (rest[0] == '*' && isdigit((unsigned char)rest[1])) {
		n = strtoul(rest + 1, &end, 10);
		if (n >= MIME_MAX_SECTIONS || (*end != '\0' && strcmp(end, "*") != 0) || sec->present[n])
			return;
		mbuf_add(&sec->part[n], rp->value.data, rp->value.len);
		sec->extended[n] = *end == '*';
		sec->present[n] = true;
		sec->has_sections = true;
	}
}

static int
mime_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

static void
mime_percent_decode(const char *s, size_t len, struct mbuf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len &&
		    mime_hexval(s[i + 1]) >= 0 && mime_hexval(s[i + 2]) >= 0) {
			mbuf_addc(out, (char)(mime_hexval(s[i + 1]) * 16 + mime_hexval(s[i + 2])));
			i += 2;
		} else {
			mbuf_addc(out, s[i]);
		}
	}
}

/* Splits "charset'lang'rest": copies the charset, returns the offset of rest (0 when absent). */
static size_t
mime_2231_prefix(const char *s, size_t len, char *charset, size_t charset_size)
{
	const char *q1 = memchr(s, '\'', len), *q2;
	size_t cs_len;

	charset[0] = '\0';
	if (q1 == NULL)
		return 0;
	q2 = memchr(q1 + 1, '\'', len - (size_t)(q1 + 1 - s));
	if (q2 == NULL)
		return 0;
	cs_len = (size_t)(q1 - s);
	if (cs_len < charset_size) {
		memcpy(charset, s, cs_len);
		charset[cs_len] = '\0';
	}
	return (size_t)(q2 + 1 - s);
}

/* Joins the raw bytes of every section first, then converts once (split escapes survive). */
static char *
mime_sections_decode(struct mime_sections *sec)
{
	struct mbuf bytes = MBUF_INIT, out = MBUF_INIT;
	char charset[64] = "";
	bool any_extended = false;

	for (int n = 0; n < MIME_MAX_SECTIONS && sec->present[n]; n++) {
		const char *v = mbuf_cstr(&sec->part[n]);
		size_t vlen = sec->part[n].len, at = 0;
		if (sec->extended[n]) {
			if (n == 0)
				at = mime_2231_prefix(v, vlen, charset, sizeof charset);
			mime_percent_decode(v + at, vlen - at, &bytes);
			any_extended = true;
		} else {
			mbuf_add(&bytes, v, vlen);
		}
	}
	if (!any_extended) {
		char *decoded = mime_words_decode(mbuf_cstr(&bytes), bytes.len);
		mbuf_free(&bytes);
		return decoded;
	}
	mime_convert_append(&out, charset[0] ? charset : NULL, mbuf_cstr(&bytes), bytes.len);
	mbuf_free(&bytes);
	return mbuf_take(&out, NULL);
}

static char *
mime_single_decode(struct mime_sections *sec)
{
	struct mbuf bytes = MBUF_INIT, out = MBUF_INIT;
	char charset[64];
	const char *v = mbuf_cstr(&sec->single);
	size_t at = mime_2231_prefix(v, sec->single.len, charset, sizeof charset);

	mime_percent_decode(v + at, sec->single.len - at, &bytes);
	mime_convert_append(&out, charset[0] ? charset : NULL, mbuf_cstr(&bytes), bytes.len);
	mbuf_free(&bytes);
	return mbuf_take(&out, NULL);
}

static void
mime_sections_free(struct mime_sections *sec)
{
	for (int n = 0; n < MIME_MAX_SECTIONS; n++)
		mbuf_free(&sec->part[n]);
	mbuf_free(&sec->single);
	mbuf_free(&sec->plain);
}

char *
mime_param_get(const char *raw, size_t len, const char *name)
{
	struct mime_sections sec;
	struct mime_rawparam rp = { MBUF_INIT, MBUF_INIT };
	size_t i = mime_params_start(raw, len);
	char *value = NULL;

	memset(&sec, 0, sizeof sec);
	while (i < len) {
		i = mime_read_param(raw, len, i + 1, &rp);
		mime_sections_add(&sec, name, &rp);
	}
	if (sec.has_sections && sec.present[0])
		value = mime_sections_decode(&sec);
	else if (sec.has_single)
		value = mime_single_decode(&sec);
	else if (sec.has_plain)
		value = mime_words_decode(mbuf_cstr(&sec.plain), sec.plain.len);
	mime_sections_free(&sec);
	mbuf_free(&rp.attr);
	mbuf_free(&rp.value);
	return value;
}

char *
mime_media_type(const char *raw, size_t len)
{
	size_t i = mime_skip_space(raw, len, 0), end = i;
	char *type;

	while (end < len && raw[end] != ';' && !isspace((unsigned char)raw[end]))
		end++;
	if (end == i || memchr(raw + i, '/', end - i) == NULL)
		return NULL;
	type = strndup(raw + i, end - i);
	for (char *c = type; c && *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return type;
}

/* Length of the UTF-8 sequence starting with byte c (1 for stray bytes). */
static size_t
mime_utf8_len(unsigned char c)
{
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	if (c >= 0xc0)
		return 2;
	return 1;
}

/* Bytes of utf8 from `at` that fit in max without splitting a character. */
static size_t
mime_utf8_chunk(const char *utf8, size_t len, size_t at, size_t max)
{
	size_t n = 0;

	while (at + n < len) {
		size_t c = mime_utf8_len((unsigned char)utf8[at + n]);
		if (c > len - at - n)   /* a truncated sequence at the end: take what is there */
			c = len - at - n;
		if (n + c > max)
			break;
		n += c;
	}
	if (n == 0 && at < len)
		n = len - at < max ? len - at : max;   /* max smaller than one char: never loop */
	return n;
}

void
mime_words_encode(struct mbuf *out, const char *utf8)
{
	size_t len = strlen(utf8), at = 0;

	while (at < len) {
		size_t n = mime_utf8_chunk(utf8, len, at, 45);   /* 45 bytes = 60 base64 = 72-byte word */
		if (at)
			mbuf_addstr(out, "\n ");
		mbuf_addstr(out, "=?UTF-8?B?");
		mime_b64_encode(utf8 + at, n, 0, out);
		mbuf_addstr(out, "?=");
		at += n;
	}
}

static bool
mime_attr_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("*'%()<>@,;:\\\"/[]?=", c) == NULL;
}

static bool
mime_plain_ok(const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x7f || (unsigned char)s[i] < 0x20 || s[i] == '"' ||
		    s[i] == '\\')
			return false;
	return len < 60;
}

/* Appends the %XX form of one character. */
static void
mime_percent_encode(struct mbuf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (mime_attr_char(c)) {
			mbuf_addc(out, (char)c);
		} else {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
			mbuf_add(out, esc, 3);
		}
	}
}

void
mime_param_write(struct mbuf *out, const char *name, const char *utf8)
{
	size_t len = strlen(utf8), at = 0;
	int section = 0;

	if (mime_plain_ok(utf8)) {
		mbuf_printf(out, ";\n\t%s=\"%s\"", name, utf8);
		return;
	}
	/* sections of at most 20 characters (60 bytes of %XX) keep lines short */
	while (at < len) {
		size_t n = mime_utf8_chunk(utf8, len, at, 20);
		bool only = at == 0 && n == len;
		if (only)
			mbuf_printf(out, ";\n\t%s*=UTF-8''", name);
		else
			mbuf_printf(out, ";\n\t%s*%d*=%s", name, section, section == 0 ? "UTF-8''" : "");
		mime_percent_encode(out, utf8 + at, n);
		at += n;
		section++;
	}
	mbuf_printf(out, ";\n\t%s=\"", name);
	mime_words_encode(out, utf8);
	mbuf_addc(out, '"');
}

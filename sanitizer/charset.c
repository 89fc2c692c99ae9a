/* charset.c -- Japanese-aware decoding to clean UTF-8: labels are hints, bytes decide, no mojibake. */
#include "sanitizer/charset.h"

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A growable output buffer; oom sticks so callers check once at the end. */
struct cbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void
cbuf_put(struct cbuf *b, const void *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t want = b->cap ? b->cap : 256;
		char *grown;
		while (want < b->len + n + 1)
			want *= 2;
		grown = realloc(b->p, want);
		if (grown == NULL) {
			b->oom = true;
			return;
		}
		b->p = grown;
		b->cap = want;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
cbuf_putc(struct cbuf *b, char c)
{
	cbuf_put(b, &c, 1);
}

static const char replacement[] = "\xEF\xBF\xBD";   /* U+FFFD */

/* The decoders we know by our own name; CS_OTHER goes to iconv under the label. */
enum cs { CS_ASCII, CS_UTF8, CS_CP932, CS_EUCJP, CS_ISO2022JP, CS_OTHER, CS_UNKNOWN };

static const char *const cs_names[] = {
	"US-ASCII", "UTF-8", "CP932", "EUC-JP", "ISO-2022-JP", NULL, NULL,
};

/* iconv names; EUC-JP-MS accepts the NEC/IBM rows CP51932 mail carries. */
#define ICONV_CP932 "CP932"
#define ICONV_EUCJP "EUC-JP-MS"

static bool
label_is(const char *label, const char *const *names)
{
	for (; *names; names++)
		if (strcasecmp(label, *names) == 0)
			return true;
	return false;
}

static enum cs
charset_from_label(const char *label)
{
	static const char *const sjis[] = { "shift_jis", "shift-jis", "sjis", "x-sjis",
		"ms_kanji", "csshiftjis", "windows-31j", "cp932", "ms932", "x-ms-cp932",
		"shift_jisx0213", "x-shift_jis", NULL };
	static const char *const euc[] = { "euc-jp", "x-euc-jp", "eucjp", "euc_jp",
		"cseucpkdfmtjapanese", "cp51932", "euc-jp-ms", "eucjp-ms", "x-euc", NULL };
	static const char *const jis[] = { "iso-2022-jp", "csiso2022jp", "iso-2022-jp-1",
		"iso-2022-jp-2", "iso-2022-jp-3", "iso-2022-jp-ms", "cp50220", "cp50221",
		"cp50222", "jis", "x-iso-2022-jp", NULL };
	static const char *const utf8[] = { "utf-8", "utf8", "x-utf-8", "unicode-1-1-utf-8", NULL };
	static const char *const ascii[] = { "us-ascii", "ascii", "ansi_x3.4-1968", "us", NULL };

	if (label == NULL || *label == '\0')
		return CS_UNKNOWN;
	if (label_is(label, sjis))
		return CS_CP932;
	if (label_is(label, euc))
		return CS_EUCJP;
	if (label_is(label, jis))
		return CS_ISO2022JP;
	if (label_is(label, utf8))
		return CS_UTF8;
	if (label_is(label, ascii))
		return CS_ASCII;
	return CS_OTHER;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t
utf8_seq_len(const uint8_t *s, size_t avail)
{
	uint8_t c = s[0];
	size_t need;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		need = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		need = 4, cp = c & 0x07;
	else
		return 0;
	if (avail < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return need;
}

/* Copies UTF-8, replacing each invalid byte by U+FFFD; returns the number replaced. */
static size_t
decode_utf8(const uint8_t *in, size_t len, struct cbuf *out)
{
	size_t errors = 0, i = 0;

	while (i < len) {
		size_t n = utf8_seq_len(in + i, len - i);
		if (n == 0) {
			cbuf_put(out, replacement, 3);
			errors++;
			i++;
			continue;
		}
		cbuf_put(out, in + i, n);
		i += n;
	}
	return errors;
}

/*
 * Decodes through iconv; an undecodable byte becomes U+FFFD and decoding
 * resumes after it. Returns the number of replacements, or (size_t)-1 when
 * iconv does not know the charset.
 */
static size_t
decode_iconv(const char *from, const uint8_t *in, size_t len, struct cbuf *out)
{
	iconv_t cd = iconv_open("UTF-8", from);
	char *src = (char *)(uintptr_t)in, chunk[4096];
	size_t left = len, errors = 0;

	if (cd == (iconv_t)-1)
		return (size_t)-1;
	while (left > 0 && !out->oom) {
		char *dst = chunk;
		size_t room = sizeof chunk;
		size_t r = iconv(cd, &src, &left, &dst, &room);
		cbuf_put(out, chunk, (size_t)(dst - chunk));
		if (r == (size_t)-1 && errno != E2BIG) {
			/* EILSEQ or EINVAL (truncated at the end): replace one byte, go on. */
			cbuf_put(out, replacement, 3);
			errors++;
			src++;
			left--;
			iconv(cd, NULL, NULL, NULL, NULL);
		}
	}
	iconv_close(cd);
	return errors;
}

/* JIS X 0208 row/cell (0x21..0x7E each) to Shift_JIS/CP932 bytes. */
static void
jis_to_sjis(uint8_t j1, uint8_t j2, uint8_t out[2])
{
	out[0] = (uint8_t)(((j1 + 1) >> 1) + (j1 <= 0x5E ? 0x70 : 0xB0));
	if (j1 & 1)
		out[1] = (uint8_t)(j2 + (j2 >= 0x60 ? 0x20 : 0x1F));
	else
		out[1] = (uint8_t)(j2 + 0x7E);
}

enum jis_mode { JIS_ASCII, JIS_ROMAN, JIS_KANA, JIS_X0208, JIS_X0212 };

/* Recognises an escape sequence at in[i] (in[i] == ESC); returns its length or 0. */
static size_t
iso2022_escape(const uint8_t *in, size_t len, size_t i, enum jis_mode *mode)
{
	const uint8_t *e = in + i + 1;
	size_t avail = len - i - 1;

	if (avail >= 2 && e[0] == '(' && (e[1] == 'B' || e[1] == 'J' || e[1] == 'I')) {
		*mode = e[1] == 'B' ? JIS_ASCII : e[1] == 'J' ? JIS_ROMAN : JIS_KANA;
		return 3;
	}
	if (avail >= 2 && e[0] == '$' && (e[1] == '@' || e[1] == 'B')) {
		*mode = JIS_X0208;
		return 3;
	}
	if (avail >= 3 && e[0] == '$' && e[1] == '(' && (e[2] == 'B' || e[2] == 'Q' || e[2] == 'O')) {
		*mode = JIS_X0208;   /* X 0208 by the long form, or X 0213 plane 1 (mostly the same) */
		return 4;
	}
	if (avail >= 3 && e[0] == '$' && e[1] == '(' && e[2] == 'D') {
		*mode = JIS_X0212;
		return 4;
	}
	if (avail >= 5 && e[0] == '&' && e[1] == '@' && e[2] == 0x1B && e[3] == '$' && e[4] == 'B') {
		*mode = JIS_X0208;   /* JIS X 0208-1990 announcer */
		return 6;
	}
	return 0;
}

/*
 * ISO-2022-JP (with CP50220/50221/ISO-2022-JP-MS extensions) to CP932 bytes;
 * glibc's decoder rejects the NEC/IBM rows and SO/SI kana, so we map JIS
 * row/cell to Shift_JIS and let iconv's CP932 do the rest. Bytes that fit
 * nowhere become '?' in the CP932 stream and count as errors.
 */
static size_t
iso2022_to_cp932(const uint8_t *in, size_t len, struct cbuf *sjis)
{
	enum jis_mode mode = JIS_ASCII, saved = JIS_ASCII;
	size_t errors = 0, i = 0;

	while (i < len) {
		uint8_t c = in[i];
		if (c == 0x1B) {
			size_t n = iso2022_escape(in, len, i, &mode);
			if (n == 0) {
				errors++;
				n = 1;
			}
			i += n;
			continue;
		}
		if (c == 0x0E || c == 0x0F) {   /* SO/SI: half-width kana in and out */
			if (c == 0x0E && mode != JIS_KANA)
				saved = mode, mode = JIS_KANA;
			else if (c == 0x0F && mode == JIS_KANA)
				mode = saved;
			i++;
			continue;
		}
		if (c == '\n' || c == '\r') {
			mode = mode == JIS_KANA ? saved : mode;   /* lines start in ASCII by the RFC, be lenient */
			cbuf_putc(sjis, (char)c);
			i++;
			continue;
		}
		if (c >= 0xA1 && c <= 0xDF) {   /* 8-bit kana (CP50222 style) */
			cbuf_putc(sjis, (char)c);
			i++;
			continue;
		}
		if (c >= 0x80) {
			cbuf_putc(sjis, '?');
			errors++;
			i++;
			continue;
		}
		if ((mode == JIS_X0208 || mode == JIS_X0212) && c >= 0x21 && c <= 0x7E) {
			uint8_t pair[2];
			if (i + 1 >= len || in[i + 1] < 0x21 || in[i + 1] > 0x7E) {
				cbuf_putc(sjis, '?');
				errors++;
				i++;
				continue;
			}
			if (mode == JIS_X0212) {
				cbuf_put(sjis, "\x81\x48", 2);   /* no CP932 form: a full-width '?' */
			} else {
				jis_to_sjis(c, in[i + 1], pair);
				cbuf_put(sjis, pair, 2);
			}
			i += 2;
			continue;
		}
		if (mode == JIS_KANA && c >= 0x21 && c <= 0x5F)
			c = (uint8_t)(c + 0x80);
		cbuf_putc(sjis, (char)c);
		i++;
	}
	return errors;
}

static size_t
decode_iso2022(const uint8_t *in, size_t len, struct cbuf *out)
{
	struct cbuf sjis = { 0 };
	size_t errors = iso2022_to_cp932(in, len, &sjis);
	size_t more;

	if (sjis.oom) {
		out->oom = true;
		return errors;
	}
	more = decode_iconv(ICONV_CP932, (const uint8_t *)sjis.p, sjis.len, out);
	free(sjis.p);
	return errors + (more == (size_t)-1 ? sjis.len : more);
}

static size_t
decode_as(enum cs cs, const char *label, const uint8_t *in, size_t len, struct cbuf *out)
{
	switch (cs) {
	case CS_ASCII:
	case CS_UTF8:
		return decode_utf8(in, len, out);
	case CS_CP932:
		return decode_iconv(ICONV_CP932, in, len, out);
	case CS_EUCJP:
		return decode_iconv(ICONV_EUCJP, in, len, out);
	case CS_ISO2022JP:
		return decode_iso2022(in, len, out);
	default:
		return decode_iconv(label, in, len, out);
	}
}

static bool
has_iso2022_escape(const uint8_t *in, size_t len)
{
	for (size_t i = 0; i + 2 < len; i++)
		if (in[i] == 0x1B && (in[i + 1] == '$' || (in[i + 1] == '(' && in[i + 2] == 'I')))
			return true;
	return false;
}

/* Counts errors of a trial decode (the text is thrown away). */
static size_t
trial_errors(enum cs cs, const uint8_t *in, size_t len)
{
	struct cbuf scratch = { 0 };
	size_t errors = decode_as(cs, NULL, in, len, &scratch);

	free(scratch.p);
	return scratch.oom ? (size_t)-1 : errors;
}

/* Hiragana/katakana pairs as each encoding writes them: ordinary Japanese text has many. */
static void
kana_scores(const uint8_t *in, size_t len, size_t *sjis, size_t *euc)
{
	*sjis = *euc = 0;
	for (size_t i = 0; i + 1 < len; i++) {
		uint8_t a = in[i], b = in[i + 1];
		if ((a == 0x82 && b >= 0x9F && b <= 0xF1) || (a == 0x83 && b >= 0x40 && b <= 0x96))
			(*sjis)++;
		if ((a == 0xA4 || a == 0xA5) && b >= 0xA1 && b <= 0xF6)
			(*euc)++;
	}
}

static enum cs
detect(const uint8_t *in, size_t len)
{
	bool high = false;
	size_t e_utf8, e_sjis, e_euc, k_sjis, k_euc;

	for (size_t i = 0; i < len && !high; i++)
		high = in[i] >= 0x80;
	if (!high)
		return has_iso2022_escape(in, len) ? CS_ISO2022JP : CS_ASCII;
	e_utf8 = trial_errors(CS_UTF8, in, len);
	if (e_utf8 == 0)
		return CS_UTF8;
	e_sjis = trial_errors(CS_CP932, in, len);
	e_euc = trial_errors(CS_EUCJP, in, len);
	if (e_utf8 < e_sjis && e_utf8 < e_euc)
		return CS_UTF8;
	if (e_sjis != e_euc)
		return e_sjis < e_euc ? CS_CP932 : CS_EUCJP;
	kana_scores(in, len, &k_sjis, &k_euc);
	return k_euc > k_sjis ? CS_EUCJP : CS_CP932;
}

/* Unicode code point of the valid UTF-8 sequence at s of length n. */
static uint32_t
utf8_cp(const uint8_t *s, size_t n)
{
	static const uint8_t lead_mask[] = { 0, 0x7F, 0x1F, 0x0F, 0x07 };
	uint32_t cp = s[0] & lead_mask[n];

	for (size_t i = 1; i < n; i++)
		cp = (cp << 6) | (s[i] & 0x3F);
	return cp;
}

/*
 * Removes what must not reach a reader or a log: C0/C1 controls except
 * newline and tab, DEL, BOMs; normalises CR LF and CR to LF. The input is
 * valid UTF-8 (every decoder above produces only that).
 */
static void
clean_text(const char *text, size_t len, unsigned flags, struct cbuf *out)
{
	const uint8_t *s = (const uint8_t *)text;
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_seq_len(s + i, len - i);
		uint32_t cp;
		if (n == 0) {
			cbuf_put(out, replacement, 3);
			i++;
			continue;
		}
		cp = utf8_cp(s + i, n);
		if (cp == '\r') {
			cp = '\n';
			if (i + 1 < len && s[i + 1] == '\n')
				i++;
		}
		if (cp == '\n' || cp == '\t')
			cbuf_putc(out, (flags & CHARSET_SINGLE_LINE) ? ' ' : (char)cp);
		else if (!(cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0xFEFF))
			cbuf_put(out, s + i, n);
		i += n;
	}
}

static const char *
detected_name(enum cs cs, const char *label)
{
	return cs == CS_OTHER ? label : cs_names[cs];
}

int
charset_to_utf8_opts(const char *label, const uint8_t *in, size_t len, unsigned flags,
    char **out, size_t *out_len, const char **detected)
{
	struct cbuf raw = { 0 }, clean = { 0 };
	enum cs cs = charset_from_label(label);
	size_t errors = (size_t)-1;

	if (cs != CS_UNKNOWN) {
		errors = decode_as(cs, label, in, len, &raw);
		if (errors != 0) {   /* mislabelled or unknown label: let the bytes decide */
			enum cs guess = detect(in, len);
			if (errors == (size_t)-1 || trial_errors(guess, in, len) < errors) {
				cs = guess;
				raw.len = 0;
				errors = decode_as(cs, NULL, in, len, &raw);
			}
		}
	} else {
		cs = detect(in, len);
		decode_as(cs, NULL, in, len, &raw);
	}
	cbuf_put(&raw, "", 0);
	if (!raw.oom)
		clean_text(raw.p ? raw.p : "", raw.len, flags, &clean);
	cbuf_put(&clean, "", 0);
	free(raw.p);
	if (raw.oom || clean.oom) {
		free(clean.p);
		return -1;
	}
	*out = clean.p;
	*out_len = clean.len;
	if (detected)
		*detected = detected_name(cs, label);
	return 0;
}

int
charset_to_utf8(const char *label, const uint8_t *in, size_t len, char **out,
    size_t *out_len, const char **detected)
{
	return charset_to_utf8_opts(label, in, len, 0, out, out_len, detected);
}

const char *
charset_detect(const uint8_t *in, size_t len)
{
	return cs_names[detect(in, len)];
}

void
charset_preload(void)
{
	/* Held open for the life of the process, so glibc never unloads the gconv modules. */
	static iconv_t held[2];
	static const char *const from[2] = { ICONV_CP932, ICONV_EUCJP };

	for (size_t i = 0; i < 2; i++)
		if (held[i] == NULL || held[i] == (iconv_t)-1)
			held[i] = iconv_open("UTF-8", from[i]);
}

/* textclean.c -- valid UTF-8 without controls, bidi, zero-width or tag characters, each removal counted by kind. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/textclean.h"

#define TEXTCLEAN_REPLACEMENT "\xEF\xBF\xBD"   /* U+FFFD */
#define TEXTCLEAN_NONE (-1)

/*
 * Decodes one UTF-8 character at s[0..n). Returns its length and sets *cp,
 * or 0 when s does not start a valid, shortest-form sequence.
 */
static size_t
textclean_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t need;
	uint32_t v;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		need = 2, v = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		need = 3, v = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		need = 4, v = s[0] & 0x07;
	else
		return 0;
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min[need] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return need;
}

/* The kind a code point is removed as, or TEXTCLEAN_NONE when it stays. */
static int
textclean_classify(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
		return TEXTCLEAN_CONTROL;
	if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0x200E || cp == 0x200F || cp == 0x061C)
		return TEXTCLEAN_BIDI;
	if ((cp >= 0x200B && cp <= 0x200D) || (cp >= 0x2060 && cp <= 0x2064) ||
	    cp == 0xFEFF || cp == 0x00AD || cp == 0x180E)
		return TEXTCLEAN_ZERO_WIDTH;
	if (cp >= 0xE0000 && cp <= 0xE007F)
		return TEXTCLEAN_TAG;
	return TEXTCLEAN_NONE;
}

struct textclean_out {
	char *p;
	size_t len, cap;
	bool full;
};

static void
textclean_put(struct textclean_out *o, const char *s, size_t n)
{
	if (o->full || o->len + n + 1 > o->cap) {
		o->full = true;   /* nothing after a cut, so the output never skips a character */
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static size_t
textclean_run(const char *in, size_t len, char *out, size_t cap, struct textclean_counts *found,
    bool body)
{
	const unsigned char *s = (const unsigned char *)in;
	struct textclean_out o = { out, 0, cap, cap == 0 };
	size_t i = 0;

	while (i < len && !o.full) {
		uint32_t cp = 0;
		size_t n = textclean_decode(s + i, len - i, &cp);
		int kind;
		if (n == 0) {
			if (found)
				found->n[TEXTCLEAN_INVALID]++;
			textclean_put(&o, TEXTCLEAN_REPLACEMENT, 3);
			i++;
			continue;
		}
		if (body && (cp == '\t' || cp == '\n' || cp == '\r')) {
			/* line ends, one form: "\r\n" and a lone "\r" are "\n" */
			if (cp != '\r' || i + 1 >= len || s[i + 1] != '\n')
				textclean_put(&o, cp == '\t' ? "\t" : "\n", 1);
			i += n;
			continue;
		}
		kind = textclean_classify(cp);
		if (kind == TEXTCLEAN_NONE)
			textclean_put(&o, in + i, n);
		else if (found)
			found->n[kind]++;
		i += n;
	}
	if (cap > 0)
		out[o.len] = '\0';
	return o.len;
}

size_t
textclean_name(const char *in, size_t len, char *out, size_t cap, struct textclean_counts *found)
{
	return textclean_run(in, len, out, cap, found, false);
}

size_t
textclean_text(const char *in, size_t len, char *out, size_t cap, struct textclean_counts *found)
{
	return textclean_run(in, len, out, cap, found, true);
}

static char *
textclean_dup(const char *in, size_t len, size_t *out_len, struct textclean_counts *found, bool body)
{
	size_t cap, n;
	char *out;

	if (len > (SIZE_MAX - 1) / 3)
		return NULL;
	cap = TEXTCLEAN_CAP(len);
	out = malloc(cap);
	if (out == NULL)
		return NULL;
	n = textclean_run(in ? in : "", in ? len : 0, out, cap, found, body);
	if (out_len)
		*out_len = n;
	return out;
}

char *
textclean_name_dup(const char *in, size_t len, struct textclean_counts *found)
{
	return textclean_dup(in, len, NULL, found, false);
}

char *
textclean_text_dup(const char *in, size_t len, size_t *out_len, struct textclean_counts *found)
{
	return textclean_dup(in, len, out_len, found, true);
}

size_t
textclean_total(const struct textclean_counts *c)
{
	size_t total = 0;

	for (int k = 0; k < TEXTCLEAN_KINDS; k++)
		total += c->n[k];
	return total;
}

const char *
textclean_kind_name(enum textclean_kind kind)
{
	static const char *const names[TEXTCLEAN_KINDS] = {
		"invalid UTF-8 byte", "control character", "bidi control character",
		"zero-width character", "tag character",
	};

	return (unsigned)kind < TEXTCLEAN_KINDS ? names[kind] : "?";
}

size_t
textclean_report(const struct textclean_counts *c, const char *what,
    void (*emit)(void *arg, const char *line), void *arg)
{
	static const char *const detail[TEXTCLEAN_KINDS] = {
		" (replaced by U+FFFD)", "", " (U+202A-U+202E, U+2066-U+2069, U+200E/F, U+061C)",
		" (U+200B-U+200D, U+2060-U+2064, U+FEFF, U+00AD, U+180E)", " (U+E0000-U+E007F)",
	};
	char line[256];
	size_t lines = 0;

	for (int k = 0; k < TEXTCLEAN_KINDS; k++) {
		if (c->n[k] == 0)
			continue;
		snprintf(line, sizeof line, "%s: %s %zu %s%s%s", what, k == TEXTCLEAN_INVALID ? "replaced" : "removed",
		    c->n[k], textclean_kind_name((enum textclean_kind)k), c->n[k] == 1 ? "" : "s", detail[k]);
		emit(arg, line);
		lines++;
	}
	return lines;
}

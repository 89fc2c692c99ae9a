/* csvsafe.c -- formula cells of CSV/TSV neutralised the OWASP way, and a BOM so Japanese Excel reads UTF-8. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"
#include "sanitizer/csvsafe.h"

struct csvbuf {
	char *p;
	size_t len, cap;
};

static void
csvbuf_put(struct csvbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 256;
		b->p = xrealloc(b->p, b->cap, 1);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* -12, +3.5, 1,000 is two cells anyway: an optional sign, digits, one optional decimal point. */
static bool
csvsafe_is_number(const char *v, size_t n)
{
	size_t i = 0, digits = 0;
	bool dot = false;

	if (i < n && (v[i] == '-' || v[i] == '+'))
		i++;
	for (; i < n; i++) {
		if (v[i] >= '0' && v[i] <= '9')
			digits++;
		else if (v[i] == '.' && !dot)
			dot = true;
		else
			return false;
	}
	return digits > 0;
}

static bool
csvsafe_is_formula(const char *v, size_t n)
{
	static const char *const wide[] = { "\xEF\xBC\x9D", "\xEF\xBC\x8B", "\xEF\xBC\x8D", "\xEF\xBC\xA0" };

	if (n == 0)
		return false;
	if (memchr("=+-@\t\r", v[0], 6) != NULL)
		return !csvsafe_is_number(v, n);
	for (size_t i = 0; i < ARRAY_LEN(wide); i++)
		if (n >= 3 && memcmp(v, wide[i], 3) == 0)
			return true;
	return false;
}

/*
 * An unquoted cell with a formula right after the other separator inside
 * it: a TSV saved as .csv, or a CSV opened by Excel's import wizard (tab
 * first), must not hide a formula behind the separator we did not split on.
 */
static bool
csvsafe_hides_formula(const char *v, size_t n, char other)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (v[i] == other && csvsafe_is_formula(v + i + 1, n - i - 1))
			return true;
	return false;
}

/*
 * One cell's value (quotes undone) from text[*pos], which moves to the
 * separator or line end after it. Returns whether the cell was quoted (a
 * spreadsheet split either way keeps a quoted cell whole).
 */
static bool
csvsafe_cell(const char *text, size_t len, char sep, size_t *pos, struct csvbuf *value)
{
	size_t i = *pos;
	bool quoted = i < len && text[i] == '"';

	value->len = 0;
	if (quoted) {
		for (i++; i < len; i++) {
			if (text[i] == '"' && i + 1 < len && text[i + 1] == '"')
				csvbuf_put(value, "\"", 1), i++;
			else if (text[i] == '"')
				break;
			else
				csvbuf_put(value, text + i, 1);
		}
		i = i < len ? i + 1 : i;   /* past the closing quote; anything up to the separator is kept as written */
	}
	size_t start = i;
	while (i < len && text[i] != sep && text[i] != '\n')
		i++;
	csvbuf_put(value, text + start, i - start);
	*pos = i;
	return quoted;
}

/* Writes a neutralised cell: "'" + value, quoted, inner quotes doubled. */
static void
csvsafe_put_neutral(struct csvbuf *out, const struct csvbuf *value)
{
	csvbuf_put(out, "\"'", 2);
	for (size_t i = 0; i < value->len; i++) {
		csvbuf_put(out, value->p + i, 1);
		if (value->p[i] == '"')
			csvbuf_put(out, "\"", 1);
	}
	csvbuf_put(out, "\"", 1);
}

char *
csvsafe_rewrite(const char *text, size_t len, char sep, size_t *out_len, size_t *neutralised)
{
	struct csvbuf out = { 0 }, value = { 0 };
	size_t pos = 0;

	*neutralised = 0;
	csvbuf_put(&out, CSVSAFE_BOM, 3);
	while (pos < len) {
		size_t start = pos;
		bool quoted = csvsafe_cell(text, len, sep, &pos, &value);
		if (value.len && (csvsafe_is_formula(value.p, value.len) ||
		    (!quoted && csvsafe_hides_formula(value.p, value.len, sep == ',' ? '\t' : ',')))) {
			csvsafe_put_neutral(&out, &value);
			(*neutralised)++;
		} else {
			csvbuf_put(&out, text + start, pos - start);
		}
		if (pos < len)   /* the separator or the line end */
			csvbuf_put(&out, text + pos++, 1);
	}
	free(value.p);
	*out_len = out.len;
	return out.p;
}

char
csvsafe_separator(const char *name)
{
	const char *dot = name ? strrchr(name, '.') : NULL;

	return dot && (strcasecmp(dot, ".tsv") == 0 || strcasecmp(dot, ".tab") == 0) ? '\t' : ',';
}

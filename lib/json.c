/* json.c -- a small, strict JSON reader (RFC 8259): the event lines tiergate-verify checks, the quarantine metadata. */
#include "lib/json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

struct json_parser {
	const char *start, *pos, *end;
	int depth;
	struct json_error *err;
	bool failed;
};

/* A growable byte buffer for decoded strings. */
struct json_sbuf {
	char *buf;
	size_t len, cap;
};

static int json_parse_value(struct json_parser *jp, struct json_value *out);
static int json_fail(struct json_parser *jp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
json_fail(struct json_parser *jp, const char *fmt, ...)
{
	va_list ap;

	if (!jp->failed) {
		jp->failed = true;
		jp->err->offset = (size_t)(jp->pos - jp->start);
		va_start(ap, fmt);
		vsnprintf(jp->err->text, sizeof jp->err->text, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void
json_skip_space(struct json_parser *jp)
{
	while (jp->pos < jp->end && (*jp->pos == ' ' || *jp->pos == '\t' ||
	    *jp->pos == '\n' || *jp->pos == '\r'))
		jp->pos++;
}

static int
json_sbuf_put(struct json_parser *jp, struct json_sbuf *sb, const char *bytes, size_t n)
{
	if (sb->len + n + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 32;
		char *grown;
		while (cap < sb->len + n + 1)
			cap *= 2;
		grown = realloc(sb->buf, cap);
		if (grown == NULL)
			return json_fail(jp, "out of memory");
		sb->buf = grown;
		sb->cap = cap;
	}
	memcpy(sb->buf + sb->len, bytes, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	return 0;
}

static int
json_put_utf8(struct json_parser *jp, struct json_sbuf *sb, uint32_t cp)
{
	char out[4];
	size_t n;

	if (cp < 0x80) {
		out[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		out[0] = (char)(0xf0 | (cp >> 18));
		out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return json_sbuf_put(jp, sb, out, n);
}

static int
json_hex4(struct json_parser *jp, uint32_t *out)
{
	uint32_t v = 0;

	if (jp->end - jp->pos < 4)
		return json_fail(jp, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		char c = jp->pos[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return json_fail(jp, "bad hex digit in \\u escape");
		v = v << 4 | (uint32_t)d;
	}
	jp->pos += 4;
	*out = v;
	return 0;
}

/* \uXXXX, with a following \uXXXX when the first is a high surrogate. */
static int
json_unicode_escape(struct json_parser *jp, struct json_sbuf *sb)
{
	uint32_t cp, low;

	if (json_hex4(jp, &cp) < 0)
		return -1;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return json_fail(jp, "lone low surrogate in \\u escape");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (jp->end - jp->pos < 2 || jp->pos[0] != '\\' || jp->pos[1] != 'u')
			return json_fail(jp, "high surrogate not followed by a low one");
		jp->pos += 2;
		if (json_hex4(jp, &low) < 0)
			return -1;
		if (low < 0xdc00 || low > 0xdfff)
			return json_fail(jp, "high surrogate not followed by a low one");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
	}
	return json_put_utf8(jp, sb, cp);
}

static int
json_escape(struct json_parser *jp, struct json_sbuf *sb)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;

	if (jp->pos >= jp->end)
		return json_fail(jp, "truncated escape");
	if (*jp->pos == 'u') {
		jp->pos++;
		return json_unicode_escape(jp, sb);
	}
	hit = memchr(from, *jp->pos, sizeof from - 1);
	if (hit == NULL)
		return json_fail(jp, "unknown escape \\%c", *jp->pos);
	jp->pos++;
	return json_sbuf_put(jp, sb, &to[hit - from], 1);
}

/* Length of the valid UTF-8 sequence at s (max n bytes), or 0 if invalid. */
static size_t
json_utf8_len(const unsigned char *s, size_t n)
{
	size_t need;
	uint32_t cp, min;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		need = 2, cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		need = 3, cp = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		need = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

/* Copies a run of plain (unescaped) bytes, checking them as it goes. */
static int
json_plain_run(struct json_parser *jp, struct json_sbuf *sb)
{
	const char *run = jp->pos;

	while (jp->pos < jp->end && *jp->pos != '"' && *jp->pos != '\\') {
		unsigned char c = (unsigned char)*jp->pos;
		size_t n;
		if (c < 0x20)
			return json_fail(jp, "control character in string");
		n = json_utf8_len((const unsigned char *)jp->pos, (size_t)(jp->end - jp->pos));
		if (n == 0)
			return json_fail(jp, "invalid UTF-8 in string");
		jp->pos += n;
	}
	return json_sbuf_put(jp, sb, run, (size_t)(jp->pos - run));
}

/* At the opening quote; leaves *out a malloc'ed NUL-terminated string. */
static int
json_parse_string(struct json_parser *jp, char **out, size_t *out_len)
{
	struct json_sbuf sb = { NULL, 0, 0 };

	jp->pos++;
	if (json_sbuf_put(jp, &sb, "", 0) < 0)
		return -1;
	for (;;) {
		if (json_plain_run(jp, &sb) < 0)
			break;
		if (jp->pos >= jp->end) {
			json_fail(jp, "unterminated string");
			break;
		}
		if (*jp->pos == '"') {
			jp->pos++;
			*out = sb.buf;
			*out_len = sb.len;
			return 0;
		}
		jp->pos++;
		if (json_escape(jp, &sb) < 0)
			break;
	}
	free(sb.buf);
	return -1;
}

static size_t
json_digits(struct json_parser *jp)
{
	const char *from = jp->pos;

	while (jp->pos < jp->end && *jp->pos >= '0' && *jp->pos <= '9')
		jp->pos++;
	return (size_t)(jp->pos - from);
}

/* Walks the number grammar; sets *integral when there is no fraction or exponent. */
static int
json_scan_number(struct json_parser *jp, bool *integral)
{
	*integral = true;
	if (jp->pos < jp->end && *jp->pos == '-')
		jp->pos++;
	if (jp->pos < jp->end && *jp->pos == '0') {
		jp->pos++;
		if (jp->pos < jp->end && *jp->pos >= '0' && *jp->pos <= '9')
			return json_fail(jp, "leading zero in number");
	} else if (json_digits(jp) == 0) {
		return json_fail(jp, "bad number");
	}
	if (jp->pos < jp->end && *jp->pos == '.') {
		jp->pos++;
		*integral = false;
		if (json_digits(jp) == 0)
			return json_fail(jp, "digits must follow the decimal point");
	}
	if (jp->pos < jp->end && (*jp->pos == 'e' || *jp->pos == 'E')) {
		jp->pos++;
		*integral = false;
		if (jp->pos < jp->end && (*jp->pos == '+' || *jp->pos == '-'))
			jp->pos++;
		if (json_digits(jp) == 0)
			return json_fail(jp, "digits must follow the exponent");
	}
	return 0;
}

static int
json_parse_number(struct json_parser *jp, struct json_value *out)
{
	const char *from = jp->pos;
	bool integral;
	size_t n;

	if (json_scan_number(jp, &integral) < 0)
		return -1;
	n = (size_t)(jp->pos - from);
	out->text = malloc(n + 1);
	if (out->text == NULL)
		return json_fail(jp, "out of memory");
	memcpy(out->text, from, n);
	out->text[n] = '\0';
	out->type = JSON_NUMBER;
	out->number = strtod(out->text, NULL);
	if (integral) {
		char *stop;
		errno = 0;
		out->integer = strtoll(out->text, &stop, 10);
		out->is_int = errno == 0 && *stop == '\0';
	}
	return 0;
}

static int
json_parse_word(struct json_parser *jp, struct json_value *out)
{
	static const struct { const char *word; enum json_type type; bool val; } words[] = {
		{ "true", JSON_BOOL, true }, { "false", JSON_BOOL, false }, { "null", JSON_NULL, false },
	};

	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		size_t n = strlen(words[i].word);
		if ((size_t)(jp->end - jp->pos) >= n && memcmp(jp->pos, words[i].word, n) == 0) {
			jp->pos += n;
			out->type = words[i].type;
			out->boolean = words[i].val;
			return 0;
		}
	}
	return json_fail(jp, "unexpected character '%c'", *jp->pos);
}

/* Grows an array of elem-size items to hold one more; returns the new slot or NULL. */
static void *
json_grow(struct json_parser *jp, void **items, size_t *count, size_t *cap, size_t elem)
{
	if (*count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		void *grown = realloc(*items, ncap * elem);
		if (grown == NULL) {
			json_fail(jp, "out of memory");
			return NULL;
		}
		*items = grown;
		*cap = ncap;
	}
	memset((char *)*items + *count * elem, 0, elem);
	return (char *)*items + (*count)++ * elem;
}

/* After a member or element: ',' continues (true), the closer ends (false). */
static int
json_next_or_close(struct json_parser *jp, char closer, bool *more)
{
	json_skip_space(jp);
	if (jp->pos < jp->end && *jp->pos == ',') {
		jp->pos++;
		*more = true;
		return 0;
	}
	if (jp->pos < jp->end && *jp->pos == closer) {
		jp->pos++;
		*more = false;
		return 0;
	}
	return json_fail(jp, "expected ',' or '%c'", closer);
}

static int
json_parse_array(struct json_parser *jp, struct json_value *out)
{
	size_t cap = 0;
	bool more = true;

	jp->pos++;
	out->type = JSON_ARRAY;
	json_skip_space(jp);
	if (jp->pos < jp->end && *jp->pos == ']') {
		jp->pos++;
		return 0;
	}
	while (more) {
		struct json_value *slot = json_grow(jp, (void **)&out->items, &out->len, &cap,
		    sizeof *slot);
		if (slot == NULL || json_parse_value(jp, slot) < 0 ||
		    json_next_or_close(jp, ']', &more) < 0)
			return -1;
	}
	return 0;
}

static bool
json_has_key(const struct json_value *obj, size_t upto, const char *key, size_t key_len)
{
	for (size_t i = 0; i < upto; i++)
		if (strlen(obj->members[i].key) == key_len &&
		    memcmp(obj->members[i].key, key, key_len) == 0)
			return true;
	return false;
}

static int
json_parse_member(struct json_parser *jp, struct json_value *obj, struct json_member *m)
{
	size_t key_len;

	json_skip_space(jp);
	if (jp->pos >= jp->end || *jp->pos != '"')
		return json_fail(jp, "expected a string key");
	if (json_parse_string(jp, &m->key, &key_len) < 0)
		return -1;
	if (strlen(m->key) != key_len)
		return json_fail(jp, "NUL character in key");
	if (json_has_key(obj, obj->len - 1, m->key, key_len))
		return json_fail(jp, "duplicate key \"%.40s\"", m->key);
	json_skip_space(jp);
	if (jp->pos >= jp->end || *jp->pos != ':')
		return json_fail(jp, "expected ':' after key");
	jp->pos++;
	return json_parse_value(jp, &m->value);
}

static int
json_parse_object(struct json_parser *jp, struct json_value *out)
{
	size_t cap = 0;
	bool more = true;

	jp->pos++;
	out->type = JSON_OBJECT;
	json_skip_space(jp);
	if (jp->pos < jp->end && *jp->pos == '}') {
		jp->pos++;
		return 0;
	}
	while (more) {
		struct json_member *slot = json_grow(jp, (void **)&out->members, &out->len, &cap,
		    sizeof *slot);
		if (slot == NULL || json_parse_member(jp, out, slot) < 0 ||
		    json_next_or_close(jp, '}', &more) < 0)
			return -1;
	}
	return 0;
}

static int
json_parse_value(struct json_parser *jp, struct json_value *out)
{
	int rc;

	json_skip_space(jp);
	if (jp->pos >= jp->end)
		return json_fail(jp, "unexpected end of input");
	if (++jp->depth > JSON_MAX_DEPTH)
		return json_fail(jp, "nested deeper than %d", JSON_MAX_DEPTH);
	switch (*jp->pos) {
	case '{':
		rc = json_parse_object(jp, out);
		break;
	case '[':
		rc = json_parse_array(jp, out);
		break;
	case '"':
		out->type = JSON_STRING;
		rc = json_parse_string(jp, &out->text, &out->len);
		break;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		rc = json_parse_number(jp, out);
		break;
	default:
		rc = json_parse_word(jp, out);
		break;
	}
	jp->depth--;
	return rc;
}

int
json_parse(const char *text, size_t len, struct json_value *out, struct json_error *err)
{
	struct json_parser jp = { text, text, text + len, 0, err, false };

	memset(out, 0, sizeof *out);
	err->offset = 0;
	err->text[0] = '\0';
	if (json_parse_value(&jp, out) == 0) {
		json_skip_space(&jp);
		if (jp.pos == jp.end)
			return 0;
		json_fail(&jp, "unexpected bytes after the value");
	}
	json_free(out);
	return -1;
}

void
json_free(struct json_value *v)
{
	if (v == NULL)
		return;
	if (v->type == JSON_ARRAY)
		for (size_t i = 0; i < v->len && v->items; i++)
			json_free(&v->items[i]);
	if (v->type == JSON_OBJECT)
		for (size_t i = 0; i < v->len && v->members; i++) {
			free(v->members[i].key);
			json_free(&v->members[i].value);
		}
	free(v->items);
	free(v->members);
	free(v->text);
	memset(v, 0, sizeof *v);
}

const struct json_value *
json_get(const struct json_value *v, const char *key)
{
	if (v == NULL || v->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < v->len; i++)
		if (strcmp(v->members[i].key, key) == 0)
			return &v->members[i].value;
	return NULL;
}

const char *
json_get_str(const struct json_value *v, const char *key)
{
	const struct json_value *m = json_get(v, key);

	return m && m->type == JSON_STRING ? m->text : NULL;
}

bool
json_get_int(const struct json_value *v, const char *key, int64_t *out)
{
	const struct json_value *m = json_get(v, key);

	if (m == NULL || m->type != JSON_NUMBER || !m->is_int)
		return false;
	*out = m->integer;
	return true;
}

size_t
json_get_strings(const struct json_value *v, const char *key, char ***out)
{
	const struct json_value *arr = json_get(v, key);
	size_t n = 0;

	*out = NULL;
	if (arr == NULL || arr->type != JSON_ARRAY)
		return 0;
	for (size_t i = 0; i < arr->len; i++) {
		if (arr->items[i].type != JSON_STRING)
			continue;
		*out = xrealloc(*out, n + 1, sizeof **out);
		(*out)[n++] = xstrdup(arr->items[i].text);
	}
	return n;
}

const char *
json_type_name(enum json_type type)
{
	static const char *const names[] = { "null", "boolean", "number", "string", "array", "object" };

	return (unsigned)type < sizeof names / sizeof names[0] ? names[type] : "?";
}

/* qjson.c -- a small strict reader for flat JSON objects: strings, numbers, string arrays; nested values skipped. */
#include "sanitizer/qjson.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

struct qj {
	const char *p, *end;
	int depth;
};

static void
qj_ws(struct qj *q)
{
	while (q->p < q->end && (*q->p == ' ' || *q->p == '\n' || *q->p == '\r' || *q->p == '\t'))
		q->p++;
}

static int
qj_hex4(struct qj *q, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++, q->p++) {
		char c;
		if (q->p >= q->end)
			return -1;
		c = *q->p;
		*v <<= 4;
		if (c >= '0' && c <= '9') *v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f') *v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F') *v |= (uint32_t)(c - 'A' + 10);
		else return -1;
	}
	return 0;
}

static void
qj_utf8(char *out, size_t *o, uint32_t cp)
{
	if (cp < 0x80) {
		out[(*o)++] = (char)cp;
	} else if (cp < 0x800) {
		out[(*o)++] = (char)(0xC0 | cp >> 6);
		out[(*o)++] = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		out[(*o)++] = (char)(0xE0 | cp >> 12);
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[(*o)++] = (char)(0x80 | (cp & 0x3F));
	} else {
		out[(*o)++] = (char)(0xF0 | cp >> 18);
		out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[(*o)++] = (char)(0x80 | (cp & 0x3F));
	}
}

static int
qj_escape(struct qj *q, char *out, size_t *o)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	uint32_t cp, lo;

	if (q->p >= q->end)
		return -1;
	if (*q->p != 'u') {
		hit = strchr(from, *q->p);
		if (hit == NULL || *q->p == '\0')
			return -1;
		out[(*o)++] = to[hit - from];
		q->p++;
		return 0;
	}
	q->p++;
	if (qj_hex4(q, &cp) < 0)
		return -1;
	if (cp >= 0xD800 && cp <= 0xDBFF && q->end - q->p >= 6 && q->p[0] == '\\' && q->p[1] == 'u') {
		q->p += 2;
		if (qj_hex4(q, &lo) < 0)
			return -1;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	qj_utf8(out, o, cp);
	return 0;
}

/* Parses a string at q->p (on the quote); *out (may be NULL) gets the text. */
static int
qj_string(struct qj *q, char **out)
{
	char *buf;
	size_t o = 0;

	if (q->p >= q->end || *q->p != '"')
		return -1;
	q->p++;
	buf = xmalloc((size_t)(q->end - q->p) + 4);
	while (q->p < q->end && *q->p != '"') {
		if (*q->p == '\\') {
			q->p++;
			if (qj_escape(q, buf, &o) < 0) {
				free(buf);
				return -1;
			}
		} else {
			buf[o++] = *q->p++;
		}
	}
	if (q->p >= q->end) {
		free(buf);
		return -1;
	}
	q->p++;
	buf[o] = '\0';
	if (out)
		*out = buf;
	else
		free(buf);
	return 0;
}

static int qj_skip(struct qj *q);

static int
qj_skip_container(struct qj *q, char close)
{
	if (++q->depth > 64)
		return -1;
	q->p++;
	qj_ws(q);
	if (q->p < q->end && *q->p == close) {
		q->p++;
		q->depth--;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			if (qj_string(q, NULL) < 0)
				return -1;
			qj_ws(q);
			if (q->p >= q->end || *q->p++ != ':')
				return -1;
		}
		if (qj_skip(q) < 0)
			return -1;
		qj_ws(q);
		if (q->p < q->end && *q->p == ',') {
			q->p++;
			qj_ws(q);
			continue;
		}
		if (q->p < q->end && *q->p == close) {
			q->p++;
			q->depth--;
			return 0;
		}
		return -1;
	}
}

static int
qj_skip(struct qj *q)
{
	qj_ws(q);
	if (q->p >= q->end)
		return -1;
	if (*q->p == '"')
		return qj_string(q, NULL);
	if (*q->p == '{')
		return qj_skip_container(q, '}');
	if (*q->p == '[')
		return qj_skip_container(q, ']');
	while (q->p < q->end && strchr(",}] \n\r\t", *q->p) == NULL)
		q->p++;   /* number, true, false, null */
	return 0;
}

/* Positions q on the value of top-level member key. */
static bool
qj_find(struct qj *q, const char *key)
{
	qj_ws(q);
	if (q->p >= q->end || *q->p++ != '{')
		return false;
	for (;;) {
		char *name = NULL;
		bool hit;
		qj_ws(q);
		if (qj_string(q, &name) < 0)
			return false;
		hit = strcmp(name, key) == 0;
		free(name);
		qj_ws(q);
		if (q->p >= q->end || *q->p++ != ':')
			return false;
		qj_ws(q);
		if (hit)
			return true;
		if (qj_skip(q) < 0)
			return false;
		qj_ws(q);
		if (q->p >= q->end || *q->p++ != ',')
			return false;
	}
}

char *
qjson_string(const char *text, size_t len, const char *key)
{
	struct qj q = { text, text + len, 0 };
	char *out = NULL;

	if (!qj_find(&q, key) || qj_string(&q, &out) < 0)
		return NULL;
	return out;
}

long long
qjson_number(const char *text, size_t len, const char *key)
{
	struct qj q = { text, text + len, 0 };
	long long v = 0;
	bool digits = false;

	if (!qj_find(&q, key))
		return -1;
	for (; q.p < q.end && *q.p >= '0' && *q.p <= '9' && v < (1LL << 58); q.p++, digits = true)
		v = v * 10 + (*q.p - '0');
	return digits ? v : -1;
}

size_t
qjson_strings(const char *text, size_t len, const char *key, char ***out)
{
	struct qj q = { text, text + len, 0 };
	size_t n = 0;

	*out = NULL;
	if (!qj_find(&q, key) || q.p >= q.end || *q.p++ != '[')
		return 0;
	qj_ws(&q);
	while (q.p < q.end && *q.p == '"' && n < 100000) {
		char *s = NULL;
		if (qj_string(&q, &s) < 0)
			break;
		*out = xrealloc(*out, n + 1, sizeof **out);
		(*out)[n++] = s;
		qj_ws(&q);
		if (q.p < q.end && *q.p == ',') {
			q.p++;
			qj_ws(&q);
		}
	}
	return n;
}

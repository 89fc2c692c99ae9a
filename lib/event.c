/* event.c -- JSON event writer: RFC 8259 escaping, UTF-8 kept, one line per event. */
#include "lib/event.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void
jb_reserve(struct jbuf *jb, size_t more)
{
	size_t want;
	char *grown;

	if (jb->oom || jb->len + more + 1 <= jb->cap)
		return;
	want = jb->cap ? jb->cap : 256;
	while (want < jb->len + more + 1)
		want *= 2;
	grown = realloc(jb->buf, want);
	if (grown == NULL) {
		jb->oom = true;
		return;
	}
	jb->buf = grown;
	jb->cap = want;
}

static void
jb_put(struct jbuf *jb, const char *s, size_t n)
{
	jb_reserve(jb, n);
	if (jb->oom)
		return;
	memcpy(jb->buf + jb->len, s, n);
	jb->len += n;
	jb->buf[jb->len] = '\0';
}

static void
jb_putc(struct jbuf *jb, char c)
{
	jb_put(jb, &c, 1);
}

void
jb_reset(struct jbuf *jb)
{
	jb->len = 0;
	jb->depth = 0;
	jb->need_comma = 0;
	jb->oom = false;
	if (jb->buf)
		jb->buf[0] = '\0';
}

void
jb_free(struct jbuf *jb)
{
	free(jb->buf);
	*jb = (struct jbuf)JBUF_INIT;
}

const char *
jb_cstr(struct jbuf *jb)
{
	jb_reserve(jb, 0);
	if (jb->buf == NULL)
		return "";
	return jb->buf;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t
utf8_seq_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	size_t n, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; }
	else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; }
	else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; }
	else return 0;
	if (avail < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;
	return n;
}

void
jb_quote(struct jbuf *jb, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, n;

	jb_reserve(jb, len + 2);
	jb_putc(jb, '"');
	while (i < len) {
		unsigned char c = s[i];
		size_t run = i;
		while (run < len && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' && s[run] != '\\')
			run++;
		if (run > i) {   /* plain ASCII: copy the whole run at once */
			jb_put(jb, (const char *)s + i, run - i);
			i = run;
			continue;
		}
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			jb_put(jb, esc, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			const char *named = c == '\n' ? "\\n" : c == '\r' ? "\\r" :
			    c == '\t' ? "\\t" : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
			if (named) {
				jb_put(jb, named, 2);
			} else {
				char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
				jb_put(jb, esc, 6);
			}
			i++;
		} else if ((n = utf8_seq_len(s + i, len - i)) > 0) {
			jb_put(jb, (const char *)s + i, n);
			i += n;
		} else {
			jb_put(jb, "\xef\xbf\xbd", 3);   /* U+FFFD for an invalid byte */
			i++;
		}
	}
	jb_putc(jb, '"');
}

static void
jb_member(struct jbuf *jb, const char *key)
{
	uint32_t bit = 1u << (jb->depth & 31);

	if (jb->need_comma & bit)
		jb_putc(jb, ',');
	jb->need_comma |= bit;
	if (key) {
		jb_quote(jb, key, strlen(key));
		jb_putc(jb, ':');
	}
}

static void
jb_open(struct jbuf *jb, char c)
{
	jb_putc(jb, c);
	jb->depth++;
	jb->need_comma &= ~(1u << (jb->depth & 31));
}

static void
jb_close(struct jbuf *jb, char c)
{
	jb_putc(jb, c);
	if (jb->depth > 0)
		jb->depth--;
}

void jb_obj_open(struct jbuf *jb) { jb_member(jb, NULL); jb_open(jb, '{'); }
void jb_obj_begin(struct jbuf *jb, const char *key) { jb_member(jb, key); jb_open(jb, '{'); }
void jb_obj_end(struct jbuf *jb) { jb_close(jb, '}'); }
void jb_arr_begin(struct jbuf *jb, const char *key) { jb_member(jb, key); jb_open(jb, '['); }
void jb_arr_end(struct jbuf *jb) { jb_close(jb, ']'); }

void
jb_strn(struct jbuf *jb, const char *key, const char *val, size_t len)
{
	jb_member(jb, key);
	if (val == NULL)
		jb_put(jb, "null", 4);
	else
		jb_quote(jb, val, len);
}

void
jb_str(struct jbuf *jb, const char *key, const char *val)
{
	jb_strn(jb, key, val, val ? strlen(val) : 0);
}

static void
jb_raw(struct jbuf *jb, const char *key, const char *text)
{
	jb_member(jb, key);
	jb_put(jb, text, strlen(text));
}

void
jb_int(struct jbuf *jb, const char *key, int64_t val)
{
	char num[24];
	snprintf(num, sizeof num, "%" PRId64, val);
	jb_raw(jb, key, num);
}

void
jb_uint(struct jbuf *jb, const char *key, uint64_t val)
{
	char num[24];
	snprintf(num, sizeof num, "%" PRIu64, val);
	jb_raw(jb, key, num);
}

void
jb_double(struct jbuf *jb, const char *key, double val)
{
	char num[40];
	if (val != val || val > 1e308 || val < -1e308)
		snprintf(num, sizeof num, "null");   /* JSON has no NaN/Inf */
	else
		snprintf(num, sizeof num, "%.6g", val);
	jb_raw(jb, key, num);
}

void jb_bool(struct jbuf *jb, const char *key, bool val) { jb_raw(jb, key, val ? "true" : "false"); }
void jb_null(struct jbuf *jb, const char *key) { jb_raw(jb, key, "null"); }

uint64_t
ev_now_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

void
ev_timestamp(char out[40], uint64_t usec)
{
	time_t secs = (time_t)(usec / 1000000u);
	struct tm tm;
	char date[24];

	gmtime_r(&secs, &tm);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%s.%06u+0000", date, (unsigned)(usec % 1000000u));
}

void
ev_begin(struct jbuf *jb, const char *name, uint64_t ts_us)
{
	char ts[40];

	ev_timestamp(ts, ts_us ? ts_us : ev_now_us());
	jb_reset(jb);
	jb_obj_open(jb);
	jb_str(jb, "timestamp", ts);
	jb_str(jb, "event", name);
}

void
ev_end(struct jbuf *jb)
{
	while (jb->depth > 0)   /* callers close what they open; this closes the event */
		jb_close(jb, '}');
	jb_putc(jb, '\n');
}

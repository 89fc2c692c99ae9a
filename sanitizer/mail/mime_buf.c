/* mime_buf.c -- a growable byte buffer for the mail code (decoded parts, rebuilt messages). */
#include "sanitizer/mail/mime_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
mbuf_grow(struct mbuf *b, size_t extra)
{
	size_t want, cap;
	char *p;

	if (b->failed)
		return false;
	if (extra > SIZE_MAX / 2 - b->len - 1 || (b->limit && b->len + extra > b->limit)) {
		b->failed = true;
		return false;
	}
	want = b->len + extra + 1;
	if (want <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void
mbuf_add(struct mbuf *b, const void *data, size_t len)
{
	if (len == 0 || !mbuf_grow(b, len))
		return;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
mbuf_addstr(struct mbuf *b, const char *s)
{
	mbuf_add(b, s, strlen(s));
}

void
mbuf_addc(struct mbuf *b, char c)
{
	mbuf_add(b, &c, 1);
}

void
mbuf_printf(struct mbuf *b, const char *fmt, ...)
{
	va_list ap;
	int need;

	va_start(ap, fmt);
	need = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (need <= 0 || !mbuf_grow(b, (size_t)need))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)need + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)need;
}

void
mbuf_reset(struct mbuf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->data)
		b->data[0] = '\0';
}

void
mbuf_free(struct mbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}

char *
mbuf_take(struct mbuf *b, size_t *len)
{
	char *p = b->data;

	if (len)
		*len = b->len;
	if (p == NULL)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

const char *
mbuf_cstr(struct mbuf *b)
{
	return b->len ? b->data : "";
}

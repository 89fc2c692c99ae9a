/* milter_wire.c -- framed records between the sandboxed mail parser and its broker: lengths checked before any byte is trusted. */
#include "sanitizer/mail/milter_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"

#define MWIRE_NULL 0xFFFFFFFFu

static void
mwire_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
mwire_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* 0, 1 at EOF before the first byte, -1 on error or a short read. */
static int
mwire_read_all(int fd, void *data, size_t len)
{
	char *p = data;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && got == 0)
			return 1;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

struct mwire_field
mwire_s(const char *s)
{
	struct mwire_field f = { s, s ? strlen(s) : 0 };

	return f;
}

int
mwire_send(int fd, char type, const struct mwire_field *fields, size_t n)
{
	uint8_t head[8], len4[4];
	uint64_t body = 0;

	if (n > MWIRE_MAX_FIELDS)
		return -1;
	for (size_t i = 0; i < n; i++)
		body += 4 + (fields[i].data ? fields[i].len : 0);
	if (body >= MWIRE_NULL)
		return -1;
	head[0] = (uint8_t)type;
	head[1] = (uint8_t)n;
	head[2] = head[3] = 0;
	mwire_put32(head + 4, (uint32_t)body);
	if (fd_write_all(fd, head, sizeof head) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		mwire_put32(len4, fields[i].data ? (uint32_t)fields[i].len : MWIRE_NULL);
		if (fd_write_all(fd, len4, 4) < 0 ||
		    (fields[i].data && fd_write_all(fd, fields[i].data, fields[i].len) < 0))
			return -1;
	}
	return 0;
}

int
mwire_parse(char type, unsigned n_fields, uint8_t *body, size_t len, struct mwire_frame *fr)
{
	size_t at = 0;

	memset(fr, 0, sizeof *fr);
	if (n_fields > MWIRE_MAX_FIELDS)
		return -1;
	fr->type = type;
	for (unsigned i = 0; i < n_fields; i++) {
		uint32_t flen;
		if (len - at < 4)
			return -1;
		flen = mwire_get32(body + at);
		at += 4;
		if (flen == MWIRE_NULL) {
			fr->f[i].data = NULL;
			fr->f[i].len = 0;
			continue;
		}
		if (flen > len - at)
			return -1;
		fr->f[i].data = (const char *)body + at;
		fr->f[i].len = flen;
		at += flen;
	}
	if (at != len)
		return -1;
	fr->n = n_fields;
	return 0;
}

/*
 * The body is read into a buffer one byte larger per field, so each field
 * can be NUL-terminated in place: fields are moved up as they are split.
 */
static int
mwire_terminate(struct mwire_frame *fr, size_t len)
{
	uint8_t *copy = malloc(len + fr->n + 1);
	size_t at = 0;

	if (copy == NULL)
		return -1;
	for (size_t i = 0; i < fr->n; i++) {
		if (fr->f[i].data == NULL)
			continue;
		memcpy(copy + at, fr->f[i].data, fr->f[i].len);
		copy[at + fr->f[i].len] = '\0';
		fr->f[i].data = (const char *)copy + at;
		at += fr->f[i].len + 1;
	}
	free(fr->body);
	fr->body = copy;
	return 0;
}

int
mwire_recv(int fd, size_t max_body, struct mwire_frame *fr)
{
	uint8_t head[8], *body;
	uint32_t len;
	int r;

	memset(fr, 0, sizeof *fr);
	r = mwire_read_all(fd, head, sizeof head);
	if (r != 0)
		return r;
	len = mwire_get32(head + 4);
	if (head[2] || head[3] || head[1] > MWIRE_MAX_FIELDS || len > max_body || len == MWIRE_NULL)
		return -1;
	body = malloc(len ? len : 1);
	if (body == NULL)
		return -1;
	if (mwire_read_all(fd, body, len) != 0 || mwire_parse((char)head[0], head[1], body, len, fr) < 0) {
		free(body);
		memset(fr, 0, sizeof *fr);
		return -1;
	}
	fr->body = body;
	if (mwire_terminate(fr, len) < 0) {
		mwire_frame_free(fr);
		return -1;
	}
	return 0;
}

void
mwire_frame_free(struct mwire_frame *fr)
{
	free(fr->body);
	memset(fr, 0, sizeof *fr);
}

const char *
mwire_str(const struct mwire_frame *fr, size_t i)
{
	if (i >= fr->n || fr->f[i].data == NULL)
		return NULL;
	if (memchr(fr->f[i].data, '\0', fr->f[i].len) != NULL)
		return NULL;   /* a string with a NUL inside is not the string it claims */
	return fr->f[i].data;
}

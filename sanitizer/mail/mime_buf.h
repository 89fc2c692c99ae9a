/* mime_buf.h -- a growable byte buffer for the mail code (decoded parts, rebuilt messages). */
#ifndef TIERGATE_MIME_BUF_H
#define TIERGATE_MIME_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Appends never fail for the caller: an allocation failure or growth past
 * limit sets `failed`, further appends are dropped, and the owner checks
 * `failed` once at the end (a half-built message is never used).
 */
struct mbuf {
	char *data;      /* always NUL-terminated when len > 0 */
	size_t len, cap;
	size_t limit;    /* 0 = no limit */
	bool failed;
};
#define MBUF_INIT { NULL, 0, 0, 0, false }

void mbuf_add(struct mbuf *b, const void *data, size_t len);
void mbuf_addstr(struct mbuf *b, const char *s);
void mbuf_addc(struct mbuf *b, char c);
void mbuf_printf(struct mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mbuf_reset(struct mbuf *b);
void mbuf_free(struct mbuf *b);
/* Hands the bytes to the caller (who frees them); the buffer is empty afterwards. */
char *mbuf_take(struct mbuf *b, size_t *len);
/* NUL-terminated view, "" when empty. */
const char *mbuf_cstr(struct mbuf *b);

#endif

/* util.h -- small helpers shared by two or more parts: memory, strings, files, numbers. */
#ifndef TIERGATE_UTIL_H
#define TIERGATE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation that cannot fail: fatal() on out-of-memory (start-up and tools only). */
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t count, size_t size);
char *xstrdup(const char *s);
/* A new string, formatted (cut at 1 KB); never NULL. */
char *xstrfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copies with truncation; always NUL-terminates; returns strlen(src). */
size_t str_copy(char *dst, const char *src, size_t dstsize);
bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);

/* Strict number parsing: whole string, in range; returns 0 or -1. */
int parse_ulong(const char *s, unsigned long max, unsigned long *out);
int parse_long(const char *s, long min, long max, long *out);

/* Reads at most max_bytes of a file (fails with EFBIG beyond). Caller frees *out. */
int file_read_all(const char *path, size_t max_bytes, uint8_t **out, size_t *out_len);
/* Writes a file atomically: temp file in the same directory, fsync, rename. */
int file_write_atomic(const char *path, const void *buf, size_t len, mode_t mode);
/* Writes all of buf to fd, again after EINTR and short writes: 0, or -1 (errno set; 0 bytes is EIO). */
int fd_write_all(int fd, const void *buf, size_t len);
/* mkdir -p with the given mode for created directories. */
int dir_make_all(const char *path, mode_t mode);

/* Value of one base64 (RFC 4648) alphabet character, or -1: the decoders differ
 * (strict for HTTP, tolerant for mail), the alphabet does not. */
int base64_value(unsigned char c);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void hex_encode(const uint8_t *in, size_t len, char *out);

/* Monotonic clock in microseconds. */
uint64_t clock_mono_us(void);

#endif

/* evchain.h -- the SHA-256 hash chain of event files: each line's "prev" is the hash of the line before it. */
#ifndef TIERGATE_EVCHAIN_H
#define TIERGATE_EVCHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * A chained line ends in  ,"prev":"<64 hex>"}  and "prev" is the SHA-256 of
 * the previous line's bytes without its newline. The first line of a new file
 * has 64 zeros (EVCHAIN_GENESIS); the first line after a rotation has the hash
 * of the old file's last line.
 */
#define EVCHAIN_HEX 65                          /* 64 hex digits and NUL */
#define EVCHAIN_TAIL_MAX 80                     /* ,"prev":"...hex..."}\n and NUL */
#define EVCHAIN_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"
#define EVCHAIN_LINE_MAX (1u << 20)             /* a longer line is hashed as far as this */

/* tail = ,"prev":"<prev>"}\n */
void evchain_tail(const char *prev, char tail[EVCHAIN_TAIL_MAX]);
/* out = SHA-256 hex of head followed by tail without its final newline. */
void evchain_hash_line(const char *head, size_t head_len, const char *tail, char out[EVCHAIN_HEX]);
/* out = SHA-256 hex of bytes (a whole line without its newline). */
void evchain_hash(const char *bytes, size_t len, char out[EVCHAIN_HEX]);
/* out = hash of the last line of the file (size bytes long), or EVCHAIN_GENESIS when empty. */
void evchain_last_line_hash(int fd, off_t size, char out[EVCHAIN_HEX]);
/* The same, and whether that last line is the event named event (NULL: never). */
bool evchain_last_line(int fd, off_t size, char out[EVCHAIN_HEX], const char *event);
/* The "prev" a line carries (at its end), or false when it has none. */
bool evchain_line_prev(const char *line, size_t len, char prev[EVCHAIN_HEX]);

#endif

/* verify_str.h -- formatted strings and growable text for tiergate-verify's messages and files. */
#ifndef TIERGATE_VERIFY_STR_H
#define TIERGATE_VERIFY_STR_H

#include <stddef.h>
#include <stdio.h>

/* A malloc'ed formatted string; fatal on out-of-memory (a tool, not a daemon). */
char *vs_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Text built piece by piece (a memstream underneath). */
struct vs_buf {
	FILE *f;
	char *text;
	size_t len;
};

void vs_open(struct vs_buf *b);
/* Finishes the text and hands it over (caller frees); b can be opened again. */
char *vs_take(struct vs_buf *b);

/* A copy of s on one line: newlines and other control bytes become spaces. */
char *vs_one_line(const char *s, size_t max);

#endif

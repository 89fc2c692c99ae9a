/* textbuf.h -- the text a document converter builds: grows on demand, stops (and says so) at a byte limit. */
#ifndef TIERGATE_SANITIZER_TEXTBUF_H
#define TIERGATE_SANITIZER_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>

struct textbuf {
	char *p;          /* NUL-terminated once anything is put; NULL before */
	size_t len, cap;
	size_t max;       /* the limit on len */
	bool over;        /* a put would have passed max: nothing more is taken */
};

/* Appends n bytes of s, or sets over (and appends nothing) when that would pass max. */
void textbuf_put(struct textbuf *t, const char *s, size_t n);

#endif

/* textbuf.c -- the text a document converter builds (HTML, office XML): grows on demand, stops at a byte limit. */
#include "sanitizer/textbuf.h"

#include <string.h>

#include "lib/util.h"

void
textbuf_put(struct textbuf *t, const char *s, size_t n)
{
	if (t->over || n == 0)
		return;
	if (t->len + n > t->max) {
		t->over = true;
		return;
	}
	if (t->len + n + 1 > t->cap) {
		size_t want = t->cap ? t->cap : 4096;
		while (want < t->len + n + 1)
			want *= 2;
		t->p = xrealloc(t->p, want, 1);
		t->cap = want;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

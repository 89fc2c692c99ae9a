/* verify_str.c -- formatted strings and growable text for tiergate-verify's messages and files. */
#include "gw/verify/verify_str.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"

char *
vs_printf(const char *fmt, ...)
{
	va_list ap;
	char *out;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&out, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("vasprintf");
	return out;
}

void
vs_open(struct vs_buf *b)
{
	b->text = NULL;
	b->len = 0;
	b->f = open_memstream(&b->text, &b->len);
	if (b->f == NULL)
		fatal("open_memstream");
}

char *
vs_take(struct vs_buf *b)
{
	char *text;

	if (fclose(b->f) != 0)
		fatal("open_memstream");
	text = b->text;
	b->f = NULL;
	b->text = NULL;
	return text ? text : xstrdup("");
}

char *
vs_one_line(const char *s, size_t max)
{
	size_t n = strlen(s);
	char *out;

	if (n > max)
		n = max;
	out = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	out[n] = '\0';
	while (n > 0 && out[n - 1] == ' ')
		out[--n] = '\0';
	return out;
}

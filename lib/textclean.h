/* textclean.h -- the one cleaner for every name and text tiergate writes: valid UTF-8, nothing invisible or reordering. */
#ifndef TIERGATE_TEXTCLEAN_H
#define TIERGATE_TEXTCLEAN_H

#include <stddef.h>

/*
 * What a reader must never be shown: a name like "invoice\u202Efdp.exe"
 * displays as "invoiceexe.pdf". Both functions copy in[0..len) to out,
 * dropping:
 *   - C0 and C1 controls and DEL (textclean_text keeps '\t' and '\n';
 *     "\r\n" and a lone '\r' become '\n' there, which is not counted),
 *   - bidi controls U+202A..U+202E, U+2066..U+2069, U+200E, U+200F, U+061C,
 *   - zero-width and invisible characters U+200B..U+200D, U+2060..U+2064,
 *     U+FEFF, U+00AD, U+180E,
 *   - tag characters U+E0000..U+E007F (variation selectors stay: Japanese
 *     names use them),
 * and replacing each byte that is not part of valid UTF-8 (overlong forms,
 * surrogates, beyond U+10FFFF, truncated sequences) by U+FFFD. Each removal
 * or replacement is counted in *found (may be NULL) by kind; counts add up
 * across calls, so one struct can gather a whole document.
 *
 * out always ends with a NUL; at most cap-1 bytes are written, cut at a
 * character boundary. TEXTCLEAN_CAP(len) is always enough. Returns the
 * length written.
 */
enum textclean_kind {
	TEXTCLEAN_INVALID,      /* bytes that are not UTF-8 (replaced by U+FFFD) */
	TEXTCLEAN_CONTROL,      /* C0/C1 control characters */
	TEXTCLEAN_BIDI,         /* bidirectional formatting characters */
	TEXTCLEAN_ZERO_WIDTH,   /* zero-width and invisible characters */
	TEXTCLEAN_TAG,          /* Unicode tag characters */
	TEXTCLEAN_KINDS
};

struct textclean_counts {
	size_t n[TEXTCLEAN_KINDS];
};

#define TEXTCLEAN_CAP(len) (3 * (len) + 1)

size_t textclean_name(const char *in, size_t len, char *out, size_t cap, struct textclean_counts *found);
size_t textclean_text(const char *in, size_t len, char *out, size_t cap, struct textclean_counts *found);

/* The same into a malloc'd string (NULL only when memory runs out); *out_len may be NULL. */
char *textclean_name_dup(const char *in, size_t len, struct textclean_counts *found);
char *textclean_text_dup(const char *in, size_t len, size_t *out_len, struct textclean_counts *found);

/* Removals of every kind together. */
size_t textclean_total(const struct textclean_counts *c);
/* "bidi control character", "zero-width character", ... (singular). */
const char *textclean_kind_name(enum textclean_kind kind);
/*
 * One finding line per kind found, e.g. "name: removed 1 bidi control
 * character (U+202A-U+202E, U+2066-U+2069, U+200E/F, U+061C)", handed to
 * emit(arg, line) in kind order. what prefixes each line ("name", "text").
 * Returns the number of lines emitted.
 */
size_t textclean_report(const struct textclean_counts *c, const char *what,
    void (*emit)(void *arg, const char *line), void *arg);

#endif

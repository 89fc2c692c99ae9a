/* cleanres.h -- a san_result made safe to show and deliver: every name and text through lib/textclean.c, CSV neutralised. */
#ifndef TIERGATE_CLEANRES_H
#define TIERGATE_CLEANRES_H

#include <stdint.h>

#include "lib/textclean.h"
#include "sanitizer/sanitize.h"

/* textclean_name into a new string (fatal when memory runs out); NULL stays NULL. */
char *cleanres_name(const char *in, struct textclean_counts *found);
/*
 * Input that is UTF-8 already (a leading BOM skipped) cleaned before any
 * decoder sees it, so what is removed is counted in found: the charset
 * decoder would drop controls and U+FEFF without a word. NULL when
 * charset_detect does not call it UTF-8 or ASCII (ISO-2022-JP is 7-bit
 * too: its escapes are the decoder's); found untouched then. malloc'd.
 */
char *cleanres_utf8_input(const uint8_t *data, size_t len, size_t *clean_len, struct textclean_counts *found);
/* One finding per kind in c: "WHAT: removed 2 bidi control characters (...)". */
void cleanres_findings(struct san_result *res, const struct textclean_counts *c, const char *what);
/*
 * A text output (out_mime text/...) made clean UTF-8 (tab and newline kept),
 * with findings for what was removed; a CSV/TSV also has its formula cells
 * neutralised and a UTF-8 BOM. Run in the worker for what it writes and
 * again by the parent on what it receives: a second run finds nothing.
 */
void cleanres_output(struct san_result *res);
/*
 * The parent's pass over a worker's answer and the caller's name: name,
 * out_name, reason, findings and every member, and the text output.
 */
void cleanres_result(struct san_result *res);

#endif

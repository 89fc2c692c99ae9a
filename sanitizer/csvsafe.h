/* csvsafe.h -- CSV/TSV that a spreadsheet opens as data: formula-looking cells neutralised (OWASP), UTF-8 BOM. */
#ifndef TIERGATE_CSVSAFE_H
#define TIERGATE_CSVSAFE_H

#include <stddef.h>

/*
 * Rewrites text (clean UTF-8, '\n' line ends) of sep-separated values where
 * every cell that a spreadsheet would run -- starting with = + - @, tab or
 * CR, or their full-width forms ＝ ＋ － ＠ that Japanese Excel also takes
 * -- becomes a quoted cell starting with a single quote: =1+2 -> "'=1+2",
 * with its double quotes doubled (OWASP "CSV Injection"); so does a cell
 * holding such a start right after the other separator (a tab in a CSV, a
 * comma in a TSV: the file may be opened split the other way). Plain numbers
 * such as -12 or +3.5 stay numbers. Other cells keep their bytes. The output
 * begins with a UTF-8 BOM (Japanese Excel reads BOM-less CSV as CP932).
 * Returns the new text (malloc'd, NUL-terminated), *out_len, and the number
 * of cells neutralised in *neutralised.
 */
char *csvsafe_rewrite(const char *text, size_t len, char sep, size_t *out_len, size_t *neutralised);

/* The separator a name's extension promises: '\t' for .tsv / .tab, ',' otherwise. */
char csvsafe_separator(const char *name);

#define CSVSAFE_BOM "\xEF\xBB\xBF"

#endif

/* test_san_textsafe.c -- CSV/TSV formula neutralising and "name (2).ext" collision names. */
#include <stdlib.h>
#include <string.h>

#include "sanitizer/csvsafe.h"
#include "sanitizer/uniqname.h"
#include "tests/lib/unit.h"

static char *
csv(const char *in, char sep, size_t *n)
{
	size_t len = 0;

	return csvsafe_rewrite(in, strlen(in), sep, &len, n);
}

static void
csv_formulas_quoted_with_a_quote(void)
{
	size_t n = 0;
	char *out = csv("=1+2,+A1,-B2,@SUM(C3)\n", ',', &n);

	CHECK_STR(out, CSVSAFE_BOM "\"'=1+2\",\"'+A1\",\"'-B2\",\"'@SUM(C3)\"\n");
	CHECK_INT(n, 4);
	free(out);
}

static void
csv_quoted_cells_and_inner_quotes(void)
{
	size_t n = 0;
	/* the value of "=""x""" is ="x": neutralised, its quotes doubled again */
	char *out = csv("\"=\"\"x\"\"\",\"plain, with comma\",\"=a\nb\"\n", ',', &n);

	CHECK_STR(out, CSVSAFE_BOM "\"'=\"\"x\"\"\",\"plain, with comma\",\"'=a\nb\"\n");
	CHECK_INT(n, 2);
	free(out);
}

static void
csv_numbers_and_plain_cells_unchanged(void)
{
	size_t n = 0;
	char *out = csv("-12,+3.5,abc,,x=1,\xe6\x97\xa5\xe6\x9c\xac\n", ',', &n);

	CHECK_STR(out, CSVSAFE_BOM "-12,+3.5,abc,,x=1,\xe6\x97\xa5\xe6\x9c\xac\n");
	CHECK_INT(n, 0);
	free(out);
}

static void
csv_fullwidth_and_tab_start(void)
{
	size_t n = 0;
	char *out = csv("\xef\xbc\x9d" "1+1,\t=x\n", ',', &n);

	CHECK_STR(out, CSVSAFE_BOM "\"'\xef\xbc\x9d" "1+1\",\"'\t=x\"\n");
	CHECK_INT(n, 2);
	free(out);
}

static void
tsv_and_the_other_separator(void)
{
	size_t n = 0;
	/* split on tabs; the comma cell "a,=b" would be a formula if opened as CSV */
	char *out = csv("a,=b\t=c\tx,y\n", '\t', &n);

	CHECK_STR(out, CSVSAFE_BOM "\"'a,=b\"\t\"'=c\"\tx,y\n");
	CHECK_INT(n, 2);
	free(out);
	/* and a TSV saved as .csv: the tab-started formula inside the comma cell */
	out = csv("x\t=1+1,ok\n", ',', &n);
	CHECK_STR(out, CSVSAFE_BOM "\"'x\t=1+1\",ok\n");
	CHECK_INT(n, 1);
	free(out);
	CHECK_INT(csvsafe_separator("x.TSV"), '\t');
	CHECK_INT(csvsafe_separator("x.csv"), ',');
	CHECK_INT(csvsafe_separator(NULL), ',');
}

static void
uniqname_before_the_extension(void)
{
	char *a = uniqname_nth("report.pdf", 2), *b = uniqname_nth("dir/README", 3);
	char *c = uniqname_nth("dir.v2/.bashrc", 2), *d = uniqname_nth("x.docx.txt", 2);

	CHECK_STR(a, "report (2).pdf");
	CHECK_STR(b, "dir/README (3)");
	CHECK_STR(c, "dir.v2/.bashrc (2)");
	CHECK_STR(d, "x.docx (2).txt");
	free(a);
	free(b);
	free(c);
	free(d);
}

static void
uniqname_set_ignores_case_and_skips_taken(void)
{
	struct uniqname_set set = { 0 };
	int renamed = -1;
	char *a = uniqname_take(&set, "x.txt", &renamed);

	CHECK_INT(renamed, 0);
	char *b = uniqname_take(&set, "x (2).txt", &renamed);
	char *c = uniqname_take(&set, "X.TXT", &renamed);   /* (2) is taken: (3) */
	CHECK_INT(renamed, 1);
	CHECK_STR(a, "x.txt");
	CHECK_STR(b, "x (2).txt");
	CHECK_STR(c, "X (3).TXT");
	free(a);
	free(b);
	free(c);
	uniqname_set_free(&set);
}

int
main(void)
{
	UNIT_RUN(csv_formulas_quoted_with_a_quote);
	UNIT_RUN(csv_quoted_cells_and_inner_quotes);
	UNIT_RUN(csv_numbers_and_plain_cells_unchanged);
	UNIT_RUN(csv_fullwidth_and_tab_start);
	UNIT_RUN(tsv_and_the_other_separator);
	UNIT_RUN(uniqname_before_the_extension);
	UNIT_RUN(uniqname_set_ignores_case_and_skips_taken);
	UNIT_EXIT();
}

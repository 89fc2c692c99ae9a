/* test_textclean.c -- the name and text cleaner: every listed code point removed and counted, the rest kept. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/textclean.h"
#include "tests/lib/unit.h"

static char out[1024];

static const char *
clean_name(const char *in, struct textclean_counts *c)
{
	textclean_name(in, strlen(in), out, sizeof out, c);
	return out;
}

static void
bidi_override_name_shows_its_real_extension(void)
{
	struct textclean_counts c = { 0 };

	CHECK_STR(clean_name("invoice\xE2\x80\xAE" "fdp.exe", &c), "invoicefdp.exe");
	CHECK_INT(c.n[TEXTCLEAN_BIDI], 1);
	CHECK_INT(textclean_total(&c), 1);
}

/* Each listed code point, as UTF-8, and the kind it must be counted as. */
static void
every_listed_code_point_removed(void)
{
	static const struct { uint32_t lo, hi; enum textclean_kind kind; } ranges[] = {
		{ 0x01, 0x1F, TEXTCLEAN_CONTROL }, { 0x7F, 0x9F, TEXTCLEAN_CONTROL },
		{ 0x202A, 0x202E, TEXTCLEAN_BIDI }, { 0x2066, 0x2069, TEXTCLEAN_BIDI },
		{ 0x200E, 0x200F, TEXTCLEAN_BIDI }, { 0x061C, 0x061C, TEXTCLEAN_BIDI },
		{ 0x200B, 0x200D, TEXTCLEAN_ZERO_WIDTH }, { 0x2060, 0x2064, TEXTCLEAN_ZERO_WIDTH },
		{ 0xFEFF, 0xFEFF, TEXTCLEAN_ZERO_WIDTH }, { 0x00AD, 0x00AD, TEXTCLEAN_ZERO_WIDTH },
		{ 0xE0000, 0xE007F, TEXTCLEAN_TAG },
	};
	for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
		for (uint32_t cp = ranges[r].lo; cp <= ranges[r].hi; cp++) {
			char in[16];
			size_t n = 0;
			struct textclean_counts c = { 0 };
			in[n++] = 'a';
			if (cp < 0x80) {
				in[n++] = (char)cp;
			} else if (cp < 0x800) {
				in[n++] = (char)(0xC0 | cp >> 6);
				in[n++] = (char)(0x80 | (cp & 0x3F));
			} else if (cp < 0x10000) {
				in[n++] = (char)(0xE0 | cp >> 12);
				in[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
				in[n++] = (char)(0x80 | (cp & 0x3F));
			} else {
				in[n++] = (char)(0xF0 | cp >> 18);
				in[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
				in[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
				in[n++] = (char)(0x80 | (cp & 0x3F));
			}
			in[n++] = 'b';
			size_t got = textclean_name(in, n, out, sizeof out, &c);
			if (got != 2 || memcmp(out, "ab", 3) != 0 || c.n[ranges[r].kind] != 1 ||
			    textclean_total(&c) != 1) {
				printf("  U+%04X not removed as kind %d\n", (unsigned)cp, ranges[r].kind);
				CHECK(0);
			}
		}
	}
}

static void
body_keeps_tab_and_newline_name_does_not(void)
{
	struct textclean_counts c = { 0 };
	size_t n;

	n = textclean_text("a\tb\r\nc\rd\n\x01", 10, out, sizeof out, &c);
	CHECK_STR(out, "a\tb\nc\nd\n");
	CHECK_INT(n, 8);
	CHECK_INT(c.n[TEXTCLEAN_CONTROL], 1);
	memset(&c, 0, sizeof c);
	CHECK_STR(clean_name("a\tb\nc", &c), "abc");
	CHECK_INT(c.n[TEXTCLEAN_CONTROL], 2);
}

static void
invalid_utf8_replaced(void)
{
	struct textclean_counts c = { 0 };

	/* overlong '/', a surrogate, a lone continuation byte, a truncated 3-byte sequence */
	CHECK_STR(clean_name("a\xC0\xAF" "b\xED\xA0\x80" "c\x80" "d\xE6\x97", &c),
	    "a\xEF\xBF\xBD\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "c\xEF\xBF\xBD"
	    "d\xEF\xBF\xBD\xEF\xBF\xBD");
	CHECK_INT(c.n[TEXTCLEAN_INVALID], 8);
}

static void
japanese_and_variation_selectors_kept(void)
{
	struct textclean_counts c = { 0 };
	/* 葛 + IVS U+E0100 (a Japanese name form), emoji with VS16, kana, full-width tilde */
	const char *s = "\xE8\x91\x9B\xF3\xA0\x84\x80\xE2\x9D\xA4\xEF\xB8\x8F\xE3\x81\x82\xEF\xBD\x9E.txt";

	CHECK_STR(clean_name(s, &c), s);
	CHECK_INT(textclean_total(&c), 0);
}

static void
cut_on_character_boundary(void)
{
	char small[5];
	size_t n = textclean_name("ab\xE3\x81\x82", 5, small, sizeof small, NULL);

	/* "ab" + 3 bytes would need 6: the kana is left out whole */
	CHECK_INT(n, 2);
	CHECK_STR(small, "ab");
	CHECK_INT(textclean_name("x", 1, small, 0, NULL), 0);
}

static void
counts_add_up_and_report(void)
{
	struct textclean_counts c = { 0 };
	char *s = textclean_name_dup("\xE2\x80\x8B" "a\xE2\x80\x8B", 7, &c);
	char *t;
	size_t len = 0;

	CHECK_STR(s, "a");
	t = textclean_text_dup("\xF3\xA0\x80\x81x", 5, &len, &c);
	CHECK_STR(t, "x");
	CHECK_INT(len, 1);
	CHECK_INT(c.n[TEXTCLEAN_ZERO_WIDTH], 2);
	CHECK_INT(c.n[TEXTCLEAN_TAG], 1);
	free(s);
	free(t);
}

static char report_lines[4][256];
static size_t report_n;

static void
collect_line(void *arg, const char *line)
{
	(void)arg;
	if (report_n < 4)
		snprintf(report_lines[report_n++], sizeof report_lines[0], "%s", line);
}

static void
report_names_each_kind(void)
{
	struct textclean_counts c = { 0 };

	c.n[TEXTCLEAN_BIDI] = 1;
	c.n[TEXTCLEAN_TAG] = 3;
	CHECK_INT(textclean_report(&c, "name", collect_line, NULL), 2);
	CHECK(strncmp(report_lines[0], "name: removed 1 bidi control character (", 40) == 0);
	CHECK(strncmp(report_lines[1], "name: removed 3 tag characters (", 32) == 0);
}

int
main(void)
{
	UNIT_RUN(bidi_override_name_shows_its_real_extension);
	UNIT_RUN(every_listed_code_point_removed);
	UNIT_RUN(body_keeps_tab_and_newline_name_does_not);
	UNIT_RUN(invalid_utf8_replaced);
	UNIT_RUN(japanese_and_variation_selectors_kept);
	UNIT_RUN(cut_on_character_boundary);
	UNIT_RUN(counts_add_up_and_report);
	UNIT_RUN(report_names_each_kind);
	UNIT_EXIT();
}

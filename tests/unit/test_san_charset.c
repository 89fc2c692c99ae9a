/* test_san_charset.c -- charset_to_utf8 on the forms Japanese mail and files really use. */
#include <stdlib.h>
#include <string.h>

#include "sanitizer/charset.h"
#include "tests/lib/unit.h"

static char *
conv(const char *label, const char *bytes, size_t len, const char **det)
{
	char *out = NULL;
	size_t out_len = 0;

	if (charset_to_utf8(label, (const uint8_t *)bytes, len, &out, &out_len, det) != 0)
		return NULL;
	if (strlen(out) != out_len) {
		free(out);
		return NULL;
	}
	return out;
}

#define CONV_CASE(label, lit, want, want_det) \
	do { \
		const char *det = NULL; \
		char *got = conv(label, lit, sizeof(lit) - 1, &det); \
		CHECK_STR(got, want); \
		CHECK_STR(det, want_det); \
		free(got); \
	} while (0)

static void
test_utf8_passthrough(void)
{
	CONV_CASE("utf-8", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "日本語", "UTF-8");
	CONV_CASE(NULL, "plain ascii", "plain ascii", "US-ASCII");
	CONV_CASE(NULL, "\xef\xbb\xbf" "bom", "bom", "UTF-8");
}

static void
test_cp932_extensions(void)
{
	/* ①㈱髙～ in CP932: NEC row 13, NEC-selected IBM, IBM extension, FULLWIDTH TILDE */
	CONV_CASE("Shift_JIS", "\x87\x40\x87\x8a\xfb\xfc\x81\x60", "①㈱髙～", "CP932");
	CONV_CASE(NULL, "\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd\x87\x40", "こんにちは①", "CP932");
}

static void
test_eucjp(void)
{
	CONV_CASE("euc-jp", "\xa4\xb3\xa4\xf3\xa4\xcb\xa4\xc1\xa4\xcf", "こんにちは", "EUC-JP");
	CONV_CASE(NULL, "\xa4\xb3\xa4\xf3\xa4\xcb\xa4\xc1\xa4\xcf\xc6\xfc\xcb\xdc", "こんにちは日本", "EUC-JP");
}

static void
test_iso2022jp_ms(void)
{
	/* ESC $ B こんにちは ESC ( B */
	CONV_CASE("ISO-2022-JP", "\x1b$B$3$s$K$A$O\x1b(B!", "こんにちは!", "ISO-2022-JP");
	/* ① (row 13) ㈱ (row 13), as CP50220 writes them; test_cp50220 has the whole set */
	CONV_CASE("iso-2022-jp", "\x1b$B-!-j\x1b(B", "①㈱", "ISO-2022-JP");
	/* half-width kana via ESC ( I and via SO/SI: ｱｲ */
	CONV_CASE("iso-2022-jp", "\x1b(I12\x1b(B", "ｱｲ", "ISO-2022-JP");
	CONV_CASE("iso-2022-jp", "a\x0e" "12\x0f" "b", "aｱｲb", "ISO-2022-JP");
	/* unlabelled ISO-2022-JP is found by its escapes */
	CONV_CASE(NULL, "\x1b$BF|K\\\x1b(B", "日本", "ISO-2022-JP");
}

/*
 * What Outlook's CP50220 encoder writes for ①㈱髙～ and half-width ｱｲ: NEC row 13
 * (0x2D21, 0x2D6A), 髙 as the NEC-selected IBM extension in row 92 (0x7C62, the
 * only JIS form of CP932's 0xFBFC), ～ as 0x2141 (FULLWIDTH TILDE, not WAVE DASH),
 * and kana both after ESC ( I and between SO/SI. Each must come out as itself.
 */
static void
test_cp50220(void)
{
	CONV_CASE("CP50220", "\x1b$B-!-j|b!A\x1b(B", "①㈱髙～", "ISO-2022-JP");
	CONV_CASE("cp50220", "\x1b$B-!\x1b(I12\x1b(B-", "①ｱｲ-", "ISO-2022-JP");
	CONV_CASE("cp50220", "\x1b$B|b\x1b(B\x0e" "12\x0f" "!", "髙ｱｲ!", "ISO-2022-JP");
	/* the same bytes unlabelled are found by their escapes */
	CONV_CASE(NULL, "\x1b$B-!-j|b!A\x1b(B", "①㈱髙～", "ISO-2022-JP");
}

static void
test_mislabelled(void)
{
	/* labelled ISO-2022-JP but Shift_JIS bytes: the bytes win */
	CONV_CASE("iso-2022-jp", "\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd", "こんにちは", "CP932");
	/* labelled UTF-8 but EUC-JP */
	CONV_CASE("utf-8", "\xa4\xb3\xa4\xf3\xa4\xcb\xa4\xc1\xa4\xcf", "こんにちは", "EUC-JP");
	/* unknown label */
	CONV_CASE("x-no-such-charset", "\x82\xb1\x82\xf1", "こん", "CP932");
}

static void
test_controls_removed(void)
{
	CONV_CASE(NULL, "a\x01" "b\x1b[31mc\r\nd\re\tf\x7f", "ab[31mc\nd\ne\tf", "US-ASCII");
	/* C1 control U+0085 in UTF-8 is dropped too */
	CONV_CASE("utf-8", "x\xc2\x85y", "xy", "UTF-8");
}

static void
test_single_line(void)
{
	char *out = NULL;
	size_t n = 0;

	CHECK(charset_to_utf8_opts(NULL, (const uint8_t *)"a\nb\tc", 5, CHARSET_SINGLE_LINE,
	    &out, &n, NULL) == 0);
	CHECK_STR(out, "a b c");
	free(out);
}

static void
test_invalid_bytes(void)
{
	const char *det = NULL;
	char *got = conv("utf-8", "ok\xff\xfe", 4, &det);

	CHECK(got != NULL);
	CHECK(got && strncmp(got, "ok", 2) == 0);
	free(got);
	got = conv(NULL, "", 0, &det);
	CHECK_STR(got, "");
	free(got);
}

int
main(void)
{
	charset_preload();
	UNIT_RUN(test_utf8_passthrough);
	UNIT_RUN(test_cp932_extensions);
	UNIT_RUN(test_eucjp);
	UNIT_RUN(test_iso2022jp_ms);
	UNIT_RUN(test_cp50220);
	UNIT_RUN(test_mislabelled);
	UNIT_RUN(test_controls_removed);
	UNIT_RUN(test_single_line);
	UNIT_RUN(test_invalid_bytes);
	UNIT_EXIT();
}

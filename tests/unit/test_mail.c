/* test_mail.c -- unit tests of the mail part: transfer decodings, RFC 2047/2231 words, and the GMime 3.2.13 workarounds. */
#include <stdlib.h>
#include <string.h>

#include "sanitizer/mime_buf.h"
#include "sanitizer/mime_codec.h"
#include "sanitizer/mime_words.h"
#include "tests/lib/unit.h"

static void
check_words(const char *raw, const char *want)
{
	char *got = mime_words_decode(raw, strlen(raw));
	CHECK_STR(got, want);
	free(got);
}

static void
check_param(const char *raw, const char *name, const char *want)
{
	char *got = mime_param_get(raw, strlen(raw), name);
	if (want == NULL)
		CHECK(got == NULL);
	else
		CHECK_STR(got, want);
	free(got);
}

/* GMime 3.2.13 bug 2: "Vkk=UlVTISE=" gave "VI"; chunked base64 must decode whole. */
static void
test_b64_chunked_regression(void)
{
	struct mbuf out = MBUF_INIT;
	struct mime_b64_stats st = { 0, 0 };

	mime_b64_decode("Vkk=UlVTISE=", 12, &out, &st);
	CHECK_STR(mbuf_cstr(&out), "VIRUS!!");
	CHECK_INT(st.invalid, 0);
	mbuf_reset(&out);
	mime_b64_decode("SGVs\r\nbG8=\nIHdv\ncmxk\n", 21, &out, &st);
	CHECK_STR(mbuf_cstr(&out), "Hello world");
	mbuf_free(&out);
}

static void
test_b64_broken_counted(void)
{
	struct mbuf out = MBUF_INIT;
	struct mime_b64_stats st = { 0, 0 };

	mime_b64_decode("SGVs*bG8!", 9, &out, &st);
	CHECK_INT(st.invalid, 2);
	CHECK_STR(mbuf_cstr(&out), "Hello");
	mbuf_free(&out);
}

static void
test_b64_roundtrip(void)
{
	struct mbuf enc = MBUF_INIT, dec = MBUF_INIT;
	unsigned char bytes[300];

	for (size_t i = 0; i < sizeof bytes; i++)
		bytes[i] = (unsigned char)(i * 7);
	for (size_t n = 0; n < 10; n++) {
		mbuf_reset(&enc);
		mbuf_reset(&dec);
		mime_b64_encode(bytes, 290 + n, 76, &enc);
		mime_b64_decode(enc.data, enc.len, &dec, NULL);
		CHECK_INT(dec.len, 290 + n);
		CHECK(dec.len == 290 + n && memcmp(dec.data, bytes, dec.len) == 0);
	}
	mbuf_free(&enc);
	mbuf_free(&dec);
}

static void
test_qp(void)
{
	struct mbuf out = MBUF_INIT;
	const char *in = "caf=C3=A9 =\r\nsoft=3D\n";

	mime_qp_decode(in, strlen(in), false, &out);
	CHECK_STR(mbuf_cstr(&out), "caf\xc3\xa9 soft=\n");
	mbuf_free(&out);
}

static void
test_uuencode(void)
{
	const char *text = "see attached\nbegin 644 cat.txt\n#8V%T\n`\nend\nbye\n";
	struct mbuf out = MBUF_INIT;
	char *name = NULL;
	size_t end = 0;
	long at = mime_uu_find(text, strlen(text), 0);

	CHECK_INT(at, 13);
	CHECK_INT(mime_uu_decode(text, strlen(text), (size_t)at, &out, &name, &end), 0);
	CHECK_STR(mbuf_cstr(&out), "cat");
	CHECK_STR(name, "cat.txt");
	CHECK_STR(text + end, "bye\n");
	free(name);
	mbuf_free(&out);
}

/* GMime 3.2.13 bug 1: a padded first B-word lost the second; here bytes join across words. */
static void
test_words_padded_adjacent_regression(void)
{
	check_words("=?UTF-8?B?5pel5g==?= =?UTF-8?B?nKzoqp4=?=", "日本語");
	check_words("=?UTF-8?B?5pel5pys?=\r\n =?UTF-8?B?6Kqe?=", "日本語");
}

static void
test_words_iso2022jp(void)
{
	/* 「会議のお知らせ」 as Outlook writes it, split over two words */
	check_words("=?ISO-2022-JP?B?GyRCMnE1RCROJCpDTiRpJDsbKEI=?=", "会議のお知らせ");
	check_words("Re: =?iso-2022-jp?B?GyRCMnE1RBsoQg==?= memo", "Re: 会議 memo");
	/* CP50220: ① (NEC row 13) must not become mojibake */
	check_words("=?ISO-2022-JP?B?GyRCLSEbKEI=?=", "①");
}

static void
test_words_shift_jis_and_q(void)
{
	check_words("=?Shift_JIS?B?g2WDWINn?=", "テスト");
	check_words("=?utf-8?Q?caf=C3=A9_au_lait?=", "café au lait");
	check_words("plain ascii", "plain ascii");
	check_words("=?bogus", "=?bogus");
}

static void
test_param_rfc2231(void)
{
	check_param("attachment; filename*=UTF-8''%E8%A6%8B%E7%A9%8D.pdf", "filename", "見積.pdf");
	/* continuations whose split falls inside an ISO-2022-JP escape: join bytes, then decode */
	check_param("attachment;\r\n filename*0*=ISO-2022-JP''%1B;\r\n filename*1*=%24BF%7CK%5C8l%1B%28B.txt",
	    "filename", "日本語.txt");
	check_param("attachment; filename*0=\"long\"; filename*1=\"name.txt\"", "filename", "longname.txt");
}

static void
test_param_outlook_quoted_2047(void)
{
	check_param("application/pdf; name=\"=?ISO-2022-JP?B?GyRCOCtAURsoQg==?=.pdf\"", "name", "見積.pdf");
	check_param("attachment; filename==?Shift_JIS?B?g2WDWINn?=.txt", "filename", "テスト.txt");
	check_param("text/plain; charset=\"iso-2022-jp\"; format=flowed", "charset", "iso-2022-jp");
	check_param("text/plain; name=\"a;b.txt\"; charset=utf-8", "charset", "utf-8");
	check_param("text/plain", "charset", NULL);
}

static void
test_param_write_roundtrip(void)
{
	const char *names[] = { "report.pdf", "見積書（株式会社テスト）令和6年度.pdf", "a\"b.txt" };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct mbuf out = MBUF_INIT;
		char *got;
		mbuf_addstr(&out, "attachment");
		mime_param_write(&out, "filename", names[i]);
		got = mime_param_get(out.data, out.len, "filename");
		CHECK_STR(got, names[i]);
		free(got);
		mbuf_free(&out);
	}
}

static void
test_media_type(void)
{
	char *t = mime_media_type(" Text/HTML ; charset=utf-8", 26);
	CHECK_STR(t, "text/html");
	free(t);
	CHECK(mime_media_type("garbage", 7) == NULL);
}

int
main(void)
{
	UNIT_RUN(test_b64_chunked_regression);
	UNIT_RUN(test_b64_broken_counted);
	UNIT_RUN(test_b64_roundtrip);
	UNIT_RUN(test_qp);
	UNIT_RUN(test_uuencode);
	UNIT_RUN(test_words_padded_adjacent_regression);
	UNIT_RUN(test_words_iso2022jp);
	UNIT_RUN(test_words_shift_jis_and_q);
	UNIT_RUN(test_param_rfc2231);
	UNIT_RUN(test_param_outlook_quoted_2047);
	UNIT_RUN(test_param_write_roundtrip);
	UNIT_RUN(test_media_type);
	UNIT_EXIT();
}

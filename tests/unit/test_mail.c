/* test_mail.c -- unit tests of the mail part: transfer decodings, RFC 2047/2231 words, and the GMime 3.2.13 workarounds. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "sanitizer/mail/mail.h"
#include "sanitizer/mail/milter_msg.h"
#include "sanitizer/mail/mime_buf.h"
#include "sanitizer/mail/mime_codec.h"
#include "sanitizer/mail/mime_words.h"
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

static struct san_ctx *test_san;

/* Rebuilds msg with quarantine off (nothing on disk) and the given limits. */
static int
rebuild(const char *msg, unsigned max_depth, unsigned max_parts, struct mail_result *res)
{
	struct mail_config mc;
	struct mail_ctx *mail;
	int rc;

	mail_config_defaults(&mc);
	mc.quarantine_originals = false;
	mc.max_depth = max_depth;
	mc.max_parts = max_parts;
	mail = mail_ctx_new(test_san, &mc);
	rc = mail_sanitize(mail, (const uint8_t *)msg, strlen(msg), NULL, res);
	mail_ctx_free(mail);
	return rc;
}

/* Every kept header line byte for byte, CRLF kept, the forged stamp and old Content-* gone. */
static void
test_mail_headers_kept_crlf(void)
{
	const char *msg = "Received: from a\r\n\tby b; Sun, 22 Nov 2026 10:00:00 +0900\r\n"
	    "Subject: =?ISO-2022-JP?B?GyRCMnE1RBsoQg==?=\r\nX-Tiergate-Sanitized: forged\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
	    "Content-Transfer-Encoding: 7bit\r\nMessage-ID: <a@b>\r\n\r\nhello\r\n";
	struct mail_result res;

	CHECK_INT(rebuild(msg, 3, 100, &res), 0);
	CHECK(strncmp(res.out, "Received: from a\r\n\tby b; Sun, 22 Nov 2026 10:00:00 +0900\r\n"
	    "Subject: =?ISO-2022-JP?B?GyRCMnE1RBsoQg==?=\r\nMessage-ID: <a@b>\r\nMIME-Version: 1.0\r\n", 125) == 0);
	CHECK(strstr(res.out, "forged") == NULL);
	CHECK(strstr(res.out, "us-ascii") == NULL);
	CHECK(strstr(res.out, "Content-Type: text/plain; charset=UTF-8\r\n") != NULL);
	CHECK_INT(res.n_added, 4);
	CHECK(res.body_at >= 4 && memcmp(res.out + res.body_at - 4, "\r\n\r\n", 4) == 0);
	for (size_t i = 1; i < res.out_len; i++)
		if (res.out[i] == '\n' && res.out[i - 1] != '\r') {
			CHECK(!"a lone LF in a CRLF message");
			break;
		}
	CHECK_STR(res.report.subject, "会議");
	CHECK_STR(res.report.message_id, "<a@b>");
	CHECK_INT(res.report.verdict, MAIL_SANITIZED);
	mail_result_free(&res);
}

static void
test_mail_encrypted_quarantined(void)
{
	const char *msg = "Subject: x\nMIME-Version: 1.0\nContent-Type: application/pkcs7-mime; "
	    "smime-type=enveloped-data\nContent-Transfer-Encoding: base64\n\nMIIB\n";
	struct mail_result res;

	CHECK_INT(rebuild(msg, 3, 100, &res), 0);
	CHECK_INT(res.report.verdict, MAIL_QUARANTINED);
	CHECK(res.report.encrypted);
	CHECK(res.report.reason && strstr(res.report.reason, "S/MIME") != NULL);
	CHECK(strstr(res.out, "X-Tiergate-Sanitized: quarantined") != NULL);
	CHECK(strstr(res.out, "MIIB") == NULL);
	mail_result_free(&res);
}

static void
test_mail_depth_limit(void)
{
	const char *msg = "Subject: 0\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=a\n\n"
	    "--a\nContent-Type: text/plain\n\nouter\n--a\nContent-Type: message/rfc822\n\n"
	    "Subject: 1\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nContent-Type: text/plain\n\ninner\n--b\nContent-Type: message/rfc822\n\n"
	    "Subject: 2\n\ninnermost\n--b--\n--a--\n";
	struct mail_result res;

	CHECK_INT(rebuild(msg, 1, 100, &res), 0);
	CHECK_INT(res.report.n_parts, 2);
	if (res.report.n_parts == 2) {
		CHECK_STR(res.report.parts[0].action, "message");
		CHECK_STR(res.report.parts[1].action, "removed");
		CHECK_INT(res.report.parts[1].depth, 1);
	}
	mail_result_free(&res);
}

static void
test_mail_part_limit(void)
{
	const char *msg = "Subject: p\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=a\n\n"
	    "--a\n\none\n--a\n\ntwo\n--a\n\nthree\n--a\n\nfour\n--a--\n";
	struct mail_result res;

	CHECK_INT(rebuild(msg, 3, 3, &res), 0);
	CHECK_INT(res.report.n_parts, 1);
	if (res.report.n_parts == 1)
		CHECK_STR(res.report.parts[0].reason, "too many MIME parts");
	mail_result_free(&res);
}

/* The milter deletes old content headers by occurrence; big messages move to a temp file. */
static void
test_milter_msg_headers_and_spill(void)
{
	struct milter_msg m;
	char buf[256];
	ssize_t n;
	int fd;

	milter_msg_init(&m);
	CHECK_INT(milter_msg_header(&m, "Content-Type", " text/plain", 1000, 40, "/tmp"), 0);
	CHECK_INT(milter_msg_header(&m, "Subject", " hi", 1000, 40, "/tmp"), 0);
	CHECK_INT(milter_msg_header(&m, "content-type", " text/html", 1000, 40, "/tmp"), 0);
	CHECK_INT(m.n_replace, 2);
	if (m.n_replace == 2) {
		CHECK_INT(m.replace[0].index, 1);
		CHECK_INT(m.replace[1].index, 2);
	}
	CHECK(m.spill_fd >= 0);   /* 3 lines are past 40 bytes */
	CHECK_INT(milter_msg_append(&m, "\r\nbody", 6, 1000, 40, "/tmp"), 0);
	fd = milter_msg_fd(&m);
	n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	CHECK_STR(buf, "Content-Type: text/plain\r\nSubject: hi\r\ncontent-type: text/html\r\n\r\nbody");
	if (fd >= 0)
		close(fd);
	CHECK_INT(milter_msg_append(&m, "x", 2000, 1000, 40, "/tmp"), 0);
	CHECK(m.too_big);
	milter_msg_free(&m);
}

int
main(void)
{
	struct san_config sc;

	log_init("test_mail", 0, LOG_LVL_ERROR);
	san_config_defaults(&sc);
	free(sc.events);
	sc.events = NULL;
	test_san = san_ctx_new(&sc);
	san_config_free(&sc);
	if (test_san == NULL) {
		printf("FAIL test_mail: no sanitizer context\n");
		return 1;
	}
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
	UNIT_RUN(test_mail_headers_kept_crlf);
	UNIT_RUN(test_mail_encrypted_quarantined);
	UNIT_RUN(test_mail_depth_limit);
	UNIT_RUN(test_mail_part_limit);
	UNIT_RUN(test_milter_msg_headers_and_spill);
	san_ctx_free(test_san);
	UNIT_EXIT();
}

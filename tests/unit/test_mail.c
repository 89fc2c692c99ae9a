/* test_mail.c -- unit tests of the mail part: transfer decodings, RFC 2047/2231 words, and the GMime 3.2.13 workarounds. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "sanitizer/mail/mail.h"
#include "sanitizer/mail/milter_check.h"
#include "sanitizer/mail/milter_msg.h"
#include "sanitizer/mail/milter_wire.h"
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


/* A message with a nested message and an attachment, rebuilt: what the daemon's check must accept. */
static const char *const check_msg = "Subject: outer\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=a\r\n\r\n"
    "--a\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nouter body\r\n"
    "--a\r\nContent-Type: text/plain; name=\"notes.txt\"\r\nContent-Disposition: attachment; "
    "filename=\"notes.txt\"\r\n\r\nsome notes\r\n"
    "--a\r\nContent-Type: message/rfc822\r\n\r\n"
    "Subject: inner\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
    "--b\r\nContent-Type: text/plain\r\n\r\ninner body\r\n"
    "--b\r\nContent-Type: text/plain; name=\"in.txt\"\r\nContent-Disposition: attachment\r\n\r\nx\r\n"
    "--b--\r\n--a--\r\n";

/* res.out with the first `what` (after the header block) replaced by `with`; caller frees. */
static char *
check_forge(const struct mail_result *res, const char *what, const char *with, size_t *len)
{
	char *at = memmem(res->out + res->body_at, res->out_len - res->body_at, what, strlen(what));
	size_t pos = at ? (size_t)(at - res->out) : 0;
	char *out = malloc(res->out_len + strlen(with) + 1);

	if (at == NULL || out == NULL) {
		free(out);
		return NULL;
	}
	memcpy(out, res->out, pos);
	memcpy(out + pos, with, strlen(with));
	memcpy(out + pos + strlen(with), at + strlen(what), res->out_len - pos - strlen(what));
	*len = res->out_len - strlen(what) + strlen(with);
	return out;
}

static void
check_refused(const struct mail_result *res, const char *what, const char *with, const char *reason)
{
	size_t len = 0;
	char *forged = check_forge(res, what, with, &len), why[256];

	CHECK(forged != NULL);
	if (forged == NULL)
		return;
	CHECK_INT(milter_check_rebuilt(forged, len, res->body_at, res->n_added, why, sizeof why), -1);
	if (strstr(why, reason) == NULL) {
		printf("# refused for '%s', expected '%s'\n", why, reason);
		CHECK(0);
	}
	free(forged);
}

/* The rebuild's own output passes the daemon's check; each forgery of it is refused, with its reason. */
static void
test_check_rebuilt_and_forged(void)
{
	struct mail_result res;
	char why[256], boundary[64], close[80], html[256], *b;

	CHECK_INT(rebuild(check_msg, 3, 100, &res), 0);
	CHECK_INT(milter_check_rebuilt(res.out, res.out_len, res.body_at, res.n_added, why, sizeof why), 0);
	b = strstr(res.out, "boundary=\"");
	CHECK(b != NULL);
	if (b == NULL) {
		mail_result_free(&res);
		return;
	}
	snprintf(boundary, sizeof boundary, "%.*s", (int)strcspn(b + 10, "\""), b + 10);
	snprintf(close, sizeof close, "--%s--", boundary);
	snprintf(html, sizeof html, "--%s\r\nContent-Type: text/html\r\n\r\n<script>x</script>\r\n%s", boundary,
	    close);
	check_refused(&res, close, html, "Content-Type text/html is not one the rebuild emits");
	check_refused(&res, close, "--=_other--", "closing boundary");
	check_refused(&res, "Content-Transfer-Encoding: base64", "X-Forged: yes\r\nContent-Transfer-Encoding: "
	    "base64", "header field \"X-Forged\"");
	check_refused(&res, "Content-Type: message/rfc822", "Content-Type: application/x-msdownload",
	    "Content-Type application/x-msdownload");
	check_refused(&res, "Subject: inner", "Subject: inner\r\nbroken line without a colon",
	    "not a header field");
	/* an over-long line in a part's header */
	{
		char *longline = malloc(1300);
		if (longline) {
			memset(longline, 'A', 1299);
			memcpy(longline, "X-Long: ", 8);
			snprintf(longline + 1199, 101, "\r\nContent-Type: text/plain; charset=UTF-8");
			check_refused(&res, "Content-Type: text/plain; charset=UTF-8", longline, "a line of 1199 bytes");
			free(longline);
		}
	}
	/* the wrong number of added fields, and a body_at that is not after an empty line */
	CHECK_INT(milter_check_rebuilt(res.out, res.out_len, res.body_at, 3, why, sizeof why), -1);
	CHECK_INT(milter_check_rebuilt(res.out, res.out_len, res.body_at - 1, 4, why, sizeof why), -1);
	mail_result_free(&res);
}

/* Frames: what was sent is read back; a truncated or oversized frame is refused, NULL stays NULL. */
static void
test_wire_frames(void)
{
	int sv[2];
	struct mwire_frame fr;
	struct mwire_field f[3] = { mwire_s("name.pdf"), { NULL, 0 }, { "a\0b", 3 } };
	uint8_t bogus[12] = { 'S', 1, 0, 0, 200, 0, 0, 0, 3, 0, 0, 0 };

	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_INT(mwire_send(sv[0], 'S', f, 3), 0);
	CHECK_INT(mwire_recv(sv[1], 1024, &fr), 0);
	CHECK_INT(fr.type, 'S');
	CHECK_INT(fr.n, 3);
	CHECK_STR(mwire_str(&fr, 0), "name.pdf");
	CHECK(mwire_str(&fr, 1) == NULL);
	CHECK(mwire_str(&fr, 2) == NULL);   /* a NUL inside: not a string */
	CHECK_INT(fr.f[2].len, 3);
	mwire_frame_free(&fr);
	CHECK_INT(mwire_send(sv[0], 'S', f, 3), 0);
	CHECK_INT(mwire_recv(sv[1], 8, &fr), -1);   /* bigger than the reader allows */
	close(sv[0]);
	close(sv[1]);
	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_INT(write(sv[0], bogus, sizeof bogus), (long)sizeof bogus);
	close(sv[0]);
	CHECK_INT(mwire_recv(sv[1], 1024, &fr), -1);   /* says 200 bytes, then EOF */
	close(sv[1]);
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
	UNIT_RUN(test_check_rebuilt_and_forged);
	UNIT_RUN(test_wire_frames);
	san_ctx_free(test_san);
	UNIT_EXIT();
}

/* verify_junit.c -- the results as JUnit XML, the report format GitLab, Jenkins and GitHub display. */
#include "gw/verify/verify_junit.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw/verify/verify_str.h"
#include "lib/util.h"

/* Length of a valid UTF-8 sequence XML 1.0 allows at s, or 0. */
static size_t
vjunit_char_len(const unsigned char *s)
{
	size_t need;
	uint32_t cp, min;

	if (s[0] < 0x80)
		return s[0] >= 0x20 || s[0] == '\t' || s[0] == '\n' || s[0] == '\r' ? 1 : 0;
	if ((s[0] & 0xe0) == 0xc0)
		need = 2, cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		need = 3, cp = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		need = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)   /* also stops at the NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return 0;
	return need;
}

void
vjunit_escape(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = vjunit_char_len(p);
		switch (n ? *p : 0) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&apos;", out); break;
		case '\n': fputs("&#10;", out); break;
		case '\r': fputs("&#13;", out); break;
		case '\t': fputs("&#9;", out); break;
		case 0: fputs("\xef\xbf\xbd", out); n = 1; break;
		default: fwrite(p, 1, n, out); break;
		}
		p += n;
	}
}

static void
vjunit_case(FILE *out, const struct vcase_ref *ref, const struct vresult *res)
{
	fputs("    <testcase classname=\"", out);
	vjunit_escape(out, ref->suite);
	fputs("\" name=\"", out);
	vjunit_escape(out, ref->name);
	fprintf(out, "\" time=\"%.3f\" assertions=\"%zu\"", res->seconds, res->nchecks);
	if (vstatus_ok(res->status)) {
		fputs("/>\n", out);
		return;
	}
	fputs(">\n      <failure type=\"tiergate-verify\" message=\"", out);
	vjunit_escape(out, res->reason ? res->reason : "failed");
	fputs("\">", out);
	vjunit_escape(out, res->details ? res->details : "");
	fputs("</failure>\n    </testcase>\n", out);
}

static void
vjunit_suite(FILE *out, const char *suite, const struct vcase_ref *cases,
    const struct vresult *results, size_t n, const char *stamp, const char *policy)
{
	size_t tests = 0, failures = 0;
	double seconds = 0;

	for (size_t i = 0; i < n; i++)
		if (cases[i].suite == suite) {
			tests++;
			failures += !vstatus_ok(results[i].status);
			seconds += results[i].seconds;
		}
	fputs("  <testsuite name=\"", out);
	vjunit_escape(out, suite);
	fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" time=\"%.3f\" "
	    "timestamp=\"%s\">\n", tests, failures, seconds, stamp);
	if (policy) {
		fputs("    <properties><property name=\"candidate-policy\" value=\"", out);
		vjunit_escape(out, policy);
		fputs("\"/></properties>\n", out);
	}
	for (size_t i = 0; i < n; i++)
		if (cases[i].suite == suite)
			vjunit_case(out, &cases[i], &results[i]);
	fputs("  </testsuite>\n", out);
}

static void
vjunit_body(FILE *out, const struct vcase_ref *cases, const struct vresult *results, size_t n,
    double total_seconds, const char *policy)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t failures = 0;

	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", gmtime_r(&now, &tm));
	for (size_t i = 0; i < n; i++)
		failures += !vstatus_ok(results[i].status);
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuites name=\"tiergate-verify\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"%.3f\">\n",
	    n, failures, total_seconds);
	for (size_t i = 0; i < n; i++) {
		bool first = true;
		for (size_t k = 0; k < i && first; k++)
			first = cases[k].suite != cases[i].suite;
		if (first)
			vjunit_suite(out, cases[i].suite, cases, results, n, stamp, policy);
	}
	fputs("</testsuites>\n", out);
}

int
vjunit_write(const char *path, const struct vcase_ref *cases, const struct vresult *results,
    size_t n, double total_seconds, const char *policy)
{
	struct vs_buf b;
	char *text;
	int rc;

	vs_open(&b);
	vjunit_body(b.f, cases, results, n, total_seconds, policy);
	text = vs_take(&b);
	rc = file_write_atomic(path, text, strlen(text), 0644);
	free(text);
	return rc;
}

/* asp_report.c -- an ASP connection check's report as a table, as JSON, or as JUnit XML for a vendor's CI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/event.h"
#include "lib/util.h"
#include "vpn-bridge/asp_probe.h"

static size_t
asp_report_failures(const struct asp_report *r)
{
	size_t failed = 0;

	for (size_t i = 0; i < r->n; i++)
		failed += !r->c[i].passed;
	return failed;
}

void
asp_report_print(FILE *out, const struct asp_target *t, const struct asp_report *r)
{
	size_t failed = asp_report_failures(r);

	fprintf(out, "asp-check %s port %u, server name %s\n", t->address, t->port,
	    t->servername ? t->servername : "(none)");
	for (size_t i = 0; i < r->n; i++) {
		const struct asp_criterion *c = &r->c[i];
		fprintf(out, "%-4s  %-12s %s%s%s\n", c->passed ? "PASS" : "FAIL", c->name, c->subject,
		    c->subject[0] ? " " : "", c->detail);
	}
	if (failed)
		fprintf(out, "result: FAIL (%zu of %zu criteria failed)\n", failed, r->n);
	else
		fprintf(out, "result: PASS (%zu criteria)\n", r->n);
}

/* One JSON object; the caller frees it. */
char *
asp_report_json(const struct asp_target *t, const struct asp_report *r)
{
	struct jbuf jb = JBUF_INIT;
	char *text;

	jb_obj_open(&jb);
	jb_str(&jb, "target", t->address);
	jb_uint(&jb, "port", t->port);
	jb_str(&jb, "servername", t->servername);
	jb_bool(&jb, "passed", asp_report_passed(r));
	jb_str(&jb, "tls_version", r->tls_version);
	jb_str(&jb, "cipher", r->cipher);
	jb_int(&jb, "days_left", r->days_left);
	jb_arr_begin(&jb, "criteria");
	for (size_t i = 0; i < r->n; i++) {
		jb_obj_open(&jb);
		jb_str(&jb, "name", r->c[i].name);
		if (r->c[i].subject[0])
			jb_str(&jb, "subject", r->c[i].subject);
		jb_bool(&jb, "passed", r->c[i].passed);
		jb_str(&jb, "detail", r->c[i].detail);
		jb_obj_end(&jb);
	}
	jb_arr_end(&jb);
	jb_obj_end(&jb);
	text = jb.oom ? NULL : xstrdup(jb_cstr(&jb));
	jb_free(&jb);
	return text;
}

static void
asp_xml_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n')
				fputc(*s, out);
		}
	}
}

static void
asp_junit_case(FILE *out, const struct asp_criterion *c)
{
	fputs("    <testcase classname=\"asp-check\" name=\"", out);
	asp_xml_text(out, c->name);
	if (c->subject[0]) {
		fputc(' ', out);
		asp_xml_text(out, c->subject);
	}
	fputs("\">", out);
	if (!c->passed) {
		fputs("<failure message=\"", out);
		asp_xml_text(out, c->detail);
		fputs("\"/>", out);
	} else {
		fputs("<system-out>", out);
		asp_xml_text(out, c->detail);
		fputs("</system-out>", out);
	}
	fputs("</testcase>\n", out);
}

/* JUnit XML as GitLab, Jenkins and GitHub read it: one test case per criterion. */
int
asp_report_junit(const char *path, const struct asp_target *t, const struct asp_report *r)
{
	FILE *out = fopen(path, "we");
	char name[300];

	if (out == NULL)
		return -1;
	snprintf(name, sizeof name, "asp-check %s:%u", t->servername ? t->servername : t->address, t->port);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"", out);
	asp_xml_text(out, name);
	fprintf(out, "\" tests=\"%zu\" failures=\"%zu\">\n", r->n, asp_report_failures(r));
	for (size_t i = 0; i < r->n; i++)
		asp_junit_case(out, &r->c[i]);
	fputs("  </testsuite>\n</testsuites>\n", out);
	return fclose(out) == 0 ? 0 : -1;
}

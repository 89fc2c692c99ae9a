/* exception.c -- written exceptions on rules: who approved them, why, and until when (expired = refused). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"
#include "policy/internal.h"

static const char *const exc_known[] = { "reason", "approved_by", "until", "comment", NULL };

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static long
exc_days_from_civil(long y, unsigned m, unsigned d)
{
	long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

static bool
exc_leap(unsigned long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* "YYYY-MM-DD", a real calendar day, exactly; *days gets its day number. */
int
exception_parse_date(const char *text, long *days)
{
	static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	char y[5], m[3], d[3];
	unsigned long yy, mm, dd;

	if (strlen(text) != 10 || text[4] != '-' || text[7] != '-')
		return -1;
	memcpy(y, text, 4);
	y[4] = '\0';
	memcpy(m, text + 5, 2);
	m[2] = '\0';
	memcpy(d, text + 8, 2);
	d[2] = '\0';
	if (strspn(y, "0123456789") != 4 || strspn(m, "0123456789") != 2 || strspn(d, "0123456789") != 2)
		return -1;
	if (parse_ulong(y, 9999, &yy) < 0 || parse_ulong(m, 12, &mm) < 0 || parse_ulong(d, 31, &dd) < 0)
		return -1;
	if (yy < 2000 || mm < 1 || dd < 1 || dd > mdays[mm - 1] + (mm == 2 && exc_leap(yy)))
		return -1;
	*days = exc_days_from_civil((long)yy, (unsigned)mm, (unsigned)dd);
	return 0;
}

/* Today's day number in the local calendar (the approver's "until" is a local date). */
long
exception_today(void)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	return exc_days_from_civil(tm.tm_year + 1900L, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday);
}

static int
exc_required(const config_setting_t *g, const char *key, const char *rule, const char **out,
    struct diags *d)
{
	*out = NULL;
	if (conf_get_str(g, key, out, d) < 0)
		return -1;
	if (*out == NULL || (*out)[0] == '\0') {
		diags_add(d, DIAG_ERROR, g, "rule '%s': the exception needs '%s' "
		    "(exception = { reason = \"...\"; approved_by = \"...\"; until = \"YYYY-MM-DD\"; })",
		    rule, key);
		return -1;
	}
	return 0;
}

/*
 * A rule's exception = { reason; approved_by; until; }. Absent: *out stays
 * NULL, 0. An expired one is an error: the approval has run out, so the rule
 * no longer has one.
 */
int
exception_parse(const config_setting_t *rule, const char *name, long today,
    struct pexception **out, struct diags *d)
{
	config_setting_t *g = config_setting_get_member(rule, "exception");
	const char *reason, *approved, *until;
	struct pexception *e;
	long day;
	int bad = 0;

	*out = NULL;
	if (g == NULL)
		return 0;
	if (!config_setting_is_group(g)) {
		diags_add(d, DIAG_ERROR, g, "rule '%s': exception must be a group { reason = \"...\"; "
		    "approved_by = \"...\"; until = \"YYYY-MM-DD\"; }", name);
		return -1;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		const char *member = config_setting_name(config_setting_get_elem(g, (unsigned)i));
		int k;
		for (k = 0; exc_known[k] && strcmp(exc_known[k], member) != 0; k++)
			;
		if (exc_known[k] == NULL) {
			diags_add(d, DIAG_ERROR, config_setting_get_elem(g, (unsigned)i),
			    "rule '%s': unknown setting '%s' in the exception", name, member);
			bad = 1;
		}
	}
	bad |= exc_required(g, "reason", name, &reason, d) < 0;
	bad |= exc_required(g, "approved_by", name, &approved, d) < 0;
	bad |= exc_required(g, "until", name, &until, d) < 0;
	if (bad)
		return -1;
	if (exception_parse_date(until, &day) < 0) {
		diags_add(d, DIAG_ERROR, config_setting_get_member(g, "until"),
		    "rule '%s': exception until \"%s\" is not a date (YYYY-MM-DD)", name, until);
		return -1;
	}
	if (day < today) {
		diags_add(d, DIAG_ERROR, config_setting_get_member(g, "until"),
		    "rule '%s': the exception expired on %s (approved by %s); renew the approval or "
		    "remove the rule", name, until, approved);
		return -1;
	}
	e = xcalloc(1, sizeof *e);
	e->reason = xstrdup(reason);
	e->approved_by = xstrdup(approved);
	e->until = xstrdup(until);
	e->days_left = day - today;
	*out = e;
	return 0;
}

void
exception_free(struct pexception *e)
{
	if (e == NULL)
		return;
	free(e->reason);
	free(e->approved_by);
	free(e->until);
	free(e);
}

int
policy_exception_count(const struct policy *p)
{
	int n = 0;

	for (int i = 0; i < p->nrules; i++)
		n += p->rules[i].exception != NULL;
	return n;
}

bool
policy_exception_get(const struct policy *p, int index, struct policy_exception *out)
{
	for (int i = 0; i < p->nrules; i++) {
		const struct prule *r = &p->rules[i];
		if (r->exception == NULL || index-- > 0)
			continue;
		out->rule = r->name;
		out->file = r->file;
		out->line = r->line;
		out->reason = r->exception->reason;
		out->approved_by = r->exception->approved_by;
		out->until = r->exception->until;
		out->days_left = r->exception->days_left;
		return true;
	}
	return false;
}

/* "exception: rule 'X' (FILE:LINE): REASON; approved by A; until D (N days left)" per exception. */
void
policy_exceptions_print(const struct policy *p, FILE *out)
{
	struct policy_exception e;

	for (int i = 0; policy_exception_get(p, i, &e); i++)
		fprintf(out, "exception: rule '%s' (%s:%d): %s; approved by %s; until %s (%ld day%s left)\n",
		    e.rule, e.file, e.line, e.reason, e.approved_by, e.until, e.days_left,
		    e.days_left == 1 ? "" : "s");
}

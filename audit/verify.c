/* verify.c -- walks an event file and finds the first line whose hash chain is broken, missing or torn. */
#include "audit/verify.h"

#include <stdlib.h>
#include <string.h>

const char *
audit_verdict_text(enum audit_verdict v)
{
	switch (v) {
	case AUDIT_OK: return "chain intact";
	case AUDIT_CONTINUES: return "chain intact; line 1 continues an earlier file (check it with --after FILE)";
	case AUDIT_BROKEN: return "chain broken: the line before was changed, or lines were removed or inserted here";
	case AUDIT_UNCHAINED: return "line carries no \"prev\" hash (written outside tiergate, or edited)";
	case AUDIT_TORN: return "last line has no newline (a write cut short, or the file was truncated)";
	case AUDIT_EMPTY: return "no lines";
	}
	return "?";
}

/* One line (without its newline) against the hash the chain expects; updates res. */
static bool
audit_line(const char *line, size_t len, const char *want, struct audit_result *res)
{
	char prev[EVCHAIN_HEX];

	res->lines++;
	if (!evchain_line_prev(line, len, prev)) {
		res->verdict = AUDIT_UNCHAINED;
		res->bad_line = res->lines;
		return false;
	}
	if (want == NULL && res->lines == 1 && strcmp(prev, EVCHAIN_GENESIS) != 0)
		res->verdict = AUDIT_CONTINUES;
	else if (want != NULL && strcmp(prev, want) != 0) {
		res->verdict = AUDIT_BROKEN;
		res->bad_line = res->lines;
		return false;
	}
	evchain_hash(line, len, res->last);
	return true;
}

void
audit_verify_stream(FILE *in, const char *start, struct audit_result *res)
{
	char *line = NULL, want[EVCHAIN_HEX];
	const char *expect = start;
	size_t cap = 0;
	ssize_t n;

	memset(res, 0, sizeof *res);
	res->verdict = AUDIT_OK;
	while ((n = getline(&line, &cap, in)) > 0) {
		bool newline = line[n - 1] == '\n';
		if (!audit_line(line, (size_t)n - newline, expect, res))
			break;
		if (!newline) {
			res->verdict = AUDIT_TORN;
			res->bad_line = res->lines;
			break;
		}
		memcpy(want, res->last, EVCHAIN_HEX);
		expect = want;
	}
	if (res->lines == 0)
		res->verdict = AUDIT_EMPTY;
	free(line);
}

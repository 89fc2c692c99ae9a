/* main.c -- tiergate-audit: checks that an event file's hash chain is whole and says where it is not. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "audit/verify.h"

static void
audit_usage(FILE *out)
{
	fprintf(out,
	    "usage: tiergate-audit verify FILE [--after EARLIER-FILE]\n"
	    "  Every line tiergate writes to an event file carries \"prev\", the SHA-256 of the line\n"
	    "  before it. verify reads FILE and reports the first line where the chain is broken\n"
	    "  (a line changed, removed or inserted), missing or torn. --after checks that FILE's\n"
	    "  first line continues EARLIER-FILE (log rotation). Exit 0 intact, 1 broken, 2 usage.\n");
}

/* The hash FILE's last line has, for --after; NULL when unreadable or not intact. */
static const char *
audit_after(const char *path, char out[EVCHAIN_HEX])
{
	FILE *f = fopen(path, "re");
	struct audit_result res;

	if (f == NULL) {
		perror(path);
		return NULL;
	}
	audit_verify_stream(f, NULL, &res);
	fclose(f);
	if (res.verdict != AUDIT_OK && res.verdict != AUDIT_CONTINUES) {
		fprintf(stderr, "%s: line %lu: %s\n", path, res.bad_line, audit_verdict_text(res.verdict));
		return NULL;
	}
	memcpy(out, res.last, EVCHAIN_HEX);
	return out;
}

static int
audit_verify(const char *path, const char *after)
{
	char start_buf[EVCHAIN_HEX];
	const char *start = NULL;
	struct audit_result res;
	FILE *f;

	if (after && (start = audit_after(after, start_buf)) == NULL)
		return 1;
	if ((f = fopen(path, "re")) == NULL) {
		perror(path);
		return 2;
	}
	audit_verify_stream(f, start, &res);
	fclose(f);
	if (res.verdict == AUDIT_OK || res.verdict == AUDIT_CONTINUES) {
		printf("%s: %lu lines, %s\n", path, res.lines, audit_verdict_text(res.verdict));
		return 0;
	}
	if (res.verdict == AUDIT_EMPTY) {
		printf("%s: %s\n", path, audit_verdict_text(res.verdict));
		return 0;
	}
	if (res.verdict == AUDIT_BROKEN && res.bad_line > 1)
		printf("%s: line %lu: chain broken: line %lu was changed, or lines were removed or inserted "
		    "between them\n", path, res.bad_line, res.bad_line - 1);
	else
		printf("%s: line %lu: %s\n", path, res.bad_line, audit_verdict_text(res.verdict));
	return 1;
}

int
main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "after", required_argument, NULL, 'a' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *after = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (ch == 'a')
			after = optarg;
		else {
			audit_usage(ch == 'h' ? stdout : stderr);
			return ch == 'h' ? 0 : 2;
		}
	}
	if (argc - optind != 2 || strcmp(argv[optind], "verify") != 0) {
		audit_usage(stderr);
		return 2;
	}
	return audit_verify(argv[optind + 1], after);
}

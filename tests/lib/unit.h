/* unit.h -- the few macros C unit tests use; output lines are what tests/run.sh counts. */
#ifndef TIERGATE_UNIT_H
#define TIERGATE_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A test file defines cases as functions and lists them in main with UNIT_RUN.
 * Each case prints "ok NAME" or "FAIL NAME: file:line: what"; CHECK records a
 * failure and continues, so one run shows every broken expectation. UNIT_EXIT
 * prints the plan "1..N" last (as TAP allows): a binary that dies or returns
 * early never prints it, and tests/run.sh fails its suite (see run_unit).
 */
static int unit_case_failed;
static int unit_failures;
static int unit_cases;

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			printf("  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			unit_case_failed = 1; \
		} \
	} while (0)

#define CHECK_STR(a, b) \
	do { \
		const char *unit_a = (a), *unit_b = (b); \
		if (unit_a == NULL || unit_b == NULL || strcmp(unit_a, unit_b) != 0) { \
			printf("  %s:%d: \"%s\" != \"%s\" (%s vs %s)\n", __FILE__, __LINE__, \
			    unit_a ? unit_a : "(null)", unit_b ? unit_b : "(null)", #a, #b); \
			unit_case_failed = 1; \
		} \
	} while (0)

#define CHECK_INT(a, b) \
	do { \
		long long unit_a = (long long)(a), unit_b = (long long)(b); \
		if (unit_a != unit_b) { \
			printf("  %s:%d: %lld != %lld (%s vs %s)\n", __FILE__, __LINE__, \
			    unit_a, unit_b, #a, #b); \
			unit_case_failed = 1; \
		} \
	} while (0)

#define UNIT_RUN(fn) \
	do { \
		unit_case_failed = 0; \
		unit_cases++; \
		fn(); \
		if (unit_case_failed) { \
			printf("FAIL %s\n", #fn); \
			unit_failures++; \
		} else { \
			printf("ok %s\n", #fn); \
		} \
		fflush(stdout); \
	} while (0)

#define UNIT_EXIT() \
	do { \
		printf("1..%d\n", unit_cases); \
		fflush(stdout); \
		return unit_failures ? 1 : 0; \
	} while (0)

#endif

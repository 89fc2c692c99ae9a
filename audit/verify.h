/* verify.h -- checking an event file's hash chain line by line (tiergate-audit verify). */
#ifndef TIERGATE_AUDIT_VERIFY_H
#define TIERGATE_AUDIT_VERIFY_H

#include <stdbool.h>
#include <stdio.h>

#include "lib/evchain.h"

enum audit_verdict {
	AUDIT_OK,             /* every line chains to the one before */
	AUDIT_CONTINUES,      /* as OK, but line 1 continues an earlier file that was not given */
	AUDIT_BROKEN,         /* a line's prev is not the hash of the line before it */
	AUDIT_UNCHAINED,      /* a line carries no prev at all */
	AUDIT_TORN,           /* the last line has no newline (a write cut short) */
	AUDIT_EMPTY,          /* no lines */
};

struct audit_result {
	enum audit_verdict verdict;
	unsigned long lines;        /* lines read */
	unsigned long bad_line;     /* 1-based, for BROKEN / UNCHAINED / TORN */
	char last[EVCHAIN_HEX];     /* hash of the last line (what a next file's line 1 must carry) */
};

/*
 * Reads in to its end. start is the hash line 1 must carry: EVCHAIN_GENESIS
 * for a file that began the log, another file's last hash with --after, or
 * NULL for "whatever line 1 says" (then CONTINUES when it is not zeros).
 */
void audit_verify_stream(FILE *in, const char *start, struct audit_result *res);
const char *audit_verdict_text(enum audit_verdict v);

#endif

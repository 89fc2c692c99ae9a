/* fuzz_audit.c -- libFuzzer target for tiergate-audit's chain verifier (audit/verify.c) on any file content. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "audit/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_result res;
	FILE *in;

	if (size == 0)
		return 0;
	/* both ways a file is read: line 1 free, and line 1 bound to the zeros of a new log */
	for (int bound = 0; bound < 2; bound++) {
		if ((in = fmemopen((void *)data, size, "r")) == NULL)
			return 0;
		audit_verify_stream(in, bound ? EVCHAIN_GENESIS : NULL, &res);
		fclose(in);
		if (res.verdict == AUDIT_BROKEN || res.verdict == AUDIT_UNCHAINED || res.verdict == AUDIT_TORN) {
			if (res.bad_line == 0 || res.bad_line > res.lines)
				abort();   /* a reported line must be one that was read */
		}
	}
	return 0;
}

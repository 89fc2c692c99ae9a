/* fuzz_pdfscan.c -- libFuzzer target: the qpdf-based scan of an original PDF (object walk, findings). */
#include <string.h>

#include "sanitizer/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct san_result res;

	memset(&res, 0, sizeof res);
	pdfscan_buffer(data, size, &res);
	san_result_free(&res);
	return 0;
}

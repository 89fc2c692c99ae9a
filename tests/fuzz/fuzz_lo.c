/* fuzz_lo.c -- libFuzzer target: what the parent reads of the office converter's answer (lo_parse_reply) and its sniff of the input (lo_sniff). */
#include <stdlib.h>
#include <string.h>

#include "sanitizer/lo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const exts[] = { "rtf", "doc", "xls", "ppt", "docx", "docm", "xlsx", "xlsm",
		"pptx", "pptm", "odt", "ods", "odp", NULL };
	char line[512];
	size_t n = size < sizeof line - 1 ? size : sizeof line - 1, pdf_len, txt_len;
	const char *ext = lo_sniff(data, size, "input.docx");
	int known = ext == NULL;

	/* a sniffed extension is one the driver accepts */
	for (int i = 0; ext && exts[i]; i++)
		known |= strcmp(ext, exts[i]) == 0;
	if (!known)
		abort();
	memcpy(line, data, n);
	line[n] = '\0';
	if (lo_parse_reply(line, 1u << 20, &pdf_len, &txt_len) == 0 &&
	    (pdf_len == 0 || pdf_len > (1u << 20) || txt_len > (1u << 20) - pdf_len))
		abort();   /* accepted lengths stay within the bound */
	return 0;
}

/* fuzz_charset.c -- libFuzzer target: charset_to_utf8 under every label class; output must be clean UTF-8. */
#include <stdlib.h>
#include <string.h>

#include "sanitizer/charset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
assert_clean(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			abort();
	}
	if (strlen(s) != n)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const labels[] = { NULL, "utf-8", "shift_jis", "euc-jp",
		"iso-2022-jp", "us-ascii", "iso-8859-1", "bogus" };
	/* the first byte picks the label, the rest is the text */
	const char *label = size ? labels[data[0] % (sizeof labels / sizeof labels[0])] : NULL;
	char *out = NULL;
	size_t out_len = 0;

	if (size == 0)
		return 0;
	if (charset_to_utf8_opts(label, data + 1, size - 1, data[0] & 0x80 ? CHARSET_SINGLE_LINE : 0,
	    &out, &out_len, NULL) == 0) {
		assert_clean(out, out_len);
		free(out);
	}
	return 0;
}

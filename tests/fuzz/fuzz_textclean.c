/* fuzz_textclean.c -- libFuzzer target: the cleaner's output is valid UTF-8 without a listed code point, and cleaning is idempotent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/textclean.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Independent of textclean.c's decoder: a strict UTF-8 walk that aborts on anything removed. */
static void
assert_clean(const unsigned char *s, size_t n, int body)
{
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t len;
		if (s[i] < 0x80) {
			cp = s[i], len = 1;
		} else if ((s[i] & 0xE0) == 0xC0) {
			cp = s[i] & 0x1F, len = 2;
		} else if ((s[i] & 0xF0) == 0xE0) {
			cp = s[i] & 0x0F, len = 3;
		} else if ((s[i] & 0xF8) == 0xF0) {
			cp = s[i] & 0x07, len = 4;
		} else {
			abort();
		}
		if (i + len > n)
			abort();
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				abort();
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			abort();
		if ((cp < 0x20 && !(body && (cp == '\t' || cp == '\n'))) || (cp >= 0x7F && cp <= 0x9F))
			abort();
		if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E ||
		    cp == 0x200F || (cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF ||
		    cp == 0xAD || (cp >= 0xE0000 && cp <= 0xE007F))
			abort();
		i += len;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct textclean_counts c = { 0 }, again = { 0 };
	int body = size > 0 && (data[0] & 1);
	size_t n, n2, cut;
	char *out, *out2, small[7];

	out = body ? textclean_text_dup((const char *)data, size, &n, &c)
	    : textclean_name_dup((const char *)data, size, &c);
	if (out == NULL)
		return 0;
	if (!body)
		n = strlen(out);
	if (out[n] != '\0')
		abort();
	assert_clean((const unsigned char *)out, n, body);
	/* clean output passes through unchanged and uncounted */
	out2 = body ? textclean_text_dup(out, n, &n2, &again) : textclean_name_dup(out, n, &again);
	if (out2 == NULL)
		abort();
	if (!body)
		n2 = strlen(out2);
	if (n2 != n || memcmp(out, out2, n) != 0 || textclean_total(&again) != 0)
		abort();
	/* a short buffer holds a prefix of the full answer, cut whole */
	cut = body ? textclean_text((const char *)data, size, small, sizeof small, NULL)
	    : textclean_name((const char *)data, size, small, sizeof small, NULL);
	if (cut >= sizeof small || cut > n || memcmp(small, out, cut) != 0 || small[cut] != '\0')
		abort();
	assert_clean((const unsigned char *)small, cut, body);
	free(out);
	free(out2);
	return 0;
}

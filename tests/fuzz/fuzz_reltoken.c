/* fuzz_reltoken.c -- libFuzzer target for the request-link token verifier (sanitizer/reltoken.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sanitizer/reltoken.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fuzz_key[RELTOKEN_KEY_LEN] = "tiergate-fuzz-key-0123456789abcd";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *token = malloc(size + 1), qid[65], rcpt[RELTOKEN_RCPT_MAX + 1], again[RELTOKEN_MAX];
	int64_t expiry = 0;

	if (token == NULL)
		return 0;
	memcpy(token, data, size);
	token[size] = '\0';
	/* a token that verifies must be exactly the one reltoken_make gives for its fields */
	if (reltoken_verify(fuzz_key, token, 0, qid, rcpt, &expiry) == RELTOKEN_OK) {
		if (reltoken_make(fuzz_key, qid, rcpt, expiry, again) < 0 || strcmp(again, token) != 0)
			abort();
	}
	/* and one made from fuzzed fields verifies to the same fields */
	if (size >= 64 && size < 64 + RELTOKEN_RCPT_MAX && memchr(data, 0, size) == NULL) {
		char q[65], r2[RELTOKEN_RCPT_MAX + 1], oq[65], orc[RELTOKEN_RCPT_MAX + 1];
		static const char hex[] = "0123456789abcdef";
		for (int i = 0; i < 64; i++)
			q[i] = hex[data[i] & 15];
		q[64] = '\0';
		memcpy(r2, data + 64, size - 64);
		r2[size - 64] = '\0';
		if (reltoken_make(fuzz_key, q, r2, 1234, again) == 0 &&
		    (reltoken_verify(fuzz_key, again, 0, oq, orc, &expiry) != RELTOKEN_OK ||
		     strcmp(oq, q) != 0 || strcmp(orc, r2) != 0 || expiry != 1234))
			abort();
	}
	free(token);
	return 0;
}

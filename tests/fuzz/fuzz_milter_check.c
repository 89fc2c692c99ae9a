/* fuzz_milter_check.c -- libFuzzer target for what the daemon and the broker read from the untrusted parser: the rebuilt-message check (milter_check.c) and the frame reader (milter_wire.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sanitizer/mail/milter_check.h"
#include "sanitizer/mail/milter_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* body_at where the parser would say: after the first empty line */
static size_t
fuzz_body_at(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] == '\n' && s[i + 1] == '\n')
			return i + 2;
		if (s[i] == '\n' && i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	char *copy = malloc(size ? size : 1);
	struct mwire_frame fr;
	uint8_t *body;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if (milter_check_rebuilt(copy, size, fuzz_body_at(copy, size), 4, why, sizeof why) < 0 && why[0] == '\0')
		abort();   /* a refusal always says why */
	free(copy);
	/* the same bytes as a frame body: first byte the type, second the field count */
	if (size >= 2 && (body = malloc(size - 2 ? size - 2 : 1)) != NULL) {
		memcpy(body, data + 2, size - 2);
		if (mwire_parse((char)data[0], data[1] % 10, body, size - 2, &fr) == 0)
			for (size_t i = 0; i < fr.n; i++)
				if (fr.f[i].data && (fr.f[i].data < (char *)body ||
				    fr.f[i].data + fr.f[i].len > (char *)body + size - 2))
					abort();
		free(body);
	}
	return 0;
}

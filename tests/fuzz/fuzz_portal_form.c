/* fuzz_portal_form.c -- libFuzzer target for the portal's form and query parser (sanitizer/portal_form.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sanitizer/portal_form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct portal_field_spec fuzz_spec[] = {
	{ "t", 512, 0 }, { "csrf", 64, 0 }, { "reason", 1000, 1 }, { "user", 63, 0 },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct portal_form form;
	const char *err = NULL;

	if (portal_form_parse((const char *)data, size, fuzz_spec, 4, &form, &err) == 0) {
		/* every value is within its limit and free of NUL and (outside textareas) of controls */
		for (size_t i = 0; i < 4; i++) {
			const char *v = form.value[i];
			if (v == NULL)
				continue;
			if (strlen(v) > fuzz_spec[i].max)
				abort();
			for (const char *c = v; *c; c++)
				if ((unsigned char)*c < 0x20 && !fuzz_spec[i].multiline)
					abort();
		}
		portal_form_free(&form);
	} else if (err == NULL) {
		abort();
	}
	return 0;
}

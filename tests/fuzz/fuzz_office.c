/* fuzz_office.c -- libFuzzer target: the OOXML/ODF text extractor (libzip + libxml2) and the link counter on arbitrary bytes. */
#include <stdlib.h>
#include <string.h>

#include "sanitizer/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct san_config cfg;
	static int ready;
	char *text = NULL, why[256];
	size_t text_len = 0;

	if (!ready) {
		san_config_defaults(&cfg);
		cfg.office_max_member = 4u << 20;   /* keep each run small */
		cfg.office_max_total = 8u << 20;
		cfg.max_text_bytes = 4u << 20;
		ready = 1;
	}
	(void)office_count_links(data, size, &cfg);   /* office_links.c: the linked-content finding */
	for (int kind = 0; kind < 2; kind++) {
		if (office_to_text(data, size, kind ? KIND_ODF : KIND_OOXML, &cfg, &text, &text_len,
		    why, sizeof why, NULL) == 0) {
			if (strlen(text) > text_len)
				abort();
			free(text);
		}
	}
	return 0;
}

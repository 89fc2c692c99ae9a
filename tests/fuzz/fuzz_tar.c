/* fuzz_tar.c -- libFuzzer target: the tar reader (ustar/GNU/pax) on raw bytes and behind the gzip reader. */
#include <stdlib.h>
#include <string.h>

#include "sanitizer/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every entry the reader returns must lie inside the buffer it was given. */
static void
fuzz_tar(const uint8_t *data, size_t size)
{
	struct tar_list tl;
	char why[256];

	if (tarread_parse(data, size, 64, &tl, why, sizeof why) < 0) {
		if (strlen(why) == 0)
			abort();
		return;
	}
	for (size_t i = 0; i < tl.n; i++) {
		const struct tar_entry *e = &tl.entries[i];
		if (e->path == NULL || e->offset >= size)
			abort();
		if (e->type == TAR_FILE && (e->data < data || e->size > size ||
		    (size_t)(e->data - data) > size - e->size))
			abort();
		if (e->type == TAR_FILE && e->size)
			(void)((volatile const uint8_t *)e->data)[e->size - 1];
	}
	if (tl.trailing > size)
		abort();
	tarread_free(&tl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *plain = NULL;
	size_t plain_len = 0, trailing = 0;
	char why[256];

	fuzz_tar(data, size);
	(void)tarread_is_tar(data, size);
	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
		int rc = tarread_gunzip(data, size, 1u << 20, &plain, &plain_len, &trailing, why, sizeof why);
		if (rc == 0) {
			if (plain_len > (1u << 20) || trailing > size)
				abort();
			fuzz_tar(plain, plain_len);
			free(plain);
		}
	}
	return 0;
}

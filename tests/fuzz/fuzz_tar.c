/* fuzz_tar.c -- libFuzzer target: the tar reader (ustar/GNU/pax) on raw bytes and behind the gzip reader. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

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

/* gunzip under a limit; what comes out goes to the tar reader. */
static void
fuzz_gunzip(const uint8_t *gz, size_t gz_len, size_t max_out, size_t want_len)
{
	uint8_t *plain = NULL;
	size_t plain_len = 0, trailing = 0;
	char why[256];
	int rc = tarread_gunzip(gz, gz_len, max_out, &plain, &plain_len, &trailing, why, sizeof why);

	if (rc == 0) {
		if (plain_len > max_out || trailing > gz_len || (want_len != SIZE_MAX && plain_len != want_len))
			abort();
		fuzz_tar(plain, plain_len);
		free(plain);
	} else if (rc == -2 && want_len != SIZE_MAX && want_len <= max_out) {
		abort();   /* "too big" for a stream that fits */
	}
}

/*
 * Mutated gzip rarely keeps a valid CRC: inputs starting with 'Z' are gzipped
 * here (the next byte picks the output limit), so the reader's success path
 * and the tar behind it get fuzzed too.
 */
static void
fuzz_wrapped(const uint8_t *data, size_t size)
{
	static uint8_t gz[1 << 16];
	z_stream zs;
	size_t max_out = (size_t)data[1] * 64;

	memset(&zs, 0, sizeof zs);
	if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return;
	zs.next_in = (Bytef *)(uintptr_t)(data + 2);
	zs.avail_in = (uInt)(size - 2);
	zs.next_out = gz;
	zs.avail_out = sizeof gz;
	if (deflate(&zs, Z_FINISH) == Z_STREAM_END)
		fuzz_gunzip(gz, sizeof gz - zs.avail_out, max_out, size - 2);
	deflateEnd(&zs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_tar(data, size);
	(void)tarread_is_tar(data, size);
	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
		fuzz_gunzip(data, size, 1u << 20, SIZE_MAX);
	if (size >= 2 && size - 2 < 32768 && data[0] == 'Z')
		fuzz_wrapped(data, size);
	return 0;
}

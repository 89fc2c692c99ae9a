/* fuzz_imgdecode.c -- libFuzzer target: the worker's HEIC/HEIF and WebP decoders (imgdecode.c, heifde265.c) on hostile bytes. */
#include <stdlib.h>
#include <string.h>

#include "sanitizer/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct san_config cfg;
	static int ready;
	struct imgdecode_pixels pix;
	char why[256];

	if (!ready) {
		san_config_defaults(&cfg);
		cfg.max_image_pixels = 4u << 20;   /* bombs are refused before decoding, not run */
		imgdecode_prepare();
		ready = 1;
	}
	/* the sniff by magic, then each decoder whatever the magic says (a lying header reaches both) */
	enum imgdecode_type sniffed = imgdecode_sniff(data, size);
	for (int t = IMGDECODE_HEIF; t <= IMGDECODE_WEBP; t++) {
		if (imgdecode_decode(&cfg, data, size, (enum imgdecode_type)t, &pix, why, sizeof why) == 0) {
			if (pix.rows == NULL || pix.w == 0 || pix.h == 0 || (uint64_t)pix.w * pix.h > cfg.max_image_pixels ||
			    (pix.ncomp != 1 && pix.ncomp != 3))
				abort();   /* accepted pixels are within the limit and of a shape the parent takes */
			volatile uint8_t last = pix.rows[(size_t)pix.w * pix.h * pix.ncomp - 1];
			(void)last;
			free(pix.rows);
		} else if (why[0] == '\0' || pix.rows != NULL) {
			abort();   /* a refusal always says why and leaves nothing */
		}
	}
	(void)sniffed;
	return 0;
}

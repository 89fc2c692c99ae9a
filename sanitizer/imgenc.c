/* imgenc.c -- page pixels to JPEG (libjpeg, in memory) or to a zlib stream for /FlateDecode. */
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <jpeglib.h>   /* after stdio.h: it uses FILE and size_t */

#include "sanitizer/internal.h"

struct jpeg_fail {
	struct jpeg_error_mgr mgr;
	jmp_buf jump;
};

static void
imgenc_jpeg_error(j_common_ptr cinfo)
{
	struct jpeg_fail *fail = (struct jpeg_fail *)cinfo->err;

	longjmp(fail->jump, 1);
}

static void
imgenc_jpeg_silent(j_common_ptr cinfo, int level)
{
	(void)cinfo;
	(void)level;
}

int
imgenc_jpeg(const uint8_t *pixels, int w, int h, int ncomp, size_t stride, int quality,
    uint8_t **out, size_t *out_len)
{
	struct jpeg_compress_struct cinfo;
	struct jpeg_fail fail;
	unsigned char *mem = NULL;
	unsigned long mem_len = 0;

	cinfo.err = jpeg_std_error(&fail.mgr);
	fail.mgr.error_exit = imgenc_jpeg_error;
	fail.mgr.emit_message = imgenc_jpeg_silent;
	if (setjmp(fail.jump)) {
		jpeg_destroy_compress(&cinfo);
		free(mem);
		return -1;
	}
	jpeg_create_compress(&cinfo);
	jpeg_mem_dest(&cinfo, &mem, &mem_len);
	cinfo.image_width = (JDIMENSION)w;
	cinfo.image_height = (JDIMENSION)h;
	cinfo.input_components = ncomp;
	cinfo.in_color_space = ncomp == 1 ? JCS_GRAYSCALE : JCS_RGB;
	jpeg_set_defaults(&cinfo);
	jpeg_set_quality(&cinfo, quality, TRUE);
	cinfo.dct_method = JDCT_ISLOW;
	jpeg_start_compress(&cinfo, TRUE);
	while (cinfo.next_scanline < cinfo.image_height) {
		JSAMPROW row = (JSAMPROW)(uintptr_t)(pixels + (size_t)cinfo.next_scanline * stride);
		jpeg_write_scanlines(&cinfo, &row, 1);
	}
	jpeg_finish_compress(&cinfo);
	jpeg_destroy_compress(&cinfo);
	*out = mem;
	*out_len = mem_len;
	return 0;
}

int
imgenc_flate(const uint8_t *pixels, int w, int h, int ncomp, size_t stride,
    uint8_t **out, size_t *out_len)
{
	size_t row = (size_t)w * (size_t)ncomp;
	z_stream zs;
	uint8_t *buf;
	size_t cap;
	int rc = Z_OK;

	memset(&zs, 0, sizeof zs);
	if (deflateInit(&zs, 6) != Z_OK)
		return -1;
	cap = deflateBound(&zs, (uLong)(row * (size_t)h)) + 64;
	buf = malloc(cap);
	if (buf == NULL) {
		deflateEnd(&zs);
		return -1;
	}
	zs.next_out = buf;
	zs.avail_out = (uInt)cap;
	for (int y = 0; y < h && rc == Z_OK; y++) {
		zs.next_in = (Bytef *)(uintptr_t)(pixels + (size_t)y * stride);
		zs.avail_in = (uInt)row;
		rc = deflate(&zs, y == h - 1 ? Z_FINISH : Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			break;
	}
	if (h == 0 || rc != Z_STREAM_END) {
		deflateEnd(&zs);
		free(buf);
		return -1;
	}
	*out = buf;
	*out_len = zs.total_out;
	deflateEnd(&zs);
	return 0;
}

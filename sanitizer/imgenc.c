/* imgenc.c -- pixels (parent side) to JPEG (libjpeg-turbo), PNG (libpng) or a zlib stream for /FlateDecode. */
#include <pthread.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <jpeglib.h>   /* after stdio.h: it uses FILE and size_t */
#include <libdeflate.h>
#include <png.h>

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
	cinfo.optimize_coding = TRUE;   /* tables fitted to the image: a 20-page scan 3.9 -> 3.1 MB for +15% CPU */
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

/* Colour -> palette index, open addressing over 1024 slots (<= 256 entries used). */
struct pal {
	uint32_t key[1024];   /* rgb + 1; 0 = empty */
	uint8_t idx[1024];
	int n;
};

static int
pal_index(struct pal *p, uint32_t rgb, uint8_t palette[768], int max_colours)
{
	uint32_t key = rgb + 1, i = (rgb * 2654435761u) >> 22;

	while (p->key[i] && p->key[i] != key)
		i = (i + 1) & 1023;
	if (p->key[i])
		return p->idx[i];
	if (p->n == max_colours)
		return -1;
	p->key[i] = key;
	p->idx[i] = (uint8_t)p->n;
	palette[p->n * 3] = (uint8_t)(rgb >> 16);
	palette[p->n * 3 + 1] = (uint8_t)(rgb >> 8);
	palette[p->n * 3 + 2] = (uint8_t)rgb;
	return p->n++;
}

uint8_t *
imgenc_palette(const uint8_t *pixels, int w, int h, size_t stride, int max_colours, uint8_t palette[768], int *n)
{
	struct pal *p = calloc(1, sizeof *p);
	uint8_t *out = malloc((size_t)w * (size_t)h);
	uint32_t last = 0xFFFFFFFFu;
	int last_idx = 0;

	if (p == NULL || out == NULL)
		goto fail;
	for (int y = 0; y < h; y++) {
		const uint8_t *px = pixels + (size_t)y * stride;
		uint8_t *o = out + (size_t)y * (size_t)w;
		/* most rows of a page repeat the row above (paper, table rules): copy its indices */
		if (y > 0 && memcmp(px, px - stride, (size_t)w * 3) == 0) {
			memcpy(o, o - w, (size_t)w);
			continue;
		}
		for (int x = 0; x < w; x++, px += 3) {
			uint32_t rgb = (uint32_t)px[0] << 16 | (uint32_t)px[1] << 8 | px[2];
			if (rgb != last) {   /* runs of paper white are the common case */
				last_idx = pal_index(p, rgb, palette, max_colours);
				if (last_idx < 0)
					goto fail;
				last = rgb;
			}
			o[x] = (uint8_t)last_idx;
		}
	}
	*n = p->n;
	free(p);
	return out;
fail:
	free(p);
	free(out);
	return NULL;
}

/* One row of the PNG Up filter; a row equal to the one above is all zeros. */
static void
imgenc_up(uint8_t *restrict dst, const uint8_t *restrict cur, const uint8_t *restrict up, size_t n)
{
	if (up == NULL) {
		memcpy(dst, cur, n);
	} else if (memcmp(cur, up, n) == 0) {
		memset(dst, 0, n);
	} else {
		for (size_t i = 0; i < n; i++)
			dst[i] = (uint8_t)(cur[i] - up[i]);
	}
}

/* Rows [y0, y1) of a page, Up-filtered and deflated on their own: Z_RLE looks back one byte, so a part needs nothing of the one before. */
struct imgenc_part {
	const uint8_t *pixels;
	size_t stride, row;
	int y0, y1;
	bool last;               /* Z_FINISH; else a sync flush: byte-aligned, no final block */
	uint8_t *out;
	size_t len;
	uint32_t adler;          /* of this part's filtered bytes */
	int rc;
};

static void *
imgenc_flate_part(void *arg)
{
	struct imgenc_part *p = arg;
	size_t rows = (size_t)(p->y1 - p->y0);
	z_stream zs;
	uint8_t *line;
	size_t cap;
	int rc = Z_OK;

	p->rc = -1;
	p->adler = 1;
	memset(&zs, 0, sizeof zs);
	if (rows == 0 || deflateInit2(&zs, 1, Z_DEFLATED, -15, 9, Z_RLE) != Z_OK)
		return NULL;
	cap = deflateBound(&zs, (uLong)((p->row + 1) * rows)) + 64;
	p->out = malloc(cap);
	line = malloc(p->row + 1);
	if (p->out != NULL && line != NULL) {
		zs.next_out = p->out;
		zs.avail_out = (uInt)cap;
		line[0] = 2;   /* PNG filter type Up on every row */
		for (int y = p->y0; y < p->y1 && rc == Z_OK; y++) {
			const uint8_t *cur = p->pixels + (size_t)y * p->stride;
			imgenc_up(line + 1, cur, y ? cur - p->stride : NULL, p->row);
			p->adler = libdeflate_adler32(p->adler, line, p->row + 1);
			zs.next_in = line;
			zs.avail_in = (uInt)(p->row + 1);
			rc = deflate(&zs, y < p->y1 - 1 ? Z_NO_FLUSH : p->last ? Z_FINISH : Z_SYNC_FLUSH);
		}
		if (rc == (p->last ? Z_STREAM_END : Z_OK) && zs.avail_in == 0) {
			p->len = zs.total_out;
			p->rc = 0;
		}
	}
	free(line);
	deflateEnd(&zs);
	return NULL;
}

/*
 * Flate with the PNG "Up" predictor on every row (/Predictor 12): a page is
 * mostly paper, so the rows above predict the rows below and the filtered
 * data is nearly all zeros, which Z_RLE at level 1 compresses fast and small.
 * The zlib wrapper is written here around zlib's raw deflate, its Adler-32
 * by libdeflate (SIMD): zlib's own checksum of every filtered byte was a
 * tenth of flattening a text document.
 *
 * Only the parent encodes (build.c), one page per batch as the worker ships
 * them: a page of IMGENC_SPLIT_BYTES or more is deflated as two halves, the
 * second on a thread of its own, joined as one stream (the first half ends
 * in a sync flush). The last page of a document no longer waits for one
 * core: a 150 dpi A4 page was ~3.5 ms of deflate after the worker was done.
 */
#define IMGENC_SPLIT_BYTES (1u << 20)

int
imgenc_flate(const uint8_t *pixels, int w, int h, int ncomp, size_t stride,
    uint8_t **out, size_t *out_len)
{
	size_t row = (size_t)w * (size_t)ncomp;
	bool split = h >= 64 && (row + 1) * (size_t)h >= IMGENC_SPLIT_BYTES;
	struct imgenc_part part[2] = {
		{ pixels, stride, row, 0, split ? h / 2 : h, !split, NULL, 0, 1, -1 },
		{ pixels, stride, row, h / 2, h, true, NULL, 0, 1, -1 },
	};
	pthread_t second;
	bool threaded = split && pthread_create(&second, NULL, imgenc_flate_part, &part[1]) == 0;
	uint8_t *buf = NULL;
	int rc = -1;

	if (h <= 0)
		return -1;
	imgenc_flate_part(&part[0]);
	if (threaded)
		pthread_join(second, NULL);
	else if (split)
		imgenc_flate_part(&part[1]);
	size_t len = part[0].len + (split ? part[1].len : 0);
	uint32_t adler = split ? (uint32_t)adler32_combine(part[0].adler, part[1].adler,
	    (z_off_t)((row + 1) * (size_t)(h - h / 2))) : part[0].adler;
	if (part[0].rc == 0 && (!split || part[1].rc == 0) && (buf = malloc(2 + len + 4)) != NULL) {
		buf[0] = 0x78;   /* zlib header: deflate, 32 KB window, fastest level, no dictionary */
		buf[1] = 0x01;
		memcpy(buf + 2, part[0].out, part[0].len);
		if (split)
			memcpy(buf + 2 + part[0].len, part[1].out, part[1].len);
		for (int i = 0; i < 4; i++)   /* the Adler-32 of the data, big-endian */
			buf[2 + len + (size_t)i] = (uint8_t)(adler >> (24 - 8 * i));
		*out = buf;
		*out_len = 2 + len + 4;
		rc = 0;
	}
	free(part[0].out);
	free(part[1].out);
	return rc;
}

/* A growing buffer libpng writes into. */
struct png_mem {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};

static void
imgenc_png_write(png_structp png, png_bytep data, png_size_t n)
{
	struct png_mem *m = png_get_io_ptr(png);

	if (m->failed)
		return;
	if (m->len + n > m->cap) {
		size_t want = m->cap ? m->cap * 2 : 65536;
		while (want < m->len + n)
			want *= 2;
		uint8_t *grown = realloc(m->p, want);
		if (grown == NULL) {
			m->failed = true;
			return;
		}
		m->p = grown;
		m->cap = want;
	}
	memcpy(m->p + m->len, data, n);
	m->len += n;
}

static void
imgenc_png_flush(png_structp png)
{
	(void)png;
}

/* Rows of w * ncomp bytes (gray or RGB, 8 bits) as a PNG with nothing but the pixels. */
int
imgenc_png(const uint8_t *pixels, int w, int h, int ncomp, size_t stride, uint8_t **out, size_t *out_len)
{
	struct png_mem mem = { NULL, 0, 0, false };
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;

	if (info == NULL) {
		png_destroy_write_struct(&png, NULL);
		return -1;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		free(mem.p);
		return -1;
	}
	png_set_write_fn(png, &mem, imgenc_png_write, imgenc_png_flush);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, ncomp == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
	    PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (int y = 0; y < h; y++)
		png_write_row(png, (png_const_bytep)(pixels + (size_t)y * stride));
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	if (mem.failed) {
		free(mem.p);
		return -1;
	}
	*out = mem.p;
	*out_len = mem.len;
	return 0;
}

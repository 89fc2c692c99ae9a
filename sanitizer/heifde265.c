/* heifde265.c -- libheif's HEVC decoder replaced by one that decodes in the calling thread (the worker cannot start threads). */
#include <stdlib.h>
#include <string.h>

#include "sanitizer/heifload.h"
#include "sanitizer/internal.h"

/*
 * Why: libheif's own libde265 plugin always starts a decoder thread
 * (de265_start_worker_threads), and inside the worker's sandbox no thread can
 * start (RLIMIT_NPROC 0, clone kills). libde265 decodes in the caller's thread
 * when no worker thread was started, so this plugin is the same work without
 * it, registered with a higher priority than the built-in one. The data
 * libheif pushes is NAL units, each behind a 4-byte big-endian length; every
 * length is checked against what is left before it is used.
 */
struct heifde265 {
	de265_decoder_context *ctx;
};

static struct heif_error
heifde265_error(enum heif_error_code code, const char *message)
{
	struct heif_error err = { code, heif_suberror_Unspecified, message };

	return err;
}

static const char *
heifde265_name(void)
{
	return "tiergate libde265 (no threads)";
}

static int
heifde265_supports(enum heif_compression_format format)
{
	return format == heif_compression_HEVC ? 200 : 0;   /* above the built-in plugin's 100 */
}

static struct heif_error
heifde265_new(void **out)
{
	struct heifde265 *d = calloc(1, sizeof *d);

	if (d == NULL || (d->ctx = heifload.de265_new_decoder()) == NULL) {
		free(d);
		return heifde265_error(heif_error_Memory_allocation_error, "cannot start the HEVC decoder");
	}
	*out = d;
	return heifde265_error(heif_error_Ok, "Success");
}

static void
heifde265_free(void *arg)
{
	struct heifde265 *d = arg;

	if (d == NULL)
		return;
	heifload.de265_free_decoder(d->ctx);
	free(d);
}

static void
heifde265_strict(void *arg, int flag)
{
	(void)arg;
	(void)flag;
}

static struct heif_error
heifde265_push(void *arg, const void *data, size_t size)
{
	struct heifde265 *d = arg;
	const uint8_t *p = data;
	size_t at = 0;

	while (at < size) {
		if (size - at < 4)
			return heifde265_error(heif_error_Decoder_plugin_error, "truncated NAL length");
		uint32_t n = (uint32_t)p[at] << 24 | (uint32_t)p[at + 1] << 16 | (uint32_t)p[at + 2] << 8 | p[at + 3];
		at += 4;
		if (n > size - at || n > INT32_MAX)
			return heifde265_error(heif_error_Decoder_plugin_error, "NAL longer than the data");
		if (!heifload.de265_isOK(heifload.de265_push_NAL(d->ctx, p + at, (int)n, 0, NULL)))
			return heifde265_error(heif_error_Decoder_plugin_error, "HEVC data refused");
		at += n;
	}
	return heifde265_error(heif_error_Ok, "Success");
}

/* One decoded picture as libheif's YCbCr (or monochrome) image, plane by plane. */
static struct heif_error
heifde265_convert(const struct de265_image *pic, struct heif_image **out)
{
	static const enum heif_chroma chromas[] = { heif_chroma_monochrome, heif_chroma_420, heif_chroma_422,
		heif_chroma_444 };
	static const enum heif_channel channels[] = { heif_channel_Y, heif_channel_Cb, heif_channel_Cr };
	enum de265_chroma fmt = heifload.de265_get_chroma_format(pic);
	int planes = fmt == de265_chroma_mono ? 1 : 3;
	struct heif_error err;

	if ((unsigned)fmt > de265_chroma_444)
		return heifde265_error(heif_error_Decoder_plugin_error, "unknown chroma format");
	err = heifload.heif_image_create(heifload.de265_get_image_width(pic, 0),
	    heifload.de265_get_image_height(pic, 0), planes == 1 ? heif_colorspace_monochrome : heif_colorspace_YCbCr, chromas[fmt], out);
	for (int c = 0; err.code == heif_error_Ok && c < planes; c++) {
		int w = heifload.de265_get_image_width(pic, c), h = heifload.de265_get_image_height(pic, c);
		int bpp = heifload.de265_get_bits_per_pixel(pic, c), src_stride = 0, dst_stride = 0;
		const uint8_t *src = heifload.de265_get_image_plane(pic, c, &src_stride);
		if (src == NULL || w <= 0 || h <= 0 || bpp <= 0 || bpp > 16) {
			err = heifde265_error(heif_error_Decoder_plugin_error, "decoded plane missing");
			break;
		}
		err = heifload.heif_image_add_plane(*out, channels[c], w, h, bpp);
		uint8_t *dst = err.code != heif_error_Ok ? NULL :
		    heifload.heif_image_get_plane(*out, channels[c], &dst_stride);
		size_t row = (size_t)w * ((bpp + 7) / 8);
		if (err.code == heif_error_Ok && (dst == NULL || row > (size_t)dst_stride || row > (size_t)src_stride))
			err = heifde265_error(heif_error_Decoder_plugin_error, "plane stride too small");
		for (int y = 0; err.code == heif_error_Ok && y < h; y++)
			memcpy(dst + (size_t)y * dst_stride, src + (size_t)y * src_stride, row);
	}
	if (err.code != heif_error_Ok) {
		heifload.heif_image_release(*out);
		*out = NULL;
	}
	return err;
}

static struct heif_error
heifde265_decode(void *arg, struct heif_image **out)
{
	struct heifde265 *d = arg;
	struct heif_error err = heifde265_error(heif_error_Ok, "Success");
	int more = 0;

	*out = NULL;
	heifload.de265_flush_data(d->ctx);
	do {
		more = 0;
		if (!heifload.de265_isOK(heifload.de265_decode(d->ctx, &more)))
			break;
		const struct de265_image *pic = heifload.de265_get_next_picture(d->ctx);
		if (pic) {
			heifload.heif_image_release(*out);   /* the last picture is the image */
			*out = NULL;
			err = heifde265_convert(pic, out);
			heifload.de265_release_next_picture(d->ctx);
			if (err.code != heif_error_Ok)
				return err;
		}
	} while (more);
	if (*out == NULL)
		return heifde265_error(heif_error_Decoder_plugin_error, "no picture decoded (damaged HEVC data)");
	return err;
}

static const struct heif_decoder_plugin heifde265_plugin = {
	.plugin_api_version = 3,
	.get_plugin_name = heifde265_name,
	.does_support_format = heifde265_supports,
	.new_decoder = heifde265_new,
	.free_decoder = heifde265_free,
	.push_data = heifde265_push,
	.decode_image = heifde265_decode,
	.set_strict_decoding = heifde265_strict,
	.id_name = "tiergate-de265",
};

int
heifde265_register(void)
{
	heifload.de265_init();   /* its tables, once, before any fork */
	return heifload.heif_register_decoder_plugin(&heifde265_plugin).code == heif_error_Ok ? 0 : -1;
}

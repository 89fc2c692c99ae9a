/* imgdecode.c -- in the worker: HEIC/HEIF (libheif) and WebP (libwebp) photos decoded to pixels for the parent to encode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>

#include "lib/util.h"
#include "sanitizer/heifload.h"
#include "sanitizer/internal.h"

/*
 * Why not MuPDF: it reads neither. The pixels leave like any image's
 * (arena_ship); the parent writes a JPEG (a photo stays a photo) or, for
 * a lossless WebP, a PNG. EXIF, GPS, XMP and ICC boxes are never read: only
 * the decoded samples cross, so nothing of the metadata survives.
 * Dimensions come from the container (ispe box, VP8/VP8L/VP8X header) and
 * are held to max_image_pixels before a single pixel is decoded.
 */

enum imgdecode_type
imgdecode_sniff(const uint8_t *data, size_t len)
{
	static const char *const brands[] = { "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", NULL };

	if (len >= 16 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
		return IMGDECODE_WEBP;
	if (len >= 12 && memcmp(data + 4, "ftyp", 4) == 0)
		for (size_t i = 0; brands[i]; i++)
			if (memcmp(data + 8, brands[i], 4) == 0)
				return IMGDECODE_HEIF;
	return IMGDECODE_NONE;
}

int
imgdecode_prepare(void)
{
	return heifload_open();
}

/*
 * Whether a worker given these bytes may meet a HEIF image: the bytes are
 * one, or an archive whose members may be (ZIP, gzip, tar: the kinds
 * dispatch opens). A PDF, a JPEG, a text file never are, and never load
 * libheif. A worker that meets one anyway (a file libmagic calls an archive
 * that none of these signatures match) blocks it with the reason.
 */
bool
imgdecode_may_need_heif(const uint8_t *data, size_t len)
{
	if (imgdecode_sniff(data, len) == IMGDECODE_HEIF)
		return true;
	if (len >= 2 && (memcmp(data, "PK", 2) == 0 || (data[0] == 0x1f && data[1] == 0x8b)))
		return true;
	return tarread_is_tar(data, len);
}

/* RGBA over white, or RGB as it is, into rows of w * ncomp (grey when the config says so). */
static uint8_t *
imgdecode_flatten(const struct san_config *cfg, const uint8_t *src, size_t stride, uint32_t w, uint32_t h,
    bool alpha, uint8_t *ncomp)
{
	unsigned in = alpha ? 4 : 3, out = cfg->gray ? 1 : 3;
	uint8_t *dst = malloc((size_t)w * h * out);

	if (dst == NULL)
		return NULL;
	for (uint32_t y = 0; y < h; y++) {
		const uint8_t *s = src + (size_t)y * stride;
		uint8_t *d = dst + (size_t)y * w * out;
		for (uint32_t x = 0; x < w; x++, s += in) {
			unsigned a = alpha ? s[3] : 255, rgb[3];
			for (int c = 0; c < 3; c++)
				rgb[c] = (s[c] * a + 255 * (255 - a) + 127) / 255;
			if (out == 1)
				*d++ = (uint8_t)((rgb[0] * 77 + rgb[1] * 150 + rgb[2] * 29 + 128) >> 8);
			else
				for (int c = 0; c < 3; c++)
					*d++ = (uint8_t)rgb[c];
		}
	}
	*ncomp = (uint8_t)out;
	return dst;
}

/* The decoded rows to the parent: an image (PNG/JPEG), or a page when images.mode = "pdf". */
static void
imgdecode_ship(const struct san_job *job, const struct imgdecode_pixels *pix, struct san_result *res)
{
	struct san_pixels px;

	memset(&px, 0, sizeof px);
	px.w = pix->w;
	px.h = pix->h;
	px.ncomp = pix->ncomp;
	px.photo = pix->photo;
	px.image = job->cfg->image_mode != SAN_IMAGE_PDF;
	px.page_w = pix->w * 72.0 / 150.0;   /* a page as the PDF path would print it: 150 dpi */
	px.page_h = pix->h * 72.0 / 150.0;
	if (arena_ship(job->arena, pix->rows, (size_t)pix->w * pix->ncomp, &px) < 0) {
		res_block(res, "image pixels could not be passed on");
		return;
	}
	res->px = xcalloc(1, sizeof *res->px);
	res->px[0] = px;
	res->n_px = 1;
	res->action = px.image ? SAN_REENCODED : SAN_FLATTENED;
	res->payload = px.image ? SAN_PAY_IMAGE : SAN_PAY_PAGES;
	if (!px.image)
		res->pages = 1;
}

static int
imgdecode_fits(const struct san_config *cfg, int w, int h, const char *what, char *why, size_t why_size)
{
	if (w <= 0 || h <= 0) {
		snprintf(why, why_size, "%s image could not be decoded: no dimensions", what);
		return -1;
	}
	if ((uint64_t)w * (uint64_t)h > cfg->max_image_pixels) {
		snprintf(why, why_size, "image of %dx%d pixels exceeds the pixel limit (decompression bomb?)", w, h);
		return -1;
	}
	return 0;
}

static int
imgdecode_rows(const struct san_config *cfg, const uint8_t *src, size_t stride, int w, int h, bool alpha,
    bool photo, struct imgdecode_pixels *out, char *why, size_t why_size)
{
	out->w = (uint32_t)w;
	out->h = (uint32_t)h;
	out->photo = photo;
	out->rows = imgdecode_flatten(cfg, src, stride, out->w, out->h, alpha, &out->ncomp);
	if (out->rows == NULL) {
		snprintf(why, why_size, "image too large to decode in memory");
		return -1;
	}
	return 0;
}

static int
imgdecode_webp(const struct san_config *cfg, const uint8_t *data, size_t len, struct imgdecode_pixels *out,
    char *why, size_t why_size)
{
	WebPBitstreamFeatures f;
	uint8_t *rgba;
	int w, h, rc;

	if (WebPGetFeatures(data, len, &f) != VP8_STATUS_OK) {
		snprintf(why, why_size, "WebP image could not be decoded: damaged header");
		return -1;
	}
	if (f.has_animation) {
		snprintf(why, why_size, "animated WebP is not accepted: ask the sender for a still image (JPEG/PNG)");
		return -1;
	}
	if (imgdecode_fits(cfg, f.width, f.height, "WebP", why, why_size) < 0)
		return -1;
	rgba = f.has_alpha ? WebPDecodeRGBA(data, len, &w, &h) : WebPDecodeRGB(data, len, &w, &h);
	if (rgba == NULL || w != f.width || h != f.height) {
		snprintf(why, why_size, "WebP image could not be decoded: damaged or truncated");
		WebPFree(rgba);
		return -1;
	}
	/* a lossy WebP is a photograph (JPEG out); a lossless one a drawing (PNG out) */
	rc = imgdecode_rows(cfg, rgba, (size_t)w * (f.has_alpha ? 4 : 3), w, h, f.has_alpha, f.format != 2, out,
	    why, why_size);
	WebPFree(rgba);
	return rc;
}

/* The primary image's handle after the container is read (no pixel yet): NULL with why. */
static struct heif_image_handle *
imgdecode_heif_handle(struct heif_context *hc, const uint8_t *data, size_t len, char *why, size_t why_size)
{
	struct heif_image_handle *handle = NULL;
	struct heif_error err = heifload.heif_context_read_from_memory_without_copy(hc, data, len, NULL);

	if (err.code == heif_error_Ok)
		err = heifload.heif_context_get_primary_image_handle(hc, &handle);
	if (err.code != heif_error_Ok) {
		snprintf(why, why_size, "HEIF image could not be decoded: %s", err.message ? err.message : "damaged");
		return NULL;
	}
	return handle;
}

/* The primary image decoded to interleaved RGB(A), its size held to the limit again. */
static int
imgdecode_heif_pixels(const struct san_config *cfg, struct heif_image_handle *handle, struct heif_image **img,
    struct imgdecode_pixels *out, char *why, size_t why_size)
{
	bool alpha = heifload.heif_image_handle_has_alpha_channel(handle);
	struct heif_decoding_options *opt = heifload.heif_decoding_options_alloc();
	struct heif_error err = heifload.heif_decode_image(handle, img, heif_colorspace_RGB,
	    alpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB, opt);
	int stride = 0;

	heifload.heif_decoding_options_free(opt);
	if (err.code != heif_error_Ok || *img == NULL) {
		snprintf(why, why_size, "HEIF image could not be decoded: %s", err.message ? err.message : "damaged");
		return -1;
	}
	const uint8_t *plane = heifload.heif_image_get_plane_readonly(*img, heif_channel_interleaved, &stride);
	int w = heifload.heif_image_get_width(*img, heif_channel_interleaved), h = heifload.heif_image_get_height(*img, heif_channel_interleaved);
	if (imgdecode_fits(cfg, w, h, "HEIF", why, why_size) < 0)
		return -1;
	if (plane == NULL || stride <= 0 || (size_t)stride < (size_t)w * (alpha ? 4 : 3)) {
		snprintf(why, why_size, "HEIF image could not be decoded: no pixels");
		return -1;
	}
	return imgdecode_rows(cfg, plane, (size_t)stride, w, h, alpha, true, out, why, why_size);
}

static int
imgdecode_heif(const struct san_config *cfg, const uint8_t *data, size_t len, struct imgdecode_pixels *out,
    char *why, size_t why_size)
{
	struct heif_context *hc;
	struct heif_image_handle *handle = NULL;
	struct heif_image *img = NULL;
	int rc = -1;

	if (!heifload_ready()) {   /* never loaded here: the worker can open no file */
		snprintf(why, why_size, "HEIF image cannot be decoded: the HEIF decoder is not loaded (%s)",
		    heifload_error()[0] ? heifload_error() : "not needed for the outer file");
		return -1;
	}
	if ((hc = heifload.heif_context_alloc()) == NULL) {
		snprintf(why, why_size, "HEIF decoder could not start (out of memory)");
		return -1;
	}
	heifload.heif_context_set_max_decoding_threads(hc, 0);   /* no thread can start in the sandbox */
	/* libheif's own guard, per side, for what a file's boxes claim (tiles, auxiliary images); the area is ours */
	heifload.heif_context_set_maximum_image_size_limit(hc, (int)(cfg->max_image_pixels < (1u << 18) ? cfg->max_image_pixels : 1u << 18));
	if ((handle = imgdecode_heif_handle(hc, data, len, why, why_size)) != NULL &&
	    imgdecode_fits(cfg, heifload.heif_image_handle_get_width(handle), heifload.heif_image_handle_get_height(handle), "HEIF",
	    why, why_size) == 0)
		rc = imgdecode_heif_pixels(cfg, handle, &img, out, why, why_size);
	heifload.heif_image_release(img);
	heifload.heif_image_handle_release(handle);
	heifload.heif_context_free(hc);
	return rc;
}

int
imgdecode_decode(const struct san_config *cfg, const uint8_t *data, size_t len, enum imgdecode_type type,
    struct imgdecode_pixels *out, char *why, size_t why_size)
{
	memset(out, 0, sizeof *out);
	if (type == IMGDECODE_WEBP)
		return imgdecode_webp(cfg, data, len, out, why, why_size);
	if (type == IMGDECODE_HEIF)
		return imgdecode_heif(cfg, data, len, out, why, why_size);
	snprintf(why, why_size, "not a HEIF or WebP image");
	return -1;
}

void
imgdecode_image(const struct san_job *job, const uint8_t *data, size_t len, enum imgdecode_type type,
    struct san_result *res)
{
	struct imgdecode_pixels pix;
	char why[256] = "";

	if (imgdecode_decode(job->cfg, data, len, type, &pix, why, sizeof why) < 0) {
		res_block(res, "%s", why);
		return;
	}
	imgdecode_ship(job, &pix, res);
	free(pix.rows);
	if (res->action != SAN_BLOCKED)
		res_finding(res, "%s decoded to pixels (metadata dropped)", type == IMGDECODE_WEBP ? "WebP" : "HEIF");
}

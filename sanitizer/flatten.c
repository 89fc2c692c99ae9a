/* flatten.c -- PDFs and images rendered by MuPDF into pixels, rebuilt as a PDF of one image per page (or a new image). */
#include <math.h>
#include <mupdf/fitz.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "sanitizer/internal.h"

/* Text, tables and diagrams rendered without anti-aliasing use a few dozen colours at most. */
#define FLATTEN_FLAT_COLOURS 96

/* MuPDF's cache of decoded resources: the default 256 MB only shows up as RSS. */
#define FLATTEN_STORE (32u << 20)

static void
flatten_quiet(void *user, const char *message)
{
	(void)user;
	(void)message;
}

static fz_context *
flatten_context(const struct san_config *cfg)
{
	fz_context *ctx = fz_new_context(NULL, NULL, FLATTEN_STORE);

	if (ctx == NULL)
		return NULL;
	fz_set_warning_callback(ctx, flatten_quiet, NULL);
	fz_set_error_callback(ctx, flatten_quiet, NULL);
	fz_try(ctx) {
		fz_register_document_handlers(ctx);
		fz_disable_icc(ctx);
		/* anti-aliasing makes Flate pages ~4x larger; JPEG pages look better with it */
		fz_set_aa_level(ctx, cfg->codec == SAN_CODEC_JPEG ? 8 : 0);
	}
	fz_catch(ctx) {
		fz_drop_context(ctx);
		return NULL;
	}
	return ctx;
}

static fz_document *
flatten_open(fz_context *ctx, const char *magic, const uint8_t *data, size_t len)
{
	fz_stream *stm = NULL;
	fz_document *doc = NULL;

	fz_var(stm);
	fz_var(doc);
	fz_try(ctx) {
		stm = fz_open_memory(ctx, data, len);
		doc = fz_open_document_with_stream(ctx, magic, stm);
	}
	fz_always(ctx)
		fz_drop_stream(ctx, stm);
	fz_catch(ctx)
		doc = NULL;
	return doc;
}

/* Flate beyond ~1/4 bit per pixel means gradients or photos: then JPEG is tried and the smaller kept. */
static bool
flatten_flate_too_big(const struct page_image *img)
{
	return img->len > (size_t)img->w * (size_t)img->h / 32;
}

/* Keeps the JPEG form of the page when it is smaller than the Flate one already in img. */
static int
flatten_try_jpeg(const struct san_config *cfg, const uint8_t *px, size_t stride, int n, struct page_image *img)
{
	uint8_t *jpeg = NULL;
	size_t jpeg_len = 0;

	if (imgenc_jpeg(px, img->w, img->h, n, stride, (int)cfg->jpeg_quality, &jpeg, &jpeg_len) < 0)
		return -1;
	if (jpeg_len >= img->len) {
		free(jpeg);
		return 0;
	}
	free(img->data);
	img->data = jpeg;
	img->len = jpeg_len;
	img->dct = true;
	img->ncomp = n;
	img->palette_n = 0;
	return 0;
}

/*
 * Encodes one pixmap (no alpha) as the configured page image. AUTO keeps
 * pages of few colours (text, tables: rendered without anti-aliasing)
 * lossless and small as indexed Flate; pages with more colours, or whose
 * Flate form is large (gradients), are photo-like and go as JPEG.
 */
static int
flatten_encode(const struct san_config *cfg, fz_context *ctx, fz_pixmap *pix, struct page_image *img)
{
	int w = fz_pixmap_width(ctx, pix), h = fz_pixmap_height(ctx, pix), n = fz_pixmap_components(ctx, pix);
	size_t stride = (size_t)fz_pixmap_stride(ctx, pix);
	const uint8_t *px = fz_pixmap_samples(ctx, pix);
	int rc;

	memset(img, 0, sizeof *img);
	img->w = w;
	img->h = h;
	img->ncomp = n;
	if (cfg->codec == SAN_CODEC_JPEG)
		goto jpeg;
	if (cfg->codec == SAN_CODEC_FLATE)
		return imgenc_flate(px, w, h, n, stride, &img->data, &img->len);
	if (n == 3) {
		uint8_t *indexed = imgenc_palette(px, w, h, stride, img->palette, &img->palette_n);
		if (indexed && img->palette_n > FLATTEN_FLAT_COLOURS) {
			free(indexed);   /* a gradient's steps, not flat colours: JPEG without trying Flate */
			indexed = NULL;
		}
		if (indexed == NULL)
			goto jpeg;
		rc = imgenc_flate(indexed, w, h, 1, (size_t)w, &img->data, &img->len);
		free(indexed);
		img->ncomp = 1;
	} else {
		rc = imgenc_flate(px, w, h, n, stride, &img->data, &img->len);
	}
	if (rc < 0 || !flatten_flate_too_big(img))
		return rc;
	return flatten_try_jpeg(cfg, px, stride, n, img);
jpeg:
	img->dct = true;
	img->ncomp = n;
	img->palette_n = 0;
	return imgenc_jpeg(px, w, h, n, stride, (int)cfg->jpeg_quality, &img->data, &img->len);
}

/* The zoom for a page: the configured DPI, less when the page would exceed the pixel limit. */
static float
flatten_zoom(const struct san_config *cfg, fz_rect bounds, float zoom, int pageno, struct san_result *res)
{
	double w = (bounds.x1 - bounds.x0) * zoom, h = (bounds.y1 - bounds.y0) * zoom;

	if (w * h > (double)cfg->max_page_pixels) {
		zoom *= (float)sqrt((double)cfg->max_page_pixels / (w * h));
		res_finding(res, "page %d rendered at reduced resolution (pixel limit)", pageno + 1);
	}
	return zoom;
}

/* Renders page i and appends it to pw. Returns 0, or -1 with a reason in res. */
static int
flatten_page(const struct san_config *cfg, fz_context *ctx, fz_document *doc, int i, float zoom,
    struct pdfwrite *pw, struct san_result *res)
{
	fz_page *page = NULL;
	fz_pixmap *pix = NULL;
	struct page_image img;
	int rc = 0;

	memset(&img, 0, sizeof img);
	fz_var(page);
	fz_var(pix);
	fz_var(zoom);
	fz_try(ctx) {
		page = fz_load_page(ctx, doc, i);
		fz_rect b = fz_bound_page(ctx, page);
		if (b.x1 - b.x0 < 1 || b.y1 - b.y0 < 1 || b.x1 - b.x0 > 14400 * 4 || b.y1 - b.y0 > 14400 * 4)
			fz_throw(ctx, FZ_ERROR_GENERIC, "page size out of range");
		zoom = flatten_zoom(cfg, b, zoom, i, res);
		pix = fz_new_pixmap_from_page(ctx, page, fz_scale(zoom, zoom),
		    cfg->gray ? fz_device_gray(ctx) : fz_device_rgb(ctx), 0);
		if (flatten_encode(cfg, ctx, pix, &img) < 0 ||
		    pdfwrite_add_page(pw, &img, b.x1 - b.x0, b.y1 - b.y0) < 0)
			fz_throw(ctx, FZ_ERROR_GENERIC, "cannot encode the page image");
	}
	fz_always(ctx) {
		fz_drop_pixmap(ctx, pix);
		fz_drop_page(ctx, page);
		free(img.data);
	}
	fz_catch(ctx) {
		res_block(res, "page %d could not be rendered: %s", i + 1, fz_caught_message(ctx));
		rc = -1;
	}
	return rc;
}

/* Every page of doc into a new image-only PDF (res gets the output or the reason). */
static void
flatten_doc(const struct san_job *job, fz_context *ctx, fz_document *doc, const char *name,
    struct san_result *res)
{
	const struct san_config *cfg = job->cfg;
	struct pdfwrite *pw;
	uint8_t *out = NULL;
	size_t out_len = 0;
	const char *why;
	int pages = 0;

	fz_var(pages);
	fz_try(ctx)
		pages = fz_count_pages(ctx, doc);
	fz_catch(ctx)
		pages = 0;
	if (pages <= 0) {
		res_block(res, "no pages (unreadable, damaged or truncated document)");
		return;
	}
	if ((unsigned)pages > cfg->max_pages) {
		res_block(res, "%d pages: more than the limit of %u", pages, cfg->max_pages);
		return;
	}
	res->pages = (unsigned)pages;
	pw = pdfwrite_new();
	for (int i = 0; i < pages; i++)
		if (flatten_page(cfg, ctx, doc, i, (float)cfg->dpi / 72.0f, pw, res) < 0) {
			pdfwrite_free(pw);
			return;
		}
	if (pdfwrite_finish(pw, &out, &out_len, &why) < 0) {
		res_block(res, "%s", why);
	} else if (out_len > cfg->max_output_bytes) {
		free(out);
		res_block(res, "flattened PDF larger than the output limit");
	} else {
		char *out_name = res_name_with_ext(name, ".pdf", false);
		res_output(res, SAN_FLATTENED, out, out_len, out_name, "application/pdf");
		free(out_name);
	}
	pdfwrite_free(pw);
}

void
flatten_pdf(const struct san_job *job, const uint8_t *data, size_t len, struct san_result *res)
{
	fz_context *ctx = flatten_context(job->cfg);
	fz_document *doc;

	if (ctx == NULL) {
		res_block(res, "renderer could not start (out of memory)");
		return;
	}
	doc = flatten_open(ctx, "application/pdf", data, len);
	if (doc == NULL) {
		res_block(res, "unreadable PDF");
	} else if (fz_needs_password(ctx, doc)) {
		res->encrypted = true;
		res_block(res, "encrypted");
	} else {
		flatten_doc(job, ctx, doc, res->name, res);
	}
	fz_drop_document(ctx, doc);
	fz_drop_context(ctx);
}

/* MuPDF's image handler is chosen by extension-like magic. */
static const char *
flatten_image_magic(const char *mime)
{
	static const struct { const char *mime, *magic; } map[] = {
		{ "image/jpeg", "jpg" }, { "image/png", "png" }, { "image/gif", "gif" },
		{ "image/bmp", "bmp" }, { "image/x-ms-bmp", "bmp" }, { "image/tiff", "tif" },
		{ "image/jp2", "jp2" }, { "image/x-portable-pixmap", "pnm" },
		{ "image/x-portable-graymap", "pnm" }, { "image/x-portable-bitmap", "pnm" },
	};

	for (size_t i = 0; i < ARRAY_LEN(map); i++)
		if (strcmp(map[i].mime, mime) == 0)
			return map[i].magic;
	return NULL;
}

/* Decodes only the header: the pixel bomb is refused before any pixel is made. */
static int
flatten_image_size(fz_context *ctx, const uint8_t *data, size_t len, int *w, int *h, char *why, size_t why_size)
{
	fz_buffer *buf = NULL;
	fz_image *img = NULL;
	int rc = 0;

	fz_var(buf);
	fz_var(img);
	fz_try(ctx) {
		buf = fz_new_buffer_from_shared_data(ctx, data, len);
		img = fz_new_image_from_buffer(ctx, buf);
		*w = img->w;
		*h = img->h;
	}
	fz_always(ctx) {
		fz_drop_image(ctx, img);
		fz_drop_buffer(ctx, buf);
	}
	fz_catch(ctx) {
		snprintf(why, why_size, "%s", fz_caught_message(ctx));
		rc = -1;
	}
	return rc;
}

/* One image page at its own pixel size into a new PNG or JPEG. */
static void
flatten_reencode(const struct san_job *job, fz_context *ctx, fz_document *doc, int w, int h,
    struct san_result *res)
{
	const struct san_config *cfg = job->cfg;
	fz_page *page = NULL;
	fz_pixmap *pix = NULL;
	fz_buffer *png = NULL;
	uint8_t *out = NULL;
	size_t out_len = 0;
	bool jpeg = cfg->image_format == SAN_IMAGE_JPEG;

	fz_var(page);
	fz_var(pix);
	fz_var(png);
	fz_var(out);
	fz_try(ctx) {
		page = fz_load_page(ctx, doc, 0);
		fz_rect b = fz_bound_page(ctx, page);
		float zoom = b.x1 - b.x0 > 0 ? (float)w / (b.x1 - b.x0) : 1.0f;
		(void)h;
		pix = fz_new_pixmap_from_page(ctx, page, fz_scale(zoom, zoom),
		    cfg->gray ? fz_device_gray(ctx) : fz_device_rgb(ctx), 0);
		if (jpeg) {
			if (imgenc_jpeg(fz_pixmap_samples(ctx, pix), fz_pixmap_width(ctx, pix),
			    fz_pixmap_height(ctx, pix), fz_pixmap_components(ctx, pix),
			    (size_t)fz_pixmap_stride(ctx, pix), (int)cfg->jpeg_quality, &out, &out_len) < 0)
				fz_throw(ctx, FZ_ERROR_GENERIC, "JPEG encoder failed");
		} else {
			unsigned char *p;
			png = fz_new_buffer_from_pixmap_as_png(ctx, pix, fz_default_color_params);
			out_len = fz_buffer_storage(ctx, png, &p);
			out = xmalloc(out_len ? out_len : 1);
			memcpy(out, p, out_len);
		}
	}
	fz_always(ctx) {
		fz_drop_buffer(ctx, png);
		fz_drop_pixmap(ctx, pix);
		fz_drop_page(ctx, page);
	}
	fz_catch(ctx) {
		free(out);
		res_block(res, "image could not be decoded: %s", fz_caught_message(ctx));
		return;
	}
	char *out_name = res_name_with_ext(res->name, jpeg ? ".jpg" : ".png", false);
	res_output(res, SAN_REENCODED, out, out_len, out_name, jpeg ? "image/jpeg" : "image/png");
	free(out_name);
}

static void
flatten_image_doc(const struct san_job *job, fz_context *ctx, fz_document *doc, int w, int h,
    struct san_result *res)
{
	int pages = 0;

	fz_var(pages);
	fz_try(ctx)
		pages = fz_count_pages(ctx, doc);
	fz_catch(ctx)
		pages = 0;
	if (job->cfg->image_mode == SAN_IMAGE_PDF || pages > 1)
		flatten_doc(job, ctx, doc, res->name, res);
	else if (pages == 1)
		flatten_reencode(job, ctx, doc, w, h, res);
	else
		res_block(res, "image could not be decoded");
}

void
flatten_image(const struct san_job *job, const uint8_t *data, size_t len, const char *mime,
    struct san_result *res)
{
	const char *magic = flatten_image_magic(mime);
	fz_context *ctx;
	fz_document *doc = NULL;
	int w = 0, h = 0;
	char why[256] = "";

	if (magic == NULL) {
		res_block(res, "image type %s is not supported", mime);
		return;
	}
	ctx = flatten_context(job->cfg);
	if (ctx == NULL) {
		res_block(res, "renderer could not start (out of memory)");
		return;
	}
	if (flatten_image_size(ctx, data, len, &w, &h, why, sizeof why) < 0 || w <= 0 || h <= 0)
		res_block(res, "image could not be decoded%s%s", *why ? ": " : "", why);
	else if ((uint64_t)w * (uint64_t)h > job->cfg->max_image_pixels)
		res_block(res, "image of %dx%d pixels exceeds the pixel limit (decompression bomb?)", w, h);
	else if ((doc = flatten_open(ctx, magic, data, len)) == NULL)
		res_block(res, "image could not be decoded");
	else
		flatten_image_doc(job, ctx, doc, w, h, res);
	fz_drop_document(ctx, doc);
	fz_drop_context(ctx);
}

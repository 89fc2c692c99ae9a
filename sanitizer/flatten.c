/* flatten.c -- PDFs and images rendered by MuPDF and shipped as pixels; the parent builds the PDF or the new image. */
#include <mupdf/fitz.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "sanitizer/internal.h"
#include "sanitizer/pages.h"

/* MuPDF's cache of decoded resources: the default 256 MB only shows up as RSS. */
#define FLATTEN_STORE (32u << 20)

static fz_context *
flatten_context(const struct san_config *cfg)
{
	fz_context *ctx = fz_new_context(NULL, pages_locks(), FLATTEN_STORE);

	if (ctx == NULL)
		return NULL;
	pages_tune(ctx, cfg);
	fz_try(ctx)
		fz_register_document_handlers(ctx);
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

/* Every page of doc shipped as pixels (res lists the pages, or gets the reason). */
static void
flatten_doc(const struct san_job *job, fz_context *ctx, fz_document *doc, struct san_result *res)
{
	const struct san_config *cfg = job->cfg;
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
	if (pages_render(job, ctx, doc, pages, res) < 0) {
		free(res->px);
		res->px = NULL;
		res->n_px = 0;
		return;
	}
	res->action = SAN_FLATTENED;
	res->payload = SAN_PAY_PAGES;
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
		flatten_doc(job, ctx, doc, res);
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

/* One image page at its own pixel size, shipped as pixels; the parent writes the PNG or JPEG. */
static void
flatten_reencode(const struct san_job *job, fz_context *ctx, fz_document *doc, int w, struct san_result *res)
{
	const struct san_config *cfg = job->cfg;
	struct san_pixels px;
	fz_page *page = NULL;
	fz_pixmap *pix = NULL;

	memset(&px, 0, sizeof px);
	fz_var(page);
	fz_var(pix);
	fz_try(ctx) {
		page = fz_load_page(ctx, doc, 0);
		fz_rect b = fz_bound_page(ctx, page);
		float zoom = b.x1 - b.x0 > 0 ? (float)w / (b.x1 - b.x0) : 1.0f;
		pix = fz_new_pixmap_from_page(ctx, page, fz_scale(zoom, zoom),
		    cfg->gray ? fz_device_gray(ctx) : fz_device_rgb(ctx), 0);
		if ((uint64_t)fz_pixmap_width(ctx, pix) * (uint64_t)fz_pixmap_height(ctx, pix) > cfg->max_image_pixels)
			fz_throw(ctx, FZ_ERROR_GENERIC, "over the pixel limit");
		px.w = (uint32_t)fz_pixmap_width(ctx, pix);
		px.h = (uint32_t)fz_pixmap_height(ctx, pix);
		px.ncomp = (uint8_t)fz_pixmap_components(ctx, pix);
		px.image = true;
		/* a photograph stays a JPEG: re-encoding it as PNG would make it several times larger */
		px.photo = res->detected_mime && strcmp(res->detected_mime, "image/jpeg") == 0;
		if (arena_ship(job->arena, fz_pixmap_samples(ctx, pix), (size_t)fz_pixmap_stride(ctx, pix), &px) < 0)
			fz_throw(ctx, FZ_ERROR_GENERIC, "pixels could not be passed on");
	}
	fz_always(ctx) {
		fz_drop_pixmap(ctx, pix);
		fz_drop_page(ctx, page);
	}
	fz_catch(ctx) {
		res_block(res, "image could not be decoded: %s", fz_caught_message(ctx));
		return;
	}
	res->px = xcalloc(1, sizeof *res->px);
	res->px[0] = px;
	res->n_px = 1;
	res->action = SAN_REENCODED;
	res->payload = SAN_PAY_IMAGE;
}

static void
flatten_image_doc(const struct san_job *job, fz_context *ctx, fz_document *doc, int w, struct san_result *res)
{
	int pages = 0;

	fz_var(pages);
	fz_try(ctx)
		pages = fz_count_pages(ctx, doc);
	fz_catch(ctx)
		pages = 0;
	if (job->cfg->image_mode == SAN_IMAGE_PDF || pages > 1)
		flatten_doc(job, ctx, doc, res);
	else if (pages == 1)
		flatten_reencode(job, ctx, doc, w, res);
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
		flatten_image_doc(job, ctx, doc, w, res);
	fz_drop_document(ctx, doc);
	fz_drop_context(ctx);
}

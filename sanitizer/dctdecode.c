/* dctdecode.c -- MuPDF's JPEG (DCTDecode) filter, replaced at link time: whole scanlines straight from libjpeg-turbo, no byte-by-byte copy. */

/*
 * Why: MuPDF 1.21's filter-dct.c hands out its output through a 4 KB
 * buffer; a scanline wider than that (any colour scan over 1365 pixels)
 * is decoded into a line buffer and copied into it one byte at a time.
 * On a 200 dpi scanned page that copy loop was a quarter of the time of
 * flattening it, more than the JPEG decoding itself.
 *
 * How: as inflate.c does for Flate, this file defines the one external
 * symbol of libmupdf.a's filter-dct.o (fz_open_dctd), so that object stays
 * out of the link. The stream decodes whole scanlines (as many as fit in
 * DCT_CHUNK) directly into its output buffer. Everything else -- the
 * JPEGTables prefix, the ColorTransform guess and the Adobe marker, the
 * l2factor subsampling, the tolerance of a truncated stream (EOI supplied,
 * with a warning), where the chain is left -- is MuPDF 1.21's behaviour.
 * Debian's MuPDF uses the shared libjpeg (libjpeg-turbo), so the state
 * travels in client_data.
 */
#include <mupdf/fitz.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>   /* after stdio.h: it uses FILE and size_t */

#include "sanitizer/internal.h"

#if FZ_VERSION_MAJOR != 1 || FZ_VERSION_MINOR != 21
#error "dctdecode.c replaces MuPDF 1.21's filter-dct.c: check it against this MuPDF's before building"
#endif

#define DCT_CHUNK (256u << 10)   /* output per call: whole scanlines, at least one */

struct dctd {
	fz_stream *chain, *jpegtables, *curr_stm;
	fz_context *ctx;
	int color_transform, l2factor;
	bool init;
	size_t stride, buffer_rows;
	unsigned char *buffer;
	struct jpeg_decompress_struct cinfo;
	struct jpeg_source_mgr srcmgr;
	struct jpeg_error_mgr errmgr;
};

static void
dctd_error_exit(j_common_ptr cinfo)
{
	struct dctd *state = cinfo->client_data;
	char msg[JMSG_LENGTH_MAX];

	cinfo->err->format_message(cinfo, msg);
	fz_throw(state->ctx, FZ_ERROR_GENERIC, "jpeg error: %s", msg);
}

static void
dctd_nothing(j_decompress_ptr cinfo)
{
	(void)cinfo;
}

static boolean
dctd_fill(j_decompress_ptr cinfo)
{
	static unsigned char eoi[2] = { 0xFF, JPEG_EOI };
	struct jpeg_source_mgr *src = cinfo->src;
	struct dctd *state = cinfo->client_data;
	fz_context *ctx = state->ctx;
	fz_stream *curr = state->curr_stm;

	curr->rp = curr->wp;
	fz_try(ctx)
		src->bytes_in_buffer = fz_available(ctx, curr, 1);
	fz_catch(ctx)
		return 0;
	src->next_input_byte = curr->rp;
	if (src->bytes_in_buffer == 0) {
		fz_warn(ctx, "premature end of file in jpeg");
		src->next_input_byte = eoi;
		src->bytes_in_buffer = 2;
	}
	return 1;
}

static void
dctd_skip(j_decompress_ptr cinfo, long num_bytes)
{
	struct jpeg_source_mgr *src = cinfo->src;

	if (num_bytes <= 0)
		return;
	while ((size_t)num_bytes > src->bytes_in_buffer) {
		num_bytes -= (long)src->bytes_in_buffer;
		(void)src->fill_input_buffer(cinfo);
	}
	src->next_input_byte += num_bytes;
	src->bytes_in_buffer -= (size_t)num_bytes;
}

/* The colour space libjpeg should convert from, as MuPDF decides it. */
static void
dctd_colour(struct dctd *state)
{
	j_decompress_ptr cinfo = &state->cinfo;

	if (state->color_transform == -1)   /* not set in the PDF */
		state->color_transform = cinfo->num_components == 3;
	if (cinfo->saw_Adobe_marker)
		state->color_transform = cinfo->Adobe_transform;
	if (cinfo->num_components == 3)
		cinfo->jpeg_color_space = state->color_transform ? JCS_YCbCr : JCS_RGB;
	else if (cinfo->num_components == 4)
		cinfo->jpeg_color_space = state->color_transform ? JCS_YCCK : JCS_CMYK;
}

static void
dctd_start(fz_context *ctx, struct dctd *state)
{
	j_decompress_ptr cinfo = &state->cinfo;
	int c;

	state->init = true;
	while ((c = fz_peek_byte(ctx, state->chain)) == '\n' || c == '\r' || c == ' ')
		(void)fz_read_byte(ctx, state->chain);   /* stray whitespace before the SOI */
	jpeg_create_decompress(cinfo);
	cinfo->client_data = state;
	cinfo->src = &state->srcmgr;
	cinfo->src->init_source = dctd_nothing;
	cinfo->src->fill_input_buffer = dctd_fill;
	cinfo->src->skip_input_data = dctd_skip;
	cinfo->src->resync_to_restart = jpeg_resync_to_restart;
	cinfo->src->term_source = dctd_nothing;
	if (state->jpegtables) {   /* optional tables first */
		state->curr_stm = state->jpegtables;
		cinfo->src->next_input_byte = state->curr_stm->rp;
		cinfo->src->bytes_in_buffer = (size_t)(state->curr_stm->wp - state->curr_stm->rp);
		jpeg_read_header(cinfo, 0);
		state->curr_stm->rp = state->curr_stm->wp - cinfo->src->bytes_in_buffer;
		state->curr_stm = state->chain;
	}
	cinfo->src->next_input_byte = state->curr_stm->rp;
	cinfo->src->bytes_in_buffer = (size_t)(state->curr_stm->wp - state->curr_stm->rp);
	jpeg_read_header(cinfo, 1);
	dctd_colour(state);
	cinfo->scale_num = (unsigned)(8 / (1 << state->l2factor));
	cinfo->scale_denom = 8;
	jpeg_start_decompress(cinfo);
	state->stride = (size_t)cinfo->output_width * (size_t)cinfo->output_components;
	if (state->stride == 0)
		fz_throw(ctx, FZ_ERROR_GENERIC, "jpeg error: empty image");
	state->buffer_rows = DCT_CHUNK / state->stride ? DCT_CHUNK / state->stride : 1;
	state->buffer = fz_malloc(ctx, state->buffer_rows * state->stride);
}

static int
dctd_next(fz_context *ctx, fz_stream *stm, size_t max)
{
	struct dctd *state = stm->state;
	j_decompress_ptr cinfo = &state->cinfo;
	size_t rows = 0;

	(void)max;   /* whole scanlines: a reader asking for less takes the rest from rp..wp next time */
	fz_var(rows);
	fz_try(ctx) {
		if (!state->init)
			dctd_start(ctx, state);
		while (rows < state->buffer_rows && cinfo->output_scanline < cinfo->output_height) {
			JSAMPROW row[16];
			size_t want = state->buffer_rows - rows < 16 ? state->buffer_rows - rows : 16;
			for (size_t i = 0; i < want; i++)
				row[i] = state->buffer + (rows + i) * state->stride;
			JDIMENSION got = jpeg_read_scanlines(cinfo, row, (JDIMENSION)want);
			if (got == 0)
				break;
			rows += got;
		}
	}
	fz_catch(ctx) {
		if (cinfo->src)
			state->curr_stm->rp = state->curr_stm->wp - cinfo->src->bytes_in_buffer;
		fz_rethrow(ctx);
	}
	stm->rp = state->buffer;
	stm->wp = state->buffer + rows * state->stride;
	stm->pos += (int64_t)(rows * state->stride);
	if (rows == 0)
		return EOF;
	return *stm->rp++;
}

static void
dctd_close(fz_context *ctx, void *v)
{
	struct dctd *state = v;

	if (state->init) {
		/* jpeg_abort, not jpeg_finish_decompress: no warnings about data left unread; it can throw */
		fz_try(ctx)
			jpeg_abort((j_common_ptr)&state->cinfo);
		fz_catch(ctx) {
			/* nothing to keep of a failed abort */
		}
		jpeg_destroy_decompress(&state->cinfo);
	}
	if (state->cinfo.src)
		state->curr_stm->rp = state->curr_stm->wp - state->cinfo.src->bytes_in_buffer;
	fz_free(ctx, state->buffer);
	fz_drop_stream(ctx, state->chain);
	fz_drop_stream(ctx, state->jpegtables);
	fz_free(ctx, state);
}

/* MuPDF's defaults: color_transform -1 (unset), l2factor 0, jpegtables NULL. */
fz_stream *
fz_open_dctd(fz_context *ctx, fz_stream *chain, int color_transform, int l2factor, fz_stream *jpegtables)
{
	struct dctd *state = fz_malloc_struct(ctx, struct dctd);

	state->ctx = ctx;
	state->color_transform = color_transform;
	state->l2factor = l2factor < 0 ? 0 : l2factor > 3 ? 3 : l2factor;
	state->chain = fz_keep_stream(ctx, chain);
	state->jpegtables = fz_keep_stream(ctx, jpegtables);
	state->curr_stm = state->chain;
	state->cinfo.src = NULL;
	state->cinfo.err = jpeg_std_error(&state->errmgr);
	state->errmgr.error_exit = dctd_error_exit;
	state->cinfo.client_data = state;
	return fz_new_stream(ctx, state, dctd_next, dctd_close);
}

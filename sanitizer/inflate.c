/* inflate.c -- MuPDF's Flate decoder, replaced at link time: libdeflate for whole streams, zlib for the rest. */

/*
 * Why: a Japanese PDF usually embeds its CJK font, several MB of Flate
 * data that MuPDF inflates through zlib 4 KB at a time before it draws a
 * glyph. That one stream was more than half of the time to flatten a
 * short Japanese document. libdeflate inflates the same bytes 2.5 times
 * faster when it has the whole stream at once.
 *
 * How: libmupdf.a is a static archive, so defining the three external
 * symbols of its filter-flate.o (fz_open_flated, fz_zlib_alloc,
 * fz_zlib_free) here keeps that object out of the link and every MuPDF
 * caller gets this decoder. The interface is MuPDF 1.21's (Debian 12);
 * the #error below stops the build on another version so the next person
 * checks it against that version's filter-flate.c.
 *
 * A stream is read whole only when its input is delimited: the chain is
 * one object's bytes (a null or endstream filter bounded by /Length or by
 * "endstream") or a memory buffer (images' compressed buffers). Inline image data sits inside a
 * content stream whose remaining bytes belong to the page, so other chains
 * are streamed through zlib exactly as MuPDF does, leaving the chain just
 * after the compressed data. Data libdeflate refuses (damaged, truncated,
 * or larger than INFLATE_WHOLE_MAX inflated) goes through the same zlib
 * path from the start, which keeps MuPDF's tolerance: what was inflated
 * before the damage is returned, with a warning.
 */
#include <libdeflate.h>
#include <mupdf/fitz.h>
#include <string.h>
#include <zlib.h>

#include "sanitizer/internal.h"

#if FZ_VERSION_MAJOR != 1 || FZ_VERSION_MINOR != 21
#error "inflate.c replaces MuPDF 1.21's filter-flate.c: check it against this MuPDF's before building"
#endif

#define INFLATE_WHOLE_MAX (64u << 20)   /* beyond: zlib streams it, the reader decides how much */
#define INFLATE_CHUNK (16u << 10)

void *fz_zlib_alloc(void *opaque, unsigned int items, unsigned int size);
void fz_zlib_free(void *opaque, void *ptr);
fz_stream *fz_open_flated(fz_context *ctx, fz_stream *chain, int window_bits);

void *
fz_zlib_alloc(void *opaque, unsigned int items, unsigned int size)
{
	return fz_malloc_no_throw((fz_context *)opaque, (size_t)items * size);
}

void
fz_zlib_free(void *opaque, void *ptr)
{
	fz_free((fz_context *)opaque, ptr);
}

struct inflate_state {
	fz_stream *chain;
	int window_bits;
	bool started, whole_ok;
	/* whole mode: every input byte, then every output byte */
	fz_buffer *in_buf;
	unsigned char *in, *out;
	size_t in_len;
	/* zlib mode */
	bool zlib_on;
	z_stream z;
	unsigned char chunk[INFLATE_CHUNK];
};

/* True when reading chain to its end reads exactly this stream's bytes. */
static bool
inflate_delimited(fz_context *ctx, fz_stream *chain)
{
	static const unsigned char nothing[1];
	fz_stream *mem = NULL, *null = NULL, *endstream = NULL;
	bool delimited = false;

	fz_var(mem);
	fz_var(null);
	fz_var(endstream);
	fz_var(delimited);
	fz_try(ctx) {
		mem = fz_open_memory(ctx, nothing, 0);
		null = fz_open_null_filter(ctx, mem, 0, 0);
		endstream = fz_open_endstream_filter(ctx, mem, 0, 0);
		delimited = chain->next == mem->next || chain->next == null->next || chain->next == endstream->next;
	}
	fz_always(ctx) {
		fz_drop_stream(ctx, endstream);
		fz_drop_stream(ctx, null);
		fz_drop_stream(ctx, mem);
	}
	fz_catch(ctx)
		delimited = false;
	return delimited;
}

/* Every byte of the chain into st->in_buf (bounded by the document, which is in memory). */
static void
inflate_read_input(fz_context *ctx, struct inflate_state *st)
{
	static const unsigned char nothing[1];

	st->in_buf = fz_read_all(ctx, st->chain, INFLATE_CHUNK);
	st->in_len = fz_buffer_storage(ctx, st->in_buf, &st->in);
	if (st->in == NULL)
		st->in = (unsigned char *)nothing;   /* read, and empty: not the chain-reading zlib mode */
}

static enum libdeflate_result
inflate_try(struct libdeflate_decompressor *d, int window_bits, const unsigned char *in, size_t in_len,
    unsigned char *out, size_t cap, size_t *got)
{
	if (window_bits > 0)
		return libdeflate_zlib_decompress(d, in, in_len, out, cap, got);
	return libdeflate_deflate_decompress(d, in, in_len, out, cap, got);
}

/* libdeflate on the whole input, growing the output 4x at a time. Returns the length or -1. */
static long long
inflate_whole(fz_context *ctx, struct inflate_state *st)
{
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	size_t cap = st->in_len * 4 + 4096, got = 0;
	enum libdeflate_result r = LIBDEFLATE_INSUFFICIENT_SPACE;

	if (d == NULL)
		return -1;
	while (r == LIBDEFLATE_INSUFFICIENT_SPACE && cap <= INFLATE_WHOLE_MAX) {
		fz_free(ctx, st->out);
		st->out = fz_malloc_no_throw(ctx, cap);
		if (st->out == NULL)
			break;
		r = inflate_try(d, st->window_bits, st->in, st->in_len, st->out, cap, &got);
		cap = cap < INFLATE_WHOLE_MAX / 4 ? cap * 4 : (cap < INFLATE_WHOLE_MAX ? INFLATE_WHOLE_MAX : cap + 1);
	}
	libdeflate_free_decompressor(d);
	if (r != LIBDEFLATE_SUCCESS) {
		fz_free(ctx, st->out);
		st->out = NULL;
		return -1;
	}
	return (long long)got;
}

/* zlib from the beginning: of st->in when it was read whole, else of the chain as it comes. */
static void
inflate_zlib_start(fz_context *ctx, struct inflate_state *st)
{
	memset(&st->z, 0, sizeof st->z);
	st->z.zalloc = fz_zlib_alloc;
	st->z.zfree = fz_zlib_free;
	st->z.opaque = ctx;
	if (inflateInit2(&st->z, st->window_bits) != Z_OK)
		fz_throw(ctx, FZ_ERROR_GENERIC, "zlib error: inflateInit2 failed");
	st->zlib_on = true;
	if (st->in) {
		st->z.next_in = st->in;
		st->z.avail_in = (uInt)st->in_len;
	}
}

/* One inflate call; false when the stream is over (MuPDF's tolerance: damage ends it with a warning). */
static bool
inflate_zlib_step(fz_context *ctx, struct inflate_state *st)
{
	fz_stream *chain = st->chain;
	bool from_chain = st->in == NULL;
	int code;

	if (from_chain) {
		st->z.avail_in = (uInt)fz_available(ctx, chain, 1);
		st->z.next_in = chain->rp;
	}
	code = inflate(&st->z, Z_SYNC_FLUSH);
	if (from_chain)
		chain->rp = chain->wp - st->z.avail_in;
	if (code == Z_OK)
		return true;
	if (code == Z_STREAM_END)
		return false;
	if (code == Z_BUF_ERROR) {
		fz_warn(ctx, "premature end of data in flate filter");
		return false;
	}
	if (code == Z_DATA_ERROR && (st->z.avail_in == 0 || strcmp(st->z.msg, "incorrect data check") == 0)) {
		fz_warn(ctx, "ignoring zlib error: %s", st->z.msg);
		if (from_chain)
			chain->rp = chain->wp;
		return false;
	}
	fz_throw(ctx, FZ_ERROR_GENERIC, "zlib error: %s", st->z.msg ? st->z.msg : "?");
}

static int
inflate_next_zlib(fz_context *ctx, fz_stream *stm, struct inflate_state *st)
{
	st->z.next_out = st->chunk;
	st->z.avail_out = sizeof st->chunk;
	while (st->z.avail_out > 0 && inflate_zlib_step(ctx, st))
		;
	stm->rp = st->chunk;
	stm->wp = st->chunk + (sizeof st->chunk - st->z.avail_out);
	stm->pos += stm->wp - stm->rp;
	if (stm->rp == stm->wp) {
		stm->eof = 1;
		return EOF;
	}
	return *stm->rp++;
}

/* The first read decides: all of it at once from libdeflate, or zlib by the chunk. */
static int
inflate_next(fz_context *ctx, fz_stream *stm, size_t required)
{
	struct inflate_state *st = stm->state;
	long long len;

	(void)required;
	if (stm->eof)
		return EOF;
	if (!st->started) {
		st->started = true;
		if (st->whole_ok) {
			inflate_read_input(ctx, st);
			if ((len = inflate_whole(ctx, st)) >= 0) {
				stm->rp = st->out;
				stm->wp = st->out + len;
				stm->pos += len;
				if (len == 0) {
					stm->eof = 1;
					return EOF;
				}
				return *stm->rp++;
			}
		}
		inflate_zlib_start(ctx, st);
	}
	if (!st->zlib_on) {   /* the whole output was handed out by the first call */
		stm->eof = 1;
		return EOF;
	}
	return inflate_next_zlib(ctx, stm, st);
}

static void
inflate_drop(fz_context *ctx, void *state)
{
	struct inflate_state *st = state;

	if (st->zlib_on)
		inflateEnd(&st->z);
	fz_drop_stream(ctx, st->chain);
	fz_drop_buffer(ctx, st->in_buf);
	fz_free(ctx, st->out);
	fz_free(ctx, st);
}

fz_stream *
fz_open_flated(fz_context *ctx, fz_stream *chain, int window_bits)
{
	struct inflate_state *st = fz_malloc_struct(ctx, struct inflate_state);

	st->window_bits = window_bits;
	st->whole_ok = ((window_bits >= 8 && window_bits <= 15) || (window_bits >= -15 && window_bits <= -8)) &&
	    inflate_delimited(ctx, chain);
	st->chain = fz_keep_stream(ctx, chain);
	return fz_new_stream(ctx, st, inflate_next, inflate_drop);
}

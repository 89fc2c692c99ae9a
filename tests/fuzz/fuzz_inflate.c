/* fuzz_inflate.c -- libFuzzer target: inflate.c's decoder, whole or streamed, must give what zlib gives. */
#include <mupdf/fitz.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
quiet(void *user, const char *message)
{
	(void)user;
	(void)message;
}

/*
 * The bytes through fz_open_flated over a memory stream (delimited: libdeflate
 * on the whole input) or over a leecher (not delimited: zlib as it comes).
 * NULL when the decoder threw.
 */
static fz_buffer *
inflate_via(fz_context *ctx, const uint8_t *data, size_t size, int window_bits, int leech)
{
	fz_stream *mem = NULL, *chain = NULL, *flate = NULL;
	fz_buffer *seen = NULL, *out = NULL;

	fz_var(mem);
	fz_var(chain);
	fz_var(flate);
	fz_var(seen);
	fz_var(out);
	fz_try(ctx) {
		mem = fz_open_memory(ctx, data, size);
		seen = fz_new_buffer(ctx, 64);
		chain = leech ? fz_open_leecher(ctx, mem, seen) : fz_keep_stream(ctx, mem);
		flate = fz_open_flated(ctx, chain, window_bits);
		out = fz_read_all(ctx, flate, 0);
	}
	fz_always(ctx) {
		fz_drop_stream(ctx, flate);
		fz_drop_stream(ctx, chain);
		fz_drop_stream(ctx, mem);
		fz_drop_buffer(ctx, seen);
	}
	fz_catch(ctx) {
		fz_drop_buffer(ctx, out);
		out = NULL;
	}
	return out;
}

/* zlib over the whole input: the reference. Returns the output length when the stream ended cleanly, else -1. */
static long
reference(const uint8_t *data, size_t size, int window_bits, unsigned char *out, size_t cap)
{
	z_stream z;
	int code;

	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, window_bits) != Z_OK)
		return -1;
	z.next_in = (unsigned char *)(uintptr_t)data;
	z.avail_in = (uInt)size;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	code = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	return code == Z_STREAM_END ? (long)z.total_out : -1;
}

static void
same_as_reference(fz_context *ctx, fz_buffer *got, const unsigned char *ref, long ref_len)
{
	unsigned char *p;
	size_t len;

	if (ref_len < 0)
		return;   /* damaged: MuPDF's tolerance decides how much comes out; no crash is the check */
	if (got == NULL)
		abort();
	len = fz_buffer_storage(ctx, got, &p);
	if (len != (size_t)ref_len || (len && memcmp(p, ref, len) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fz_context *ctx;
	static unsigned char ref[8u << 20];
	fz_buffer *whole, *streamed;
	int window_bits;
	long ref_len;

	if (size == 0)
		return 0;
	if (ctx == NULL) {
		ctx = fz_new_context(NULL, NULL, 0);
		fz_set_warning_callback(ctx, quiet, NULL);
		fz_set_error_callback(ctx, quiet, NULL);
	}
	/* the first byte picks zlib or raw deflate (MuPDF uses both), the rest is the stream */
	window_bits = data[0] & 1 ? -15 : 15;
	ref_len = reference(data + 1, size - 1, window_bits, ref, sizeof ref);
	whole = inflate_via(ctx, data + 1, size - 1, window_bits, 0);
	streamed = inflate_via(ctx, data + 1, size - 1, window_bits, 1);
	same_as_reference(ctx, whole, ref, ref_len);
	same_as_reference(ctx, streamed, ref, ref_len);
	fz_drop_buffer(ctx, whole);
	fz_drop_buffer(ctx, streamed);
	return 0;
}

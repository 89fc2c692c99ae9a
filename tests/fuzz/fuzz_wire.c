/* fuzz_wire.c -- libFuzzer target: the parent's reader of the worker's result stream (wire.c) and its builder (build.c), fed what a hostile worker could write. */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <string.h>

#include "sanitizer/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Two decoded results that must be the same: every field wire.c carries, members included. */
static int
fuzz_wire_same(const struct san_result *a, const struct san_result *b)
{
	if (a->action != b->action || a->encrypted != b->encrypted || a->pages != b->pages ||
	    a->usec_worker != b->usec_worker || a->out_len != b->out_len || a->payload != b->payload ||
	    a->n_findings != b->n_findings || a->n_members != b->n_members || a->n_px != b->n_px ||
	    a->mtime != b->mtime)
		return 0;
	for (size_t i = 0; i < a->n_px; i++)
		if (a->px[i].w != b->px[i].w || a->px[i].h != b->px[i].h || a->px[i].offset != b->px[i].offset ||
		    a->px[i].ncomp != b->px[i].ncomp || a->px[i].photo != b->px[i].photo)
			return 0;
	if (a->out_len && memcmp(a->out, b->out, a->out_len) != 0)
		return 0;
	for (size_t i = 0; i < a->n_members; i++)
		if (!fuzz_wire_same(&a->members[i], &b->members[i]))
			return 0;
	return 1;
}

/* Whatever was accepted re-encodes, and that decodes to the same result and the same bytes again. */
/* Whatever was accepted re-encodes (the tree), and that decodes to the same result and the same bytes again. */
static void
fuzz_wire_round_trip(const struct san_result *res, const struct san_config *cfg)
{
	struct wbuf first = { NULL, 0, 0 }, second = { NULL, 0, 0 };
	struct san_result again;
	uint32_t batches = 1;
	char why[256];

	if (wire_encode(res, true, &first) < 0)
		abort();
	if (wire_decode(first.p, first.len, cfg, &again, &batches, why, sizeof why) < 0 || batches != 0)
		abort();
	if (!fuzz_wire_same(res, &again) || wire_encode(&again, true, &second) < 0 ||
	    second.len != first.len || memcmp(first.p, second.p, first.len) != 0)
		abort();
	san_result_free(&again);
	free(first.p);
	free(second.p);
}

/*
 * The parent's handling of the PIXELS records: an even batch's memfd stands
 * in as pixels[] (a sealed batch, mapped), an odd one is ring_fd holding the
 * same bytes (a ring batch, copied out page by page).
 */
static struct pixstore *
fuzz_wire_batches(const uint8_t *data, size_t size, const struct san_config *cfg, const uint8_t *pixels,
    int ring_fd, size_t pixels_len)
{
	struct pixstore *ps = pixstore_new();
	size_t pos = 4, n;
	uint32_t batch;
	const uint8_t *desc;
	char why[256];
	int got;

	while ((got = wire_next_pixels(data, size, &pos, &batch, &desc, &n)) == 1)
		if (pixstore_add_batch(ps, cfg, batch, desc, n, batch & 1 ? NULL : pixels, ring_fd, pixels_len, why,
		    sizeof why) < 0) {
			if (why[0] == '\0')
				abort();   /* every refusal says why */
			pixstore_free(ps);
			return NULL;
		}
	return ps;
}

/* What the parent built: blocked with a reason, or an output of a type it makes, names without a path. */
static void
fuzz_wire_check_built(const struct san_result *r, int top)
{
	if (r->action == SAN_BLOCKED) {
		if (top && (r->reason == NULL || r->out != NULL))
			abort();
		return;
	}
	if (r->out == NULL || r->out_name == NULL || r->out_mime == NULL || strchr(r->out_name, '/'))
		abort();
	for (size_t i = 0; i < r->n_members; i++) {
		char why[256];
		if (build_check_member_name(r->members[i].name, why, sizeof why) < 0)
			abort();
		fuzz_wire_check_built(&r->members[i], 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct san_config cfg;
	static uint8_t pixels[1 << 16];   /* the memfd a page record points into */
	static int ready, ring_fd = -1;
	struct san_result res;
	struct pixstore *ps;
	uint32_t batches = 0;
	char why[256];

	if (!ready) {
		san_config_defaults(&cfg);
		cfg.max_output_bytes = 1u << 20;   /* the bound is the point, not its size */
		cfg.archive_max_members = 64;
		cfg.max_pages = 16;
		cfg.max_page_pixels = cfg.max_image_pixels = 1u << 14;
		cfg.worker_threads = 1;
		for (size_t i = 0; i < sizeof pixels; i++)
			pixels[i] = (uint8_t)(i * 7 + (i >> 9));
		ring_fd = memfd_create("fuzz-ring", MFD_CLOEXEC);
		if (ring_fd < 0 || write(ring_fd, pixels, sizeof pixels) != (ssize_t)sizeof pixels)
			abort();
		ready = 1;
	}
	if (wire_decode(data, size, &cfg, &res, &batches, why, sizeof why) == 0) {
		fuzz_wire_round_trip(&res, &cfg);
		ps = fuzz_wire_batches(data, size, &cfg, pixels, ring_fd, sizeof pixels);
		if (ps && pixstore_batches(ps) != batches)
			abort();
		if (ps) {
			build_result(&cfg, ps, "input.pdf", &res);
			fuzz_wire_check_built(&res, 1);
		}
		pixstore_free(ps);
		san_result_free(&res);
	} else if (why[0] == '\0') {
		abort();   /* every refusal says why */
	}
	return 0;
}

/* fuzz_wire.c -- libFuzzer target: the parent's reader of the worker's result stream (sanitizer/wire.c), fed what a hostile worker could write. */
#include <stdlib.h>
#include <string.h>

#include "sanitizer/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Two decoded results that must be the same: every field wire.c carries, members included. */
static int
fuzz_wire_same(const struct san_result *a, const struct san_result *b)
{
	if (a->action != b->action || a->encrypted != b->encrypted || a->pages != b->pages ||
	    a->usec_worker != b->usec_worker || a->out_len != b->out_len ||
	    a->n_findings != b->n_findings || a->n_members != b->n_members)
		return 0;
	if (a->out_len && memcmp(a->out, b->out, a->out_len) != 0)
		return 0;
	for (size_t i = 0; i < a->n_members; i++)
		if (!fuzz_wire_same(&a->members[i], &b->members[i]))
			return 0;
	return 1;
}

/* Whatever was accepted re-encodes, and that decodes to the same result and the same bytes again. */
static void
fuzz_wire_round_trip(const struct san_result *res, const struct san_config *cfg)
{
	struct wbuf first = { NULL, 0, 0 }, second = { NULL, 0, 0 };
	struct san_result again;

	if (wire_encode(res, &first) < 0)
		abort();
	if (wire_decode(first.p, first.len, cfg, &again) < 0)
		abort();
	if (!fuzz_wire_same(res, &again) || wire_encode(&again, &second) < 0 ||
	    second.len != first.len || memcmp(first.p, second.p, first.len) != 0)
		abort();
	san_result_free(&again);
	free(first.p);
	free(second.p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct san_config cfg;
	static int ready;
	struct san_result res;

	if (!ready) {
		san_config_defaults(&cfg);
		cfg.max_output_bytes = 1u << 20;   /* the bound is the point, not its size */
		cfg.archive_max_members = 64;
		ready = 1;
	}
	if (wire_decode(data, size, &cfg, &res) == 0) {
		fuzz_wire_round_trip(&res, &cfg);
		san_result_free(&res);
	}
	return 0;
}

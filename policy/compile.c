/* compile.c -- the rule index: (src zone, dst zone, protocol) -> port intervals -> candidate rules. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "policy/internal.h"

/*
 * A lookup then costs two zone lookups, one bucket, one binary search over the
 * bucket's port intervals and a walk over the few rules that cover that port,
 * checking only their addresses and applications. Building is done once per
 * load; the result is read-only, so any number of threads may share it.
 */

struct ivec {
	int32_t *v;
	uint32_t n, cap;
};

static void
ivec_push(struct ivec *iv, int32_t x)
{
	if (iv->n == iv->cap) {
		iv->cap = iv->cap ? iv->cap * 2 : 4;
		iv->v = xrealloc(iv->v, iv->cap, sizeof *iv->v);
	}
	iv->v[iv->n++] = x;
}

enum proto_class
compile_proto_class(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP: return PC_TCP;
	case IPPROTO_UDP: return PC_UDP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: return PC_ICMP;
	default: return PC_OTHER;
	}
}

static bool
compile_zone_fits(int rule_zone, int slot, int nzones)
{
	if (rule_zone == ZONE_ANY)
		return true;
	return rule_zone >= 0 && rule_zone == slot && slot < nzones;
}

static bool
compile_proto_fits(enum rule_proto rp, enum proto_class pc)
{
	return rp == RP_ANY || (rp == RP_TCP && pc == PC_TCP) || (rp == RP_UDP && pc == PC_UDP) ||
	    (rp == RP_ICMP && pc == PC_ICMP);
}

static const struct port_range compile_all_ports = { 0, 65535 };

static int
compile_rule_ranges(const struct prule *r, const struct port_range **out)
{
	if (r->nports == 0) {
		*out = &compile_all_ports;
		return 1;
	}
	*out = r->ports;
	return r->nports;
}

static int
compile_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The elementary interval starts: every range's lo and hi+1, plus 0. Returns the count. */
static size_t
compile_bounds(const struct policy *p, const int32_t *rules, size_t nrules, uint32_t **out)
{
	size_t cap = 1, n = 0, uniq = 0;
	uint32_t *b;

	for (size_t i = 0; i < nrules; i++)
		cap += 2 * (size_t)(p->rules[rules[i]].nports ? p->rules[rules[i]].nports : 1);
	b = xcalloc(cap, sizeof *b);
	b[n++] = 0;
	for (size_t i = 0; i < nrules; i++) {
		const struct port_range *pr;
		int k = compile_rule_ranges(&p->rules[rules[i]], &pr);
		for (int j = 0; j < k; j++) {
			b[n++] = pr[j].lo;
			if (pr[j].hi < 65535)
				b[n++] = (uint32_t)pr[j].hi + 1;
		}
	}
	qsort(b, n, sizeof *b, compile_cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (uniq == 0 || b[uniq - 1] != b[i])
			b[uniq++] = b[i];
	*out = b;
	return uniq;
}

static size_t
compile_bound_index(const uint32_t *bounds, size_t n, uint32_t port)
{
	size_t lo = 0, hi = n;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (bounds[mid] <= port)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static bool
compile_same_list(const struct ivec *a, const struct ivec *b)
{
	return a->n == b->n && memcmp(a->v, b->v, a->n * sizeof *a->v) == 0;
}

static void
compile_emit(struct cindex *ci, size_t *ivcap, size_t *candcap, uint32_t lo, uint32_t hi,
    const struct ivec *list)
{
	struct cinterval *iv;

	if (ci->nivs == *ivcap) {
		*ivcap = *ivcap ? *ivcap * 2 : 64;
		ci->ivs = xrealloc(ci->ivs, *ivcap, sizeof *ci->ivs);
	}
	while (ci->ncands + list->n > *candcap) {
		*candcap = *candcap ? *candcap * 2 : 256;
		ci->cands = xrealloc(ci->cands, *candcap, sizeof *ci->cands);
	}
	iv = &ci->ivs[ci->nivs++];
	iv->lo = (uint16_t)lo;
	iv->hi = (uint16_t)hi;
	iv->off = (uint32_t)ci->ncands;
	iv->n = list->n;
	memcpy(ci->cands + ci->ncands, list->v, list->n * sizeof *list->v);
	ci->ncands += list->n;
}

struct compile_state {
	size_t ivcap, candcap;
};

/* Builds one bucket's intervals from its applicable rules (in rule order). */
static void
compile_bucket(struct policy *p, struct compile_state *st, const int32_t *rules, size_t nrules,
    struct cbucket *bucket)
{
	struct cindex *ci = &p->cindex;
	uint32_t *bounds;
	size_t nb = compile_bounds(p, rules, nrules, &bounds), start;
	struct ivec *lists = xcalloc(nb, sizeof *lists);

	for (size_t i = 0; i < nrules; i++) {
		const struct port_range *pr;
		int k = compile_rule_ranges(&p->rules[rules[i]], &pr);
		for (int j = 0; j < k; j++)
			for (size_t e = compile_bound_index(bounds, nb, pr[j].lo);
			    e < nb && bounds[e] <= pr[j].hi; e++)
				ivec_push(&lists[e], rules[i]);
	}
	bucket->off = (uint32_t)ci->nivs;
	for (size_t e = 0; e < nb; e = start) {
		uint32_t hi;
		for (start = e + 1; start < nb && compile_same_list(&lists[start], &lists[e]); start++)
			;
		hi = start < nb ? bounds[start] - 1 : 65535;
		if (lists[e].n > 0)
			compile_emit(ci, &st->ivcap, &st->candcap, bounds[e], hi, &lists[e]);
	}
	bucket->n = (uint32_t)(ci->nivs - bucket->off);
	for (size_t e = 0; e < nb; e++)
		free(lists[e].v);
	free(lists);
	free(bounds);
}

static size_t
compile_applicable(const struct policy *p, int s, int d, enum proto_class pc, int32_t *out)
{
	size_t n = 0;

	for (int i = 0; i < p->nrules; i++) {
		const struct prule *r = &p->rules[i];
		if (compile_zone_fits(r->from, s, p->nzones) && compile_zone_fits(r->to, d, p->nzones) &&
		    compile_proto_fits(r->proto, pc))
			out[n++] = i;
	}
	return n;
}

void
compile_index(struct policy *p)
{
	struct cindex *ci = &p->cindex;
	struct compile_state st = { 0, 0 };
	int32_t *rules = xcalloc((size_t)p->nrules + 1, sizeof *rules);

	ci->nslots = p->nzones + 1;
	ci->buckets = xcalloc((size_t)ci->nslots * (size_t)ci->nslots * PC_COUNT, sizeof *ci->buckets);
	for (int s = 0; s < ci->nslots; s++)
		for (int d = 0; d < ci->nslots; d++)
			for (int pc = 0; pc < PC_COUNT; pc++) {
				size_t n = compile_applicable(p, s, d, (enum proto_class)pc, rules);
				size_t slot = ((size_t)s * (size_t)ci->nslots + (size_t)d) * PC_COUNT + (size_t)pc;
				if (n > 0)
					compile_bucket(p, &st, rules, n, &ci->buckets[slot]);
			}
	free(rules);
}

void
compile_free(struct cindex *ci)
{
	free(ci->buckets);
	free(ci->ivs);
	free(ci->cands);
	memset(ci, 0, sizeof *ci);
}

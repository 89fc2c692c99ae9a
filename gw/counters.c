/* counters.c -- the engine's counters: zone-pair verdict table, memory accounting, snapshots. */
#include <stdlib.h>
#include <string.h>

#include "gw/engine_int.h"
#include "lib/util.h"

const char *
gw_drop_reason_name(enum gw_drop_reason r)
{
	static const char *const names[GW_DROP_REASONS] = {
		"policy", "unknown_app", "malformed", "fragment", "table_full", "cut", "held"
	};

	return (unsigned)r < GW_DROP_REASONS ? names[r] : "?";
}

/* Zone ids belong to one policy; the pair table is keyed by names so it survives reloads. */
int
counters_policy(struct gw_engine *e)
{
	int zones = policy_zone_count(e->policy);
	size_t cells = (size_t)(zones + 1) * (size_t)(zones + 1);
	int16_t *slots = malloc(cells * sizeof *slots);

	if (slots == NULL)
		return -1;
	for (size_t i = 0; i < cells; i++)
		slots[i] = -1;
	free(e->pair_slot);
	e->pair_slot = slots;
	e->zones = zones;
	return 0;
}

static int
counters_pair_find(struct gw_engine *e, const char *src, const char *dst)
{
	struct gw_counters *c = &e->c;

	for (unsigned i = 0; i < c->pairs; i++) {
		if (strcmp(c->pair[i].src_zone, src) == 0 && strcmp(c->pair[i].dst_zone, dst) == 0)
			return (int)i;
	}
	if (c->pairs == GW_PAIR_MAX)
		return GW_PAIR_MAX - 1;   /* more pairs than any real site: lump the rest */
	str_copy(c->pair[c->pairs].src_zone, src, sizeof c->pair[0].src_zone);
	str_copy(c->pair[c->pairs].dst_zone, dst, sizeof c->pair[0].dst_zone);
	return (int)c->pairs++;
}

void
counters_flow_decided(struct gw_engine *e, const struct flow *f)
{
	bool known = f->src_zone < e->zones && f->dst_zone < e->zones;
	size_t cell = !known ? 0 :
	    (size_t)(f->src_zone + 1) * (size_t)(e->zones + 1) + (size_t)(f->dst_zone + 1);
	int16_t slot = e->pair_slot[cell];

	if (slot < 0) {
		const char *src = flowlog_zone(e, f->src_zone), *dst = flowlog_zone(e, f->dst_zone);
		slot = (int16_t)counters_pair_find(e, src ? src : "none", dst ? dst : "none");
		e->pair_slot[cell] = slot;
	}
	if (f->final)
		e->c.pair[slot].flows[f->action]++;
	else
		e->c.pair[slot].undecided++;
}

/*
 * nDPI's real usage (its allocator hooks, counted per thread, see ndpi_glue.c)
 * once the engine has a baseline; never less than the flow states alone.
 */
void
counters_ndpi_heap(struct gw_engine *e)
{
	int64_t now = dpi_heap_bytes(), used;
	uint64_t floor = e->c.ndpi_active * e->ndpi_size;

	if (!e->ndpi_heap_based) {
		e->ndpi_heap_base = now - (int64_t)floor;
		e->ndpi_heap_based = true;
	}
	used = now - e->ndpi_heap_base;
	e->ndpi_heap = used > (int64_t)floor ? (uint64_t)used : floor;
}

uint64_t
counters_memory(const struct gw_engine *e)
{
	return (uint64_t)e->flows.count * sizeof(struct flow) + e->ndpi_heap + e->names_bytes +
	    flow_table_overhead(&e->flows) + frag_table_bytes(&e->frags);
}

void
counters_peak(struct gw_engine *e)
{
	uint64_t mem = counters_memory(e);

	if (e->flows.count > e->c.flows_peak)
		e->c.flows_peak = e->flows.count;
	if (mem > e->c.memory_peak)
		e->c.memory_peak = mem;
}

void
gw_engine_counters(const struct gw_engine *e, struct gw_counters *out)
{
	*out = e->c;
	out->flows_active = e->flows.count;
	out->memory_bytes = counters_memory(e);
	out->memory_limit = e->memory_limit;
	out->flow_bytes = sizeof(struct flow);
	out->ndpi_bytes = (unsigned)e->ndpi_size;
	out->ndpi_heap_bytes = e->ndpi_heap;
	servername_counters(e, out);
}

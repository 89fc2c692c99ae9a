/* frag.c -- the fragment table: (src, dst, proto, id) -> the flow of the datagram's first fragment. */
#include <stdlib.h>
#include <string.h>

#include "gw/frag.h"

int
frag_table_init(struct frag_table *t, unsigned max_entries, uint64_t seed)
{
	uint32_t sets = 1;

	while (sets * FRAG_WAYS < max_entries && sets < (1u << 24))
		sets <<= 1;
	t->slots = calloc((size_t)sets * FRAG_WAYS, sizeof *t->slots);
	t->sets = sets;
	t->seed = seed;
	return t->slots ? 0 : -1;
}

void
frag_table_free(struct frag_table *t)
{
	free(t->slots);
	t->slots = NULL;
}

size_t
frag_table_bytes(const struct frag_table *t)
{
	return (size_t)t->sets * FRAG_WAYS * sizeof *t->slots;
}

static uint32_t
frag_set(const struct frag_table *t, const struct decoded *d)
{
	uint64_t h = t->seed ^ ((uint64_t)d->frag_id << 8 | d->proto);

	for (int i = 0; i < 16; i++)
		h = (h ^ d->src.b[i] ^ ((uint64_t)d->dst.b[i] << 8)) * 0x100000001b3ULL;
	return (uint32_t)(h ^ (h >> 32)) & (t->sets - 1);
}

static bool
frag_same(const struct frag_entry *e, const struct decoded *d)
{
	return e->used && e->id == d->frag_id && e->proto == d->proto &&
	    memcmp(&e->src, &d->src, sizeof e->src) == 0 && memcmp(&e->dst, &d->dst, sizeof e->dst) == 0;
}

void
frag_remember(struct frag_table *t, const struct decoded *d, uint32_t flow, uint64_t flow_id,
    uint64_t expires_us, uint64_t now_us)
{
	struct frag_entry *set = &t->slots[(size_t)frag_set(t, d) * FRAG_WAYS], *slot = &set[0];

	for (int w = 0; w < FRAG_WAYS; w++) {
		if (frag_same(&set[w], d) || !set[w].used || set[w].expires_us <= now_us) {
			slot = &set[w];
			break;
		}
		if (set[w].expires_us < slot->expires_us)
			slot = &set[w];
	}
	slot->src = d->src;
	slot->dst = d->dst;
	slot->id = d->frag_id;
	slot->proto = d->proto;
	slot->used = 1;
	slot->flow = flow;
	slot->flow_id = flow_id;
	slot->expires_us = expires_us;
}

const struct frag_entry *
frag_find(const struct frag_table *t, const struct decoded *d, uint64_t now_us)
{
	const struct frag_entry *set = &t->slots[(size_t)frag_set(t, d) * FRAG_WAYS];

	for (int w = 0; w < FRAG_WAYS; w++) {
		if (frag_same(&set[w], d))
			return set[w].expires_us > now_us ? &set[w] : NULL;
	}
	return NULL;
}

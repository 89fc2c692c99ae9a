/* flow.c -- the flow table: one pool, chained buckets of indices, idle lists per timeout class. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "gw/flow.h"

static uint64_t
flow_mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

static uint64_t
flow_word(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

/* Same hash both ways: the two endpoints are combined order-free before mixing. */
static uint32_t
flow_hash(const struct flow_table *t, const struct addr *a, uint16_t pa, const struct addr *b,
    uint16_t pb, uint8_t proto)
{
	uint64_t ea = flow_mix(flow_mix(t->seed, flow_word(a->b)), flow_word(a->b + 8) + pa);
	uint64_t eb = flow_mix(flow_mix(t->seed, flow_word(b->b)), flow_word(b->b + 8) + pb);
	uint64_t h = flow_mix(t->seed ^ proto, ea + eb);

	return (uint32_t)(flow_mix(h, ea ^ eb) >> 32);
}

int
flow_table_init(struct flow_table *t, uint32_t capacity, uint64_t seed)
{
	uint32_t buckets = 1024;

	memset(t, 0, sizeof *t);
	while (buckets < capacity && buckets < (1u << 30))
		buckets <<= 1;
	t->pool = calloc(capacity, sizeof *t->pool);   /* untouched pages cost nothing */
	t->buckets = malloc(buckets * sizeof *t->buckets);
	if (t->pool == NULL || t->buckets == NULL) {
		flow_table_free(t);
		return -1;
	}
	memset(t->buckets, 0xff, buckets * sizeof *t->buckets);
	t->capacity = capacity;
	t->mask = buckets - 1;
	t->seed = seed | 1;
	t->free_head = FLOW_NIL;
	for (int i = 0; i < FLOW_LISTS; i++)
		t->head[i] = t->tail[i] = FLOW_NIL;
	return 0;
}

void
flow_table_free(struct flow_table *t)
{
	free(t->pool);
	free(t->buckets);
	t->pool = NULL;
	t->buckets = NULL;
}

size_t
flow_table_overhead(const struct flow_table *t)
{
	return ((size_t)t->mask + 1) * sizeof *t->buckets;
}

uint32_t flow_index(const struct flow_table *t, const struct flow *f) { return (uint32_t)(f - t->pool); }
struct flow *flow_at(struct flow_table *t, uint32_t index) { return &t->pool[index]; }

static bool
flow_matches(const struct flow *f, const struct decoded *d, int *dir)
{
	if (f->proto != d->proto)
		return false;
	if (f->sport == d->sport && f->dport == d->dport &&
	    memcmp(&f->src, &d->src, sizeof f->src) == 0 && memcmp(&f->dst, &d->dst, sizeof f->dst) == 0) {
		*dir = 0;
		return true;
	}
	if (f->sport == d->dport && f->dport == d->sport &&
	    memcmp(&f->src, &d->dst, sizeof f->src) == 0 && memcmp(&f->dst, &d->src, sizeof f->dst) == 0) {
		*dir = 1;
		return true;
	}
	return false;
}

struct flow *
flow_lookup(struct flow_table *t, const struct decoded *d, int *dir)
{
	uint32_t h = flow_hash(t, &d->src, d->sport, &d->dst, d->dport, d->proto);

	for (uint32_t i = t->buckets[h & t->mask]; i != FLOW_NIL; i = t->pool[i].hnext) {
		if (flow_matches(&t->pool[i], d, dir))
			return &t->pool[i];
	}
	return NULL;
}

static uint32_t
flow_alloc_index(struct flow_table *t)
{
	uint32_t i;

	if (t->free_head != FLOW_NIL) {
		i = t->free_head;
		t->free_head = t->pool[i].hnext;
		return i;
	}
	if (t->used_hw < t->capacity)
		return t->used_hw++;
	return FLOW_NIL;
}

struct flow *
flow_insert(struct flow_table *t, const struct decoded *d)
{
	uint32_t i = flow_alloc_index(t), b;
	struct flow *f;

	if (i == FLOW_NIL)
		return NULL;
	f = &t->pool[i];
	memset(f, 0, sizeof *f);
	f->src = d->src;
	f->dst = d->dst;
	f->sport = d->sport;
	f->dport = d->dport;
	f->proto = d->proto;
	f->app = FLOW_APP_PENDING;
	b = flow_hash(t, &d->src, d->sport, &d->dst, d->dport, d->proto) & t->mask;
	f->hnext = t->buckets[b];
	t->buckets[b] = i;
	f->list = FLOW_LISTS;   /* on no list until touched */
	f->lprev = f->lnext = FLOW_NIL;
	t->count++;
	return f;
}

static void
flow_unlist(struct flow_table *t, struct flow *f)
{
	if (f->list >= FLOW_LISTS)
		return;
	if (f->lprev != FLOW_NIL)
		t->pool[f->lprev].lnext = f->lnext;
	else
		t->head[f->list] = f->lnext;
	if (f->lnext != FLOW_NIL)
		t->pool[f->lnext].lprev = f->lprev;
	else
		t->tail[f->list] = f->lprev;
	f->list = FLOW_LISTS;
}

void
flow_remove(struct flow_table *t, struct flow *f)
{
	uint32_t i = flow_index(t, f);
	uint32_t *link = &t->buckets[flow_hash(t, &f->src, f->sport, &f->dst, f->dport, f->proto) & t->mask];

	while (*link != FLOW_NIL && *link != i)
		link = &t->pool[*link].hnext;
	if (*link == i)
		*link = f->hnext;
	flow_unlist(t, f);
	f->id = 0;
	f->hnext = t->free_head;
	t->free_head = i;
	t->count--;
}

void
flow_touch(struct flow_table *t, struct flow *f, enum flow_list list)
{
	uint32_t i = flow_index(t, f);

	if (f->list == list && t->tail[list] == i)
		return;
	flow_unlist(t, f);
	f->list = (uint8_t)list;
	f->lnext = FLOW_NIL;
	f->lprev = t->tail[list];
	if (t->tail[list] != FLOW_NIL)
		t->pool[t->tail[list]].lnext = i;
	else
		t->head[list] = i;
	t->tail[list] = i;
}

struct flow *
flow_oldest(struct flow_table *t, enum flow_list list)
{
	return t->head[list] == FLOW_NIL ? NULL : &t->pool[t->head[list]];
}

struct flow *
flow_victim(struct flow_table *t, const struct flow *skip)
{
	for (int l = 0; l < FLOW_LISTS; l++) {
		uint32_t i = t->head[l];
		if (i != FLOW_NIL && &t->pool[i] == skip)
			i = t->pool[i].lnext;
		if (i != FLOW_NIL)
			return &t->pool[i];
	}
	return NULL;
}

enum flow_list
flow_list_of(const struct flow *f)
{
	switch (f->tcp_state) {
	case GW_TCP_SYN_SENT:
	case GW_TCP_SYN_RECV: return FLOW_LIST_NEW;
	case GW_TCP_ESTABLISHED: return FLOW_LIST_ESTABLISHED;
	case GW_TCP_CLOSING: return FLOW_LIST_CLOSING;
	case GW_TCP_CLOSED: return FLOW_LIST_CLOSED;
	default: return f->proto == IPPROTO_UDP ? FLOW_LIST_UDP : FLOW_LIST_OTHER;
	}
}

/*
 * Established means both sides spoke and the opener acknowledged: a flood of
 * SYNs or of forged ACKs never reaches the protected list.
 */
enum flow_list
flow_tcp_update(struct flow *f, const struct decoded *d, int dir)
{
	uint8_t fl = d->tcp_flags;

	if (f->tcp_state == GW_TCP_NONE)
		f->tcp_state = GW_TCP_SYN_SENT;
	if (fl & DECODE_TCP_RST) {
		f->tcp_state = GW_TCP_CLOSED;
		f->closed_by_rst = 1;
	} else if (f->tcp_state == GW_TCP_SYN_SENT && dir == 1 && (fl & DECODE_TCP_SYN)) {
		f->tcp_state = GW_TCP_SYN_RECV;
	} else if (f->tcp_state < GW_TCP_ESTABLISHED && dir == 0 && !(fl & DECODE_TCP_SYN) &&
	    (fl & DECODE_TCP_ACK) && f->pkts[1] > 0) {
		f->tcp_state = GW_TCP_ESTABLISHED;
	}
	if ((fl & DECODE_TCP_FIN) && f->tcp_state != GW_TCP_CLOSED) {
		f->fins |= (uint8_t)(1u << dir);
		f->tcp_state = f->fins == 3 || f->tcp_state < GW_TCP_ESTABLISHED ?
		    GW_TCP_CLOSED : GW_TCP_CLOSING;
	}
	return flow_list_of(f);
}

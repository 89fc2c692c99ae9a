/* dnsbind.c -- names to the addresses DNS answers gave them: a fixed pool, chained hash, LRU list, one mutex. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gw/dnsbind.h"

#define DNSBIND_NIL UINT32_MAX
#define US 1000000ULL

struct dnsbind_addr {
	struct addr a;
	uint64_t expires_us;         /* 0 = slot free */
};

struct dnsbind_entry {
	char name[DNSBIND_NAME_MAX + 1];   /* "" = entry free */
	uint32_t hnext;              /* hash chain */
	uint32_t prev, next;         /* LRU list: head is the least recently used */
	uint64_t hash;
	struct dnsbind_addr addrs[DNSBIND_ADDRS];
};

struct dnsbind {
	atomic_int refs;
	pthread_mutex_t lock;
	struct dnsbind_entry *pool;
	uint32_t capacity, used, head, tail;
	uint32_t *buckets;
	uint32_t mask;
	uint64_t grace_us;
	struct dnsbind_stats st;
};

static uint64_t
dnsbind_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

struct dnsbind *
dnsbind_new(unsigned max_names, unsigned grace_s)
{
	struct dnsbind *b = calloc(1, sizeof *b);
	uint32_t nb = 16;

	if (b == NULL || max_names == 0)
		goto fail;
	while (nb < max_names && nb < (1u << 30))
		nb <<= 1;
	b->pool = calloc(max_names, sizeof *b->pool);
	b->buckets = malloc((size_t)nb * sizeof *b->buckets);
	if (b->pool == NULL || b->buckets == NULL)
		goto fail;
	memset(b->buckets, 0xff, (size_t)nb * sizeof *b->buckets);
	atomic_init(&b->refs, 1);
	pthread_mutex_init(&b->lock, NULL);
	b->mask = nb - 1;
	b->capacity = max_names;
	b->head = b->tail = DNSBIND_NIL;
	b->grace_us = (uint64_t)grace_s * US;
	b->st.capacity = max_names;
	b->st.bytes = (uint64_t)max_names * sizeof *b->pool + (uint64_t)nb * sizeof *b->buckets;
	return b;
fail:
	if (b) {
		free(b->pool);
		free(b->buckets);
		free(b);
	}
	return NULL;
}

struct dnsbind *
dnsbind_ref(struct dnsbind *b)
{
	if (b)
		atomic_fetch_add(&b->refs, 1);
	return b;
}

void
dnsbind_unref(struct dnsbind *b)
{
	if (b == NULL || atomic_fetch_sub(&b->refs, 1) != 1)
		return;
	pthread_mutex_destroy(&b->lock);
	free(b->pool);
	free(b->buckets);
	free(b);
}

static void
dnsbind_unlink(struct dnsbind *b, uint32_t i)
{
	struct dnsbind_entry *e = &b->pool[i];

	if (e->prev != DNSBIND_NIL)
		b->pool[e->prev].next = e->next;
	else
		b->head = e->next;
	if (e->next != DNSBIND_NIL)
		b->pool[e->next].prev = e->prev;
	else
		b->tail = e->prev;
}

static void
dnsbind_append(struct dnsbind *b, uint32_t i)
{
	struct dnsbind_entry *e = &b->pool[i];

	e->prev = b->tail;
	e->next = DNSBIND_NIL;
	if (b->tail != DNSBIND_NIL)
		b->pool[b->tail].next = i;
	else
		b->head = i;
	b->tail = i;
}

static uint32_t
dnsbind_find(const struct dnsbind *b, const char *name, uint64_t h)
{
	for (uint32_t i = b->buckets[h & b->mask]; i != DNSBIND_NIL; i = b->pool[i].hnext)
		if (b->pool[i].hash == h && strcmp(b->pool[i].name, name) == 0)
			return i;
	return DNSBIND_NIL;
}

static void
dnsbind_unhash(struct dnsbind *b, uint32_t i)
{
	uint32_t *p = &b->buckets[b->pool[i].hash & b->mask];

	while (*p != i)
		p = &b->pool[*p].hnext;
	*p = b->pool[i].hnext;
}

/* A free entry: never used yet, or the least recently used one (evicted). */
static uint32_t
dnsbind_take(struct dnsbind *b)
{
	uint32_t i;

	if (b->used < b->capacity)
		return b->used++;
	i = b->head;
	dnsbind_unlink(b, i);
	dnsbind_unhash(b, i);
	b->st.evicted++;
	b->st.names--;
	return i;
}

static uint32_t
dnsbind_entry_for(struct dnsbind *b, const char *name, uint64_t h)
{
	uint32_t i = dnsbind_find(b, name, h);
	struct dnsbind_entry *e;

	if (i != DNSBIND_NIL) {
		dnsbind_unlink(b, i);
		dnsbind_append(b, i);
		return i;
	}
	i = dnsbind_take(b);
	e = &b->pool[i];
	memset(e, 0, sizeof *e);
	memcpy(e->name, name, strlen(name) + 1);
	e->hash = h;
	e->hnext = b->buckets[h & b->mask];
	b->buckets[h & b->mask] = i;
	dnsbind_append(b, i);
	b->st.names++;
	return i;
}

/* The slot for a: its own, else a free or expired one, else the one expiring first. */
static struct dnsbind_addr *
dnsbind_slot(struct dnsbind_entry *e, const struct addr *a, uint64_t now_us)
{
	struct dnsbind_addr *best = &e->addrs[0];

	for (int k = 0; k < DNSBIND_ADDRS; k++)
		if (e->addrs[k].expires_us != 0 && memcmp(&e->addrs[k].a, a, sizeof *a) == 0)
			return &e->addrs[k];
	for (int k = 0; k < DNSBIND_ADDRS; k++) {
		if (e->addrs[k].expires_us <= now_us)
			return &e->addrs[k];
		if (e->addrs[k].expires_us < best->expires_us)
			best = &e->addrs[k];
	}
	return best;
}

void
dnsbind_add(struct dnsbind *b, const char *name, const struct addr *a, uint32_t ttl, uint64_t now_us)
{
	size_t len = strlen(name);
	uint64_t h = dnsbind_hash(name), expires = now_us + (uint64_t)ttl * US + b->grace_us;
	struct dnsbind_addr *slot;

	if (len == 0 || len > DNSBIND_NAME_MAX)
		return;
	pthread_mutex_lock(&b->lock);
	slot = dnsbind_slot(&b->pool[dnsbind_entry_for(b, name, h)], a, now_us);
	if (slot->expires_us == 0 || memcmp(&slot->a, a, sizeof *a) != 0 || expires > slot->expires_us)
		slot->expires_us = expires;   /* a shorter TTL in a later answer does not cut a longer one */
	slot->a = *a;
	b->st.added++;
	pthread_mutex_unlock(&b->lock);
}

bool
dnsbind_has(struct dnsbind *b, const char *name, const struct addr *a, uint64_t now_us)
{
	uint64_t h = dnsbind_hash(name);
	bool found = false;
	uint32_t i;

	pthread_mutex_lock(&b->lock);
	i = dnsbind_find(b, name, h);
	for (int k = 0; i != DNSBIND_NIL && k < DNSBIND_ADDRS && !found; k++)
		found = b->pool[i].addrs[k].expires_us > now_us &&
		    memcmp(&b->pool[i].addrs[k].a, a, sizeof *a) == 0;
	if (found)
		b->st.hits++;
	else
		b->st.misses++;
	pthread_mutex_unlock(&b->lock);
	return found;
}

void
dnsbind_stats(struct dnsbind *b, struct dnsbind_stats *out)
{
	pthread_mutex_lock(&b->lock);
	*out = b->st;
	pthread_mutex_unlock(&b->lock);
}

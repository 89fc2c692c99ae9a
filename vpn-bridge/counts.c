/* counts.c -- a chained hash of small counters; entries exist only while their count is above zero. */
#include "vpn-bridge/counts.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>


#define COUNTS_BUCKETS 4096

struct counts_entry {
	struct counts_entry *next;
	unsigned n;
	char key[];
};

struct counts {
	struct counts_entry *buckets[COUNTS_BUCKETS];
};

struct counts *
counts_new(void)
{
	return calloc(1, sizeof(struct counts));
}

void
counts_free(struct counts *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < COUNTS_BUCKETS; i++)
		while (c->buckets[i]) {
			struct counts_entry *e = c->buckets[i];
			c->buckets[i] = e->next;
			free(e);
		}
	free(c);
}

static struct counts_entry **
counts_slot(const struct counts *c, const char *key)
{
	uint32_t h = 2166136261u;

	for (const char *p = key; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	struct counts_entry *const *slot = &c->buckets[h % COUNTS_BUCKETS];
	while (*slot && strcmp((*slot)->key, key) != 0)
		slot = &(*slot)->next;
	return (struct counts_entry **)slot;
}

unsigned
counts_get(const struct counts *c, const char *key)
{
	struct counts_entry **slot = counts_slot(c, key);

	return *slot ? (*slot)->n : 0;
}

unsigned
counts_inc(struct counts *c, const char *key)
{
	struct counts_entry **slot = counts_slot(c, key);

	if (*slot == NULL) {
		size_t len = strlen(key) + 1;
		*slot = malloc(sizeof **slot + len);
		if (*slot == NULL)
			return 0;   /* out of memory: the caller refuses what it was counting */
		(*slot)->next = NULL;
		(*slot)->n = 0;
		memcpy((*slot)->key, key, len);
	}
	return ++(*slot)->n;
}

void
counts_dec(struct counts *c, const char *key)
{
	struct counts_entry **slot = counts_slot(c, key);
	struct counts_entry *e = *slot;

	if (e == NULL)
		return;
	if (--e->n == 0) {
		*slot = e->next;
		free(e);
	}
}

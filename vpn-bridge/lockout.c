/* lockout.c -- a bounded table of failure counters; the oldest idle entry makes room for a new one. */
#include "vpn-bridge/lockout.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* Bounded so a flood of source addresses costs fixed memory; full => oldest entry evicted. */
#define LOCKOUT_SLOTS 8192

struct lockout_entry {
	char key[LOCKOUT_KEY_MAX];
	unsigned failures;
	time_t last_failure, locked_until;
};

struct lockout {
	unsigned threshold, base, max;
	struct lockout_entry slots[LOCKOUT_SLOTS];
};

struct lockout *
lockout_new(unsigned threshold, unsigned base, unsigned max)
{
	struct lockout *lk = xcalloc(1, sizeof *lk);

	lk->threshold = threshold ? threshold : 1;
	lk->base = base;
	lk->max = max < base ? base : max;
	return lk;
}

void
lockout_free(struct lockout *lk)
{
	free(lk);
}

static uint32_t
lockout_hash(const char *key)
{
	uint32_t h = 2166136261u;

	for (; *key; key++)
		h = (h ^ (uint8_t)*key) * 16777619u;
	return h;
}

/* Linear probing over a small window; entries are never tombstoned (cleared = zeroed key). */
#define LOCKOUT_PROBE 16

/* Which of two slots to give up: an empty one, else one not locked, else the older. */
static bool
lockout_better_victim(const struct lockout_entry *a, const struct lockout_entry *b, time_t now)
{
	if ((a->key[0] == '\0') != (b->key[0] == '\0'))
		return a->key[0] == '\0';
	if ((a->locked_until > now) != (b->locked_until > now))
		return a->locked_until <= now;
	return a->last_failure < b->last_failure;
}

static struct lockout_entry *
lockout_find(struct lockout *lk, const char *key, bool create, time_t now)
{
	uint32_t h = lockout_hash(key);
	struct lockout_entry *victim = NULL;

	for (unsigned i = 0; i < LOCKOUT_PROBE; i++) {
		struct lockout_entry *e = &lk->slots[(h + i) % LOCKOUT_SLOTS];
		if (e->key[0] != '\0' && strcmp(e->key, key) == 0)
			return e;
		if (victim == NULL || lockout_better_victim(e, victim, now))
			victim = e;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof *victim);
	str_copy(victim->key, key, sizeof victim->key);
	return victim;
}

bool
lockout_is_locked(struct lockout *lk, const char *key, time_t now, unsigned *left)
{
	struct lockout_entry *e = lockout_find(lk, key, false, now);

	if (e == NULL || e->locked_until <= now)
		return false;
	*left = (unsigned)(e->locked_until - now);
	return true;
}

unsigned
lockout_fail(struct lockout *lk, const char *key, time_t now)
{
	struct lockout_entry *e = lockout_find(lk, key, true, now);
	unsigned over, secs;

	/* Old failures are forgiven: a typo last week does not count towards today's lock. */
	if (e->last_failure != 0 && now - e->last_failure > (time_t)lk->max + 900)
		e->failures = 0;
	e->failures++;
	e->last_failure = now;
	if (e->failures < lk->threshold)
		return 0;
	over = e->failures - lk->threshold;
	secs = over >= 20 ? lk->max : lk->base << over;
	if (secs > lk->max || secs < lk->base)
		secs = lk->max;
	e->locked_until = now + secs;
	return secs;
}

bool
lockout_clear(struct lockout *lk, const char *key)
{
	struct lockout_entry *e = lockout_find(lk, key, false, 0);

	if (e == NULL)
		return false;
	memset(e, 0, sizeof *e);
	return true;
}

/* verify_index.c -- per-field indexes of the events, so checks and --update stay linear on big captures. */
#include "gw/verify/verify_index.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* One value of one field, and the events that carry it. */
struct vindex_slot {
	char *key;            /* NULL: empty slot */
	size_t *events;
	size_t n, cap;
};

/* Open-addressing table for one field name. */
struct vindex_field {
	char *name;
	struct vindex_slot *slots;
	size_t nslots, used;
};

struct vindex {
	const struct vevents *evs;
	struct vindex_field *fields;
	size_t nfields;
};

static uint64_t
vindex_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;   /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static struct vindex_slot *
vindex_find(const struct vindex_field *f, const char *key)
{
	size_t i = (size_t)vindex_hash(key) & (f->nslots - 1);

	while (f->slots[i].key && strcmp(f->slots[i].key, key) != 0)
		i = (i + 1) & (f->nslots - 1);
	return &f->slots[i];
}

static void
vindex_grow(struct vindex_field *f)
{
	struct vindex_slot *old = f->slots;
	size_t nold = f->nslots;

	f->nslots = nold ? nold * 2 : 64;
	f->slots = xcalloc(f->nslots, sizeof *f->slots);
	for (size_t i = 0; i < nold; i++)
		if (old[i].key)
			*vindex_find(f, old[i].key) = old[i];
	free(old);
}

static void
vindex_put(struct vindex_field *f, const char *key, size_t event)
{
	struct vindex_slot *s;

	if ((f->used + 1) * 2 > f->nslots)
		vindex_grow(f);
	s = vindex_find(f, key);
	if (s->key == NULL) {
		s->key = xstrdup(key);
		f->used++;
	}
	if (s->n > 0 && s->events[s->n - 1] == event)
		return;   /* the same event under one key twice (443 written as "443") */
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4;
		s->events = xrealloc(s->events, s->cap, sizeof *s->events);
	}
	s->events[s->n++] = event;
}

/*
 * The texts a JSON value is filed under: every text a field could be
 * written as and still match it (see vcheck_field_matches).
 */
static void
vindex_file(struct vindex_field *f, const struct json_value *v, size_t event)
{
	char buf[32];

	switch (v->type) {
	case JSON_STRING:
		vindex_put(f, v->text, event);
		break;
	case JSON_NUMBER:
		vindex_put(f, v->text, event);
		if (v->number == floor(v->number) && fabs(v->number) < 9.0e18) {
			snprintf(buf, sizeof buf, "%" PRId64, (int64_t)v->number);
			vindex_put(f, buf, event);
		}
		break;
	case JSON_BOOL:
		vindex_put(f, v->boolean ? "true" : "false", event);
		break;
	case JSON_NULL:
		vindex_put(f, "null", event);
		break;
	default:
		break;
	}
}

static struct vindex_field *
vindex_field(struct vindex *ix, const char *name)
{
	struct vindex_field *f;

	for (size_t i = 0; i < ix->nfields; i++)
		if (strcmp(ix->fields[i].name, name) == 0)
			return &ix->fields[i];
	ix->fields = xrealloc(ix->fields, ix->nfields + 1, sizeof *ix->fields);
	f = &ix->fields[ix->nfields++];
	memset(f, 0, sizeof *f);
	f->name = xstrdup(name);
	vindex_grow(f);
	for (size_t e = 0; e < ix->evs->n; e++) {
		const struct json_value *v = json_get(&ix->evs->v[e].obj, name);
		if (v)
			vindex_file(f, v, e);
	}
	return f;
}

/* The text a match field looks up; false for fields the index cannot narrow (floats). */
static bool
vindex_key(const struct vfield *f, char *buf, size_t size)
{
	switch (f->kind) {
	case VFIELD_STRING:
		snprintf(buf, size, "%s", f->str);
		return strlen(f->str) < size;
	case VFIELD_INT:   /* beyond 2^53 a double may equal it with another decimal text */
		snprintf(buf, size, "%" PRId64, f->integer);
		return f->integer >= -(INT64_C(1) << 53) && f->integer <= (INT64_C(1) << 53);
	case VFIELD_BOOL:
		snprintf(buf, size, "%s", f->boolean ? "true" : "false");
		return true;
	default:
		return false;
	}
}

struct vindex *
vindex_new(const struct vevents *evs)
{
	struct vindex *ix = xcalloc(1, sizeof *ix);

	ix->evs = evs;
	return ix;
}

void
vindex_free(struct vindex *ix)
{
	if (ix == NULL)
		return;
	for (size_t i = 0; i < ix->nfields; i++) {
		struct vindex_field *f = &ix->fields[i];
		for (size_t k = 0; k < f->nslots; k++) {
			free(f->slots[k].key);
			free(f->slots[k].events);
		}
		free(f->slots);
		free(f->name);
	}
	free(ix->fields);
	free(ix);
}

struct vcands
vindex_candidates(struct vindex *ix, const struct vevents *evs, const struct vfields *match)
{
	static const size_t none[1];
	struct vcands best = { NULL, evs->n };
	char key[512];

	for (size_t i = 0; ix && i < match->n; i++) {
		const struct vindex_slot *s;
		if (!vindex_key(&match->v[i], key, sizeof key))
			continue;
		s = vindex_find(vindex_field(ix, match->v[i].name), key);
		if (s->key == NULL)
			return (struct vcands){ none, 0 };
		if (s->n < best.n || best.list == NULL) {
			best.list = s->events;
			best.n = s->n;
		}
	}
	return best;
}

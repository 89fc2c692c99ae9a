/* zone.c -- which zone an address is in: interface zones first, then the most specific network. */
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "policy/internal.h"

/*
 * The index holds one sorted table per prefix length, longest first; a lookup
 * masks the address to each length and binary-searches that table. Sites have
 * a handful of distinct lengths, so this is a few compares per address.
 */

static uint64_t
zone_be64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

static struct zkey
zone_key(const struct addr *a)
{
	struct zkey k = { zone_be64(a->b), zone_be64(a->b + 8) };

	return k;
}

static struct zkey
zone_mask_of(unsigned len)
{
	struct zkey m;

	m.hi = len >= 64 ? ~0ull : len == 0 ? 0 : ~0ull << (64 - len);
	m.lo = len >= 128 ? ~0ull : len <= 64 ? 0 : ~0ull << (128 - len);
	return m;
}

static int
zone_cmp_key(const struct zkey *x, const struct zkey *y)
{
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return (x->lo > y->lo) - (x->lo < y->lo);
}

static int
zone_cmp_entry(const void *a, const void *b)
{
	return zone_cmp_key(&((const struct zentry *)a)->net, &((const struct zentry *)b)->net);
}

static int
zone_cmp_level(const void *a, const void *b)
{
	const struct zlevel *x = a, *y = b;

	return (y->len > x->len) - (y->len < x->len);
}

static struct zlevel *
zone_level_for(struct zindex *zi, uint8_t len)
{
	for (int i = 0; i < zi->nlevels; i++)
		if (zi->levels[i].len == len)
			return &zi->levels[i];
	zi->levels = xrealloc(zi->levels, (size_t)zi->nlevels + 1, sizeof *zi->levels);
	memset(&zi->levels[zi->nlevels], 0, sizeof zi->levels[0]);
	zi->levels[zi->nlevels].len = len;
	zi->levels[zi->nlevels].mask = zone_mask_of(len);
	return &zi->levels[zi->nlevels++];
}

void
zone_index_build(struct policy *p)
{
	struct zindex *zi = &p->zindex;

	for (int z = 0; z < p->nzones; z++)
		for (int i = 0; i < p->zones[z].nnets; i++) {
			const struct prefix *net = &p->zones[z].nets[i];
			struct zlevel *lv = zone_level_for(zi, net->len);
			lv->v = xrealloc(lv->v, (size_t)lv->n + 1, sizeof *lv->v);
			lv->v[lv->n].net = zone_key(&net->addr);
			lv->has_v4 |= net->len <= 96 || addr_is_v4(&net->addr);
			lv->has_v6 |= !(net->len >= 96 && addr_is_v4(&net->addr));
			lv->v[lv->n].zone = z;
			lv->n++;
		}
	qsort(zi->levels, (size_t)zi->nlevels, sizeof *zi->levels, zone_cmp_level);
	for (int i = 0; i < zi->nlevels; i++)
		qsort(zi->levels[i].v, (size_t)zi->levels[i].n, sizeof *zi->levels[i].v, zone_cmp_entry);
}

void
zone_index_free(struct zindex *zi)
{
	for (int i = 0; i < zi->nlevels; i++)
		free(zi->levels[i].v);
	free(zi->levels);
	memset(zi, 0, sizeof *zi);
}

/* "0.0.0.0/0" is ::ffff:0:0/96: it covers IPv4 only, as an admin means it; "::/0" covers all. */
int
zone_of_net(const struct policy *p, const struct addr *a)
{
	const struct zindex *zi = &p->zindex;
	const struct zkey k = zone_key(a);
	const bool v4 = addr_is_v4(a);

	for (int i = 0; i < zi->nlevels; i++) {
		const struct zlevel *lv = &zi->levels[i];
		const struct zkey want = { k.hi & lv->mask.hi, k.lo & lv->mask.lo };
		int lo = 0, hi = lv->n;
		if (v4 ? !lv->has_v4 : !lv->has_v6)
			continue;
		while (lo < hi) {
			int mid = lo + (hi - lo) / 2, c = zone_cmp_key(&want, &lv->v[mid].net);
			if (c == 0)
				return lv->v[mid].zone;
			if (c < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
	}
	return ZONE_NONE;
}

static int
zone_of_if(const struct policy *p, const char *ifname)
{
	for (int z = 0; z < p->nzones; z++)
		for (int i = 0; i < p->zones[z].nifs; i++)
			if (strcmp(p->zones[z].ifs[i], ifname) == 0)
				return z;
	return ZONE_NONE;
}

int
policy_zone_of(const struct policy *p, const struct addr *a, const char *ifname)
{
	if (ifname != NULL) {
		int z = zone_of_if(p, ifname);
		if (z != ZONE_NONE)
			return z;
	}
	return zone_of_net(p, a);
}

/* A network of another zone, more specific than len, that covers all of net: it takes net away. */
static bool
zone_taken_by_other(const struct policy *p, int zone, const struct prefix *net, unsigned len)
{
	for (int z = 0; z < p->nzones; z++)
		for (int i = 0; z != zone && i < p->zones[z].nnets; i++)
			if (p->zones[z].nets[i].len > len && prefix_covers(&p->zones[z].nets[i], net))
				return true;
	return false;
}

/*
 * Conservative: true unless every address of net is certainly elsewhere.
 * Interface zones can hold any address, so they always may.
 */
bool
zone_may_hold(const struct policy *p, int zone, const struct prefix *net)
{
	const struct pzone *z;

	if (zone < 0 || zone >= p->nzones)
		return false;
	z = &p->zones[zone];
	if (z->nifs > 0)
		return true;
	for (int i = 0; i < z->nnets; i++) {
		const struct prefix *zn = &z->nets[i];
		const struct prefix *inner;
		if (!prefix_covers(zn, net) && !prefix_covers(net, zn))
			continue;
		inner = zn->len > net->len ? zn : net;
		if (!zone_taken_by_other(p, zone, inner, zn->len))
			return true;
	}
	return false;
}

const char *
policy_zone_name(const struct policy *p, int zone)
{
	if (zone == ZONE_ANY)
		return "any";
	if (zone < 0 || zone >= p->nzones)
		return "(none)";
	return p->zones[zone].name;
}

int
policy_zone_count(const struct policy *p)
{
	return p->nzones;
}

int
policy_zone_by_name(const struct policy *p, const char *name)
{
	for (int z = 0; z < p->nzones; z++)
		if (strcmp(p->zones[z].name, name) == 0)
			return z;
	return ZONE_NONE;
}

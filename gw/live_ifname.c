/* live_ifname.c -- interface index to name, cached per queue thread (the engine matches zones by name). */
#include "gw/live_ifname.h"

#include <string.h>

/* Interfaces may be renamed or their index reused: a stale name must not outlive a few seconds. */
#define LIVE_IFNAME_TTL_US 5000000ULL

const char *
live_ifname_get(struct live_ifname *c, uint32_t ifindex, uint64_t now_us)
{
	unsigned i = ifindex % LIVE_IFNAME_SLOTS;

	if (ifindex == 0)
		return NULL;
	if (c->slot[i].index == ifindex && now_us - c->slot[i].at_us < LIVE_IFNAME_TTL_US)
		return c->slot[i].name[0] ? c->slot[i].name : NULL;
	c->slot[i].index = ifindex;
	c->slot[i].at_us = now_us;
	if (if_indextoname(ifindex, c->slot[i].name) == NULL)
		c->slot[i].name[0] = '\0';
	return c->slot[i].name[0] ? c->slot[i].name : NULL;
}

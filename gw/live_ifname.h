/* live_ifname.h -- interface index to name, cached per queue thread (the engine matches zones by name). */
#ifndef TIERGATE_GW_LIVE_IFNAME_H
#define TIERGATE_GW_LIVE_IFNAME_H

#include <net/if.h>
#include <stdint.h>

#define LIVE_IFNAME_SLOTS 64

struct live_ifname {
	struct {
		uint32_t index;
		uint64_t at_us;
		char name[IF_NAMESIZE];
	} slot[LIVE_IFNAME_SLOTS];
};

/* Name of ifindex (NULL for 0 or an index that no longer exists). Entries are re-read after a few seconds. */
const char *live_ifname_get(struct live_ifname *c, uint32_t ifindex, uint64_t now_us);

#endif

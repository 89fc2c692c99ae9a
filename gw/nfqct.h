/* nfqct.h -- changing the connmark of one conntrack entry over ctnetlink (cutting flows after a reload). */
#ifndef TIERGATE_GW_NFQCT_H
#define TIERGATE_GW_NFQCT_H

#include <stdint.h>

#include "lib/addr.h"

struct nfqct;

struct nfqct *nfqct_open(void);
void nfqct_close(struct nfqct *c);
/*
 * Sets the bits of mask in the connmark of the entry whose original tuple is
 * src:sport -> dst:dport (TCP or UDP) to mark. Returns 0, or -1 with errno
 * (ENOENT: no such entry, e.g. already gone).
 */
int nfqct_set_mark(struct nfqct *c, const struct addr *src, const struct addr *dst, uint8_t proto,
    uint16_t sport, uint16_t dport, uint32_t mark, uint32_t mask);

/* The original-direction tuple of a conntrack entry. */
struct nfqct_entry {
	struct addr src, dst;
	uint8_t proto;
	uint16_t sport, dport;   /* 0 for protocols without ports */
};

/*
 * Lists the entries whose connmark has (mark & mask) == mark in this network
 * namespace. Returns the number found (up to max, *out allocated, caller
 * frees), or -1 with errno.
 */
int nfqct_list(struct nfqct *c, uint32_t mark, uint32_t mask, size_t max, struct nfqct_entry **out);

#endif

/* nfqct.h -- conntrack entries over ctnetlink: a connmark changed (reload cuts), an entry made for a dropped flow, a listing. */
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

/*
 * Creates the entry src:sport -> dst:dport (TCP or UDP; TCP in state
 * SYN_SENT) with connmark mark and a timeout: a flow decided drop or reject
 * on its first packet has no entry (the dropped packet is never confirmed),
 * so without this every later packet would be queued again and a standby's
 * synced table would not know the verdict. Returns 0, or -1 with errno
 * (EEXIST: the flow already has an entry; the chain saves the mark there).
 */
int nfqct_create(struct nfqct *c, const struct addr *src, const struct addr *dst, uint8_t proto,
    uint16_t sport, uint16_t dport, uint32_t mark, uint32_t timeout_s);

/* The original-direction tuple of a conntrack entry, and its connmark. */
struct nfqct_entry {
	struct addr src, dst;
	uint8_t proto;
	uint16_t sport, dport;   /* 0 for protocols without ports */
	uint32_t mark;
};

/*
 * Lists the entries whose connmark has (mark & mask) == mark in this network
 * namespace. Returns the number found (up to max, *out allocated, caller
 * frees), or -1 with errno.
 */
int nfqct_list(struct nfqct *c, uint32_t mark, uint32_t mask, size_t max, struct nfqct_entry **out);

#endif

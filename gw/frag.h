/* frag.h -- remembers each fragmented datagram's first fragment so later fragments follow its verdict. */
#ifndef TIERGATE_GW_FRAG_H
#define TIERGATE_GW_FRAG_H

#include <stdint.h>

#include "gw/decode.h"

/*
 * A small set-associative table keyed by (src, dst, proto, id): bounded, no
 * allocation after init; a full set replaces its oldest entry. Fragments
 * whose first fragment was not seen (or has been forgotten) have no entry.
 */
struct frag_entry {
	struct addr src, dst;
	uint32_t id;
	uint8_t proto;
	uint8_t used;
	uint32_t flow;           /* flow table index */
	uint64_t flow_id;        /* guards against the flow having been replaced */
	uint64_t expires_us;
};

struct frag_table {
	struct frag_entry *slots;
	uint32_t sets;           /* power of two; FRAG_WAYS slots each */
	uint64_t seed;
};

#define FRAG_WAYS 4

int frag_table_init(struct frag_table *t, unsigned max_entries, uint64_t seed);
void frag_table_free(struct frag_table *t);
size_t frag_table_bytes(const struct frag_table *t);
void frag_remember(struct frag_table *t, const struct decoded *d, uint32_t flow, uint64_t flow_id,
    uint64_t expires_us, uint64_t now_us);
/* The entry for d's datagram, or NULL (unknown or expired). */
const struct frag_entry *frag_find(const struct frag_table *t, const struct decoded *d, uint64_t now_us);

#endif

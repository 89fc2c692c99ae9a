/* dnsbind.h -- which addresses the site's DNS returned for each name, within their TTL: bounded, LRU, shared by the engines. */
#ifndef TIERGATE_GW_DNSBIND_H
#define TIERGATE_GW_DNSBIND_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/addr.h"

#define DNSBIND_NAME_MAX 79      /* nDPI keeps 79 bytes of a server name: longer ones never match */
#define DNSBIND_ADDRS 8          /* addresses kept per name (the latest answers win) */

struct dnsbind_stats {
	uint64_t names;              /* names held now */
	uint64_t capacity;           /* the bound on names */
	uint64_t bytes;              /* memory of the table (allocated once) */
	uint64_t added;              /* (name, address) pairs learnt or refreshed */
	uint64_t evicted;            /* names pushed out, least recently used first */
	uint64_t hits, misses;       /* lookups: address found for the name / not */
};

struct dnsbind;

/* max_names entries (each ~300 bytes, allocated at once, pages touched as used); grace_s is added to every TTL. */
struct dnsbind *dnsbind_new(unsigned max_names, unsigned grace_s);
struct dnsbind *dnsbind_ref(struct dnsbind *b);
void dnsbind_unref(struct dnsbind *b);
/* name: lower case, no final dot; ignored when longer than DNSBIND_NAME_MAX. Thread-safe. */
void dnsbind_add(struct dnsbind *b, const char *name, const struct addr *a, uint32_t ttl, uint64_t now_us);
bool dnsbind_has(struct dnsbind *b, const char *name, const struct addr *a, uint64_t now_us);
void dnsbind_stats(struct dnsbind *b, struct dnsbind_stats *out);

#endif

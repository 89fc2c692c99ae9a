/* counts.h -- live counts by key (connections per source address, sessions per user). */
#ifndef TIERGATE_BRIDGE_COUNTS_H
#define TIERGATE_BRIDGE_COUNTS_H

struct counts;

/* NULL when out of memory (the relay never exits on an allocation failure). */
struct counts *counts_new(void);
void counts_free(struct counts *c);
unsigned counts_get(const struct counts *c, const char *key);
/* Adds one; returns the new count, 0 when out of memory (nothing counted). */
unsigned counts_inc(struct counts *c, const char *key);
/* Removes one (the entry goes at zero). */
void counts_dec(struct counts *c, const char *key);

#endif

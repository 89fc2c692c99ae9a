/* verify_index.h -- per-field indexes of the events, so checks and --update stay linear on big captures. */
#ifndef TIERGATE_VERIFY_INDEX_H
#define TIERGATE_VERIFY_INDEX_H

#include <stddef.h>

#include "gw/verify/verify_case.h"
#include "gw/verify/verify_events.h"

/*
 * A check's match names fields; for each field name used, an index maps the
 * value's text to the events that have it (built on first use, O(events)).
 * The index only narrows: the caller still tests every candidate with
 * vcheck_selects, so matching rules live in one place (verify_check.c).
 */
struct vindex;

struct vindex *vindex_new(const struct vevents *evs);
void vindex_free(struct vindex *ix);

/* Events a match could select, ascending. */
struct vcands {
	const size_t *list;   /* NULL: every event (no usable field, or no index) */
	size_t n;
};

/* The smallest candidate set any one field of match allows. ix may be NULL. */
struct vcands vindex_candidates(struct vindex *ix, const struct vevents *evs, const struct vfields *match);

static inline size_t
vcands_at(const struct vcands *c, size_t k)
{
	return c->list ? c->list[k] : k;
}

#endif

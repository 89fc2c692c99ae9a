/* verify_check.h -- evaluating a case's checks against the events, with failures that explain themselves. */
#ifndef TIERGATE_VERIFY_CHECK_H
#define TIERGATE_VERIFY_CHECK_H

#include <stdbool.h>
#include <stdio.h>

#include "gw/verify/verify_case.h"
#include "gw/verify/verify_events.h"
#include "gw/verify/verify_index.h"

/* Does the event's value equal the field (strings exactly, numbers and booleans by value)? */
bool vcheck_field_matches(const struct vfield *f, const struct json_value *v);
bool vcheck_selects(const struct vcheck *ck, const struct vevent *ev);

/*
 * Evaluates check number index (1-based) of vc. On failure returns -1, sets
 * *reason to one line (caller frees) and writes the explanation to details:
 * expected vs actual values, the rule, app and packet of the offending event
 * and the nearest events of the same flow.
 */
int vcheck_eval(const struct vcase *vc, const struct vcheck *ck, size_t index,
    const struct vevents *evs, struct vindex *ix, char **reason, FILE *details);

/* How many events ck's match selects, and the first of them (NULL when none). ix may be NULL. */
size_t vcheck_count(const struct vcheck *ck, const struct vevents *evs, struct vindex *ix,
    const struct vevent **first);

#endif

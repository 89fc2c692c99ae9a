/* verify_update.h -- --update: record the gateway's current verdicts as a case's checks, shown as a diff. */
#ifndef TIERGATE_VERIFY_UPDATE_H
#define TIERGATE_VERIFY_UPDATE_H

#include <stddef.h>
#include <stdio.h>

#include "gw/verify/verify.h"
#include "gw/verify/verify_case.h"
#include "gw/verify/verify_events.h"
#include "gw/verify/verify_index.h"

/*
 * Builds in *out (caller frees with vcase_free) old's case with its checks
 * recorded from the events: one per flow that got a final verdict (its 5-tuple,
 * and its packet number when the flow changed verdict), expecting the flow's
 * app, rule and verdict; then the number of final verdicts of each kind; then
 * old's checks marked keep = true, unchanged. ix (may be NULL) indexes evs.
 */
void vupdate_record(struct vcase *out, const struct vcase *old, const struct vevents *evs, struct vindex *ix);

/*
 * Records, rewrites case.conf when anything changed and writes the change to
 * details as "- old check" / "+ new check" lines. res->status becomes
 * VSTATUS_UPDATED or stays VSTATUS_SAME; VSTATUS_FAIL when the file cannot be
 * written or a kept check does not hold.
 */
void vupdate_case(const struct vcase *old, const struct vevents *evs, struct vindex *ix, struct vresult *res,
    FILE *details);

/* A line diff of a against b (longest common subsequence): "  - x" / "  + y" lines. */
void vupdate_diff(char **a, size_t na, char **b, size_t nb, FILE *out, size_t *removed, size_t *added);

void vupdate_copy_field(struct vfields *fs, const struct vfield *f);

#endif

/* verify_sched.h -- running the cases in parallel worker processes and reporting them in order. */
#ifndef TIERGATE_VERIFY_SCHED_H
#define TIERGATE_VERIFY_SCHED_H

#include <stdio.h>

#include "gw/verify/verify.h"
#include "gw/verify/verify_find.h"

/*
 * Runs every case, opts->jobs at a time, each in its own process (a crash in
 * one case cannot take the run down). Prints one line per case in the order
 * found, as soon as it and all before it are done, with the details below
 * failing ones (and passing ones under -v). Fills results[i] (caller frees).
 */
void vsched_run(const struct vopts *opts, const struct vcase_list *cases, struct vresult *results,
    FILE *out);

/* The signal that stopped vsched_run early (the run is incomplete), or 0. */
int vsched_interrupted(void);

/* "PASS name (3 checks)" and the indented details, as printed for one case. */
void vsched_print(const struct vopts *opts, const struct vcase_ref *ref, const struct vresult *res,
    FILE *out);

#endif

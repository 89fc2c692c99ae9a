/* verify_find.h -- finding the cases under the folders named on the command line. */
#ifndef TIERGATE_VERIFY_FIND_H
#define TIERGATE_VERIFY_FIND_H

#include <stddef.h>

#include "gw/verify/verify.h"

struct vcase_list {
	struct vcase_ref *v;
	size_t n;
};

/*
 * A folder holding case.conf is a case; any other folder is searched (sorted,
 * hidden folders skipped, at most VFIND_MAX_DEPTH deep). A case's name is its
 * path below root (root's own name when root is the case). Returns -1 with a
 * message on stderr when root is not a folder.
 */
#define VFIND_MAX_DEPTH 8
int vfind_cases(const char *root, struct vcase_list *out);
void vfind_free(struct vcase_list *list);

#endif

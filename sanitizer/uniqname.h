/* uniqname.h -- "name (2).ext": one rule for names that collide in a rebuilt ZIP, the CLI's output dir and the outbox. */
#ifndef TIERGATE_UNIQNAME_H
#define TIERGATE_UNIQNAME_H

#include <stddef.h>

/*
 * The n-th name for name (n >= 2): "report (2).pdf", "README (3)",
 * "a/b/photo (2).png" (the number goes before the last extension of the last
 * path element). n < 2 gives a copy of name. malloc'd.
 */
char *uniqname_nth(const char *name, unsigned n);

/* The names already taken in one ZIP (compared without ASCII case: Windows extracts them). */
struct uniqname_set {
	char **names;
	size_t n, cap;
};

/*
 * name, or its first free uniqname_nth(name, 2..), now taken in set.
 * *renamed (may be NULL) says whether it differs. malloc'd copy.
 */
char *uniqname_take(struct uniqname_set *set, const char *name, int *renamed);
void uniqname_set_free(struct uniqname_set *set);

#endif

/* uniqname.c -- colliding names get " (N)" before the extension instead of overwriting each other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"
#include "sanitizer/uniqname.h"

char *
uniqname_nth(const char *name, unsigned n)
{
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	const char *dot = strrchr(base, '.');
	size_t stem, len = strlen(name), size;
	char *out;

	if (n < 2)
		return xstrdup(name);
	/* ".bashrc" has no extension; "x." keeps its dot with the stem */
	if (dot == NULL || dot == base || dot[1] == '\0')
		dot = name + len;
	stem = (size_t)(dot - name);
	size = len + 16;
	out = xmalloc(size);
	snprintf(out, size, "%.*s (%u)%s", (int)stem, name, n, dot);
	return out;
}

static int
uniqname_taken(const struct uniqname_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcasecmp(set->names[i], name) == 0)
			return 1;
	return 0;
}

char *
uniqname_take(struct uniqname_set *set, const char *name, int *renamed)
{
	char *pick = xstrdup(name);

	/* bounded by the set's size: among n+1 candidates one is free */
	for (unsigned k = 2; uniqname_taken(set, pick) && k < set->n + 3; k++) {
		free(pick);
		pick = uniqname_nth(name, k);
	}
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 16;
		set->names = xrealloc(set->names, set->cap, sizeof *set->names);
	}
	set->names[set->n++] = xstrdup(pick);
	if (renamed)
		*renamed = strcmp(pick, name) != 0;
	return pick;
}

void
uniqname_set_free(struct uniqname_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->names[i]);
	free(set->names);
	memset(set, 0, sizeof *set);
}

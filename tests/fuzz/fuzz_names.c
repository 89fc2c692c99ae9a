/* fuzz_names.c -- fuzz target: patterns and names from hostile text -> the name matcher, checked against a plain scan. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_LINES 64

/* Lines before a blank line are patterns (those names_pattern_error accepts), the rest names. */
static int
fuzz_split(char *text, char **lines, bool *is_pattern)
{
	int n = 0;
	bool patterns = true;

	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && n < FUZZ_LINES;
	    l = strtok_r(NULL, "\n", &save)) {
		if (strcmp(l, "-") == 0) {
			patterns = false;
			continue;
		}
		lines[n] = l;
		is_pattern[n++] = patterns;
	}
	return n;
}

static bool
fuzz_naive(char **lines, const bool *is_pattern, int n, const char *name)
{
	size_t len = strlen(name);

	if (len > 0 && name[len - 1] == '.')
		len--;
	for (int i = 0; i < n; i++) {
		const char *p = lines[i];
		size_t pl = strlen(p);
		if (!is_pattern[i] || names_pattern_error(p) != NULL)
			continue;
		if (pl > 0 && p[pl - 1] == '.')
			pl--;
		if (strncmp(p, "*.", 2) != 0) {
			if (pl == len && strncasecmp(p, name, len) == 0)
				return true;
		} else if (len > pl - 1 && strncasecmp(name + len - (pl - 1), p + 1, pl - 1) == 0) {
			return true;
		}
	}
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *lines[FUZZ_LINES];
	bool is_pattern[FUZZ_LINES];
	struct nameset *s = names_new();
	struct name_query q;
	int n;

	memcpy(text, data, size);
	text[size] = '\0';
	n = fuzz_split(text, lines, is_pattern);
	for (int i = 0; i < n; i++)
		if (is_pattern[i] && names_pattern_error(lines[i]) == NULL)
			names_add(s, lines[i], i);
	for (int i = 0; i < n; i++) {
		if (is_pattern[i])
			continue;
		names_query_init(&q, lines[i]);
		if (q.ok && (names_match(s, &q) != NAMES_NO_MATCH) != fuzz_naive(lines, is_pattern, n, lines[i]))
			abort();   /* the hashed matcher and the plain reading disagree */
	}
	names_free(s);
	free(text);
	return 0;
}

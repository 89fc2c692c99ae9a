/* names.h -- server-name patterns of rules: exact names and "*." suffixes, matched in a few hash probes. */
#ifndef TIERGATE_POLICY_NAMES_H
#define TIERGATE_POLICY_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A name set holds the patterns of one rule: "teams.microsoft.com" (that name
 * only) and "*.sharepoint.com" (any name ending in ".sharepoint.com", at a
 * label boundary: "a.sharepoint.com" and "x.y.sharepoint.com", never
 * "sharepoint.com" itself nor "evil-sharepoint.com"). Names compare
 * case-insensitively; one trailing dot is ignored.
 *
 * A lookup hashes the name once from its right end; the hash of every suffix
 * that starts after a dot falls out of the same pass. Then one probe for the
 * whole name and one per label: the cost does not depend on the number of
 * patterns.
 */
#define NAMES_LEN_MAX 253       /* longest DNS name (RFC 1035, without the root dot) */
#define NAMES_LABELS_MAX 128
#define NAMES_NO_MATCH (-2)     /* names_match: no pattern matched */
#define NAMES_INLINE (-1)       /* names_match: a pattern written in the rule itself */

struct nameset;

/* A name prepared once for matching against any number of sets. */
struct name_query {
	bool ok;                    /* a well-formed name (else nothing matches it) */
	uint16_t len;
	uint16_t nsuffix;
	char name[NAMES_LEN_MAX + 1];   /* lower case, no trailing dot */
	uint64_t full;              /* hash of the whole name */
	uint16_t suffix_at[NAMES_LABELS_MAX];   /* where each suffix starts (after a dot), longest first */
	uint64_t suffix[NAMES_LABELS_MAX];
};

/*
 * Checks one pattern as written; NULL when fine, else why not (a sentence
 * fragment). A bare "*", a "*" anywhere but a leading "*.", empty labels and
 * characters outside letters, digits, '-', '_' and '.' are refused.
 */
const char *names_pattern_error(const char *pattern);

struct nameset *names_new(void);
/* Adds a checked pattern (names_pattern_error == NULL); list is what names_match reports for it. */
void names_add(struct nameset *s, const char *pattern, int list);
size_t names_count(const struct nameset *s);
void names_free(struct nameset *s);

void names_query_init(struct name_query *q, const char *name);
/* NAMES_NO_MATCH, or the list id of the matching pattern (an exact one wins over suffixes, longer suffixes over shorter). */
int names_match(const struct nameset *s, const struct name_query *q);

#endif

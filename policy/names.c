/* names.c -- server-name patterns: one open-addressing hash of exact names and "*." suffixes per rule. */
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "policy/names.h"

enum names_kind { NK_EMPTY, NK_EXACT, NK_SUFFIX };

struct nslot {                  /* 16 bytes: four to a cache line */
	uint64_t hash;
	uint32_t off;               /* into text */
	uint8_t len;                /* <= NAMES_LEN_MAX */
	uint8_t kind;
	int16_t list;               /* NAMES_INLINE or a list id */
};

struct nameset {
	struct nslot *slots;
	uint32_t mask;              /* capacity - 1 (a power of two) */
	uint32_t count;
	char *text;                 /* the patterns' keys, lower case, one after the other */
	size_t tlen, tcap;
	/* label counts of the keys: a name probes only suffixes (and itself) of a length some key has */
	uint16_t exact_min, exact_max, suffix_min, suffix_max;
};

#define NAMES_FNV_PRIME 0x100000001b3ULL
#define NAMES_FNV_BASIS 0xcbf29ce484222325ULL

static char
names_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* FNV-1a from the right end, so the hash of a suffix is a prefix of the computation. */
static uint64_t
names_hash(const char *s, size_t len)
{
	uint64_t h = NAMES_FNV_BASIS;

	while (len > 0)
		h = (h ^ (unsigned char)names_lower(s[--len])) * NAMES_FNV_PRIME;
	return h;
}

static bool
names_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_' || c == '.';
}

const char *
names_pattern_error(const char *pattern)
{
	const char *body = pattern;
	size_t len;

	if (strcmp(pattern, "*") == 0 || strcmp(pattern, "*.") == 0)
		return "a bare '*' matches every name: list the names instead";
	if (strncmp(pattern, "*.", 2) == 0)
		body = pattern + 2;
	len = strlen(body);
	if (len > 0 && body[len - 1] == '.')
		len--;
	if (len == 0)
		return "empty name";
	if (len > NAMES_LEN_MAX)
		return "longer than 253 characters";
	for (size_t i = 0; i < len; i++) {
		if (body[i] == '*')
			return "'*' is allowed only as a leading \"*.\" (a suffix wildcard)";
		if (!names_char_ok(body[i]))
			return "use letters, digits, '-', '_' and '.' (write IDNs as xn--...)";
		if (body[i] == '.' && (i == 0 || body[i - 1] == '.'))
			return "empty label (two dots, or a leading dot)";
	}
	return NULL;
}

struct nameset *
names_new(void)
{
	struct nameset *s = xcalloc(1, sizeof *s);

	s->mask = 15;
	s->slots = xcalloc((size_t)s->mask + 1, sizeof *s->slots);
	s->exact_min = s->suffix_min = UINT16_MAX;
	return s;
}

void
names_free(struct nameset *s)
{
	if (s == NULL)
		return;
	free(s->slots);
	free(s->text);
	free(s);
}

size_t
names_count(const struct nameset *s)
{
	return s ? s->count : 0;
}

static const struct nslot *
names_find(const struct nameset *s, uint64_t hash, enum names_kind kind, const char *key,
    size_t len)
{
	for (uint32_t i = (uint32_t)(hash ^ kind) & s->mask;; i = (i + 1) & s->mask) {
		const struct nslot *sl = &s->slots[i];
		if (sl->kind == NK_EMPTY)
			return NULL;
		if (sl->hash == hash && sl->kind == kind && sl->len == len &&
		    memcmp(s->text + sl->off, key, len) == 0)
			return sl;
	}
}

static void
names_place(struct nameset *s, const struct nslot *in)
{
	uint32_t i = (uint32_t)(in->hash ^ in->kind) & s->mask;

	while (s->slots[i].kind != NK_EMPTY)
		i = (i + 1) & s->mask;
	s->slots[i] = *in;
}

static void
names_grow(struct nameset *s)
{
	struct nslot *old = s->slots;
	uint32_t oldcap = s->mask + 1;

	s->mask = oldcap * 2 - 1;
	s->slots = xcalloc((size_t)s->mask + 1, sizeof *s->slots);
	for (uint32_t i = 0; i < oldcap; i++)
		if (old[i].kind != NK_EMPTY)
			names_place(s, &old[i]);
	free(old);
}

static void
names_labels(struct nameset *s, enum names_kind kind, const char *key, size_t len)
{
	uint16_t n = 1;

	for (size_t i = 0; i < len; i++)
		n += key[i] == '.';
	if (kind == NK_EXACT) {
		s->exact_min = n < s->exact_min ? n : s->exact_min;
		s->exact_max = n > s->exact_max ? n : s->exact_max;
	} else {
		s->suffix_min = n < s->suffix_min ? n : s->suffix_min;
		s->suffix_max = n > s->suffix_max ? n : s->suffix_max;
	}
}

void
names_add(struct nameset *s, const char *pattern, int list)
{
	enum names_kind kind = strncmp(pattern, "*.", 2) == 0 ? NK_SUFFIX : NK_EXACT;
	const char *body = kind == NK_SUFFIX ? pattern + 2 : pattern;
	size_t len = strlen(body);
	struct nslot sl;

	if (len > 0 && body[len - 1] == '.')
		len--;
	if (len == 0 || len > NAMES_LEN_MAX)
		return;
	if (s->tlen + len > s->tcap) {
		s->tcap = (s->tlen + len) * 2 + 64;
		s->text = xrealloc(s->text, s->tcap, 1);
	}
	for (size_t i = 0; i < len; i++)
		s->text[s->tlen + i] = names_lower(body[i]);
	sl.hash = names_hash(body, len);
	if (names_find(s, sl.hash, kind, s->text + s->tlen, len) != NULL)
		return;   /* the same pattern twice (a list and the rule): the first one counts */
	sl.off = (uint32_t)s->tlen;
	sl.len = (uint8_t)len;
	sl.kind = (uint8_t)kind;
	sl.list = (int16_t)(list >= NAMES_INLINE && list <= INT16_MAX ? list : NAMES_INLINE);
	names_labels(s, kind, s->text + s->tlen, len);
	s->tlen += len;
	if ((s->count + 1) * 2 > s->mask + 1)
		names_grow(s);
	names_place(s, &sl);
	s->count++;
}

void
names_query_init(struct name_query *q, const char *name)
{
	size_t len = strlen(name);
	uint64_t h = NAMES_FNV_BASIS;
	uint16_t n = 0;

	q->ok = false;
	q->nsuffix = 0;
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > NAMES_LEN_MAX)
		return;
	for (size_t i = len; i-- > 0;) {
		char c = names_lower(name[i]);
		if (!names_char_ok(c))
			return;
		if (c == '.') {
			if (i + 1 == len || i == 0 || name[i - 1] == '.' || n == NAMES_LABELS_MAX)
				return;
			q->suffix_at[n] = (uint16_t)(i + 1);
			q->suffix[n++] = h;
		}
		q->name[i] = c;
		h = (h ^ (unsigned char)c) * NAMES_FNV_PRIME;
	}
	q->name[len] = '\0';
	q->len = (uint16_t)len;
	q->full = h;
	q->nsuffix = n;
	q->ok = true;
}

int
names_match(const struct nameset *s, const struct name_query *q)
{
	const struct nslot *sl;

	int labels = q->nsuffix + 1, hi, lo;

	if (s == NULL || !q->ok)
		return NAMES_NO_MATCH;
	if (labels >= s->exact_min && labels <= s->exact_max &&
	    (sl = names_find(s, q->full, NK_EXACT, q->name, q->len)) != NULL)
		return sl->list;
	/* suffix[i] has i + 1 labels (recorded from the right); only lengths some key has, longest first */
	hi = (s->suffix_max < q->nsuffix ? s->suffix_max : q->nsuffix) - 1;
	lo = s->suffix_min - 1;
	for (int i = hi; i >= lo; i--) {
		size_t at = q->suffix_at[i];
		if ((sl = names_find(s, q->suffix[i], NK_SUFFIX, q->name + at, q->len - at)) != NULL)
			return sl->list;
	}
	return NAMES_NO_MATCH;
}

/* json.h -- a small, strict JSON reader (RFC 8259): the event lines tiergate-verify checks, the quarantine metadata. */
#ifndef TIERGATE_JSON_H
#define TIERGATE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * What it reads is written by our own programs, so anything that is not exactly
 * RFC 8259 JSON is a bug worth reporting rather than guessing around: the
 * reader refuses trailing commas, comments, leading zeros, control characters
 * and invalid UTF-8 in strings, lone surrogates, duplicate keys, nesting
 * deeper than JSON_MAX_DEPTH and trailing bytes after the value.
 */
#define JSON_MAX_DEPTH 64

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_member;

struct json_value {
	enum json_type type;
	bool boolean;
	double number;        /* JSON_NUMBER: the value */
	bool is_int;          /* JSON_NUMBER written without fraction/exponent and fits int64 */
	int64_t integer;      /* valid when is_int */
	char *text;           /* JSON_STRING: decoded UTF-8, NUL-terminated; JSON_NUMBER: as written */
	size_t len;           /* JSON_STRING: bytes in text (may contain NUL); arrays/objects: count */
	struct json_value *items;     /* JSON_ARRAY */
	struct json_member *members;  /* JSON_OBJECT, in document order */
};

struct json_member {
	char *key;            /* decoded, NUL-terminated */
	struct json_value value;
};

struct json_error {
	size_t offset;        /* byte offset of the problem in the input */
	char text[96];
};

/* Parses exactly one JSON value from text[0..len). Returns 0, or -1 with err filled. */
int json_parse(const char *text, size_t len, struct json_value *out, struct json_error *err);
/* Frees what json_parse allocated inside v (v itself is the caller's). */
void json_free(struct json_value *v);

/* The member named key of an object, or NULL (also when v is not an object). */
const struct json_value *json_get(const struct json_value *v, const char *key);
/* The string of a JSON_STRING member, or NULL. */
const char *json_get_str(const struct json_value *v, const char *key);
/* The value of an integer member; returns false when absent or not an integer. */
bool json_get_int(const struct json_value *v, const char *key, int64_t *out);

/* Copies of the strings in array member key (non-strings skipped): the count, *out
 * malloc'd (NULL when there are none); the caller frees each string and *out. */
size_t json_get_strings(const struct json_value *v, const char *key, char ***out);

const char *json_type_name(enum json_type type);

#endif

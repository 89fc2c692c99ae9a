/* qjson.h -- reading back the flat JSON objects tiergate writes (quarantine metadata): top-level members only. */
#ifndef TIERGATE_QJSON_H
#define TIERGATE_QJSON_H

#include <stddef.h>

/* The string value of top-level member key (malloc'd, unescaped), or NULL. */
char *qjson_string(const char *text, size_t len, const char *key);
/* The integer value of top-level member key, or -1. */
long long qjson_number(const char *text, size_t len, const char *key);
/* The strings of a top-level array member; returns the count (0 when absent). *out malloc'd. */
size_t qjson_strings(const char *text, size_t len, const char *key, char ***out);

#endif

/* fuzz_json.c -- libFuzzer target for the strict JSON reader (lib/json.c: verify's events, quarantine metadata). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches every node so a bad pointer or length in the tree shows up under ASan. */
static size_t
fuzz_json_walk(const struct json_value *v)
{
	size_t sum = 1;

	if (v->type == JSON_STRING || v->type == JSON_NUMBER)
		sum += v->type == JSON_STRING ? v->len : strlen(v->text);
	if (v->type == JSON_ARRAY)
		for (size_t i = 0; i < v->len; i++)
			sum += fuzz_json_walk(&v->items[i]);
	if (v->type == JSON_OBJECT)
		for (size_t i = 0; i < v->len; i++)
			sum += strlen(v->members[i].key) + fuzz_json_walk(&v->members[i].value);
	return sum;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_value v;
	struct json_error err;

	if (json_parse((const char *)data, size, &v, &err) == 0) {
		fuzz_json_walk(&v);
		char **list = NULL;
		size_t n = json_get_strings(&v, "recipients", &list);

		json_get(&v, "event");
		for (size_t i = 0; i < n; i++)
			free(list[i]);
		free(list);
		json_free(&v);
	} else if (err.offset > size || err.text[0] == '\0') {
		__builtin_trap();   /* an error must say what and where */
	}
	return 0;
}

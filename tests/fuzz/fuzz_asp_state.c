/* fuzz_asp_state.c -- fuzz target: the ASP state file's lines (written by the bridge, read by the gateway). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct asp_result_line r;
	char *text, *cursor, *line;

	if (size > 1 << 20)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	cursor = text;
	while ((line = strsep(&cursor, "\n")) != NULL)
		if (asp_state_parse_line(line, &r) == 1 && (r.service[0] == '\0' || r.checked_at < 0))
			abort();   /* a result always names its service and a time */
	free(text);
	return 0;
}

/* fuzz_ctlcmd.c -- libFuzzer target for the bridge's control socket command parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vpn-bridge/ctlcmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[256];
	const char *verb = NULL, *arg = NULL;
	size_t n = size < sizeof line - 1 ? size : sizeof line - 1;   /* the socket reads 255 */

	memcpy(line, data, n);
	line[n] = '\0';
	if (ctlcmd_parse(line, &verb, &arg) == 0) {
		/* What control.c relies on: a known verb, an argument inside the line, non-empty, no spaces. */
		if (verb == NULL || arg == NULL || arg <= line || arg >= line + n || arg[0] == '\0' ||
		    strlen(arg) > 128 || strpbrk(arg, " \t\r\n") != NULL)
			abort();
		if (strcmp(verb, "unlock") != 0 && strcmp(verb, "revoke") != 0 &&
		    strcmp(verb, "user-changed") != 0 && strcmp(verb, "device-changed") != 0)
			abort();
	}
	return 0;
}

/* fuzz_screenproto.c -- libFuzzer target for the bridge's screen-protocol check (first client bytes in a telework tunnel). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vpn-bridge/screenproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The first byte picks the allowed protocols, the rest are the client's bytes. What the
 * relay relies on: a verdict, once PASS or CUT, does not change as more bytes arrive (it
 * decides on the first bytes it has); MORE never lasts past SCREENPROTO_NEED bytes; the
 * reason is a terminated string.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum screenproto_verdict first = SCREENPROTO_MORE;
	unsigned allowed;
	char why[160];

	if (size == 0)
		return 0;
	allowed = data[0] & 3;
	data++;
	size--;
	for (size_t k = 0; k <= size && k <= SCREENPROTO_NEED; k++) {
		enum screenproto_verdict v;
		memset(why, 'x', sizeof why);
		v = screenproto_sniff(allowed, data, k, why, sizeof why);
		if (first != SCREENPROTO_MORE && v != first)
			__builtin_trap();
		if (v == SCREENPROTO_CUT && memchr(why, '\0', sizeof why) == NULL)
			__builtin_trap();
		if (k == SCREENPROTO_NEED && v == SCREENPROTO_MORE)
			__builtin_trap();
		first = v;
	}
	return 0;
}

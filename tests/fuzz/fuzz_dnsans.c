/* fuzz_dnsans.c -- fuzz target: hostile bytes as a DNS response (answer reader, binding table) and as a ClientHello (ECH scan). */
#include <stdint.h>
#include <string.h>

#include "gw/dnsans.h"
#include "gw/dnsbind.h"
#include "gw/tlsch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_learn(const char *name, const struct addr *a, uint32_t ttl, void *arg)
{
	struct dnsbind *b = arg;

	if (strlen(name) > DNSANS_NAME_MAX)
		__builtin_trap();   /* the reader promised no longer name */
	dnsbind_add(b, name, a, ttl, 1000000);
	if (ttl > 0 && strlen(name) <= DNSBIND_NAME_MAX && !dnsbind_has(b, name, a, 1000000))
		__builtin_trap();   /* just learnt: must be there */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dnsbind *b;

	if (b == NULL)
		b = dnsbind_new(64, 0);
	dnsans_parse(data, size, fuzz_learn, b);
	(void)tlsch_hides_name(data, size);
	return 0;
}

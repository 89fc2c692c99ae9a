/* fuzz_config.c -- fuzz target: site file text -> policy_load_string -> a few lookups on what loaded. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/*
 * libconfig 1.5 leaks its string buffer on some syntax errors (strbuf_append,
 * found by this target); the leak is in the library, not in policy/.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

/* Flows that touch every zone kind of the address plan, so a loaded policy's index is walked too. */
static const char *const fuzz_addrs[] = {
	"10.10.1.5", "10.20.5.10", "10.30.0.10", "198.51.100.10", "fd00:10::5", "2001:db8::1",
};

static void
fuzz_lookups(const struct policy *p)
{
	static const char *const apps[] = { APP_PENDING, "TLS", APP_UNKNOWN, "TLS.Google" };
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP };
	struct policy_verdict v;

	for (size_t s = 0; s < sizeof fuzz_addrs / sizeof fuzz_addrs[0]; s++)
		for (size_t d = 0; d < sizeof fuzz_addrs / sizeof fuzz_addrs[0]; d++) {
			struct policy_flow f;
			memset(&f, 0, sizeof f);
			addr_parse(fuzz_addrs[s], &f.src);
			addr_parse(fuzz_addrs[d], &f.dst);
			f.proto = protos[(s + d) % 3];
			f.dport = (uint16_t)(s * 1000 + d * 25 + 443);
			f.in_if = "lan1";
			policy_lookup(p, &f, apps[(s * 7 + d) % 4], &v);
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	struct diags d;
	struct policy *p;

	/* @include would read files of the machine (or /dev/zero): not what this target is about. */
	if (size > 1 << 20 || memmem(data, size, "@include", 8) != NULL)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	diags_init(&d, "fuzz.conf");
	p = policy_load_string(text, "fuzz.conf", &d);
	if (p != NULL) {
		fuzz_lookups(p);
		policy_unref(p);
	}
	diags_free(&d);
	free(text);
	return 0;
}

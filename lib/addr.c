/* addr.c -- parsing, formatting and matching of IPv4/IPv6 addresses and prefixes. */
#include "lib/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/util.h"

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

void
addr_from_v4(struct addr *a, const uint8_t v4[4])
{
	memcpy(a->b, v4_mapped, 12);
	memcpy(a->b + 12, v4, 4);
}

void
addr_from_v6(struct addr *a, const uint8_t v6[16])
{
	memcpy(a->b, v6, 16);
}

bool
addr_is_v4(const struct addr *a)
{
	return memcmp(a->b, v4_mapped, 12) == 0;
}

int
addr_parse(const char *text, struct addr *out)
{
	uint8_t raw[16];

	if (inet_pton(AF_INET, text, raw) == 1) {
		addr_from_v4(out, raw);
		return 0;
	}
	if (inet_pton(AF_INET6, text, raw) == 1) {
		addr_from_v6(out, raw);
		return 0;
	}
	return -1;
}

void
addr_format(const struct addr *a, char out[ADDR_STRLEN])
{
	if (addr_is_v4(a))
		inet_ntop(AF_INET, a->b + 12, out, ADDR_STRLEN);
	else
		inet_ntop(AF_INET6, a->b, out, ADDR_STRLEN);
}

static void
addr_mask(struct addr *a, unsigned len)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = len > i * 8 ? len - i * 8 : 0;
		if (bits >= 8)
			continue;
		a->b[i] &= (uint8_t)(0xff00u >> bits);
	}
}

int
prefix_parse(const char *text, struct prefix *out, const char **why)
{
	char buf[64];
	char *slash;
	unsigned long len;
	struct addr masked;
	unsigned maxlen;

	if (str_copy(buf, text, sizeof buf) >= sizeof buf)
		return (why ? *why = "too long" : 0), -1;
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (addr_parse(buf, &out->addr) < 0)
		return (why ? *why = "not an IPv4 or IPv6 address" : 0), -1;
	out->family = addr_is_v4(&out->addr) && strchr(buf, ':') == NULL ? AF_INET : AF_INET6;
	maxlen = out->family == AF_INET ? 32 : 128;
	len = maxlen;
	if (slash && parse_ulong(slash + 1, maxlen, &len) < 0)
		return (why ? *why = "bad prefix length" : 0), -1;
	out->len = (uint8_t)(out->family == AF_INET ? len + 96 : len);
	masked = out->addr;
	addr_mask(&masked, out->len);
	if (memcmp(&masked, &out->addr, sizeof masked) != 0)
		return (why ? *why = "host bits set after the prefix length" : 0), -1;
	return 0;
}

void
prefix_format(const struct prefix *p, char *out, size_t size)
{
	char text[ADDR_STRLEN];

	addr_format(&p->addr, text);
	snprintf(out, size, "%s/%u", text, p->family == AF_INET ? p->len - 96u : p->len);
}

bool
prefix_contains(const struct prefix *p, const struct addr *a)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (memcmp(p->addr.b, a->b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((p->addr.b[full] ^ a->b[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

bool
prefix_covers(const struct prefix *outer, const struct prefix *inner)
{
	return outer->len <= inner->len && prefix_contains(outer, &inner->addr);
}

/* addr.h -- IPv4/IPv6 addresses and prefixes in one form, for policy, gw and bridge. */
#ifndef TIERGATE_ADDR_H
#define TIERGATE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* IPv4 is held as an IPv4-mapped IPv6 address (::ffff:a.b.c.d), so one compare fits both. */
struct addr {
	uint8_t b[16];
};

struct prefix {
	struct addr addr;   /* host bits cleared */
	uint8_t len;        /* 0..128, counted on the 128-bit form */
	uint8_t family;     /* AF_INET or AF_INET6 */
};

#define ADDR_STRLEN 46

void addr_from_v4(struct addr *a, const uint8_t v4[4]);
void addr_from_v6(struct addr *a, const uint8_t v6[16]);
bool addr_is_v4(const struct addr *a);
/* Parses "10.1.2.3" or "fd00::1". Returns 0 or -1. */
int addr_parse(const char *text, struct addr *out);
/* Formats in the usual notation (IPv4 dotted for mapped addresses). */
void addr_format(const struct addr *a, char out[ADDR_STRLEN]);

/*
 * Parses "10.0.0.0/8", "fd00::/48" or a bare address (a host prefix).
 * Host bits set ("10.0.0.1/8") are refused: they usually mean a typo.
 * On error returns -1 and, if why != NULL, a short reason.
 */
int prefix_parse(const char *text, struct prefix *out, const char **why);
void prefix_format(const struct prefix *p, char *out, size_t size);
bool prefix_contains(const struct prefix *p, const struct addr *a);
/* True when every address of inner is in outer. */
bool prefix_covers(const struct prefix *outer, const struct prefix *inner);

#endif

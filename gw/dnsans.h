/* dnsans.h -- reads the answer section of a DNS response: which addresses a name resolved to, for how long. */
#ifndef TIERGATE_GW_DNSANS_H
#define TIERGATE_GW_DNSANS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

#define DNSANS_NAME_MAX 253
#define DNSANS_CHAIN_MAX 16     /* names followed through CNAMEs */

/*
 * Called for each A/AAAA record whose owner is the question's name or a name
 * the question's CNAME chain reaches: once with the question's name and, when
 * different, once with the owner. Names are lower case, without the final dot.
 */
typedef void (*dnsans_fn)(const char *name, const struct addr *a, uint32_t ttl, void *arg);

/*
 * msg is a DNS message (UDP payload) from hostile hands. Only responses
 * (QR=1, opcode QUERY, RCODE NOERROR) with exactly one question are read.
 * Returns the number of addresses reported, or -1 when the message is not
 * such a response or is malformed (nothing is reported then).
 */
int dnsans_parse(const uint8_t *msg, size_t len, dnsans_fn fn, void *arg);

#endif

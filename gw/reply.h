/* reply.h -- the packets a reject answers with: TCP RST, ICMP / ICMPv6 administratively prohibited. */
#ifndef TIERGATE_GW_REPLY_H
#define TIERGATE_GW_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "gw/decode.h"

enum reply_kind { REPLY_NONE, REPLY_TCP_RST, REPLY_ICMP_UNREACH, REPLY_ICMPV6_UNREACH };

/*
 * Builds the answer to d into out (an IP packet, from the destination back to
 * the sender). Nothing is built for a RST or an ICMP error (no answers to
 * answers). Returns the kind and sets *len (0 for REPLY_NONE).
 */
enum reply_kind reply_build(const struct decoded *d, uint8_t *out, size_t cap, size_t *len);
const char *reply_kind_name(enum reply_kind k);

#endif

/* decode.h -- IPv4/IPv6 packet decoding into the fields the flow table and policy need. */
#ifndef TIERGATE_GW_DECODE_H
#define TIERGATE_GW_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

#define DECODE_TCP_FIN 0x01
#define DECODE_TCP_SYN 0x02
#define DECODE_TCP_RST 0x04
#define DECODE_TCP_ACK 0x10

struct decoded {
	struct addr src, dst;
	uint8_t ipver;           /* 4 or 6 */
	uint8_t proto;           /* transport protocol after IPv6 extension headers */
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	bool is_icmp;            /* ICMP or ICMPv6 */
	bool icmp_error;         /* an ICMP error message: never answered with another */
	uint16_t sport, dport;   /* TCP/UDP ports; ICMP echo: id in both, else 0 */
	uint32_t seq, ack;       /* TCP */
	uint32_t frag_id;
	bool is_frag;            /* part of a fragmented datagram */
	bool first_frag;         /* ... and the part carrying the transport header */
	bool has_l4;             /* the transport header was decoded */
	const uint8_t *l3;
	size_t l3_len;           /* IP total length (link padding trimmed) */
	size_t ip_hdr_len;       /* IPv4 header or IPv6 header + extension headers */
	size_t payload_len;      /* transport payload bytes in this packet */
};

/*
 * Decodes len bytes from the IP header. Returns NULL on success, or a short
 * reason ("truncated", "bad IPv4 header length", ...) for a malformed packet;
 * out is then partly filled (addresses when they could be read).
 */
const char *decode_packet(const uint8_t *l3, size_t len, struct decoded *out);

#endif

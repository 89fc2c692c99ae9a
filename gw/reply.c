/* reply.c -- builds reject answers (TCP RST, ICMP unreachable) with correct checksums. */
#include <netinet/in.h>
#include <string.h>

#include "gw/reply.h"

#define REPLY_TTL 64

static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)(v >> 16)); wr16(p + 2, (uint16_t)v); }

static uint32_t
reply_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
reply_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The pseudo-header of TCP and ICMPv6 checksums. */
static uint32_t
reply_pseudo(const struct decoded *d, uint8_t proto, size_t l4_len)
{
	uint32_t sum = 0;

	if (d->ipver == 4) {
		sum = reply_sum(sum, d->dst.b + 12, 4);
		sum = reply_sum(sum, d->src.b + 12, 4);
	} else {
		sum = reply_sum(sum, d->dst.b, 16);
		sum = reply_sum(sum, d->src.b, 16);
	}
	return sum + proto + (uint32_t)l4_len;
}

/* IP header from the original destination back to the sender; returns its length. */
static size_t
reply_ip(const struct decoded *d, uint8_t *out, uint8_t proto, size_t l4_len)
{
	if (d->ipver == 4) {
		memset(out, 0, 20);
		out[0] = 0x45;
		wr16(out + 2, (uint16_t)(20 + l4_len));
		out[6] = 0x40;   /* DF */
		out[8] = REPLY_TTL;
		out[9] = proto;
		memcpy(out + 12, d->dst.b + 12, 4);
		memcpy(out + 16, d->src.b + 12, 4);
		wr16(out + 10, reply_fold(reply_sum(0, out, 20)));
		return 20;
	}
	memset(out, 0, 40);
	out[0] = 0x60;
	wr16(out + 4, (uint16_t)l4_len);
	out[6] = proto;
	out[7] = REPLY_TTL;
	memcpy(out + 8, d->dst.b, 16);
	memcpy(out + 24, d->src.b, 16);
	return 40;
}

/* RFC 793 reset generation: ACK seen -> seq = its ack; else ack what the segment occupied. */
static size_t
reply_rst(const struct decoded *d, uint8_t *out)
{
	size_t ip = reply_ip(d, out, IPPROTO_TCP, 20);
	uint8_t *tcp = out + ip;

	memset(tcp, 0, 20);
	wr16(tcp, d->dport);
	wr16(tcp + 2, d->sport);
	if (d->tcp_flags & DECODE_TCP_ACK) {
		wr32(tcp + 4, d->ack);
		tcp[13] = DECODE_TCP_RST;
	} else {
		uint32_t used = (uint32_t)d->payload_len + !!(d->tcp_flags & DECODE_TCP_SYN) +
		    !!(d->tcp_flags & DECODE_TCP_FIN);
		wr32(tcp + 8, d->seq + used);
		tcp[13] = DECODE_TCP_RST | DECODE_TCP_ACK;
	}
	tcp[12] = 5 << 4;
	wr16(tcp + 16, reply_fold(reply_sum(reply_pseudo(d, IPPROTO_TCP, 20), tcp, 20)));
	return ip + 20;
}

/* Quotes as much of the offending packet as fits (RFC 792 asks for header + 8 bytes). */
static size_t
reply_unreach(const struct decoded *d, uint8_t *out, size_t cap)
{
	uint8_t proto = d->ipver == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	size_t hdr = d->ipver == 4 ? 20 : 40;
	size_t quote = d->l3_len < cap - hdr - 8 ? d->l3_len : cap - hdr - 8;
	size_t ip = reply_ip(d, out, proto, 8 + quote);
	uint8_t *icmp = out + ip;

	memset(icmp, 0, 8);
	icmp[0] = d->ipver == 4 ? 3 : 1;    /* destination unreachable */
	icmp[1] = d->ipver == 4 ? 13 : 1;   /* administratively prohibited */
	memcpy(icmp + 8, d->l3, quote);
	if (d->ipver == 4)
		wr16(icmp + 2, reply_fold(reply_sum(0, icmp, 8 + quote)));
	else
		wr16(icmp + 2, reply_fold(reply_sum(reply_pseudo(d, proto, 8 + quote), icmp, 8 + quote)));
	return ip + 8 + quote;
}

enum reply_kind
reply_build(const struct decoded *d, uint8_t *out, size_t cap, size_t *len)
{
	*len = 0;
	if (cap < 48 + 28)
		return REPLY_NONE;
	if (d->proto == IPPROTO_TCP && d->has_l4) {
		if (d->tcp_flags & DECODE_TCP_RST)
			return REPLY_NONE;
		*len = reply_rst(d, out);
		return REPLY_TCP_RST;
	}
	if (d->icmp_error)
		return REPLY_NONE;
	*len = reply_unreach(d, out, cap);
	return d->ipver == 4 ? REPLY_ICMP_UNREACH : REPLY_ICMPV6_UNREACH;
}

const char *
reply_kind_name(enum reply_kind k)
{
	switch (k) {
	case REPLY_TCP_RST: return "tcp-rst";
	case REPLY_ICMP_UNREACH: return "icmp-unreachable";
	case REPLY_ICMPV6_UNREACH: return "icmpv6-unreachable";
	default: return "none";
	}
}

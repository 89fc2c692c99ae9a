/* decode.c -- IPv4/IPv6 (with extension headers), TCP, UDP, ICMP/ICMPv6: hostile bytes in, fields out. */
#include <netinet/in.h>
#include <string.h>

#include "gw/decode.h"

#define DECODE_MAX_EXT_HEADERS 8   /* more is an evasion attempt, not a real packet */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *
decode_tcp(const uint8_t *l4, size_t len, struct decoded *d)
{
	size_t hdr_len;

	if (len < 20)
		return d->first_frag ? "first fragment too short for the TCP header" : "short TCP header";
	hdr_len = (size_t)(l4[12] >> 4) * 4;
	if (hdr_len < 20)
		return "bad TCP header length";
	if (hdr_len > len)
		return d->first_frag ? "first fragment too short for the TCP header" : "short TCP header";
	d->sport = rd16(l4);
	d->dport = rd16(l4 + 2);
	d->seq = rd32(l4 + 4);
	d->ack = rd32(l4 + 8);
	d->tcp_flags = l4[13];
	if ((d->tcp_flags & (DECODE_TCP_SYN | DECODE_TCP_FIN)) == (DECODE_TCP_SYN | DECODE_TCP_FIN) ||
	    (d->tcp_flags & (DECODE_TCP_SYN | DECODE_TCP_RST)) == (DECODE_TCP_SYN | DECODE_TCP_RST))
		return "impossible TCP flags";
	if (d->sport == 0 || d->dport == 0)
		return "TCP port 0";
	d->payload_len = len - hdr_len;
	return NULL;
}

static const char *
decode_udp(const uint8_t *l4, size_t len, struct decoded *d)
{
	size_t udp_len;

	if (len < 8)
		return d->first_frag ? "first fragment too short for the UDP header" : "short UDP header";
	udp_len = rd16(l4 + 4);
	if (udp_len < 8 || (!d->is_frag && udp_len > len))
		return "bad UDP length";
	d->sport = rd16(l4);
	d->dport = rd16(l4 + 2);
	d->payload_len = (d->is_frag ? len : udp_len) - 8;
	return NULL;
}

/* Echo request/reply share one flow keyed by the identifier; errors form one flow per host pair. */
static const char *
decode_icmp(const uint8_t *l4, size_t len, struct decoded *d)
{
	uint8_t type;
	bool echo;

	if (len < 4)
		return "short ICMP header";
	type = l4[0];
	d->is_icmp = true;
	d->icmp_type = type;
	d->icmp_code = l4[1];
	if (d->ipver == 4) {
		echo = type == 8 || type == 0;
		d->icmp_error = type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
	} else {
		echo = type == 128 || type == 129;
		d->icmp_error = type < 128;
	}
	if (echo) {
		if (len < 8)
			return "short ICMP echo";
		d->sport = d->dport = rd16(l4 + 4);
	}
	d->payload_len = len > 8 ? len - 8 : 0;
	return NULL;
}

static const char *
decode_l4(const uint8_t *l4, size_t len, struct decoded *d)
{
	d->has_l4 = true;
	switch (d->proto) {
	case IPPROTO_TCP: return decode_tcp(l4, len, d);
	case IPPROTO_UDP: return decode_udp(l4, len, d);
	case IPPROTO_ICMP: return d->ipver == 4 ? decode_icmp(l4, len, d) : NULL;
	case IPPROTO_ICMPV6: return d->ipver == 6 ? decode_icmp(l4, len, d) : NULL;
	default:
		d->has_l4 = false;
		d->payload_len = len;
		return NULL;
	}
}

/* RFC 1858: a fragment at offset 8 over TCP can rewrite the flags the first one showed. */
static const char *
decode_later_fragment(size_t offset_bytes, struct decoded *d)
{
	if (d->proto == IPPROTO_TCP && offset_bytes < 20)
		return "fragment overlaps the TCP header";
	d->payload_len = d->l3_len - d->ip_hdr_len;
	return NULL;
}

static const char *
decode_ipv4(const uint8_t *p, size_t len, struct decoded *d)
{
	size_t hdr_len, total;
	uint16_t frag;

	if (len < 20)
		return "truncated IPv4 header";
	hdr_len = (size_t)(p[0] & 0x0f) * 4;
	total = rd16(p + 2);
	if (hdr_len < 20 || hdr_len > len)
		return "bad IPv4 header length";
	addr_from_v4(&d->src, p + 12);
	addr_from_v4(&d->dst, p + 16);
	if (total < hdr_len)
		return "bad IPv4 total length";
	if (total > len)
		return "truncated";
	d->ipver = 4;
	d->proto = p[9];
	d->l3_len = total;
	d->ip_hdr_len = hdr_len;
	frag = rd16(p + 6);
	if (frag & 0x8000)
		return "IPv4 reserved flag set";
	d->is_frag = (frag & 0x3fff) != 0;
	d->first_frag = d->is_frag && (frag & 0x1fff) == 0;
	d->frag_id = rd16(p + 4);
	if (d->is_frag && !d->first_frag)
		return decode_later_fragment((size_t)(frag & 0x1fff) * 8, d);
	return decode_l4(p + hdr_len, total - hdr_len, d);
}

/* One extension header: advances *off and sets *next; a fragment header may end the walk. */
static const char *
decode_ipv6_ext(const uint8_t *p, size_t end, size_t *off, uint8_t *next, int index,
    struct decoded *d, bool *stop)
{
	uint8_t type = *next;
	size_t ext_len;

	if (*off + 8 > end)
		return "truncated IPv6 extension header";
	if (type == 0 && index != 0)
		return "hop-by-hop options not first";
	if (type == 44) {
		uint16_t frag = rd16(p + *off + 2);
		d->is_frag = true;
		d->frag_id = rd32(p + *off + 4);
		d->first_frag = (frag & 0xfff8) == 0;
		*next = p[*off];
		*off += 8;
		*stop = !d->first_frag;
		if (*stop) {
			d->proto = *next;
			d->ip_hdr_len = *off;
			return decode_later_fragment(frag & 0xfff8, d);
		}
		if ((frag & 1) == 0 && d->first_frag)   /* atomic fragment (RFC 6946): not fragmented */
			d->is_frag = d->first_frag = false;
		return NULL;
	}
	if (type == 43 && p[*off + 2] == 0)
		return "IPv6 routing header type 0";
	ext_len = type == 51 ? ((size_t)p[*off + 1] + 2) * 4 : ((size_t)p[*off + 1] + 1) * 8;
	if (*off + ext_len > end)
		return "truncated IPv6 extension header";
	*next = p[*off];
	*off += ext_len;
	return NULL;
}

static bool
decode_is_ipv6_ext(uint8_t next)
{
	return next == 0 || next == 43 || next == 44 || next == 60 || next == 51;
}

static const char *
decode_ipv6(const uint8_t *p, size_t len, struct decoded *d)
{
	size_t total, off = 40;
	uint8_t next;
	const char *why;
	bool stop = false;

	if (len < 40)
		return "truncated IPv6 header";
	addr_from_v6(&d->src, p + 8);
	addr_from_v6(&d->dst, p + 24);
	total = 40 + (size_t)rd16(p + 4);
	if (total == 40 && p[6] != 59)
		return "IPv6 jumbogram or empty payload";
	if (total > len)
		return "truncated";
	d->ipver = 6;
	d->l3_len = total;
	next = p[6];
	for (int i = 0; decode_is_ipv6_ext(next); i++) {
		if (i == DECODE_MAX_EXT_HEADERS)
			return "too many IPv6 extension headers";
		why = decode_ipv6_ext(p, total, &off, &next, i, d, &stop);
		if (why || stop)
			return why;
	}
	d->proto = next;
	d->ip_hdr_len = off;
	return decode_l4(p + off, total - off, d);
}

const char *
decode_packet(const uint8_t *l3, size_t len, struct decoded *out)
{
	memset(out, 0, sizeof *out);
	out->l3 = l3;
	if (len == 0)
		return "empty packet";
	switch (l3[0] >> 4) {
	case 4: return decode_ipv4(l3, len, out);
	case 6: return decode_ipv6(l3, len, out);
	default: return "not IPv4 or IPv6";
	}
}

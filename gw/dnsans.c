/* dnsans.c -- the answer section of a DNS response: names (with compression), CNAME chains, A/AAAA records. */
#include <string.h>

#include "gw/dnsans.h"

/*
 * Hostile bytes: every read is bounded by len, compression pointers must
 * point strictly backwards (so no loop) and are followed at most
 * DNSANS_JUMPS times, names longer than 253 bytes are refused. The whole
 * message is checked before anything is reported, so a message that turns
 * out malformed at its end reports nothing.
 */
#define DNSANS_HDR 12
#define DNSANS_JUMPS 32
#define DNSANS_ADDRS_MAX 64
#define T_A 1
#define T_CNAME 5
#define T_AAAA 28
#define C_IN 1

struct dnsans_rec {
	uint16_t owner;              /* index into chain */
	struct addr a;
	uint32_t ttl;
};

struct dnsans_state {
	const uint8_t *msg;
	size_t len;
	char chain[DNSANS_CHAIN_MAX][DNSANS_NAME_MAX + 1];
	int nchain;
	struct dnsans_rec rec[DNSANS_ADDRS_MAX];
	int nrec;
};

static uint16_t
dnsans_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
dnsans_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static char
dnsans_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : (char)c;
}

/* Appends one label; -1 when the name would be too long or the label holds a dot or NUL. */
static int
dnsans_label(const uint8_t *lab, size_t n, char *out, size_t *olen)
{
	if (*olen + (*olen ? 1 : 0) + n > DNSANS_NAME_MAX)
		return -1;
	if (*olen)
		out[(*olen)++] = '.';
	for (size_t i = 0; i < n; i++) {
		if (lab[i] == '.' || lab[i] == '\0')
			return -1;
		out[(*olen)++] = dnsans_lower(lab[i]);
	}
	out[*olen] = '\0';
	return 0;
}

/* Reads the name at *off into out; *off moves past it (past the first pointer). -1 when malformed. */
static int
dnsans_name(const struct dnsans_state *s, size_t *off, char *out)
{
	size_t pos = *off, olen = 0, end = 0;
	int jumps = 0;

	out[0] = '\0';
	for (;;) {
		uint8_t c;
		if (pos >= s->len)
			return -1;
		c = s->msg[pos];
		if (c == 0) {
			*off = end ? end : pos + 1;
			return 0;
		}
		if ((c & 0xc0) == 0xc0) {
			size_t target;
			if (pos + 1 >= s->len || ++jumps > DNSANS_JUMPS)
				return -1;
			target = (size_t)(c & 0x3f) << 8 | s->msg[pos + 1];
			if (target >= pos)
				return -1;   /* forward or self: a loop in disguise */
			if (end == 0)
				end = pos + 2;
			pos = target;
			continue;
		}
		if ((c & 0xc0) != 0 || pos + 1 + c > s->len ||
		    dnsans_label(s->msg + pos + 1, c, out, &olen) < 0)
			return -1;
		pos += 1 + (size_t)c;
	}
}

static int
dnsans_chain_find(const struct dnsans_state *s, const char *name)
{
	for (int i = 0; i < s->nchain; i++)
		if (strcmp(s->chain[i], name) == 0)
			return i;
	return -1;
}

static void
dnsans_chain_add(struct dnsans_state *s, const char *name)
{
	if (s->nchain < DNSANS_CHAIN_MAX && dnsans_chain_find(s, name) < 0)
		memcpy(s->chain[s->nchain++], name, strlen(name) + 1);
}

static void
dnsans_addr(struct dnsans_state *s, int owner, const uint8_t *rdata, uint16_t type, uint32_t ttl)
{
	struct dnsans_rec *r;

	if (s->nrec == DNSANS_ADDRS_MAX)
		return;
	r = &s->rec[s->nrec++];
	if (type == T_A)
		addr_from_v4(&r->a, rdata);
	else
		addr_from_v6(&r->a, rdata);
	r->owner = (uint16_t)owner;
	r->ttl = ttl;
}

/* One resource record of the answer section at *off. -1 when malformed. */
static int
dnsans_record(struct dnsans_state *s, size_t *off)
{
	char owner[DNSANS_NAME_MAX + 1], target[DNSANS_NAME_MAX + 1];
	uint16_t type, klass, rdlen;
	uint32_t ttl;
	size_t rd;
	int idx;

	if (dnsans_name(s, off, owner) < 0 || *off + 10 > s->len)
		return -1;
	type = dnsans_u16(s->msg + *off);
	klass = dnsans_u16(s->msg + *off + 2);
	ttl = dnsans_u32(s->msg + *off + 4);
	rdlen = dnsans_u16(s->msg + *off + 8);
	rd = *off + 10;
	if (rd + rdlen > s->len)
		return -1;
	*off = rd + rdlen;
	if (ttl > 0x7fffffff)
		ttl = 0;   /* RFC 2181: a TTL with the top bit set means zero */
	if (klass != C_IN || (idx = dnsans_chain_find(s, owner)) < 0)
		return 0;
	if (type == T_CNAME) {
		size_t t = rd;
		if (dnsans_name(s, &t, target) < 0 || t != rd + rdlen)
			return -1;
		dnsans_chain_add(s, target);
	} else if ((type == T_A && rdlen == 4) || (type == T_AAAA && rdlen == 16)) {
		dnsans_addr(s, idx, s->msg + rd, type, ttl);
	} else if (type == T_A || type == T_AAAA) {
		return -1;
	}
	return 0;
}

static int
dnsans_header(struct dnsans_state *s, size_t *off, unsigned *ancount)
{
	uint16_t flags;

	if (s->len < DNSANS_HDR)
		return -1;
	flags = dnsans_u16(s->msg + 2);
	if (!(flags & 0x8000) || (flags & 0x7800) != 0 || (flags & 0x000f) != 0 ||
	    dnsans_u16(s->msg + 4) != 1)
		return -1;   /* a response to a standard query, NOERROR, one question */
	*ancount = dnsans_u16(s->msg + 6);
	*off = DNSANS_HDR;
	if (dnsans_name(s, off, s->chain[0]) < 0 || *off + 4 > s->len)
		return -1;
	*off += 4;   /* QTYPE, QCLASS */
	s->nchain = 1;
	return 0;
}

int
dnsans_parse(const uint8_t *msg, size_t len, dnsans_fn fn, void *arg)
{
	static __thread struct dnsans_state s;   /* ~5 KB: kept off the packet path's stack */
	unsigned ancount;
	size_t off;

	s.msg = msg;
	s.len = len;
	s.nrec = 0;
	s.nchain = 0;
	if (dnsans_header(&s, &off, &ancount) < 0)
		return -1;
	for (unsigned i = 0; i < ancount; i++)
		if (dnsans_record(&s, &off) < 0)
			return -1;
	for (int i = 0; i < s.nrec; i++) {
		if (s.chain[0][0] != '\0')
			fn(s.chain[0], &s.rec[i].a, s.rec[i].ttl, arg);
		if (s.rec[i].owner != 0)
			fn(s.chain[s.rec[i].owner], &s.rec[i].a, s.rec[i].ttl, arg);
	}
	return s.nrec;
}

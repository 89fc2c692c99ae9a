/* test_gw.c -- unit tests of the gateway engine: decode, flow table, eviction, fragments, rejects, reload. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw/decode.h"
#include "gw/engine.h"
#include "gw/flow.h"
#include "gw/reply.h"
#include "tests/lib/unit.h"

/* A small site: internet -> dmz 8443 accepted, internet -> lgwan rejected, ICMP to dmz accepted. */
static const char *test_policy_text =
    "model = \"alpha\";\n"
    "zones = ( { name = \"lgwan\"; networks = [ \"10.20.0.0/16\", \"fd00:20::/48\" ]; },\n"
    "  { name = \"dmz\"; networks = [ \"10.30.0.0/24\", \"fd00:30::/64\" ]; },\n"
    "  { name = \"internet\"; networks = [ \"0.0.0.0/0\", \"::/0\" ]; } );\n"
    "defaults = { action = \"drop\"; unknown_app = \"drop\"; malformed = \"drop\"; log = true; };\n"
    "rules = (\n"
    "  { name = \"telework\"; from = \"internet\"; to = \"dmz\"; proto = \"tcp\"; dport = [ 8443 ];\n"
    "    action = \"accept\"; },\n"
    "  { name = \"web-app\"; from = \"internet\"; to = \"dmz\"; proto = \"tcp\"; dport = [ 80 ];\n"
    "    app = [ \"HTTP\" ]; action = \"accept\"; },\n"
    "  { name = \"ping\"; from = \"internet\"; to = \"dmz\"; proto = \"icmp\"; action = \"accept\"; },\n"
    "  { name = \"refused\"; from = \"internet\"; to = \"lgwan\"; action = \"reject\"; }\n"
    ");\n";

static const char *test_policy_closed =
    "model = \"alpha\";\n"
    "zones = ( { name = \"lgwan\"; networks = [ \"10.20.0.0/16\" ]; },\n"
    "  { name = \"dmz\"; networks = [ \"10.30.0.0/24\" ]; },\n"
    "  { name = \"internet\"; networks = [ \"0.0.0.0/0\", \"::/0\" ]; } );\n"
    "defaults = { action = \"drop\"; unknown_app = \"drop\"; malformed = \"drop\"; log = true; };\n"
    "rules = ( { name = \"ping\"; from = \"internet\"; to = \"dmz\"; proto = \"icmp\"; action = \"accept\"; } );\n";

static struct policy *
test_policy(const char *text)
{
	struct diags d;
	struct policy *p;

	diags_init(&d, "test");
	p = policy_load_string(text, "test.conf", &d);
	if (p == NULL)
		diags_print(&d, stdout);
	diags_free(&d);
	return p;
}

/* ---- packet builders ---- */

static uint16_t
test_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t
test_ip4(uint8_t *out, const char *src, const char *dst, uint8_t proto, size_t l4_len,
    uint16_t frag, uint16_t id)
{
	memset(out, 0, 20);
	out[0] = 0x45;
	out[2] = (uint8_t)((20 + l4_len) >> 8);
	out[3] = (uint8_t)(20 + l4_len);
	out[4] = (uint8_t)(id >> 8);
	out[5] = (uint8_t)id;
	out[6] = (uint8_t)(frag >> 8);
	out[7] = (uint8_t)frag;
	out[8] = 64;
	out[9] = proto;
	inet_pton(AF_INET, src, out + 12);
	inet_pton(AF_INET, dst, out + 16);
	return 20;
}

static size_t
test_tcp4(uint8_t *out, const char *src, uint16_t sport, const char *dst, uint16_t dport,
    uint8_t flags, const char *payload)
{
	size_t plen = payload ? strlen(payload) : 0;
	size_t ip = test_ip4(out, src, dst, 6, 20 + plen, 0, 1);
	uint8_t *t = out + ip;

	memset(t, 0, 20);
	t[0] = (uint8_t)(sport >> 8); t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8); t[3] = (uint8_t)dport;
	t[7] = 1;
	t[11] = (flags & 0x10) ? 1 : 0;
	t[12] = 5 << 4;
	t[13] = flags;
	if (plen)
		memcpy(t + 20, payload, plen);
	return ip + 20 + plen;
}

static size_t
test_icmp4(uint8_t *out, const char *src, const char *dst, uint8_t type, size_t data_len,
    uint16_t frag, uint16_t id)
{
	size_t ip = test_ip4(out, src, dst, 1, 8 + data_len, frag, id);

	memset(out + ip, 0, 8 + data_len);
	out[ip] = type;
	out[ip + 5] = 7;   /* echo id */
	return ip + 8 + data_len;
}

struct test_gw {
	struct gw_engine *e;
	uint64_t ts;
	uint64_t n;
	char events[64];
	struct ev_sink *sink;
};

static void
test_gw_start_mem(struct test_gw *t, const char *policy_text, unsigned max_flows,
    enum gw_frag_mode frags, unsigned max_memory_mb)
{
	struct gw_config conf;
	struct policy *p = test_policy(policy_text);
	int fd;

	gw_config_defaults(&conf);
	conf.max_flows = max_flows;
	conf.fragments = frags;
	conf.max_memory_mb = max_memory_mb;
	snprintf(t->events, sizeof t->events, "/tmp/test_gw.XXXXXX");
	fd = mkstemp(t->events);
	close(fd);
	t->sink = ev_sink_open(t->events);
	t->e = gw_engine_new(&conf, p, t->sink);
	policy_unref(p);
	t->ts = 1790000000ULL * 1000000ULL;
	t->n = 0;
}

static void
test_gw_start(struct test_gw *t, const char *policy_text, unsigned max_flows, enum gw_frag_mode frags)
{
	test_gw_start_mem(t, policy_text, max_flows, frags, 0);
}

static void
test_gw_stop(struct test_gw *t)
{
	gw_engine_free(t->e);
	ev_sink_close(t->sink);
	unlink(t->events);
}

static enum gw_verdict
test_send(struct test_gw *t, const uint8_t *pkt, size_t len, struct gw_result *res)
{
	struct gw_packet p = { pkt, len, t->ts += 1000, NULL, NULL, ++t->n };

	gw_engine_process(t->e, &p, res);
	return res->verdict;
}

/* Counts lines of the event file containing every one of the (up to two) fragments. */
static int
test_events(struct test_gw *t, const char *a, const char *b)
{
	char line[4096];
	int n = 0;
	FILE *f;

	gw_engine_flush(t->e);
	f = fopen(t->events, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f)) {
		if (strstr(line, a) && (b == NULL || strstr(line, b)))
			n++;
	}
	fclose(f);
	return n;
}

/* ---- decode ---- */

static void
decode_ipv4_tcp_and_padding(void)
{
	uint8_t pkt[128];
	struct decoded d;
	size_t len = test_tcp4(pkt, "203.0.113.5", 40000, "10.30.0.20", 8443, 0x18, "hello");

	memset(pkt + len, 0xee, 6);   /* Ethernet minimum-frame padding */
	CHECK(decode_packet(pkt, len + 6, &d) == NULL);
	CHECK_INT(d.proto, 6);
	CHECK_INT(d.sport, 40000);
	CHECK_INT(d.dport, 8443);
	CHECK_INT(d.l3_len, len);
	CHECK_INT(d.payload_len, 5);
	CHECK_INT(d.tcp_flags, 0x18);
}

static void
decode_refuses_broken_ipv4(void)
{
	uint8_t pkt[128];
	struct decoded d;
	size_t len = test_tcp4(pkt, "203.0.113.5", 40000, "10.30.0.20", 8443, 0x02, NULL);

	CHECK_STR(decode_packet(pkt, len - 1, &d), "truncated");
	CHECK(decode_packet(pkt, 10, &d) != NULL);
	CHECK(decode_packet(pkt, 0, &d) != NULL);
	pkt[0] = 0x44;
	CHECK_STR(decode_packet(pkt, len, &d), "bad IPv4 header length");
	pkt[0] = 0x4f;   /* 60-byte header in a 40-byte packet */
	CHECK_STR(decode_packet(pkt, len, &d), "bad IPv4 header length");
	pkt[0] = 0x45;
	pkt[33] = 0x03;  /* SYN+FIN */
	CHECK_STR(decode_packet(pkt, len, &d), "impossible TCP flags");
	pkt[33] = 0x02;
	pkt[32] = 0xf0;  /* data offset 60 */
	CHECK_STR(decode_packet(pkt, len, &d), "short TCP header");
}

static size_t
test_ip6(uint8_t *out, uint8_t next, size_t payload_len)
{
	memset(out, 0, 40);
	out[0] = 0x60;
	out[4] = (uint8_t)(payload_len >> 8);
	out[5] = (uint8_t)payload_len;
	out[6] = next;
	out[7] = 64;
	inet_pton(AF_INET6, "2001:db8:113::5", out + 8);
	inet_pton(AF_INET6, "fd00:30::20", out + 24);
	return 40;
}

static void
decode_ipv6_extension_headers(void)
{
	uint8_t pkt[256];
	struct decoded d;
	size_t off = test_ip6(pkt, 0, 8 + 8 + 20);

	memset(pkt + off, 0, 16);
	pkt[off] = 60;          /* hop-by-hop -> destination options */
	pkt[off + 8] = 6;       /* destination options -> TCP */
	off += 16;
	memset(pkt + off, 0, 20);
	pkt[off + 1] = 80; pkt[off + 3] = 0x50; pkt[off + 0] = 0x9c;
	pkt[off + 2] = 0x01; pkt[off + 3] = 0xbb;
	pkt[off + 12] = 0x50;
	pkt[off + 13] = 0x02;
	CHECK(decode_packet(pkt, off + 20, &d) == NULL);
	CHECK_INT(d.proto, 6);
	CHECK_INT(d.dport, 443);
	CHECK_INT(d.ip_hdr_len, 56);
	pkt[40] = 0;            /* hop-by-hop again, not first: refused */
	pkt[48] = 60;
	pkt[6] = 60;
	CHECK_STR(decode_packet(pkt, off + 20, &d), "hop-by-hop options not first");
}

static void
decode_ipv6_fragments_and_rh0(void)
{
	uint8_t pkt[256];
	struct decoded d;
	size_t off = test_ip6(pkt, 44, 8 + 16);

	memset(pkt + off, 0, 8 + 16);
	pkt[off] = 17;
	pkt[off + 2] = 0x00; pkt[off + 3] = 0x01;   /* offset 0, more fragments */
	pkt[off + 7] = 9;                           /* id 9 */
	pkt[off + 8 + 5] = 16;                      /* UDP length 16... of a bigger datagram */
	CHECK(decode_packet(pkt, off + 24, &d) == NULL);
	CHECK(d.is_frag && d.first_frag);
	CHECK_INT(d.frag_id, 9);
	pkt[off + 2] = 0x01; pkt[off + 3] = 0x00;   /* offset 32, last */
	CHECK(decode_packet(pkt, off + 24, &d) == NULL);
	CHECK(d.is_frag && !d.first_frag);
	CHECK_INT(d.proto, 17);
	off = test_ip6(pkt, 43, 8 + 20);
	memset(pkt + off, 0, 8);
	pkt[off] = 6;
	pkt[off + 2] = 0;                           /* routing type 0 */
	CHECK_STR(decode_packet(pkt, off + 28, &d), "IPv6 routing header type 0");
}

static void
decode_ipv6_too_many_headers(void)
{
	uint8_t pkt[256];
	struct decoded d;
	size_t off = test_ip6(pkt, 60, 10 * 8 + 20);

	for (int i = 0; i < 10; i++) {
		memset(pkt + off, 0, 8);
		pkt[off] = i < 9 ? 60 : 6;
		off += 8;
	}
	memset(pkt + off, 0, 20);
	CHECK_STR(decode_packet(pkt, off + 20, &d), "too many IPv6 extension headers");
}

static void
decode_icmp_echo_shares_flow(void)
{
	uint8_t req[64], rep[64];
	struct decoded a, b;
	size_t la = test_icmp4(req, "203.0.113.5", "10.30.0.20", 8, 8, 0, 1);
	size_t lb = test_icmp4(rep, "10.30.0.20", "203.0.113.5", 0, 8, 0, 1);

	CHECK(decode_packet(req, la, &a) == NULL);
	CHECK(decode_packet(rep, lb, &b) == NULL);
	CHECK(a.sport == b.dport && a.dport == b.sport);
	CHECK(!a.icmp_error);
	req[20] = 3;   /* destination unreachable */
	CHECK(decode_packet(req, la, &a) == NULL);
	CHECK(a.icmp_error);
}

/* ---- flow table ---- */

static void
flow_table_both_directions(void)
{
	struct flow_table t;
	uint8_t p1[64], p2[64];
	struct decoded a, b;
	int dir = -1;
	struct flow *f;

	CHECK(flow_table_init(&t, 16, 12345) == 0);
	decode_packet(p1, test_tcp4(p1, "203.0.113.5", 40000, "10.30.0.20", 8443, 0x02, NULL), &a);
	decode_packet(p2, test_tcp4(p2, "10.30.0.20", 8443, "203.0.113.5", 40000, 0x12, NULL), &b);
	f = flow_insert(&t, &a);
	CHECK(f != NULL);
	f->id = 1;
	CHECK(flow_lookup(&t, &a, &dir) == f && dir == 0);
	CHECK(flow_lookup(&t, &b, &dir) == f && dir == 1);
	flow_remove(&t, f);
	CHECK(flow_lookup(&t, &b, &dir) == NULL);
	CHECK_INT(t.count, 0);
	flow_table_free(&t);
}

static void
flow_table_full_then_reuse(void)
{
	struct flow_table t;
	uint8_t p[64];
	struct decoded d;
	struct flow *first = NULL, *f;

	CHECK(flow_table_init(&t, 16, 7) == 0);
	for (int i = 0; i < 16; i++) {
		decode_packet(p, test_tcp4(p, "203.0.113.5", (uint16_t)(1000 + i), "10.30.0.20", 80, 2, NULL), &d);
		f = flow_insert(&t, &d);
		CHECK(f != NULL);
		if (i == 0)
			first = f;
	}
	decode_packet(p, test_tcp4(p, "203.0.113.5", 2000, "10.30.0.20", 80, 2, NULL), &d);
	CHECK(flow_insert(&t, &d) == NULL);
	flow_remove(&t, first);
	CHECK(flow_insert(&t, &d) == first);
	flow_table_free(&t);
}

/* ---- engine ---- */

static void
engine_handshake(struct test_gw *t, const char *client, uint16_t sport, const char *server,
    uint16_t dport)
{
	uint8_t p[128];
	struct gw_result r;

	test_send(t, p, test_tcp4(p, client, sport, server, dport, 0x02, NULL), &r);
	test_send(t, p, test_tcp4(p, server, dport, client, sport, 0x12, NULL), &r);
	test_send(t, p, test_tcp4(p, client, sport, server, dport, 0x10, NULL), &r);
}

static int
count_established(const struct gw_flow_info *f, void *arg)
{
	if (f->tcp_state == GW_TCP_ESTABLISHED)
		++*(int *)arg;
	return 0;
}

static void
engine_syn_flood_keeps_established(void)
{
	struct test_gw t;
	struct gw_counters c;
	uint8_t p[128];
	struct gw_result r;
	char src[32];
	int established = 0;

	test_gw_start(&t, test_policy_text, 64, GW_FRAG_TRACK);
	for (int i = 0; i < 20; i++)
		engine_handshake(&t, "203.0.113.5", (uint16_t)(30000 + i), "10.30.0.20", 8443);
	for (int i = 0; i < 5000; i++) {
		snprintf(src, sizeof src, "198.18.%d.%d", i / 250, i % 250 + 1);
		test_send(&t, p, test_tcp4(p, src, (uint16_t)(1024 + i), "10.30.0.20", 8443, 0x02, NULL), &r);
	}
	gw_engine_flows(t.e, count_established, &established);
	gw_engine_counters(t.e, &c);
	CHECK_INT(established, 20);
	CHECK(c.evictions >= 5000 - 44);
	CHECK(c.flows_active <= 64);
	/* the established flows still pass (no new flow, no table_full) */
	test_send(&t, p, test_tcp4(p, "203.0.113.5", 30005, "10.30.0.20", 8443, 0x18, "x"), &r);
	CHECK_INT(r.verdict, GW_ACCEPT);
	CHECK(r.final);
	CHECK_INT(test_events(&t, "\"end_reason\":\"evicted\"", "198.18."), (int)c.evictions);
	test_gw_stop(&t);
}

/* Flows waiting for nDPI hold its state: the memory bound, not max_flows, must stop them. */
static void
engine_memory_bound_with_ndpi_state(void)
{
	struct test_gw t;
	struct gw_counters c;
	uint8_t p[128];
	struct gw_result r;
	char src[32];

	test_gw_start_mem(&t, test_policy_text, 8192, GW_FRAG_TRACK, 1);
	engine_handshake(&t, "203.0.113.5", 30000, "10.30.0.20", 8443);
	for (int i = 0; i < 4000; i++) {
		snprintf(src, sizeof src, "198.18.%d.%d", i / 250, i % 250 + 1);
		test_send(&t, p, test_tcp4(p, src, (uint16_t)(1024 + i), "10.30.0.20", 80, 0x18,
		    "\x16\x03\x01\x40\x00 looks like the start of a long record"), &r);
	}
	gw_engine_counters(t.e, &c);
	CHECK(c.evictions > 0);
	CHECK(c.memory_peak <= c.memory_limit);
	CHECK(c.ndpi_active < 4000);
	CHECK(c.ndpi_heap_bytes >= c.ndpi_active * c.ndpi_bytes);
	test_send(&t, p, test_tcp4(p, "203.0.113.5", 30000, "10.30.0.20", 8443, 0x18, "x"), &r);
	CHECK_INT(r.verdict, GW_ACCEPT);   /* the established session was never the one to go */
	CHECK(r.final);
	test_gw_stop(&t);
}

static void
engine_reject_builds_rst(void)
{
	struct test_gw t;
	uint8_t p[128];
	struct gw_result r;
	struct decoded d;

	test_gw_start(&t, test_policy_text, 1024, GW_FRAG_TRACK);
	test_send(&t, p, test_tcp4(p, "203.0.113.5", 40000, "10.20.1.5", 23, 0x02, NULL), &r);
	CHECK_INT(r.verdict, GW_REJECT);
	CHECK(r.final);
	CHECK_INT(r.mark, 0x4);
	CHECK_INT(r.reply_len, 40);
	CHECK(decode_packet(r.reply, r.reply_len, &d) == NULL);
	CHECK_INT(d.tcp_flags, DECODE_TCP_RST | DECODE_TCP_ACK);
	CHECK_INT(d.sport, 23);
	CHECK_INT(d.dport, 40000);
	CHECK_INT(d.ack, 2);   /* the SYN's sequence number + 1 */
	CHECK_INT(test_sum(r.reply, 20, 0), 0);   /* IP header checksum verifies */
	CHECK_INT(test_events(&t, "\"event\":\"reject\"", "tcp-rst"), 1);
	test_gw_stop(&t);
}

static void
engine_reject_icmp_unreachable(void)
{
	struct test_gw t;
	uint8_t p[128];
	struct gw_result r;

	test_gw_start(&t, test_policy_text, 1024, GW_FRAG_TRACK);
	test_send(&t, p, test_icmp4(p, "203.0.113.5", "10.20.1.5", 8, 16, 0, 1), &r);
	CHECK_INT(r.verdict, GW_REJECT);
	CHECK(r.reply_len > 28);
	CHECK_INT(r.reply[20], 3);
	CHECK_INT(r.reply[21], 13);
	CHECK_INT(test_sum(r.reply + 20, r.reply_len - 20, 0), 0);   /* ICMP checksum verifies */
	/* an ICMP error is never answered with another */
	test_send(&t, p, test_icmp4(p, "203.0.113.5", "10.20.1.6", 3, 28, 0, 2), &r);
	CHECK_INT(r.verdict, GW_REJECT);
	CHECK_INT(r.reply_len, 0);
	test_gw_stop(&t);
}

/* ICMPv6 unreachable: type 1 code 1, checksum over the IPv6 pseudo-header. */
static void
engine_reject_icmpv6(void)
{
	struct test_gw t;
	uint8_t p[256], sumbuf[512];
	struct gw_result r;
	size_t off = test_ip6(p, 17, 8 + 4), icmp_len;

	test_gw_start(&t, test_policy_text, 1024, GW_FRAG_TRACK);
	inet_pton(AF_INET6, "fd00:20::15", p + 24);   /* to lgwan: refused */
	memset(p + off, 0, 12);
	p[off + 1] = 53; p[off + 3] = 53; p[off + 5] = 12;
	CHECK_INT(test_send(&t, p, off + 12, &r), GW_REJECT);
	CHECK_INT(r.reply[0] >> 4, 6);
	CHECK_INT(r.reply[6], 58);
	CHECK_INT(r.reply[40], 1);
	CHECK_INT(r.reply[41], 1);
	icmp_len = r.reply_len - 40;
	memcpy(sumbuf, r.reply + 8, 32);              /* pseudo-header: addresses, length, next header */
	memset(sumbuf + 32, 0, 8);
	sumbuf[34] = (uint8_t)(icmp_len >> 8);
	sumbuf[35] = (uint8_t)icmp_len;
	sumbuf[39] = 58;
	memcpy(sumbuf + 40, r.reply + 40, icmp_len);
	CHECK_INT(test_sum(sumbuf, 40 + icmp_len, 0), 0);
	test_gw_stop(&t);
}

/* A RST answering a segment that carries an ACK takes its sequence number from that ACK. */
static void
reply_rst_to_ack_uses_its_ack(void)
{
	uint8_t p[128], out[GW_REPLY_MAX];
	struct decoded d, back;
	size_t len = test_tcp4(p, "203.0.113.5", 40000, "10.20.1.5", 23, 0x18, "data");
	size_t n;

	p[28] = 0x12; p[29] = 0x34; p[30] = 0x56; p[31] = 0x78;   /* ack number */
	CHECK(decode_packet(p, len, &d) == NULL);
	CHECK_INT(reply_build(&d, out, sizeof out, &n), REPLY_TCP_RST);
	CHECK(decode_packet(out, n, &back) == NULL);
	CHECK_INT(back.tcp_flags, DECODE_TCP_RST);
	CHECK_INT(back.seq, 0x12345678);
	p[33] = DECODE_TCP_RST;                                   /* never answer a RST */
	CHECK(decode_packet(p, len, &d) == NULL);
	CHECK_INT(reply_build(&d, out, sizeof out, &n), REPLY_NONE);
	CHECK_INT(n, 0);
}

static void
engine_fragments_follow_first(void)
{
	struct test_gw t;
	uint8_t p[256];
	struct gw_result r;

	test_gw_start(&t, test_policy_text, 1024, GW_FRAG_TRACK);
	CHECK_INT(test_send(&t, p, test_icmp4(p, "203.0.113.5", "10.30.0.20", 8, 64, 0x2000, 50), &r), GW_ACCEPT);
	CHECK_INT(test_send(&t, p, test_ip4(p, "203.0.113.5", "10.30.0.20", 1, 64, 0x0009, 50) + 64, &r),
	    GW_ACCEPT);
	CHECK(r.flow_id != 0);
	/* a later fragment whose first was never seen */
	CHECK_INT(test_send(&t, p, test_ip4(p, "203.0.113.5", "10.30.0.20", 1, 64, 0x0009, 51) + 64, &r),
	    GW_DROP);
	CHECK_INT(r.drop_reason, GW_DROP_FRAGMENT);
	/* fragments of a rejected datagram are dropped (the first got the answer) */
	CHECK_INT(test_send(&t, p, test_icmp4(p, "203.0.113.5", "10.20.1.5", 8, 64, 0x2000, 52), &r), GW_REJECT);
	CHECK_INT(test_send(&t, p, test_ip4(p, "203.0.113.5", "10.20.1.5", 1, 64, 0x0009, 52) + 64, &r), GW_DROP);
	test_gw_stop(&t);
}

static void
engine_fragments_drop_mode(void)
{
	struct test_gw t;
	uint8_t p[256];
	struct gw_result r;
	struct gw_counters c;

	test_gw_start(&t, test_policy_text, 1024, GW_FRAG_DROP);
	CHECK_INT(test_send(&t, p, test_icmp4(p, "203.0.113.5", "10.30.0.20", 8, 64, 0x2000, 50), &r), GW_DROP);
	CHECK_INT(r.drop_reason, GW_DROP_FRAGMENT);
	CHECK_INT(test_send(&t, p, test_icmp4(p, "203.0.113.5", "10.30.0.20", 8, 64, 0, 51), &r), GW_ACCEPT);
	gw_engine_counters(t.e, &c);
	CHECK_INT(c.fragments, 1);
	CHECK_INT(c.drops[GW_DROP_FRAGMENT], 1);
	test_gw_stop(&t);
}

static void
engine_malformed_counted(void)
{
	struct test_gw t;
	uint8_t p[128];
	struct gw_result r;
	struct gw_counters c;
	size_t len = test_tcp4(p, "203.0.113.5", 40000, "10.30.0.20", 8443, 0x02, NULL);

	test_gw_start(&t, test_policy_text, 1024, GW_FRAG_TRACK);
	CHECK_INT(test_send(&t, p, len - 5, &r), GW_DROP);
	CHECK_INT(r.drop_reason, GW_DROP_MALFORMED);
	CHECK_INT(r.flow_id, 0);
	gw_engine_counters(t.e, &c);
	CHECK_INT(c.malformed, 1);
	CHECK_INT(test_events(&t, "\"event\":\"malformed\"", "\"reason\":\"truncated\""), 1);
	test_gw_stop(&t);
}

static void
engine_app_budget_gives_unknown(void)
{
	struct test_gw t;
	uint8_t p[256];
	struct gw_result r;

	test_gw_start(&t, test_policy_text, 1024, GW_FRAG_TRACK);
	engine_handshake(&t, "203.0.113.5", 41000, "10.30.0.20", 80);
	for (int i = 0; i < 8; i++) {
		test_send(&t, p, test_tcp4(p, "203.0.113.5", 41000, "10.30.0.20", 80, 0x18,
		    "\x01\x02 random bytes that are no protocol \x03\x04"), &r);
		if (i < 7)
			CHECK(!r.final);
	}
	CHECK(r.final);
	CHECK_INT(r.verdict, GW_DROP);
	CHECK_INT(r.drop_reason, GW_DROP_UNKNOWN_APP);
	CHECK_INT(test_events(&t, "\"app\":\"Unknown\"", "\"previous_verdict\":\"accept\""), 1);
	test_gw_stop(&t);
}

static void
engine_http_classified(void)
{
	struct test_gw t;
	uint8_t p[256];
	struct gw_result r;
	struct gw_counters c;

	test_gw_start(&t, test_policy_text, 1024, GW_FRAG_TRACK);
	engine_handshake(&t, "203.0.113.5", 41001, "10.30.0.20", 80);
	test_send(&t, p, test_tcp4(p, "203.0.113.5", 41001, "10.30.0.20", 80, 0x18,
	    "GET / HTTP/1.1\r\nHost: dmz.example\r\nUser-Agent: curl/7.88\r\nAccept: */*\r\n\r\n"), &r);
	CHECK(r.final);
	CHECK_INT(r.verdict, GW_ACCEPT);
	CHECK_INT(r.mark, 0x1);
	gw_engine_counters(t.e, &c);
	CHECK_INT(c.ndpi_allocs, 1);
	CHECK_INT(c.ndpi_active, 0);   /* freed once the app was final */
	CHECK_INT(test_events(&t, "\"app\":\"HTTP\"", "\"final\":true"), 1);
	test_gw_stop(&t);
}

static void
engine_fin_and_timeout_reasons(void)
{
	struct test_gw t;
	uint8_t p[128];
	struct gw_result r;

	test_gw_start(&t, test_policy_text, 1024, GW_FRAG_TRACK);
	engine_handshake(&t, "203.0.113.5", 42000, "10.30.0.20", 8443);
	test_send(&t, p, test_tcp4(p, "203.0.113.5", 42000, "10.30.0.20", 8443, 0x11, NULL), &r);
	test_send(&t, p, test_tcp4(p, "10.30.0.20", 8443, "203.0.113.5", 42000, 0x11, NULL), &r);
	engine_handshake(&t, "203.0.113.5", 42001, "10.30.0.20", 8443);
	test_send(&t, p, test_tcp4(p, "203.0.113.5", 42001, "10.30.0.20", 8443, 0x04, NULL), &r);
	test_send(&t, p, test_tcp4(p, "203.0.113.6", 42002, "10.30.0.20", 8443, 0x02, NULL), &r);
	gw_engine_expire(t.e, t.ts + 3600ULL * 1000000ULL);
	CHECK_INT(test_events(&t, "\"end_reason\":\"fin\"", "42000"), 1);
	CHECK_INT(test_events(&t, "\"end_reason\":\"rst\"", "42001"), 1);
	CHECK_INT(test_events(&t, "\"end_reason\":\"timeout\"", "42002"), 1);
	test_gw_stop(&t);
}

struct test_cut { int cut; uint16_t port; };

static void
test_on_reload(const struct gw_flow_info *f, enum gw_reload_change change, void *arg)
{
	struct test_cut *tc = arg;

	if (change == GW_RELOAD_CUT) {
		tc->cut++;
		tc->port = f->sport;
	}
}

static void
engine_reload_cuts_flows(void)
{
	struct test_gw t;
	struct policy *closed = test_policy(test_policy_closed);
	struct gw_reload_report rep;
	struct test_cut tc = { 0, 0 };
	uint8_t p[128];
	struct gw_result r;

	test_gw_start(&t, test_policy_text, 1024, GW_FRAG_TRACK);
	engine_handshake(&t, "203.0.113.5", 43000, "10.30.0.20", 8443);
	test_send(&t, p, test_icmp4(p, "203.0.113.5", "10.30.0.20", 8, 8, 0, 3), &r);
	gw_engine_set_policy(t.e, closed, t.ts, test_on_reload, &tc, &rep);
	policy_unref(closed);
	CHECK_INT(rep.flows, 2);
	CHECK_INT(rep.cut, 1);
	CHECK_INT(tc.cut, 1);
	CHECK_INT(tc.port, 43000);
	CHECK_INT(test_events(&t, "\"end_reason\":\"cut\"", "43000"), 1);
	/* the cut flow's next packet meets the new policy */
	CHECK_INT(test_send(&t, p, test_tcp4(p, "203.0.113.5", 43000, "10.30.0.20", 8443, 0x18, "x"), &r), GW_DROP);
	test_gw_stop(&t);
}

/* The telework rule now wants TLS: a flow decided without its app cannot be named any more. */
static void
engine_reload_app_rule_judges_unknown(void)
{
	struct test_gw t;
	char *text = strdup(test_policy_text);
	char *at = strstr(text, "dport = [ 8443 ];");
	struct policy *needs_app;
	struct gw_reload_report rep;

	memcpy(at, "app = [ \"TLS\" ]; ", 17);   /* as long as what it replaces */
	needs_app = test_policy(text);
	CHECK(needs_app != NULL);
	test_gw_start(&t, test_policy_text, 1024, GW_FRAG_TRACK);
	engine_handshake(&t, "203.0.113.5", 44000, "10.30.0.20", 8443);
	gw_engine_set_policy(t.e, needs_app, t.ts, NULL, NULL, &rep);
	CHECK_INT(rep.cut, 1);
	CHECK_INT(test_events(&t, "\"end_reason\":\"cut\"", "\"app\":\"Unknown\""), 1);
	policy_unref(needs_app);
	free(text);
	test_gw_stop(&t);
}

static void
config_reads_gateway_group(void)
{
	config_t cfg;
	struct diags d;
	struct gw_config c;

	diags_init(&d, "t.conf");
	config_init(&cfg);
	CHECK(conf_load_string(&cfg, "gateway = { tcp_budget = 12; fragments = \"drop\"; "
	    "max_flows = 1000; typo_member = 1; };", ".", &d) == 0);
	CHECK(gw_config_load(&cfg, &c, &d) == 0);
	CHECK_INT(c.tcp_budget, 12);
	CHECK_INT(c.udp_budget, 4);
	CHECK_INT(c.fragments, GW_FRAG_DROP);
	CHECK_INT(c.max_flows, 1000);
	CHECK_INT(diags_count(&d, DIAG_WARNING), 1);
	config_destroy(&cfg);
	config_init(&cfg);
	CHECK(conf_load_string(&cfg, "gateway = { mark_accept = 1; mark_drop = 1; };", ".", &d) == 0);
	CHECK(gw_config_load(&cfg, &c, &d) == -1);
	config_destroy(&cfg);
	diags_free(&d);
}

/* A rule with names holds payload until the name is known: the server speaking first gets nothing through. */
static void
engine_names_hold_payload(void)
{
	static const char *policy_text =
	    "model = \"beta\";\n"
	    "zones = ( { name = \"office\"; networks = [ \"10.20.0.0/16\" ]; },\n"
	    "  { name = \"internet\"; networks = [ \"0.0.0.0/0\" ]; } );\n"
	    "defaults = { action = \"drop\"; };\n"
	    "rules = ( { name = \"cloud\"; from = \"office\"; to = \"internet\"; proto = \"tcp\"; dport = 443;\n"
	    "  app = \"TLS\"; names = [ \"teams.microsoft.com\" ]; action = \"accept\"; } );\n";
	struct test_gw t;
	struct gw_counters c;
	struct gw_result r;
	uint8_t p[256];

	test_gw_start(&t, policy_text, 64, GW_FRAG_TRACK);
	CHECK(t.e != NULL);
	if (t.e == NULL)
		return;
	engine_handshake(&t, "10.20.1.5", 40000, "198.51.100.10", 443);
	CHECK_INT(r.verdict = test_send(&t, p, test_tcp4(p, "10.20.1.5", 40000, "198.51.100.10", 443, 0x10,
	    NULL), &r), GW_ACCEPT);   /* no payload: passes while waiting */
	CHECK(!r.final);
	CHECK_INT(test_send(&t, p, test_tcp4(p, "198.51.100.10", 443, "10.20.1.5", 40000, 0x18,
	    "xyzzy 42"), &r), GW_DROP);   /* payload nDPI cannot name yet: held */
	CHECK(!r.final);
	CHECK_INT(r.drop_reason, GW_DROP_HELD);
	test_send(&t, p, test_tcp4(p, "10.20.1.5", 40000, "198.51.100.10", 443, 0x18,
	    "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"), &r);
	CHECK_INT(r.verdict, GW_DROP);   /* still no name: the client's bytes are held too */
	gw_engine_counters(t.e, &c);
	CHECK_INT(c.drops[GW_DROP_HELD], 2);
	CHECK_INT(test_events(&t, "\"verdict\":\"accept\"", "\"final\":true"), 0);
	test_gw_stop(&t);
}

/* A TLS ClientHello with SNI sni (enough for nDPI to name TLS and read the name). */
static size_t
test_client_hello(uint8_t *out, const char *sni)
{
	static const uint8_t rest[] = {
		0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04,                 /* supported_versions */
		0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x1d,           /* supported_groups */
		0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20,  /* key_share, 32 bytes follow */
	};
	size_t n = strlen(sni), e, h = 9 + 2 + 32 + 1 + 4 + 2;
	uint8_t *ext;

	memset(out, 0x11, 512);
	out[0] = 0x16; out[1] = 3; out[2] = 1; out[5] = 1; out[9] = 3; out[10] = 3;
	out[43] = 0;                                  /* session id: none */
	out[44] = 0; out[45] = 2; out[46] = 0x13; out[47] = 0x01; out[48] = 1; out[49] = 0;
	ext = out + h + 2;
	e = 0;
	ext[e++] = 0; ext[e++] = 0; ext[e++] = 0; ext[e++] = (uint8_t)(n + 5);
	ext[e++] = 0; ext[e++] = (uint8_t)(n + 3); ext[e++] = 0; ext[e++] = 0; ext[e++] = (uint8_t)n;
	memcpy(ext + e, sni, n);
	e += n;
	memcpy(ext + e, rest, sizeof rest);
	e += sizeof rest + 32;
	out[h] = (uint8_t)(e >> 8);
	out[h + 1] = (uint8_t)e;
	h += 2 + e;                                   /* the record's end */
	out[3] = (uint8_t)((h - 5) >> 8); out[4] = (uint8_t)(h - 5);
	out[6] = 0; out[7] = (uint8_t)((h - 9) >> 8); out[8] = (uint8_t)(h - 9);
	return h;
}

static size_t
test_tcp4_hello(uint8_t *out, const char *src, uint16_t sport, const char *dst, const char *sni)
{
	uint8_t hello[512];
	size_t n = test_client_hello(hello, sni), l = test_tcp4(out, src, sport, dst, 443, 0x18, NULL);

	memcpy(out + l, hello, n);
	out[2] = (uint8_t)((l + n) >> 8);
	out[3] = (uint8_t)(l + n);
	return l + n;
}

#define TEST_NAMES_POLICY \
	    "model = \"beta\";\n" \
	    "zones = ( { name = \"office\"; networks = [ \"10.20.0.0/16\" ]; },\n" \
	    "  { name = \"internet\"; networks = [ \"0.0.0.0/0\" ]; } );\n" \
	    "defaults = { action = \"drop\"; bind_names_to_dns = %s; };\n" \
	    "rules = ( { name = \"cloud\"; from = \"office\"; to = \"internet\"; proto = \"tcp\"; dport = 443;\n" \
	    "  app = \"TLS\"; names = [ \"%s\" ]; action = \"accept\"; } );\n"

/* After a reload the names and lists are checked again, the DNS answer of a running flow is not. */
static void
engine_names_reload(void)
{
	char buf[1024];
	struct test_gw t;
	struct policy *bound, *other;
	struct gw_reload_report rep;
	struct gw_result r;
	uint8_t p[1024];

	snprintf(buf, sizeof buf, TEST_NAMES_POLICY, "false", "teams.microsoft.com");
	test_gw_start(&t, buf, 64, GW_FRAG_TRACK);
	snprintf(buf, sizeof buf, TEST_NAMES_POLICY, "true", "teams.microsoft.com");
	bound = test_policy(buf);
	snprintf(buf, sizeof buf, TEST_NAMES_POLICY, "true", "other.example");
	other = test_policy(buf);
	CHECK(t.e != NULL && bound != NULL && other != NULL);
	if (t.e == NULL || bound == NULL || other == NULL)
		return;
	engine_handshake(&t, "10.20.1.5", 40100, "198.51.100.10", 443);
	test_send(&t, p, test_tcp4_hello(p, "10.20.1.5", 40100, "198.51.100.10", "teams.microsoft.com"), &r);
	CHECK(r.verdict == GW_ACCEPT && r.final);
	CHECK_INT(test_events(&t, "\"server_name\":\"teams.microsoft.com\"", "\"final\":true"), 1);
	gw_engine_set_policy(t.e, bound, t.ts, NULL, NULL, &rep);
	CHECK_INT(rep.cut, 0);   /* accepted through its name before: its (absent) DNS answer is not asked for */
	engine_handshake(&t, "10.20.1.5", 40101, "198.51.100.10", 443);
	test_send(&t, p, test_tcp4_hello(p, "10.20.1.5", 40101, "198.51.100.10", "teams.microsoft.com"), &r);
	CHECK(r.verdict == GW_DROP && r.final);   /* a new flow: no DNS answer bound the name to .10 */
	gw_engine_set_policy(t.e, other, t.ts, NULL, NULL, &rep);
	CHECK_INT(rep.cut, 1);   /* the name is no longer listed: cut */
	policy_unref(bound);
	policy_unref(other);
	test_gw_stop(&t);
}

/* A pair's node name goes into every event: only a short plain name is taken. */
static void
config_node_name(void)
{
	struct gw_config c;
	struct diags d;
	config_t cfg;

	diags_init(&d, "t.conf");
	config_init(&cfg);
	CHECK(conf_load_string(&cfg, "gateway = { node = \"gw-a.hokuto_1\"; };", ".", &d) == 0);
	CHECK(gw_config_load(&cfg, &c, &d) == 0);
	CHECK_STR(c.node, "gw-a.hokuto_1");
	config_destroy(&cfg);
	config_init(&cfg);
	CHECK(conf_load_string(&cfg, "gateway = {\n  node = \"gw a\\\"\";\n};", ".", &d) == 0);
	CHECK(gw_config_load(&cfg, &c, &d) == -1);
	CHECK(d.n > 0 && d.v[d.n - 1].line == 2 && strstr(d.v[d.n - 1].text, "gateway.node") != NULL);
	CHECK_STR(c.node, "");
	config_destroy(&cfg);
	diags_free(&d);
	CHECK(!gw_config_node_ok(""));
	CHECK(gw_config_node_ok("x"));
	CHECK(!gw_config_node_ok("0123456789012345678901234567890123456789012345678901234567890123"));
}

int
main(void)
{
	UNIT_RUN(config_node_name);
	UNIT_RUN(decode_ipv4_tcp_and_padding);
	UNIT_RUN(decode_refuses_broken_ipv4);
	UNIT_RUN(decode_ipv6_extension_headers);
	UNIT_RUN(decode_ipv6_fragments_and_rh0);
	UNIT_RUN(decode_ipv6_too_many_headers);
	UNIT_RUN(decode_icmp_echo_shares_flow);
	UNIT_RUN(flow_table_both_directions);
	UNIT_RUN(flow_table_full_then_reuse);
	UNIT_RUN(engine_syn_flood_keeps_established);
	UNIT_RUN(engine_memory_bound_with_ndpi_state);
	UNIT_RUN(engine_reject_builds_rst);
	UNIT_RUN(engine_reject_icmp_unreachable);
	UNIT_RUN(engine_reject_icmpv6);
	UNIT_RUN(reply_rst_to_ack_uses_its_ack);
	UNIT_RUN(engine_fragments_follow_first);
	UNIT_RUN(engine_fragments_drop_mode);
	UNIT_RUN(engine_malformed_counted);
	UNIT_RUN(engine_app_budget_gives_unknown);
	UNIT_RUN(engine_http_classified);
	UNIT_RUN(engine_fin_and_timeout_reasons);
	UNIT_RUN(engine_reload_cuts_flows);
	UNIT_RUN(engine_reload_app_rule_judges_unknown);
	UNIT_RUN(config_reads_gateway_group);
	UNIT_RUN(engine_names_hold_payload);
	UNIT_RUN(engine_names_reload);
	UNIT_EXIT();
}

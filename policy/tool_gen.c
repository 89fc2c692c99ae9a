/* tool_gen.c -- synthetic site files of N rules for the bench and the lookup cross-check tests. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "policy/tool.h"

/*
 * The generated site uses the address plan of conf/README.md and the β model;
 * rules pick random zone pairs, addresses inside the zones, protocols, ports,
 * ranges and applications, in the proportions a large real site shows (most
 * rules name one port, some name none). Rules that the guideline would refuse
 * as accepts (anything touching mynumber, internet <-> lgwan) drop or reject,
 * so every generated file loads. Deterministic for a given seed.
 */

struct gen_zone {
	const char *name, *v4, *v6;   /* v4: first two octets or "" for internet */
};

static const struct gen_zone gen_zones[] = {
	{ "mynumber", "10.10", "fd00:10::" },
	{ "lgwan", "10.20", "fd00:20::" },
	{ "asp", "10.40", NULL },
	{ "dmz", "10.30", "fd00:30::" },
	{ "internet", NULL, "2001:db8:" },
};
#define GEN_NZONES 5
#define GEN_MYNUMBER 0
#define GEN_LGWAN 1
#define GEN_INTERNET 4

static const char *const gen_apps[] = {
	"TLS", "HTTP", "DNS", "SSH", "RDP", "SMTP", "QUIC", "NTP", "SNMP", "LDAP",
};

struct gen_buf {
	char *s;
	size_t len, cap;
};

static void
gen_put(struct gen_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
gen_put(struct gen_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len)
			break;
		b->cap = b->cap * 2 + (size_t)(n > 0 ? n : 0);
		b->s = xrealloc(b->s, b->cap, 1);
	}
	b->len += (size_t)n;
}

/* xorshift64*: deterministic, good enough to spread rules. */
uint32_t
gen_rand(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return (uint32_t)((*state * 2685821657736338717ull) >> 32);
}

static void
gen_prefix(struct gen_buf *b, int zone, uint64_t *rs)
{
	const struct gen_zone *z = &gen_zones[zone];
	bool v6 = z->v6 && (z->v4 == NULL || gen_rand(rs) % 5 == 0);
	unsigned host = gen_rand(rs) % 3 == 0;

	if (v6 && z->v4 == NULL)
		gen_put(b, "\"2001:db8:%x::%s\"", gen_rand(rs) % 0xffff, host ? "1" : "/64");
	else if (v6)
		gen_put(b, "\"%s%x%s\"", z->v6, gen_rand(rs) % 0xfff + 1, host ? "" : "/128");
	else if (z->v4 == NULL)
		gen_put(b, "\"%u.%u.%u.%s\"", 172 + gen_rand(rs) % 32, gen_rand(rs) % 256,
		    gen_rand(rs) % 256, host ? "5" : "0/24");
	else if (zone == 3)
		gen_put(b, "\"10.30.0.%u\"", gen_rand(rs) % 256);
	else
		gen_put(b, "\"%s.%u.%s\"", z->v4, gen_rand(rs) % 256, host ? "5" : "0/24");
}

static void
gen_addrs(struct gen_buf *b, const char *key, int zone, uint64_t *rs)
{
	int n;

	if (gen_rand(rs) % 2 == 0)
		return;
	n = 1 + (int)(gen_rand(rs) % 2);
	gen_put(b, " %s = [ ", key);
	for (int i = 0; i < n; i++) {
		gen_put(b, "%s", i ? ", " : "");
		gen_prefix(b, zone, rs);
	}
	gen_put(b, " ];");
}

static void
gen_ports(struct gen_buf *b, uint64_t *rs)
{
	unsigned kind = gen_rand(rs) % 100, lo = 1 + gen_rand(rs) % 65000;

	if (kind < 60)
		gen_put(b, " dport = [ %u ];", lo);
	else if (kind < 75)
		gen_put(b, " dport = [ \"%u-%u\" ];", lo, lo + gen_rand(rs) % 500);
	else if (kind < 90)
		gen_put(b, " dport = [ %u, %u, %u ];", lo, 1 + gen_rand(rs) % 65000, 1 + gen_rand(rs) % 65000);
}

static void
gen_apps_list(struct gen_buf *b, uint64_t *rs)
{
	if (gen_rand(rs) % 4 != 0)
		return;
	gen_put(b, " app = [ \"%s\"", gen_apps[gen_rand(rs) % ARRAY_LEN(gen_apps)]);
	if (gen_rand(rs) % 2)
		gen_put(b, ", \"%s\"", gen_apps[gen_rand(rs) % ARRAY_LEN(gen_apps)]);
	gen_put(b, " ];");
}

static void
gen_rule(struct gen_buf *b, int i, uint64_t *rs)
{
	static const char *const protos[] = { "tcp", "udp", "icmp", "any" };
	int from, to, proto;
	unsigned pk = gen_rand(rs) % 100;
	bool guarded;

	do {
		from = (int)(gen_rand(rs) % GEN_NZONES);
		to = (int)(gen_rand(rs) % GEN_NZONES);
	} while ((from == GEN_MYNUMBER && to == GEN_INTERNET) || (from == GEN_INTERNET && to == GEN_MYNUMBER));
	guarded = from == GEN_MYNUMBER || to == GEN_MYNUMBER || (from == GEN_INTERNET && to == GEN_LGWAN) ||
	    (from == GEN_LGWAN && to == GEN_INTERNET);
	proto = pk < 55 ? 0 : pk < 85 ? 1 : pk < 95 ? 2 : 3;
	gen_put(b, "  { name = \"r%05d\"; from = \"%s\"; to = \"%s\"; proto = \"%s\";", i,
	    gen_zones[from].name, gen_zones[to].name, protos[proto]);
	gen_addrs(b, "src", from, rs);
	gen_addrs(b, "dst", to, rs);
	if (proto < 2) {
		gen_ports(b, rs);
		gen_apps_list(b, rs);
	}
	gen_put(b, " action = \"%s\"; }%s\n",
	    guarded ? (gen_rand(rs) % 2 ? "drop" : "reject") : gen_rand(rs) % 10 < 7 ? "accept" : "drop",
	    ",");
}

static const char *const gen_relay_roles[] = {
	"sanitizer", "screen-transfer", "bridge", "proxy", "security-cloud",
};

/* Relay hosts where the generated rules' addresses land (10.30.0.x, 10.20.x.5): paths to follow. */
static void
gen_relay_hosts(struct gen_buf *b, int nhosts)
{
	gen_put(b, "hosts = (\n");
	for (int i = 0; i < nhosts; i++)
		if (i % 2 == 0)
			gen_put(b, "  { name = \"relay%d\"; address = \"10.30.0.%d\"; roles = [ \"%s\" ]; },\n", i,
			    i + 1, gen_relay_roles[(i / 2) % ARRAY_LEN(gen_relay_roles)]);
		else
			gen_put(b, "  { name = \"desk%d\"; address = \"10.20.%d.5\"; roles = [ \"screen-transfer\" ]; },\n",
			    i, i);
	gen_put(b, "  { name = \"end\"; address = \"10.40.0.1\"; roles = [ \"asp\" ]; }\n);\n");
}

/* The site of gen_policy_text with relay hosts under its rules (the path analysis has work to do). */
char *
gen_policy_text_relays(int nrules, int nhosts, uint64_t seed)
{
	char *plain = gen_policy_text(nrules, seed), *rules = strstr(plain, "defaults = ");
	struct gen_buf b = { xmalloc(4096), 0, 4096 };

	gen_put(&b, "%.*s", (int)(rules - plain), plain);
	gen_relay_hosts(&b, nhosts);
	gen_put(&b, "%s", rules);
	free(plain);
	return b.s;
}

/* A site file of nrules rules; the caller frees it. */
char *
gen_policy_text(int nrules, uint64_t seed)
{
	struct gen_buf b = { xmalloc(4096), 0, 4096 };
	uint64_t rs = seed ? seed : 0x9e3779b97f4a7c15ull;

	gen_put(&b, "# generated: %d rules, seed %llu\nmodel = \"beta\";\nzones = (\n"
	    "  { name = \"mynumber\"; networks = [ \"10.10.0.0/16\", \"fd00:10::/48\" ]; },\n"
	    "  { name = \"lgwan\"; networks = [ \"10.20.0.0/16\", \"fd00:20::/48\" ]; },\n"
	    "  { name = \"asp\"; networks = [ \"10.40.0.0/16\" ]; },\n"
	    "  { name = \"dmz\"; networks = [ \"10.30.0.0/24\", \"fd00:30::/64\" ]; },\n"
	    "  { name = \"internet\"; networks = [ \"0.0.0.0/0\", \"::/0\" ]; }\n);\n"
	    "defaults = { action = \"drop\"; unknown_app = \"reject\"; };\nrules = (\n",
	    nrules, (unsigned long long)seed);
	for (int i = 0; i < nrules; i++)
		gen_rule(&b, i, &rs);
	gen_put(&b, "  { name = \"last\"; from = \"dmz\"; to = \"dmz\"; proto = \"icmp\"; action = \"accept\"; }\n);\n");
	return b.s;
}

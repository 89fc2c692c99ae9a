/* test_names.c -- unit tests of server names: the matcher, name rules in the policy, the DNS answer reader, the binding table, the ECH scan. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw/dnsans.h"
#include "gw/dnsbind.h"
#include "gw/tlsch.h"
#include "policy/names.h"
#include "policy/policy.h"
#include "tests/lib/unit.h"

static int
match(const struct nameset *s, const char *name)
{
	struct name_query q;

	names_query_init(&q, name);
	return names_match(s, &q);
}

static void
test_matcher_edges(void)
{
	struct nameset *s = names_new();

	names_add(s, "teams.microsoft.com", NAMES_INLINE);
	names_add(s, "*.sharepoint.com", 3);
	names_add(s, "Exact.Example.", 4);
	CHECK_INT(match(s, "teams.microsoft.com"), NAMES_INLINE);
	CHECK_INT(match(s, "TEAMS.Microsoft.COM."), NAMES_INLINE);
	CHECK_INT(match(s, "x.teams.microsoft.com"), NAMES_NO_MATCH);   /* exact is exact */
	CHECK_INT(match(s, "eams.microsoft.com"), NAMES_NO_MATCH);
	CHECK_INT(match(s, "city.sharepoint.com"), 3);
	CHECK_INT(match(s, "a.b.sharepoint.com"), 3);
	CHECK_INT(match(s, "sharepoint.com"), NAMES_NO_MATCH);      /* the apex is not *. */
	CHECK_INT(match(s, "evil-sharepoint.com"), NAMES_NO_MATCH); /* label boundary */
	CHECK_INT(match(s, "sharepoint.com.evil.example"), NAMES_NO_MATCH);
	CHECK_INT(match(s, ".sharepoint.com"), NAMES_NO_MATCH);     /* empty label */
	CHECK_INT(match(s, "a..sharepoint.com"), NAMES_NO_MATCH);
	CHECK_INT(match(s, "exact.example"), 4);
	CHECK_INT(match(s, ""), NAMES_NO_MATCH);
	CHECK_INT(match(s, "a b.sharepoint.com"), NAMES_NO_MATCH);  /* not a host name */
	CHECK_INT((int)names_count(s), 3);
	names_add(s, "teams.microsoft.com", 9);                    /* again: the first one stays */
	CHECK_INT((int)names_count(s), 3);
	CHECK_INT(match(s, "teams.microsoft.com"), NAMES_INLINE);
	names_free(s);
}

static void
test_pattern_errors(void)
{
	CHECK(names_pattern_error("*") != NULL);
	CHECK(names_pattern_error("*.") != NULL);
	CHECK(names_pattern_error("a.*.example") != NULL);
	CHECK(names_pattern_error("*a.example") != NULL);
	CHECK(names_pattern_error("a..example") != NULL);
	CHECK(names_pattern_error(".example") != NULL);
	CHECK(names_pattern_error("ex ample.com") != NULL);
	CHECK(names_pattern_error("") != NULL);
	CHECK(names_pattern_error("teams.microsoft.com") == NULL);
	CHECK(names_pattern_error("*.sharepoint.com") == NULL);
	CHECK(names_pattern_error("example.com.") == NULL);
}

/* The plain reading of the rules, to compare the hashed matcher with. */
static bool
naive(char pats[][40], int n, const char *name)
{
	size_t len = strlen(name);

	for (int i = 0; i < n; i++) {
		if (strncmp(pats[i], "*.", 2) != 0) {
			if (strcasecmp(pats[i], name) == 0)
				return true;
			continue;
		}
		size_t sl = strlen(pats[i]) - 1;   /* ".suffix" */
		if (len > sl && strcasecmp(name + len - sl, pats[i] + 1) == 0)
			return true;
	}
	return false;
}

static void
test_matcher_cross_check(void)
{
	static char pats[2000][40];
	static const char *const words[] = { "a", "b", "cdn", "mail", "x-y", "teams", "com", "jp", "lg" };
	struct nameset *s = names_new();
	unsigned seed = 7, disagree = 0;

	for (int i = 0; i < 2000; i++) {
		seed = seed * 1103515245 + 12345;
		snprintf(pats[i], sizeof pats[i], "%s%s.%s.%s", seed % 3 == 0 ? "*." : "",
		    words[(seed >> 4) % 9], words[(seed >> 8) % 9], words[(seed >> 12) % 9]);
		names_add(s, pats[i], i);
	}
	for (int i = 0; i < 20000; i++) {
		char name[64];
		seed = seed * 1103515245 + 12345;
		snprintf(name, sizeof name, "%s.%s.%s.%s", words[(seed >> 3) % 9], words[(seed >> 7) % 9],
		    words[(seed >> 11) % 9], words[(seed >> 15) % 9]);
		const char *n = (seed >> 20) % 2 ? name : strchr(name, '.') + 1;
		if ((match(s, n) != NAMES_NO_MATCH) != naive(pats, 2000, n))
			disagree++;
	}
	CHECK_INT(disagree, 0);
	names_free(s);
}

/* ---- name rules in the policy ------------------------------------------------ */

static const char names_policy[] =
    "model = \"alpha-prime\";\n"
    "zones = ( { name = \"mynumber\"; networks = [ \"10.10.0.0/16\" ]; },\n"
    "  { name = \"lgwan\"; networks = [ \"10.20.0.0/16\" ]; },\n"
    "  { name = \"internet\"; networks = [ \"0.0.0.0/0\" ]; } );\n"
    "rules = (\n"
    "  { name = \"cloud\"; from = \"lgwan\"; to = \"internet\"; proto = \"tcp\"; dport = 443;\n"
    "    app = \"TLS\"; names = [ \"teams.microsoft.com\", \"*.sharepoint.com\" ]; action = \"accept\"; }\n"
    ");\n";

static bool bound_answer;

static bool
test_bound(void *arg, const char *name, const struct addr *dst)
{
	(void)arg;
	(void)name;
	(void)dst;
	return bound_answer;
}

static struct policy_flow
cloud_flow(const char *name, enum policy_name_state st)
{
	struct policy_flow f;

	memset(&f, 0, sizeof f);
	addr_parse("10.20.1.5", &f.src);
	addr_parse("198.51.100.10", &f.dst);
	f.proto = IPPROTO_TCP;
	f.dport = 443;
	f.server_name = name;
	f.name_state = st;
	f.name_bound = test_bound;
	return f;
}

static void
test_policy_name_rules(void)
{
	struct diags d;
	struct policy *p;
	struct policy_verdict v;
	struct policy_flow f;

	diags_init(&d, "t.conf");
	p = policy_load_string(names_policy, "t.conf", &d);
	CHECK(p != NULL);
	if (p == NULL) {
		diags_print(&d, stdout);
		diags_free(&d);
		return;
	}
	f = cloud_flow(NULL, NAME_NONE);
	policy_lookup(p, &f, APP_PENDING, &v);
	CHECK(!v.final && v.hold && v.action == ACT_ACCEPT);   /* handshake passes, payload is held */
	bound_answer = true;
	f = cloud_flow("a.sharepoint.com", NAME_KNOWN);
	policy_lookup(p, &f, "TLS", &v);
	CHECK(v.final && v.action == ACT_ACCEPT && v.name_list == POLICY_NAME_INLINE);
	bound_answer = false;   /* α′ binds names by default */
	policy_lookup(p, &f, "TLS", &v);
	CHECK(v.final && v.action == ACT_DROP && strstr(v.reason, "never returned"));
	bound_answer = true;
	f = cloud_flow("a.sharepoint.com", NAME_ENCRYPTED);
	policy_lookup(p, &f, "TLS", &v);
	CHECK(v.action == ACT_DROP && strstr(v.reason, "Encrypted Client Hello"));
	f = cloud_flow("a.sharepoint.com", NAME_CUT);
	policy_lookup(p, &f, "TLS", &v);
	CHECK(v.action == ACT_DROP && strstr(v.reason, "cut"));
	f = cloud_flow(NULL, NAME_NONE);
	policy_lookup(p, &f, "TLS", &v);
	CHECK(v.action == ACT_DROP && strstr(v.reason, "no server name"));
	f = cloud_flow("teams.microsoft.com", NAME_KNOWN);
	policy_lookup(p, &f, "SSH", &v);
	CHECK(v.action == ACT_DROP);   /* the app must match too */
	CHECK(policy_binds_names(p));
	policy_unref(p);
	diags_free(&d);
}

/* α′ path analysis: leaving LGWAN by a proxy needs a named exit on the last hop. */
static const char relay_policy[] =
    "model = \"alpha-prime\";\n"
    "zones = ( { name = \"mynumber\"; networks = [ \"10.10.0.0/16\" ]; },\n"
    "  { name = \"lgwan\"; networks = [ \"10.20.0.0/16\" ]; },\n"
    "  { name = \"dmz\"; networks = [ \"10.30.0.0/24\" ]; },\n"
    "  { name = \"internet\"; networks = [ \"0.0.0.0/0\" ]; } );\n"
    "hosts = ( { name = \"web-proxy\"; address = \"10.30.0.40\"; roles = [ \"proxy\" ]; } );\n"
    "rules = (\n"
    "  { name = \"to-proxy\"; from = \"lgwan\"; to = \"dmz\"; dst = \"web-proxy\"; proto = \"tcp\";\n"
    "    dport = 8080; app = \"HTTP\"; action = \"accept\"; },\n"
    "  { name = \"proxy-out\"; from = \"dmz\"; to = \"internet\"; src = \"web-proxy\"; proto = \"tcp\";\n"
    "    dport = 443; app = \"TLS\";%s action = \"accept\"; } );\n";

static void
test_alpha_prime_paths(void)
{
	char text[2048];
	struct diags d;
	struct policy *p;
	bool found = false;

	snprintf(text, sizeof text, relay_policy, "");
	diags_init(&d, "t.conf");
	p = policy_load_string(text, "t.conf", &d);
	for (size_t i = 0; i < d.n; i++)
		found |= d.v[i].severity == DIAG_ERROR && strstr(d.v[i].text, "path lgwan ⇝ internet") != NULL;
	CHECK(p == NULL && found);   /* through the proxy without names: refused (P2) */
	policy_unref(p);
	diags_free(&d);
	snprintf(text, sizeof text, relay_policy, " names = [ \"teams.microsoft.com\" ];");
	diags_init(&d, "t.conf");
	p = policy_load_string(text, "t.conf", &d);
	CHECK(p != NULL);   /* the same path leaving by a named exit */
	if (p == NULL)
		diags_print(&d, stdout);
	policy_unref(p);
	diags_free(&d);
}

/* ---- the DNS answer reader ------------------------------------------------------ */

struct learnt {
	char names[8][64];
	struct addr addrs[8];
	uint32_t ttls[8];
	int n;
};

static void
learn(const char *name, const struct addr *a, uint32_t ttl, void *arg)
{
	struct learnt *l = arg;

	if (l->n == 8)
		return;
	snprintf(l->names[l->n], sizeof l->names[0], "%s", name);
	l->addrs[l->n] = *a;
	l->ttls[l->n++] = ttl;
}

/* www.Example.com A? -> CNAME edge.cdn.net (compressed), edge.cdn.net A 192.0.2.7 ttl 60 */
static const uint8_t dns_cname[] = {
	0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
	3, 'w', 'w', 'w', 7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1,
	0xc0, 12, 0, 5, 0, 1, 0, 0, 1, 0, 0, 14, 4, 'e', 'd', 'g', 'e', 3, 'c', 'd', 'n', 3, 'n', 'e', 't', 0,
	0xc0, 45, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7,
};

static void
test_dnsans(void)
{
	struct learnt l;
	uint8_t bad[sizeof dns_cname];
	struct addr want;

	memset(&l, 0, sizeof l);
	CHECK_INT(dnsans_parse(dns_cname, sizeof dns_cname, learn, &l), 1);
	CHECK_INT(l.n, 2);
	CHECK_STR(l.names[0], "www.example.com");   /* the question's name, lower case */
	CHECK_STR(l.names[1], "edge.cdn.net");
	addr_parse("192.0.2.7", &want);
	CHECK(memcmp(&l.addrs[0], &want, sizeof want) == 0);
	CHECK_INT(l.ttls[0], 60);
	for (size_t cut = 0; cut < sizeof dns_cname; cut++) {   /* every truncation: malformed, nothing learnt */
		memset(&l, 0, sizeof l);
		CHECK_INT(dnsans_parse(dns_cname, cut, learn, &l), -1);
		CHECK_INT(l.n, 0);
	}
	memcpy(bad, dns_cname, sizeof bad);
	bad[46] = 45;          /* the CNAME target points at itself: a loop */
	bad[45] = 0xc0;
	CHECK_INT(dnsans_parse(bad, sizeof bad, learn, &l), -1);
	memcpy(bad, dns_cname, sizeof bad);
	bad[2] = 0x01;         /* a query, not a response */
	CHECK_INT(dnsans_parse(bad, sizeof bad, learn, &l), -1);
	memcpy(bad, dns_cname, sizeof bad);
	bad[3] = 0x83;         /* NXDOMAIN */
	CHECK_INT(dnsans_parse(bad, sizeof bad, learn, &l), -1);
}

static void
test_dnsbind(void)
{
	struct dnsbind *b = dnsbind_new(4, 0);
	struct dnsbind_stats st;
	struct addr a1, a2;
	char name[32];

	addr_parse("192.0.2.1", &a1);
	addr_parse("192.0.2.2", &a2);
	dnsbind_add(b, "teams.microsoft.com", &a1, 60, 1000000);
	CHECK(dnsbind_has(b, "teams.microsoft.com", &a1, 2000000));
	CHECK(!dnsbind_has(b, "teams.microsoft.com", &a2, 2000000));
	CHECK(!dnsbind_has(b, "teams.microsoft.com", &a1, 62000000));   /* TTL over */
	for (int i = 0; i < 6; i++) {   /* six more names into four places: LRU */
		snprintf(name, sizeof name, "n%d.example", i);
		dnsbind_add(b, name, &a2, 60, 1000000);
	}
	dnsbind_stats(b, &st);
	CHECK_INT(st.names, 4);
	CHECK_INT(st.evicted, 3);
	CHECK(!dnsbind_has(b, "teams.microsoft.com", &a1, 2000000));
	CHECK(dnsbind_has(b, "n5.example", &a2, 2000000));
	dnsbind_add(b, "a-name-that-is-longer-than-what-ndpi-keeps-of-any-server-name.in.its.flow.example.com", &a1,
	    60, 1000000);   /* never matchable: not stored */
	dnsbind_stats(b, &st);
	CHECK_INT(st.evicted, 3);
	dnsbind_unref(b);
}

static void
test_tlsch(void)
{
	/* record, ClientHello, version, random, no session id, one suite, null compression, extensions */
	uint8_t ch[5 + 4 + 2 + 32 + 1 + 4 + 2 + 2 + 8] = { 0x16, 3, 1, 0, 0, 1, 0, 0, 0, 3, 3 };
	size_t off = 5 + 4 + 2 + 32;

	ch[off++] = 0;
	ch[off++] = 0; ch[off++] = 2; ch[off++] = 0x13; ch[off++] = 0x01;
	ch[off++] = 1; ch[off++] = 0;
	ch[off++] = 0; ch[off++] = 8;
	ch[off++] = 0x00; ch[off++] = 0x2b; ch[off++] = 0; ch[off++] = 0;   /* supported_versions, empty */
	ch[off++] = 0xfe; ch[off++] = 0x0d; ch[off++] = 0; ch[off++] = 0;   /* encrypted_client_hello */
	CHECK(tlsch_hides_name(ch, sizeof ch));
	ch[off - 4] = 0x00;
	CHECK(!tlsch_hides_name(ch, sizeof ch));
	for (size_t n = 0; n < sizeof ch; n++)
		CHECK(!tlsch_hides_name(ch, n));
}

int
main(void)
{
	UNIT_RUN(test_matcher_edges);
	UNIT_RUN(test_pattern_errors);
	UNIT_RUN(test_matcher_cross_check);
	UNIT_RUN(test_policy_name_rules);
	UNIT_RUN(test_alpha_prime_paths);
	UNIT_RUN(test_dnsans);
	UNIT_RUN(test_dnsbind);
	UNIT_RUN(test_tlsch);
	UNIT_EXIT();
}

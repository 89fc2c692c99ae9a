/* test_policy.c -- unit tests of policy/: parsing, zones, the index, application semantics, invariants. */
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "policy/internal.h"
#include "policy/tool.h"
#include "tests/lib/unit.h"

/* ---- helpers --------------------------------------------------------------- */

static struct diags test_diags;

static struct policy *
load_text(const char *text)
{
	diags_free(&test_diags);
	diags_init(&test_diags, "test.conf");
	return policy_load_string(text, "test.conf", &test_diags);
}

static struct policy *
load_file(const char *path)
{
	diags_free(&test_diags);
	diags_init(&test_diags, path);
	return policy_load(path, &test_diags);
}

/* True when a diagnostic of sev contains text. */
static bool
has_diag(enum diag_severity sev, const char *text)
{
	for (size_t i = 0; i < test_diags.n; i++)
		if (test_diags.v[i].severity == sev && strstr(test_diags.v[i].text, text))
			return true;
	return false;
}

static void
dump_diags(void)
{
	diags_print(&test_diags, stdout);
}

static struct policy_flow
flow(const char *src, const char *dst, uint8_t proto, uint16_t dport)
{
	struct policy_flow f;

	memset(&f, 0, sizeof f);
	if (addr_parse(src, &f.src) < 0 || addr_parse(dst, &f.dst) < 0)
		abort();
	f.proto = proto;
	f.dport = dport;
	return f;
}

static struct policy_verdict
look(const struct policy *p, const char *src, const char *dst, uint8_t proto, uint16_t dport,
    const char *app)
{
	struct policy_flow f = flow(src, dst, proto, dport);
	struct policy_verdict v;

	policy_lookup(p, &f, app, &v);
	return v;
}

static int
zone_of(const struct policy *p, const char *text, const char *ifname)
{
	struct addr a;

	if (addr_parse(text, &a) < 0)
		abort();
	return policy_zone_of(p, &a, ifname);
}

#define ZONES3 \
	"model = \"alpha\";\n" \
	"zones = ( { name = \"mynumber\"; networks = [ \"10.10.0.0/16\", \"fd00:10::/48\" ]; },\n" \
	"  { name = \"lgwan\"; networks = [ \"10.20.0.0/16\", \"fd00:20::/48\" ]; },\n" \
	"  { name = \"dmz\"; networks = [ \"10.30.0.0/24\" ]; },\n" \
	"  { name = \"internet\"; networks = [ \"0.0.0.0/0\", \"::/0\" ]; } );\n" \
	"hosts = ( { name = \"inter\"; address = \"10.20.5.10\"; roles = [ \"intermediate-server\" ]; },\n" \
	"  { name = \"san\"; address = \"10.30.0.10\"; roles = [ \"sanitizer\" ]; },\n" \
	"  { name = \"web\"; address = \"10.30.0.80\"; roles = [ \"web\" ]; } );\n"

/* ---- parsing ------------------------------------------------------------------- */

static void
test_alpha_loads(void)
{
	struct policy *p = load_file("conf/alpha.conf");

	CHECK(p != NULL);
	if (p == NULL) {
		dump_diags();
		return;
	}
	CHECK_INT(diags_count(&test_diags, DIAG_ERROR), 0);
	CHECK_INT(diags_count(&test_diags, DIAG_WARNING), 0);
	CHECK_INT(policy_model(p), MODEL_ALPHA);
	CHECK_INT(policy_zone_count(p), 5);
	CHECK_INT(policy_rule_count(p), 17);
	CHECK_STR(policy_rule_name(p, 0), "mynumber-to-intermediate");
	CHECK(policy_rule_name(p, 17) == NULL);
	CHECK_STR(policy_zone_name(p, policy_zone_by_name(p, "dmz")), "dmz");
	CHECK_INT(policy_zone_by_name(p, "nope"), ZONE_NONE);
	CHECK(policy_uses_apps(p));
	CHECK_INT(policy_malformed_action(p), ACT_DROP);
	CHECK_STR(policy_source(p), "conf/alpha.conf");
	CHECK_STR(policy_model_name(MODEL_BETA_PRIME), "beta-prime");
	CHECK_STR(policy_action_name(ACT_REJECT), "reject");
	policy_unref(p);
}

static void
test_presets_load(void)
{
	const char *files[] = { "conf/beta.conf", "conf/beta-prime.conf" };

	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		struct policy *p = load_file(files[i]);
		CHECK(p != NULL);
		CHECK_INT(test_diags.n, 0);
		if (test_diags.n)
			dump_diags();
		CHECK_INT(p ? (int)policy_model(p) : -1, i == 0 ? MODEL_BETA : MODEL_BETA_PRIME);
		policy_unref(p);
	}
}

static void
test_parse_errors(void)
{
	struct policy *p = load_text("model = \"alpha\";\nzones = ( { name = \"a\" ; }\n");

	CHECK(p == NULL);
	CHECK_INT(diags_count(&test_diags, DIAG_ERROR), 1);
	CHECK_INT(test_diags.n ? test_diags.v[0].line : -1, 3);
	p = load_text(ZONES3 "rules = ( { name = \"x\"; from = \"lgwan\"; to = \"dmz\"; dst = [ \"10.0.0.1/8\" ]; action = \"drop\"; } );");
	CHECK(p == NULL);
	CHECK(has_diag(DIAG_ERROR, "bad network '10.0.0.1/8': host bits set"));
	p = load_text(ZONES3 "rules = ( { name = \"x\"; from = \"lgwan\"; to = \"dmz\"; dst = [ \"nosuch\" ]; action = \"drop\"; } );");
	CHECK(p == NULL);
	CHECK(has_diag(DIAG_ERROR, "unknown host 'nosuch'"));
	p = load_text(ZONES3 "rules = ( { name = \"x\"; from = \"lgwan\"; to = \"dmz\"; proto = \"icmp\"; dport = [ 1 ]; action = \"drop\"; } );");
	CHECK(p == NULL);
	CHECK(has_diag(DIAG_ERROR, "dport needs proto"));
	p = load_text(ZONES3 "rules = ( { name = \"x\"; from = \"lgwan\"; to = \"dmz\"; action = \"allow\"; } );");
	CHECK(p == NULL);
	CHECK(has_diag(DIAG_ERROR, "'action' = \"allow\" is not one of: accept, drop, reject"));
	p = load_text(ZONES3 "rules = ( { name = \"x\"; from = \"lgwan\"; to = \"dmz\"; proto = \"tcp\"; dport = ( \"90-80\" ); action = \"drop\"; } );");
	CHECK(p == NULL);
	CHECK(has_diag(DIAG_ERROR, "bad port"));
	p = load_text(ZONES3 "rules = ( { name = \"x\"; from = \"lgwan\"; to = \"dmz\"; action = \"drop\"; },\n"
	    "{ name = \"x\"; from = \"lgwan\"; to = \"dmz\"; action = \"drop\"; } );");
	CHECK(p == NULL);
	CHECK(has_diag(DIAG_ERROR, "duplicate rule name 'x'"));
	p = load_text(ZONES3 "rules = ( { name = \"x\"; from = \"lgwan\"; to = \"dmz\"; } );");
	CHECK(p == NULL);
	CHECK(has_diag(DIAG_ERROR, "has no action"));
	p = load_text("zones = ( { name = \"a\"; networks = [ \"10.0.0.0/8\" ]; } );");
	CHECK(p == NULL);
	CHECK(has_diag(DIAG_ERROR, "no 'model'"));
}

static void
test_duplicates(void)
{
	struct policy *p = load_text("model = \"beta\"; zones = ( { name = \"a\"; networks = [ \"10.0.0.0/8\" ]; },\n"
	    "{ name = \"a\"; networks = [ \"11.0.0.0/8\" ]; } );");

	CHECK(p == NULL);
	CHECK(has_diag(DIAG_ERROR, "zone 'a' defined twice"));
	p = load_text("model = \"beta\"; zones = ( { name = \"a\"; networks = [ \"10.0.0.0/8\" ]; },\n"
	    "{ name = \"b\"; networks = [ \"10.0.0.0/8\" ]; } );");
	CHECK(p == NULL);
	CHECK(has_diag(DIAG_ERROR, "network 10.0.0.0/8 is in zone 'a' and zone 'b'"));
	p = load_text("model = \"beta\"; zones = ( { name = \"a\"; networks = [ \"10.0.0.0/8\" ]; } );\n"
	    "hosts = ( { name = \"h\"; address = \"10.0.0.1\"; }, { name = \"h\"; address = \"10.0.0.2\"; } );");
	CHECK(p == NULL);
	CHECK(has_diag(DIAG_ERROR, "host 'h' defined twice"));
}

/* Inside a zone, host or rule an unknown setting is an error; so is a rule naming an undefined zone. */
static void
test_strict_schema(void)
{
	struct policy *p = load_text(ZONES3 "rules = (\n"
	    "  { name = \"ghost\"; from = \"lgwan\"; to = \"nowhere\"; action = \"accept\"; },\n"
	    "  { name = \"typo\"; from = \"lgwan\"; to = \"dmz\"; proto = \"tcp\"; dports = [ 443 ]; action = \"accept\"; } );");

	CHECK(p == NULL);
	CHECK(has_diag(DIAG_ERROR, "rule 'ghost' names zone 'nowhere', which is not defined"));
	CHECK(has_diag(DIAG_ERROR, "rule 'typo': unknown setting 'dports'"));
	policy_unref(p);
	p = load_text("model = \"beta\"; zones = ( { name = \"lgwan\"; networks = [ \"10.20.0.0/16\" ]; colour = 1; } );\n"
	    "hosts = ( { name = \"h\"; address = \"10.20.0.1\"; role = [ \"dns\" ]; } );");
	CHECK(p == NULL);
	CHECK(has_diag(DIAG_ERROR, "zone 'lgwan': unknown setting 'colour'"));
	CHECK(has_diag(DIAG_ERROR, "host 'h': unknown setting 'role'"));
	policy_unref(p);
}

static void
test_warnings(void)
{
	struct policy *p = load_text(ZONES3 "colour = \"blue\";\n"
	    "rules = ( { name = \"all-dmz\"; from = \"lgwan\"; to = \"dmz\"; proto = \"tcp\"; action = \"reject\"; },\n"
	    "  { name = \"web\"; from = \"lgwan\"; to = \"dmz\"; proto = \"tcp\"; dport = [ 443 ]; action = \"accept\"; },\n"
	    "  { name = \"typo\"; from = \"lgwan\"; to = \"dmz\"; proto = \"udp\"; app = [ \"HTTPS\" ]; action = \"drop\"; } );");

	CHECK(p != NULL);
	CHECK(has_diag(DIAG_WARNING, "unknown setting 'colour' (ignored)"));   /* top level: a warning */
	CHECK(has_diag(DIAG_WARNING, "rule 'web' is shadowed by rule 'all-dmz'"));
	CHECK(has_diag(DIAG_WARNING, "application 'HTTPS' is not a protocol nDPI 4.2 knows"));
	CHECK(!has_diag(DIAG_WARNING, "rule 'typo' is shadowed"));
	CHECK(!has_diag(DIAG_WARNING, "no zone"));
	policy_unref(p);
	p = load_text("model = \"beta\"; zones = ( { name = \"lgwan\"; networks = [ \"10.20.0.0/16\" ]; },\n"
	    "{ name = \"dmz\"; networks = [ \"10.30.0.0/24\" ]; } );\n"
	    "rules = ( { name = \"odd\"; from = \"dmz\"; to = \"lgwan\"; src = [ \"10.20.1.0/24\", \"10.30.0.0/25\" ]; "
	    "action = \"drop\"; } );");
	CHECK(p != NULL);
	CHECK(has_diag(DIAG_WARNING, "rule 'odd': src 10.20.1.0/24 is not in zone 'dmz'"));
	CHECK(!has_diag(DIAG_WARNING, "src 10.30.0.0/25"));
	CHECK(has_diag(DIAG_WARNING, "no zone 'mynumber'"));
	CHECK(has_diag(DIAG_WARNING, "no zone 'internet'"));
	CHECK_INT(diags_count(&test_diags, DIAG_ERROR), 0);
	policy_unref(p);
}

/* ---- zones ----------------------------------------------------------------------- */

static void
test_zone_most_specific(void)
{
	struct policy *p = load_text("model = \"beta\";\nzones = (\n"
	    "{ name = \"wide\"; networks = [ \"10.0.0.0/8\" ]; },\n"
	    "{ name = \"narrow\"; networks = [ \"10.1.0.0/16\" ]; },\n"
	    "{ name = \"host\"; networks = [ \"10.1.2.3/32\", \"fd00::1\" ]; },\n"
	    "{ name = \"v4all\"; networks = [ \"0.0.0.0/0\" ]; },\n"
	    "{ name = \"v6\"; networks = [ \"fd00::/16\" ]; } );");

	CHECK(p != NULL);
	if (p == NULL)
		return;
	CHECK_STR(policy_zone_name(p, zone_of(p, "10.200.0.1", NULL)), "wide");
	CHECK_STR(policy_zone_name(p, zone_of(p, "10.1.0.1", NULL)), "narrow");
	CHECK_STR(policy_zone_name(p, zone_of(p, "10.1.2.3", NULL)), "host");
	CHECK_STR(policy_zone_name(p, zone_of(p, "10.1.2.4", NULL)), "narrow");
	CHECK_STR(policy_zone_name(p, zone_of(p, "192.0.2.1", NULL)), "v4all");
	CHECK_STR(policy_zone_name(p, zone_of(p, "fd00::1", NULL)), "host");
	CHECK_STR(policy_zone_name(p, zone_of(p, "fd00::2", NULL)), "v6");
	CHECK_INT(zone_of(p, "2001:db8::1", NULL), ZONE_NONE);   /* 0.0.0.0/0 is IPv4 only */
	CHECK_STR(policy_zone_name(p, ZONE_NONE), "(none)");
	policy_unref(p);
}

static void
test_zone_interfaces(void)
{
	struct policy *p = load_text("model = \"beta\";\nzones = (\n"
	    "{ name = \"lgwan\"; networks = [ \"10.20.0.0/16\" ]; interfaces = [ \"lan1\" ]; },\n"
	    "{ name = \"internet\"; networks = [ \"0.0.0.0/0\" ]; interfaces = [ \"wan0\", \"wan1\" ]; } );\n"
	    "rules = ( { name = \"in\"; from = \"internet\"; to = \"lgwan\"; action = \"reject\"; } );");
	struct policy_flow f = flow("10.20.1.5", "10.20.1.6", IPPROTO_TCP, 80);
	struct policy_verdict v;

	CHECK(p != NULL);
	if (p == NULL)
		return;
	CHECK_STR(policy_zone_name(p, zone_of(p, "10.20.1.5", "wan1")), "internet");
	CHECK_STR(policy_zone_name(p, zone_of(p, "10.20.1.5", "eth9")), "lgwan");
	CHECK_STR(policy_zone_name(p, zone_of(p, "8.8.8.8", "lan1")), "lgwan");
	policy_lookup(p, &f, APP_PENDING, &v);
	CHECK_STR(v.rule_name, "default");
	f.in_if = "wan0";   /* a spoofed LGWAN source arriving from the internet side */
	policy_lookup(p, &f, APP_PENDING, &v);
	CHECK_STR(v.rule_name, "in");
	CHECK_INT(v.action, ACT_REJECT);
	CHECK_STR(policy_zone_name(p, v.src_zone), "internet");
	policy_unref(p);
}

/* ---- matching ---------------------------------------------------------------------- */

static void
test_match_ports_ranges(void)
{
	struct policy *p = load_text(ZONES3 "rules = (\n"
	    "{ name = \"web\"; from = \"lgwan\"; to = \"dmz\"; proto = \"tcp\"; dport = ( 443, \"8000-8080\" ); action = \"accept\"; },\n"
	    "{ name = \"dns\"; from = \"lgwan\"; to = \"dmz\"; proto = \"udp\"; dport = 53; action = \"accept\"; },\n"
	    "{ name = \"ping\"; from = \"lgwan\"; to = \"dmz\"; proto = \"icmp\"; action = \"accept\"; },\n"
	    "{ name = \"rest\"; from = \"lgwan\"; to = \"any\"; proto = \"any\"; action = \"reject\"; } );");

	CHECK(p != NULL);
	if (p == NULL) {
		dump_diags();
		return;
	}
	CHECK_STR(look(p, "10.20.1.5", "10.30.0.9", IPPROTO_TCP, 443, NULL).rule_name, "web");
	CHECK_STR(look(p, "10.20.1.5", "10.30.0.9", IPPROTO_TCP, 8000, NULL).rule_name, "web");
	CHECK_STR(look(p, "10.20.1.5", "10.30.0.9", IPPROTO_TCP, 8080, NULL).rule_name, "web");
	CHECK_STR(look(p, "10.20.1.5", "10.30.0.9", IPPROTO_TCP, 8081, NULL).rule_name, "rest");
	CHECK_STR(look(p, "10.20.1.5", "10.30.0.9", IPPROTO_TCP, 7999, NULL).rule_name, "rest");
	CHECK_STR(look(p, "10.20.1.5", "10.30.0.9", IPPROTO_UDP, 443, NULL).rule_name, "rest");
	CHECK_STR(look(p, "10.20.1.5", "10.30.0.9", IPPROTO_UDP, 53, NULL).rule_name, "dns");
	CHECK_STR(look(p, "10.20.1.5", "10.30.0.9", IPPROTO_ICMP, 8, NULL).rule_name, "ping");
	CHECK_STR(look(p, "fd00:20::5", "fd00:20::6", IPPROTO_ICMPV6, 128, NULL).rule_name, "rest");
	CHECK_STR(look(p, "10.20.1.5", "10.30.0.9", IPPROTO_GRE, 0, NULL).rule_name, "rest");
	CHECK_INT(look(p, "10.20.1.5", "10.30.0.9", IPPROTO_GRE, 0, NULL).action, ACT_REJECT);
	CHECK_STR(look(p, "10.30.0.9", "10.20.1.5", IPPROTO_TCP, 443, NULL).rule_name, "default");
	CHECK_INT(look(p, "10.30.0.9", "10.20.1.5", IPPROTO_TCP, 443, NULL).rule, -1);
	policy_unref(p);
}

static void
test_match_addresses_v6(void)
{
	struct policy *p = load_text(ZONES3 "rules = (\n"
	    "{ name = \"v6-pair\"; from = \"lgwan\"; to = \"mynumber\"; src = [ \"fd00:20::/64\" ]; dst = [ \"fd00:10::5\" ]; action = \"reject\"; },\n"
	    "{ name = \"to-host\"; from = \"mynumber\"; to = \"lgwan\"; dst = [ \"inter\" ]; proto = \"tcp\"; dport = [ 443 ]; action = \"accept\"; } );");

	CHECK(p != NULL);
	if (p == NULL) {
		dump_diags();
		return;
	}
	CHECK_STR(look(p, "fd00:20::1", "fd00:10::5", IPPROTO_TCP, 1, NULL).rule_name, "v6-pair");
	CHECK_STR(look(p, "fd00:20:0:1::1", "fd00:10::5", IPPROTO_TCP, 1, NULL).rule_name, "default");
	CHECK_STR(look(p, "fd00:20::1", "fd00:10::6", IPPROTO_TCP, 1, NULL).rule_name, "default");
	CHECK_STR(look(p, "10.10.1.5", "10.20.5.10", IPPROTO_TCP, 443, NULL).rule_name, "to-host");
	CHECK_STR(look(p, "10.10.1.5", "10.20.5.11", IPPROTO_TCP, 443, NULL).rule_name, "default");
	policy_unref(p);
}

static void
test_app_semantics(void)
{
	struct policy *p = load_text(ZONES3 "defaults = { unknown_app = \"reject\"; };\nrules = (\n"
	    "{ name = \"tls\"; from = \"lgwan\"; to = \"dmz\"; proto = \"tcp\"; dport = [ 443 ]; app = [ \"TLS\" ]; action = \"accept\"; },\n"
	    "{ name = \"odd\"; from = \"lgwan\"; to = \"dmz\"; proto = \"tcp\"; dport = [ 443 ]; app = [ \"Unknown\" ]; action = \"drop\"; log = false; },\n"
	    "{ name = \"ssh\"; from = \"lgwan\"; to = \"dmz\"; proto = \"tcp\"; dport = [ 22 ]; app = [ \"SSH\" ]; action = \"accept\"; },\n"
	    "{ name = \"plain\"; from = \"lgwan\"; to = \"dmz\"; proto = \"tcp\"; dport = [ 80 ]; action = \"accept\"; },\n"
	    "{ name = \"google\"; from = \"lgwan\"; to = \"dmz\"; proto = \"tcp\"; dport = [ 8443 ]; app = [ \"Google\" ]; action = \"accept\"; } );");
	struct policy_verdict v;

	CHECK(p != NULL);
	if (p == NULL) {
		dump_diags();
		return;
	}
	v = look(p, "10.20.1.5", "10.30.0.9", IPPROTO_TCP, 443, APP_PENDING);
	CHECK(!v.final);
	CHECK_INT(v.action, ACT_ACCEPT);
	CHECK_STR(v.rule_name, "tls");
	CHECK(strstr(v.reason, "waiting for application") != NULL);
	v = look(p, "10.20.1.5", "10.30.0.9", IPPROTO_TCP, 443, "tls");
	CHECK(v.final);
	CHECK_STR(v.rule_name, "tls");
	v = look(p, "10.20.1.5", "10.30.0.9", IPPROTO_TCP, 443, "Unknown");
	CHECK_STR(v.rule_name, "odd");
	CHECK_INT(v.action, ACT_DROP);
	CHECK(!v.log);
	v = look(p, "10.20.1.5", "10.30.0.9", IPPROTO_TCP, 443, "HTTP");
	CHECK_STR(v.rule_name, "default");
	v = look(p, "10.20.1.5", "10.30.0.9", IPPROTO_TCP, 22, APP_UNKNOWN);
	CHECK_STR(v.rule_name, "unknown-app");
	CHECK_INT(v.action, ACT_REJECT);
	v = look(p, "10.20.1.5", "10.30.0.9", IPPROTO_TCP, 80, APP_PENDING);
	CHECK(v.final);
	CHECK_STR(v.rule_name, "plain");
	v = look(p, "10.20.1.5", "10.30.0.9", IPPROTO_TCP, 80, APP_UNKNOWN);
	CHECK_STR(v.rule_name, "plain");
	v = look(p, "10.20.1.5", "10.30.0.9", IPPROTO_TCP, 8443, "TLS.Google");
	CHECK_STR(v.rule_name, "google");
	v = look(p, "10.20.1.5", "10.30.0.9", IPPROTO_TCP, 8443, "TLS.YouTube");
	CHECK_STR(v.rule_name, "default");
	v = look(p, "10.20.1.5", "10.30.0.9", IPPROTO_TCP, 9999, APP_UNKNOWN);
	CHECK_STR(v.rule_name, "default");   /* no app rule was skipped: plain default */
	policy_unref(p);
}

static void
test_runtime_invariant(void)
{
	struct policy *p = load_text(ZONES3 "defaults = { action = \"accept\"; };");
	struct policy_verdict v;

	CHECK(p != NULL);
	if (p == NULL) {
		dump_diags();
		return;
	}
	v = look(p, "10.10.1.5", "198.51.100.10", IPPROTO_TCP, 443, "TLS");
	CHECK_INT(v.action, ACT_DROP);
	CHECK_STR(v.rule_name, "invariant:mynumber-internet");
	CHECK(v.final);
	v = look(p, "2001:db8::1", "fd00:10::5", IPPROTO_UDP, 53, APP_PENDING);
	CHECK_STR(v.rule_name, "invariant:mynumber-internet");
	v = look(p, "10.20.1.5", "198.51.100.10", IPPROTO_TCP, 443, APP_PENDING);
	CHECK_INT(v.action, ACT_ACCEPT);
	CHECK_STR(v.rule_name, "default");
	policy_unref(p);
}

/* ---- invariants ------------------------------------------------------------------------ */

struct inv_case {
	const char *rules;
	const char *error;   /* NULL: must load */
};

static void
test_invariants(void)
{
	static const struct inv_case cases[] = {
		{ "{ name = \"x\"; from = \"mynumber\"; to = \"internet\"; proto = \"tcp\"; dport = [ 443 ]; action = \"accept\"; }",
		  "rule 'x' accepts mynumber → internet" },
		{ "{ name = \"x\"; from = \"internet\"; to = \"mynumber\"; action = \"accept\"; }",
		  "rule 'x' accepts internet → mynumber" },
		{ "{ name = \"x\"; from = \"any\"; to = \"internet\"; proto = \"tcp\"; dport = [ 443 ]; action = \"accept\"; }",
		  "accepts mynumber → internet: the two never connect (三層分離) (through \"any\")" },
		{ "{ name = \"x\"; from = \"any\"; to = \"internet\"; src = [ \"10.30.0.0/24\" ]; proto = \"tcp\"; dport = [ 443 ]; action = \"accept\"; }",
		  NULL },
		{ "{ name = \"x\"; from = \"mynumber\"; to = \"internet\"; action = \"drop\"; }", NULL },
		{ "{ name = \"x\"; from = \"mynumber\"; to = \"lgwan\"; dst = [ \"inter\" ]; proto = \"tcp\"; dport = [ 25 ]; action = \"accept\"; }",
		  "accepts a general-purpose protocol in mynumber (port 25 (SMTP))" },
		{ "{ name = \"x\"; from = \"mynumber\"; to = \"lgwan\"; dst = [ \"inter\" ]; app = [ \"HTTP\" ]; proto = \"tcp\"; action = \"accept\"; }",
		  "general-purpose protocol in mynumber (application HTTP)" },
		{ "{ name = \"x\"; from = \"lgwan\"; to = \"mynumber\"; proto = \"tcp\"; action = \"accept\"; }",
		  "general-purpose protocol in mynumber (every port" },
		{ "{ name = \"x\"; from = \"mynumber\"; to = \"lgwan\"; dst = [ \"inter\" ]; proto = \"tcp\"; dport = [ 80 ]; action = \"accept\"; exception = { reason = \"vendor maintenance portal\"; approved_by = \"CISO Tanaka\"; until = \"2099-03-31\"; }; }",
		  NULL },
		{ "{ name = \"x\"; from = \"mynumber\"; to = \"lgwan\"; dst = [ \"inter\" ]; proto = \"tcp\"; dport = [ 80 ]; action = \"accept\"; exception = \"reason only\"; }",
		  "rule 'x': exception must be a group" },
		{ "{ name = \"x\"; from = \"mynumber\"; to = \"lgwan\"; dst = [ \"inter\" ]; proto = \"tcp\"; dport = [ 80 ]; action = \"accept\"; exception = { reason = \"r\"; until = \"2099-03-31\"; }; }",
		  "rule 'x': the exception needs 'approved_by'" },
		{ "{ name = \"x\"; from = \"mynumber\"; to = \"lgwan\"; dst = [ \"inter\" ]; proto = \"tcp\"; dport = [ 80 ]; action = \"accept\"; exception = { reason = \"r\"; approved_by = \"a\"; until = \"2020-01-31\"; }; }",
		  "rule 'x': the exception expired on 2020-01-31 (approved by a)" },
		{ "{ name = \"x\"; from = \"mynumber\"; to = \"lgwan\"; dst = [ \"inter\" ]; proto = \"tcp\"; dport = [ 80 ]; action = \"accept\"; exception = { reason = \"r\"; approved_by = \"a\"; until = \"2099-02-30\"; }; }",
		  "exception until \"2099-02-30\" is not a date" },
		{ "{ name = \"x\"; from = \"mynumber\"; to = \"lgwan\"; dst = [ \"10.20.5.0/24\" ]; proto = \"tcp\"; dport = [ 443 ]; action = \"accept\"; }",
		  "accepts mynumber → lgwan to a bare network" },
		{ "{ name = \"x\"; from = \"mynumber\"; to = \"lgwan\"; proto = \"tcp\"; dport = [ 443 ]; action = \"accept\"; }",
		  "accepts mynumber → lgwan to any address" },
		{ "{ name = \"x\"; from = \"internet\"; to = \"lgwan\"; dst = [ \"inter\" ]; proto = \"tcp\"; dport = [ 443 ]; action = \"accept\"; }",
		  "rule 'x' accepts internet → lgwan (α) to host 'inter'; only hosts with role sanitizer or bridge" },
		{ "{ name = \"x\"; from = \"lgwan\"; to = \"internet\"; proto = \"tcp\"; dport = [ 443 ]; action = \"accept\"; }",
		  "accepts lgwan → internet (α) to any address" },
		{ "{ name = \"x\"; from = \"internet\"; to = \"dmz\"; dst = [ \"san\" ]; proto = \"tcp\"; dport = [ 25 ]; action = \"accept\"; }",
		  NULL },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char text[4096];
		struct policy *p;
		snprintf(text, sizeof text, ZONES3 "rules = ( %s );", cases[i].rules);
		p = load_text(text);
		if (cases[i].error == NULL) {
			CHECK(p != NULL);
		} else {
			CHECK(p == NULL);
			CHECK(has_diag(DIAG_ERROR, cases[i].error));
		}
		if ((cases[i].error == NULL) != (p != NULL) ||
		    (cases[i].error && !has_diag(DIAG_ERROR, cases[i].error))) {
			printf("  case %zu:\n", i);
			dump_diags();
		}
		policy_unref(p);
	}
}

static void
test_invariant_beta(void)
{
	const char *base = "model = \"beta\";\n"
	    "zones = ( { name = \"mynumber\"; networks = [ \"10.10.0.0/16\" ]; },\n"
	    "  { name = \"lgwan\"; networks = [ \"10.20.0.0/16\" ]; },\n"
	    "  { name = \"internet\"; networks = [ \"0.0.0.0/0\" ]; } );\n"
	    "hosts = ( { name = \"vdi\"; address = \"10.20.3.0/28\"; roles = [ \"screen-transfer\" ]; },\n"
	    "  { name = \"gw\"; address = \"10.20.2.10\"; roles = [ \"groupware\" ]; } );\n";
	char text[2048];
	struct policy *p;

	snprintf(text, sizeof text, "%srules = ( { name = \"rdp\"; from = \"internet\"; to = \"lgwan\"; "
	    "dst = [ \"vdi\" ]; proto = \"tcp\"; dport = [ 3389 ]; app = [ \"RDP\" ]; action = \"accept\"; } );", base);
	p = load_text(text);
	CHECK(p != NULL);
	policy_unref(p);
	/* anything but a screen protocol onto the VDI is a path into LGWAN with no hop */
	snprintf(text, sizeof text, "%srules = ( { name = \"rdp\"; from = \"internet\"; to = \"lgwan\"; "
	    "dst = [ \"vdi\" ]; proto = \"tcp\"; dport = [ 3389 ]; action = \"accept\"; } );", base);
	p = load_text(text);
	CHECK(p == NULL);
	CHECK(has_diag(DIAG_ERROR, "path internet ⇝ lgwan with no sanitizer or screen-transfer hop: rule 'rdp'"));
	policy_unref(p);
	snprintf(text, sizeof text, "%srules = ( { name = \"gw\"; from = \"internet\"; to = \"lgwan\"; "
	    "dst = [ \"gw\" ]; proto = \"tcp\"; dport = [ 443 ]; action = \"accept\"; } );", base);
	p = load_text(text);
	CHECK(p == NULL);
	CHECK(has_diag(DIAG_ERROR, "accepts internet → lgwan (β) to host 'gw'; only hosts with role screen-transfer, sanitizer or bridge"));
	policy_unref(p);
}

static void
test_mynumber_role_warning(void)
{
	struct policy *p = load_text(ZONES3 "rules = ( { name = \"m\"; from = \"mynumber\"; to = \"dmz\"; "
	    "dst = [ \"web\" ]; proto = \"tcp\"; dport = [ 443 ]; action = \"accept\"; } );");

	CHECK(p != NULL);
	CHECK(has_diag(DIAG_WARNING, "rule 'm' accepts mynumber traffic to host 'web'"));
	policy_unref(p);
}

/* ---- the index against the plain scan ------------------------------------------------------ */

static bool
same_verdict(const struct policy_verdict *a, const struct policy_verdict *b)
{
	return a->action == b->action && a->final == b->final && a->rule == b->rule &&
	    strcmp(a->rule_name, b->rule_name) == 0 && a->src_zone == b->src_zone &&
	    a->dst_zone == b->dst_zone && a->log == b->log;
}

static void
random_addr(const struct policy *p, struct addr *out, bool v4, uint64_t *rs)
{
	const struct prefix *net = NULL;

	for (int tries = 0; tries < 20 && net == NULL; tries++) {
		if (p->nrules && gen_rand(rs) % 2) {
			const struct prule *r = &p->rules[gen_rand(rs) % (unsigned)p->nrules];
			const struct paddr *side = gen_rand(rs) % 2 ? r->src : r->dst;
			int n = side == r->src ? r->nsrc : r->ndst;
			if (n)
				net = &side[gen_rand(rs) % (unsigned)n].net;
		} else {
			const struct pzone *z = &p->zones[gen_rand(rs) % (unsigned)p->nzones];
			if (z->nnets)
				net = &z->nets[gen_rand(rs) % (unsigned)z->nnets];
		}
		if (net && addr_is_v4(&net->addr) != v4)
			net = NULL;
	}
	memset(out, 0, sizeof *out);
	if (net)
		*out = net->addr;
	else if (v4)
		out->b[10] = out->b[11] = 0xff;
	for (unsigned i = net ? net->len : v4 ? 96 : 0; i < 128; i++)
		if (gen_rand(rs) % 4 == 0)   /* mostly low host bits: stays near network edges */
			out->b[i / 8] |= (uint8_t)(0x80u >> (i % 8));
}

static uint16_t
random_port(const struct policy *p, uint64_t *rs)
{
	const struct prule *r;

	if (p->nrules == 0 || gen_rand(rs) % 3 == 0)
		return (uint16_t)gen_rand(rs);
	r = &p->rules[gen_rand(rs) % (unsigned)p->nrules];
	if (r->nports == 0)
		return (uint16_t)gen_rand(rs);
	return gen_rand(rs) % 2 ? r->ports[0].lo : r->ports[r->nports - 1].hi + (gen_rand(rs) % 2);
}

/* Returns how many flows disagreed (0 expected). */
static int
cross_check(const struct policy *p, int flows, uint64_t seed)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_GRE };
	static const char *const extra_apps[] = { APP_PENDING, APP_UNKNOWN, "NoSuchApp", "tls", "TLS.Google" };
	uint64_t rs = seed;
	int bad = 0;

	for (int i = 0; i < flows; i++) {
		struct policy_flow f;
		struct policy_verdict a, b;
		bool v4 = gen_rand(&rs) % 3 != 0;
		const char *app = gen_rand(&rs) % 2 || p->napps == 0 ?
		    extra_apps[gen_rand(&rs) % ARRAY_LEN(extra_apps)] : p->apps[gen_rand(&rs) % (unsigned)p->napps];
		memset(&f, 0, sizeof f);
		random_addr(p, &f.src, v4, &rs);
		random_addr(p, &f.dst, v4, &rs);
		f.proto = protos[gen_rand(&rs) % ARRAY_LEN(protos)];
		f.dport = random_port(p, &rs);
		policy_lookup(p, &f, app, &a);
		policy_lookup_linear(p, &f, app, &b);
		if (!same_verdict(&a, &b) && bad++ < 3)
			printf("  flow %d app %s: index %s/%s, scan %s/%s\n", i, app ? app : "(pending)",
			    a.rule_name, policy_action_name(a.action), b.rule_name, policy_action_name(b.action));
	}
	return bad;
}

static void
test_cross_check_presets(void)
{
	const char *files[] = { "conf/alpha.conf", "conf/beta.conf", "conf/beta-prime.conf" };

	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		struct policy *p = load_file(files[i]);
		CHECK(p != NULL);
		if (p)
			CHECK_INT(cross_check(p, 20000, 7 + i), 0);
		policy_unref(p);
	}
}

static void
test_cross_check_generated(void)
{
	static const int sizes[] = { 10, 200, 1000 };

	for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
		char *text = gen_policy_text(sizes[i], 42 + i);
		struct policy *p = load_text(text);
		CHECK(p != NULL);
		if (p == NULL)
			dump_diags();
		else
			CHECK_INT(cross_check(p, 20000, 99 + i), 0);
		CHECK(p == NULL || policy_rule_count(p) == sizes[i] + 1);
		policy_unref(p);
		free(text);
	}
}

/* ---- sharing --------------------------------------------------------------------------------- */

struct thread_arg {
	const struct policy *p;
	int disagreements;
};

static void *
thread_lookups(void *argp)
{
	struct thread_arg *arg = argp;

	arg->disagreements = cross_check(arg->p, 5000, 1234);
	return NULL;
}

static void
test_threads_and_refs(void)
{
	struct policy *p = load_file("conf/alpha.conf");
	struct thread_arg args[2];
	pthread_t threads[2];

	CHECK(p != NULL);
	if (p == NULL)
		return;
	CHECK(policy_ref(p) == p);
	for (int i = 0; i < 2; i++) {
		args[i].p = p;
		pthread_create(&threads[i], NULL, thread_lookups, &args[i]);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(threads[i], NULL);
		CHECK_INT(args[i].disagreements, 0);
	}
	policy_unref(p);
	CHECK_STR(policy_rule_name(p, 1), "mynumber-dns");   /* still held once */
	policy_unref(p);
}

int
main(void)
{
	diags_init(&test_diags, "test.conf");
	UNIT_RUN(test_alpha_loads);
	UNIT_RUN(test_presets_load);
	UNIT_RUN(test_parse_errors);
	UNIT_RUN(test_duplicates);
	UNIT_RUN(test_warnings);
	UNIT_RUN(test_strict_schema);
	UNIT_RUN(test_zone_most_specific);
	UNIT_RUN(test_zone_interfaces);
	UNIT_RUN(test_match_ports_ranges);
	UNIT_RUN(test_match_addresses_v6);
	UNIT_RUN(test_app_semantics);
	UNIT_RUN(test_runtime_invariant);
	UNIT_RUN(test_invariants);
	UNIT_RUN(test_invariant_beta);
	UNIT_RUN(test_mynumber_role_warning);
	UNIT_RUN(test_cross_check_presets);
	UNIT_RUN(test_cross_check_generated);
	UNIT_RUN(test_threads_and_refs);
	diags_free(&test_diags);
	UNIT_EXIT();
}

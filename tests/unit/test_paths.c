/* test_paths.c -- unit tests of the whole-path checks (paths.c, cross-checked by brute force), ASPs, cloud, grants, exceptions. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "policy/internal.h"
#include "policy/tool.h"
#include "tests/lib/unit.h"

static struct diags test_diags;

static struct policy *
load_text(const char *text)
{
	diags_free(&test_diags);
	diags_init(&test_diags, "test.conf");
	return policy_load_string(text, "test.conf", &test_diags);
}

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

#define SITE "model = \"beta\";\n" \
	"zones = ( { name = \"mynumber\"; networks = [ \"10.10.0.0/16\" ]; },\n" \
	"  { name = \"lgwan\"; networks = [ \"10.20.0.0/16\" ]; },\n" \
	"  { name = \"dmz\"; networks = [ \"10.30.0.0/24\" ]; },\n" \
	"  { name = \"internet\"; networks = [ \"0.0.0.0/0\" ]; } );\n" \
	"hosts = ( { name = \"inter\"; address = \"10.20.5.10\"; roles = [ \"intermediate-server\" ]; },\n" \
	"  { name = \"st\"; address = \"10.30.0.30\"; roles = [ \"screen-transfer\" ]; },\n" \
	"  { name = \"san\"; address = \"10.30.0.10\"; roles = [ \"sanitizer\" ]; },\n" \
	"  { name = \"bridge\"; address = \"10.30.0.20\"; roles = [ \"bridge\" ]; },\n" \
	"  { name = \"vdi\"; address = \"10.20.3.0/28\"; roles = [ \"screen-transfer\" ]; },\n" \
	"  { name = \"mail\"; address = \"10.20.0.25\"; roles = [ \"mail\" ]; } );\n"

struct path_case {
	const char *rules;
	const char *error;   /* NULL: loads */
};

/* The holes issue 21 found, and the doors that must stay open. */
static void
test_path_cases(void)
{
	static const struct path_case cases[] = {
		/* mynumber to the screen-transfer server, which browses the internet */
		{ "{ name = \"my-st\"; from = \"mynumber\"; to = \"dmz\"; dst = [ \"st\" ]; proto = \"tcp\"; dport = 3389; app = \"RDP\"; action = \"accept\"; },"
		  "{ name = \"st-web\"; from = \"dmz\"; to = \"internet\"; src = [ \"st\" ]; proto = \"tcp\"; dport = 443; app = \"TLS\"; action = \"accept\"; }",
		  "path mynumber ⇝ internet: rule 'my-st' (test.conf:12) → host 'st' (screen-transfer) → rule 'st-web' (test.conf:12) → internet" },
		/* the reverse: the internet reaches a relay that reaches mynumber */
		{ "{ name = \"in\"; from = \"internet\"; to = \"dmz\"; dst = [ \"san\" ]; proto = \"tcp\"; dport = 25; app = \"SMTP\"; action = \"accept\"; },"
		  "{ name = \"out\"; from = \"dmz\"; to = \"mynumber\"; src = [ \"san\" ]; proto = \"tcp\"; dport = 25; app = \"SMTP\"; action = \"accept\"; exception = { reason = \"r\"; approved_by = \"a\"; until = \"2099-01-01\"; }; }",
		  "path internet ⇝ mynumber: rule 'in'" },
		/* internet -> dmz anything, dmz -> lgwan anything */
		{ "{ name = \"in-any\"; from = \"internet\"; to = \"dmz\"; action = \"accept\"; },"
		  "{ name = \"dmz-any\"; from = \"dmz\"; to = \"lgwan\"; dst = [ \"vdi\" ]; action = \"accept\"; }",
		  "relay host 'san' accepts any service in (rule 'in-any'" },
		/* β: lgwan -> internet straight out */
		{ "{ name = \"out\"; from = \"lgwan\"; to = \"internet\"; proto = \"tcp\"; dport = 443; app = \"TLS\"; action = \"accept\"; }",
		  "path lgwan ⇝ internet with no sanitizer or screen-transfer hop: rule 'out' (test.conf:12) → internet" },
		/* through the bridge onto a non-screen host */
		{ "{ name = \"tw\"; from = \"internet\"; to = \"dmz\"; dst = [ \"bridge\" ]; proto = \"tcp\"; dport = 8443; action = \"accept\"; },"
		  "{ name = \"tw-in\"; from = \"dmz\"; to = \"lgwan\"; src = [ \"bridge\" ]; dst = [ \"mail\" ]; proto = \"tcp\"; dport = 3389; app = \"RDP\"; action = \"accept\"; }",
		  "path internet ⇝ lgwan with no sanitizer or screen-transfer hop: rule 'tw' (test.conf:12) → host 'bridge' (bridge) → rule 'tw-in'" },
		/* the same onto the VDI as RDP: the door the guideline wants */
		{ "{ name = \"tw\"; from = \"internet\"; to = \"dmz\"; dst = [ \"bridge\" ]; proto = \"tcp\"; dport = 8443; action = \"accept\"; },"
		  "{ name = \"tw-in\"; from = \"dmz\"; to = \"lgwan\"; src = [ \"bridge\" ]; dst = [ \"vdi\" ]; proto = \"tcp\"; dport = 3389; app = \"RDP\"; action = \"accept\"; }",
		  NULL },
		/* the bridge does not pass SSH: the chain stops there */
		{ "{ name = \"tw\"; from = \"internet\"; to = \"dmz\"; dst = [ \"bridge\" ]; proto = \"tcp\"; dport = 22; app = \"SSH\"; action = \"accept\"; },"
		  "{ name = \"tw-in\"; from = \"dmz\"; to = \"lgwan\"; src = [ \"bridge\" ]; dst = [ \"mail\" ]; proto = \"tcp\"; dport = 22; app = \"SSH\"; action = \"accept\"; }",
		  NULL },
		/* mail through the sanitizer both ways */
		{ "{ name = \"in\"; from = \"internet\"; to = \"dmz\"; dst = [ \"san\" ]; proto = \"tcp\"; dport = 25; app = \"SMTP\"; action = \"accept\"; },"
		  "{ name = \"in2\"; from = \"dmz\"; to = \"lgwan\"; src = [ \"san\" ]; dst = [ \"mail\" ]; proto = \"tcp\"; dport = 25; app = \"SMTP\"; action = \"accept\"; },"
		  "{ name = \"out\"; from = \"lgwan\"; to = \"dmz\"; src = [ \"mail\" ]; dst = [ \"san\" ]; proto = \"tcp\"; dport = 25; app = \"SMTP\"; action = \"accept\"; },"
		  "{ name = \"out2\"; from = \"dmz\"; to = \"internet\"; src = [ \"san\" ]; proto = \"tcp\"; dport = 25; app = \"SMTP\"; action = \"accept\"; }",
		  NULL },
		/* a drop never opens a path */
		{ "{ name = \"out\"; from = \"lgwan\"; to = \"internet\"; action = \"drop\"; }", NULL },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char text[8192];
		struct policy *p;
		snprintf(text, sizeof text, SITE "rules = ( %s );\n", cases[i].rules);
		p = load_text(text);
		bool ok = cases[i].error == NULL ? p != NULL : p == NULL && has_diag(DIAG_ERROR, cases[i].error);
		CHECK(ok);
		if (!ok) {
			printf("  case %zu:\n", i);
			dump_diags();
		}
		policy_unref(p);
	}
}

/* ---- brute force: concrete addresses and applications, against paths_find ---------- */

static const char *const bf_apps[] = { "TLS", "RDP", "SMTP", "HTTP", "SSH", "DNS", "VNC", "SMTPS",
	"HTTP_Proxy", NULL };
#define BF_NAPPS 9
#define BF_NCLASSES (1 + 2 * (BF_NAPPS + 1))   /* ICMP, then tcp and udp x (each app, other) */
#define BF_MAXADDR 24

struct bf_site {
	struct policy *p;
	struct addr addr[BF_MAXADDR];
	int host[BF_MAXADDR];     /* host index or -1 */
	int zone[BF_MAXADDR];
	int naddr;
};

/* class c: proto (0 icmp, 1 tcp, 2 udp) and app (NULL: none/other). */
static void
bf_class(int c, int *proto, const char **app)
{
	*proto = c == 0 ? 0 : 1 + (c - 1) / (BF_NAPPS + 1);
	*app = c == 0 ? NULL : bf_apps[(c - 1) % (BF_NAPPS + 1)];   /* index BF_NAPPS is NULL: "other" */
}

static bool
bf_carries(const struct policy *p, const struct prule *r, int c)
{
	int proto;
	const char *app;

	bf_class(c, &proto, &app);
	if (!(r->proto == RP_ANY || (r->proto == RP_ICMP && proto == 0) || (r->proto == RP_TCP && proto == 1) ||
	    (r->proto == RP_UDP && proto == 2)))
		return false;
	if (r->napps == 0)
		return true;
	if (proto == 0 || app == NULL)
		return false;
	for (int i = 0; i < r->napps; i++)
		if (strcasecmp(p->apps[r->apps[i]], app) == 0)
			return true;
	return false;
}

static bool
bf_in_list(const char *const *list, int c)
{
	int proto;
	const char *app;

	bf_class(c, &proto, &app);
	if (proto == 0)
		return false;   /* ICMP carries nothing a relay passes on */
	if (list == NULL)
		return true;
	for (int k = 0; list[k]; k++)
		if (app && strcasecmp(list[k], app) == 0)
			return true;
	return false;
}

static bool
bf_side(const struct prule *r, bool src_side, const struct bf_site *s, int a)
{
	int ref = src_side ? r->from : r->to;
	const struct paddr *v = src_side ? r->src : r->dst;
	int n = src_side ? r->nsrc : r->ndst;

	if (ref != ZONE_ANY && ref != s->zone[a])
		return false;
	if (n == 0)
		return true;
	for (int i = 0; i < n; i++)
		if (prefix_contains(&v[i].net, &s->addr[a]))
			return true;
	return false;
}

/* Every class r carries is consumed by a cleaning role of every address of zone B it reaches. */
static bool
bf_clean_arrival(const struct bf_site *s, const struct prule *r, int zone)
{
	for (int b = 0; b < s->naddr; b++) {
		bool ok = false;
		if (s->zone[b] != zone || !bf_side(r, false, s, b))
			continue;
		for (int k = 0; k < PATHS_NROLES && !ok && s->host[b] >= 0; k++) {
			if (!paths_roles[k].cleans || !paths_host_has_role(&s->p->hosts[s->host[b]], k))
				continue;
			ok = true;
			for (int c = 0; c < BF_NCLASSES; c++)
				if (bf_carries(s->p, r, c) && !bf_in_list(paths_roles[k].in, c))
					ok = false;
		}
		if (!ok)
			return false;
	}
	return true;
}

struct bf_walk {
	const struct bf_site *s;
	int to;
	bool *seen;        /* (addr, role, clean) */
	int *queue;
	int nq;
	bool *ends;        /* (rule, clean) */
};

/* Rule ri taken from address a with the path clean or not. */
static void
bf_take(struct bf_walk *w, int a, int ri, const bool *classes, bool clean)
{
	const struct bf_site *s = w->s;
	const struct prule *r = &s->p->rules[ri];
	bool reaches_to = false;

	for (int b = 0; b < s->naddr; b++) {
		if (!bf_side(r, false, s, b))
			continue;
		reaches_to |= s->zone[b] == w->to;
		for (int k = 0; k < PATHS_NROLES && s->host[b] >= 0; k++) {
			int slot = (b * PATHS_NROLES + k) * 2 + clean;
			bool in = false;
			if (!paths_host_has_role(&s->p->hosts[s->host[b]], k))
				continue;
			for (int c = 0; c < BF_NCLASSES; c++)
				in |= classes[c] && bf_in_list(paths_roles[k].in, c);
			if (in && !w->seen[slot]) {
				w->seen[slot] = true;
				w->queue[w->nq++] = slot;
			}
		}
	}
	(void)a;
	if (reaches_to)
		w->ends[ri * 2 + (clean || bf_clean_arrival(s, r, w->to))] = true;
}

static void
bf_from(struct bf_walk *w, int a, const char *const *out, bool clean)
{
	const struct bf_site *s = w->s;

	for (int ri = 0; ri < s->p->nrules; ri++) {
		const struct prule *r = &s->p->rules[ri];
		bool classes[BF_NCLASSES], any = false;
		if (r->action != ACT_ACCEPT || !bf_side(r, true, s, a))
			continue;
		for (int c = 0; c < BF_NCLASSES; c++) {
			classes[c] = bf_carries(s->p, r, c) && (out == (const char *const *)-1 || bf_in_list(out, c));
			any |= classes[c];
		}
		if (any)
			bf_take(w, a, ri, classes, clean);
	}
}

static void
bf_search(const struct bf_site *s, int from, int to, bool *ends)
{
	size_t nslots = (size_t)s->naddr * PATHS_NROLES * 2;
	struct bf_walk w = { s, to, xcalloc(nslots, sizeof(bool)), xcalloc(nslots, sizeof(int)), 0, ends };

	for (int a = 0; a < s->naddr; a++)
		if (s->zone[a] == from)
			bf_from(&w, a, (const char *const *)-1, false);
	for (int q = 0; q < w.nq; q++) {
		int slot = w.queue[q], clean = slot % 2, k = (slot / 2) % PATHS_NROLES, a = slot / 2 / PATHS_NROLES;
		bf_from(&w, a, paths_roles[k].out, clean || paths_roles[k].cleans);
	}
	free(w.seen);
	free(w.queue);
}

static void
bf_collect(const struct policy *p, const struct paths_chain *c, void *arg)
{
	bool *ends = arg;

	(void)p;
	ends[c->rules[c->nrules - 1] * 2 + c->clean] = true;
}

static const char *const bf_zone_names[] = { "mynumber", "lgwan", "dmz", "asp", "internet" };
static const char *const bf_zone_v4[] = { "10.10", "10.20", "10.30", "10.40", NULL };
static const char *const bf_roles[] = { "sanitizer", "screen-transfer", "bridge", "proxy",
	"security-cloud", "staff" };

static void
bf_put(char **buf, size_t *len, size_t *cap, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
bf_put(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= *cap - *len)
		abort();
	*len += (size_t)n;
}

static void
bf_addr_text(int zone, int i, char *out, size_t size)
{
	if (bf_zone_v4[zone])
		snprintf(out, size, "%s.0.%d", bf_zone_v4[zone], i);
	else
		snprintf(out, size, "198.51.100.%d", i);
}

/* An address of the site for a rule side: a host's name or an unnamed address (i = 99) of the zone. */
static void
bf_pick_addr(uint64_t *rs, int nhosts, const int *hzone, int zone, char *out, size_t size)
{
	int h = (int)(gen_rand(rs) % (unsigned)(nhosts + 1));

	if (h < nhosts && (zone < 0 || hzone[h] == zone || gen_rand(rs) % 4 == 0))
		snprintf(out, size, "\"h%d\"", h);
	else {
		char a[32];
		bf_addr_text(zone >= 0 ? zone : (int)(gen_rand(rs) % 5), 99, a, sizeof a);
		snprintf(out, size, "\"%s\"", a);
	}
}

static char *
bf_site_text(uint64_t *rs, int *hzone_out, int *nhosts_out)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = xmalloc(cap), a[64];
	int nhosts = 3 + (int)(gen_rand(rs) % 6), nrules = 2 + (int)(gen_rand(rs) % 18);

	bf_put(&buf, &len, &cap, "model = \"beta\";\nzones = ( { name = \"mynumber\"; networks = [ \"10.10.0.0/16\" ]; },\n"
	    "{ name = \"lgwan\"; networks = [ \"10.20.0.0/16\" ]; }, { name = \"dmz\"; networks = [ \"10.30.0.0/16\" ]; },\n"
	    "{ name = \"asp\"; networks = [ \"10.40.0.0/16\" ]; }, { name = \"internet\"; networks = [ \"0.0.0.0/0\" ]; } );\nhosts = (\n");
	for (int h = 0; h < nhosts; h++) {
		hzone_out[h] = (int)(gen_rand(rs) % 5);
		bf_addr_text(hzone_out[h], h + 1, a, sizeof a);
		bf_put(&buf, &len, &cap, "{ name = \"h%d\"; address = \"%s\"; roles = [ \"other\"", h, a);
		for (size_t k = 0; k < ARRAY_LEN(bf_roles); k++)
			if (gen_rand(rs) % 3 == 0)
				bf_put(&buf, &len, &cap, ", \"%s\"", bf_roles[k]);
		bf_put(&buf, &len, &cap, " ]; }%s\n", h + 1 < nhosts ? "," : "");
	}
	bf_put(&buf, &len, &cap, ");\nrules = (\n");
	for (int i = 0; i < nrules; i++) {
		static const char *const protos[] = { "tcp", "tcp", "tcp", "udp", "icmp", "any" };
		int from = (int)(gen_rand(rs) % 6) - 1, to = (int)(gen_rand(rs) % 6) - 1;
		const char *proto = protos[gen_rand(rs) % ARRAY_LEN(protos)];
		bf_put(&buf, &len, &cap, "{ name = \"r%d\"; from = \"%s\"; to = \"%s\"; proto = \"%s\";", i,
		    from < 0 ? "any" : bf_zone_names[from], to < 0 ? "any" : bf_zone_names[to], proto);
		if (gen_rand(rs) % 2) {
			bf_pick_addr(rs, nhosts, hzone_out, from, a, sizeof a);
			bf_put(&buf, &len, &cap, " src = [ %s ];", a);
		}
		if (gen_rand(rs) % 3) {
			bf_pick_addr(rs, nhosts, hzone_out, to, a, sizeof a);
			bf_put(&buf, &len, &cap, " dst = [ %s ];", a);
		}
		if (strcmp(proto, "icmp") != 0 && gen_rand(rs) % 5 < 3) {
			bf_put(&buf, &len, &cap, " app = [ \"%s\"", bf_apps[gen_rand(rs) % BF_NAPPS]);
			if (gen_rand(rs) % 2 == 0)
				bf_put(&buf, &len, &cap, ", \"%s\"", bf_apps[gen_rand(rs) % BF_NAPPS]);
			bf_put(&buf, &len, &cap, " ];");
		}
		bf_put(&buf, &len, &cap, " action = \"%s\"; }%s\n", gen_rand(rs) % 8 ? "accept" : "drop",
		    i + 1 < nrules ? "," : "");
	}
	bf_put(&buf, &len, &cap, ");\n");
	*nhosts_out = nhosts;
	return buf;
}

static bool
bf_site_build(struct bf_site *s, const char *text, const int *hzone, int nhosts)
{
	struct diags d;
	config_t cfg;
	char a[32];

	diags_init(&d, "gen");
	config_init(&cfg);
	s->p = conf_load_string(&cfg, text, NULL, &d) == 0 ? policy_parse(&cfg, "gen", &d) : NULL;
	config_destroy(&cfg);
	if (s->p == NULL || diags_count(&d, DIAG_ERROR) > 0) {
		diags_print(&d, stdout);
		diags_free(&d);
		return false;
	}
	diags_free(&d);
	zone_index_build(s->p);
	s->naddr = 0;
	for (int h = 0; h < nhosts; h++) {
		s->addr[s->naddr] = s->p->hosts[h].net.addr;
		s->host[s->naddr++] = h;
	}
	for (int z = 0; z < 5; z++) {
		bf_addr_text(z, 99, a, sizeof a);
		if (addr_parse(a, &s->addr[s->naddr]) < 0)
			abort();
		s->host[s->naddr++] = -1;
	}
	for (int i = 0; i < s->naddr; i++)
		s->zone[i] = policy_zone_of(s->p, &s->addr[i], NULL);
	(void)hzone;
	return true;
}

/* Hundreds of random sites: paths_find and the brute force find the same (rule, clean) path ends. */
static void
test_paths_brute_force(void)
{
	uint64_t rs = 0x5eed2021u;
	int sites = 0, with_paths = 0, mismatches = 0;

	for (int n = 0; n < 1000; n++) {
		int hzone[16], nhosts;
		char *text = bf_site_text(&rs, hzone, &nhosts);
		struct bf_site s;
		if (!bf_site_build(&s, text, hzone, nhosts)) {
			CHECK(!"generated site did not parse");
			free(text);
			continue;
		}
		sites++;
		for (int a = 0; a < 5; a++)
			for (int b = 0; b < 5; b++) {
				size_t nends = (size_t)s.p->nrules * 2 + 1;
				bool *sym = xcalloc(nends, 1), *brute = xcalloc(nends, 1);
				paths_find(s.p, a, b, bf_collect, sym);
				bf_search(&s, a, b, brute);
				with_paths += memchr(sym, 1, nends) != NULL;
				if (memcmp(sym, brute, nends) != 0 && mismatches++ < 3) {
					printf("  site %d, %s -> %s: paths_find and brute force differ\n%s\n", n,
					    bf_zone_names[a], bf_zone_names[b], text);
					for (size_t e = 0; e + 1 < nends; e++)
						if (sym[e] != brute[e])
							printf("    rule r%zu clean=%zu: paths_find %d, brute %d\n", e / 2,
							    e % 2, sym[e], brute[e]);
				}
				free(sym);
				free(brute);
			}
		policy_free(s.p);
		free(text);
	}
	CHECK_INT(mismatches, 0);
	CHECK(sites >= 1000);
	CHECK(with_paths > 5000);   /* the sites are not trivially empty */
	printf("  %d random sites, %d zone pairs with paths, %d mismatches\n", sites, with_paths, mismatches);
}

/* ---- the ASP state file, asp:passed ------------------------------------------------ */

static void
test_asp_state_lines(void)
{
	struct asp_result_line r;

	CHECK_INT(asp_state_parse_line("{\"service\":\"kintai\",\"passed\":true,\"reason\":\"\",\"days_left\":-1,"
	    "\"checked_at\":\"2026-12-04T10:00:00.000000+0000\",\"checked_at_epoch\":1796378400}", &r), 1);
	CHECK_STR(r.service, "kintai");
	CHECK(r.passed);
	CHECK_INT(r.checked_at, 1796378400);
	CHECK_INT(asp_state_parse_line("", &r), 0);
	CHECK_INT(asp_state_parse_line("{\"service\":\"k\",\"reason\":null,\"passed\":true,\"checked_at_epoch\":5}", &r), 1);
	CHECK_INT(asp_state_parse_line("{\"service\":\"k\",\"passed\":false,\"checked_at_epoch\":5}", &r), 1);
	CHECK(!r.passed);
	/* what the bridge never writes is refused: the gateway then counts no ASP as passed */
	CHECK_INT(asp_state_parse_line("{\"service\":\"k\",\"passed\":true}", &r), -1);
	CHECK_INT(asp_state_parse_line("{\"service\":\"k\",\"passed\":1,\"checked_at_epoch\":5}", &r), -1);   /* passed must be true or false */
	CHECK_INT(asp_state_parse_line("{\"service\":\"k\",\"passed\":true,\"checked_at_epoch\":5} ", &r), -1);
	CHECK_INT(asp_state_parse_line("{\"service\":\"k\",\"x\":{\"a\":1},\"passed\":true,\"checked_at_epoch\":5}", &r), -1);
	CHECK_INT(asp_state_parse_line("{\"service\":\"k\",\"passed\":true,\"checked_at_epoch\":-5}", &r), -1);
	CHECK_INT(asp_state_parse_line("{\"service\":\"k\",\"passed\":true,\"checked_at_epoch\":5,}", &r), -1);
	CHECK_INT(asp_state_parse_line("{\"service\":\"k\\q\",\"passed\":true,\"checked_at_epoch\":5}", &r), -1);
	CHECK_INT(asp_state_parse_line("{\"service\":\"\",\"passed\":true,\"checked_at_epoch\":5}", &r), -1);
}

static struct policy *
asp_site(const char *dir, const char *state, mode_t mode)
{
	char path[512], text[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/asp-state.json", dir);
	unlink(path);
	if (state) {
		f = fopen(path, "w");
		if (f == NULL)
			abort();
		fputs(state, f);
		fclose(f);
		chmod(path, mode);
	}
	snprintf(text, sizeof text, "model = \"beta\";\n"
	    "zones = ( { name = \"mynumber\"; networks = [ \"10.10.0.0/16\" ]; },\n"
	    "  { name = \"lgwan\"; networks = [ \"10.20.0.0/16\" ]; }, { name = \"asp\"; networks = [ \"10.40.0.0/16\" ]; },\n"
	    "  { name = \"internet\"; networks = [ \"0.0.0.0/0\" ]; } );\n"
	    "asp = { state_file = \"%s\"; max_result_age = 3600;\n"
	    "  services = ( { name = \"kintai\"; address = \"10.40.1.10\"; port = 443; },\n"
	    "               { name = \"zaimu\"; address = \"10.40.1.20\"; port = 443; } ); };\n"
	    "rules = ( { name = \"to-asp\"; from = \"lgwan\"; to = \"asp\"; dst = [ \"asp:passed\" ]; proto = \"tcp\"; "
	    "dport = [ 443 ]; action = \"accept\"; } );\n", path);
	return load_text(text);
}

static int
asp_verdict(const struct policy *p, const char *dst)
{
	struct policy_flow f;
	struct policy_verdict v;

	memset(&f, 0, sizeof f);
	if (addr_parse("10.20.1.5", &f.src) < 0 || addr_parse(dst, &f.dst) < 0)
		abort();
	f.proto = 6;
	f.dport = 443;
	policy_lookup(p, &f, APP_PENDING, &v);
	return v.rule;
}

static void
test_asp_passed(void)
{
	char dir[] = "/tmp/tg-test-asp.XXXXXX", state[512];
	long now = (long)time(NULL);
	struct policy *p;

	if (mkdtemp(dir) == NULL)
		abort();
	/* no state file: nothing checked, nothing reached; the file still loads */
	p = asp_site(dir, NULL, 0644);
	CHECK(p != NULL);
	CHECK_INT(asp_verdict(p, "10.40.1.10"), -1);
	CHECK_INT(policy_asp_stale(p, now), ASP_STALE_NO);
	policy_unref(p);
	/* kintai passed a minute ago, zaimu failed, an old pass of zaimu before that does not count */
	snprintf(state, sizeof state, "{\"service\":\"zaimu\",\"passed\":true,\"checked_at_epoch\":%ld}\n"
	    "{\"service\":\"kintai\",\"passed\":true,\"checked_at_epoch\":%ld}\n"
	    "{\"service\":\"zaimu\",\"passed\":false,\"checked_at_epoch\":%ld}\n", now - 120, now - 60, now - 30);
	p = asp_site(dir, state, 0644);
	CHECK(p != NULL);
	CHECK_INT(asp_verdict(p, "10.40.1.10"), 0);
	CHECK_INT(asp_verdict(p, "10.40.1.20"), -1);
	CHECK_INT(policy_asp_stale(p, now), ASP_STALE_NO);
	CHECK_INT(policy_asp_stale(p, now + 3600), ASP_STALE_EXPIRED);   /* kintai's pass runs out after max_result_age */
	policy_unref(p);
	/* a pass older than max_result_age does not count */
	snprintf(state, sizeof state, "{\"service\":\"kintai\",\"passed\":true,\"checked_at_epoch\":%ld}\n", now - 7200);
	p = asp_site(dir, state, 0644);
	CHECK(p != NULL && asp_verdict(p, "10.40.1.10") == -1);
	policy_unref(p);
	/* a file others may write, or one malformed line: no ASP counts, with a warning */
	snprintf(state, sizeof state, "{\"service\":\"kintai\",\"passed\":true,\"checked_at_epoch\":%ld}\n", now - 60);
	p = asp_site(dir, state, 0666);
	CHECK(p != NULL && asp_verdict(p, "10.40.1.10") == -1);
	CHECK(has_diag(DIAG_WARNING, "not a regular file writable by its owner only"));
	policy_unref(p);
	snprintf(state, sizeof state, "{\"service\":\"kintai\",\"passed\":true,\"checked_at_epoch\":%ld}\nrm -rf /\n", now - 60);
	p = asp_site(dir, state, 0644);
	CHECK(p != NULL && asp_verdict(p, "10.40.1.10") == -1);
	CHECK(has_diag(DIAG_WARNING, "a line is not a result the bridge writes"));
	/* the file changing is seen */
	snprintf(state, sizeof state, "%s/asp-state.json", dir);
	unlink(state);
	CHECK_INT(policy_asp_stale(p, now), ASP_STALE_FILE);
	policy_unref(p);
	rmdir(dir);
}

/* ---- security cloud, telework grants, exceptions --------------------------------------- */

#define CLOUD_SITE "model = \"beta\";\n" \
	"zones = ( { name = \"mynumber\"; networks = [ \"10.10.0.0/16\" ]; },\n" \
	"  { name = \"lgwan\"; networks = [ \"10.20.0.0/16\" ]; }, { name = \"dmz\"; networks = [ \"10.30.0.0/24\" ]; },\n" \
	"  { name = \"internet\"; networks = [ \"0.0.0.0/0\" ]; } );\n" \
	"hosts = ( { name = \"staff\"; address = \"172.16.1.0/24\"; roles = [ \"staff\" ]; },\n" \
	"  { name = \"cloud-proxy\"; address = \"192.0.2.8\"; roles = [ \"security-cloud\" ]; } );\n" \
	"security_cloud = { local = [ \"172.16.0.0/12\" ]; };\n"

static void
test_security_cloud(void)
{
	struct policy *p = load_text(CLOUD_SITE "rules = (\n"
	    "{ name = \"web\"; from = \"internet\"; to = \"internet\"; src = [ \"staff\" ]; dst = [ \"cloud-proxy\" ]; "
	    "proto = \"tcp\"; dport = 8080; app = [ \"HTTP_Proxy\", \"HTTP\" ]; action = \"accept\"; } );");

	CHECK(p != NULL);
	policy_unref(p);
	p = load_text(CLOUD_SITE "rules = (\n"
	    "{ name = \"web\"; from = \"internet\"; to = \"internet\"; src = [ \"staff\" ]; "
	    "proto = \"tcp\"; dport = 443; app = [ \"TLS\" ]; action = \"accept\"; } );");
	CHECK(p == NULL);
	CHECK(has_diag(DIAG_ERROR, "rule 'web' accepts traffic to any internet address; with security_cloud"));
	policy_unref(p);
	p = load_text(CLOUD_SITE "rules = (\n"
	    "{ name = \"in\"; from = \"internet\"; to = \"dmz\"; src = [ \"198.51.100.0/24\" ]; "
	    "proto = \"tcp\"; dport = 25; app = [ \"SMTP\" ]; action = \"accept\"; } );");
	CHECK(p == NULL);
	CHECK(has_diag(DIAG_ERROR, "rule 'in' accepts traffic from 198.51.100.0/24 in the internet zone"));
	policy_unref(p);
}

static void
test_grants(void)
{
	const char *base = "model = \"beta\";\n"
	    "zones = ( { name = \"mynumber\"; networks = [ \"10.10.0.0/16\" ]; },\n"
	    "  { name = \"lgwan\"; networks = [ \"10.20.0.0/16\" ]; }, { name = \"internet\"; networks = [ \"0.0.0.0/0\" ]; } );\n"
	    "hosts = ( { name = \"vdi\"; address = \"10.20.3.0/28\"; roles = [ \"screen-transfer\" ]; } );\n";
	char text[2048];
	struct policy *p;

	snprintf(text, sizeof text, "%sbridge = { grants = ( { name = \"t\"; who = [ \"a\" ]; to = [ \"10.20.3.4/30:3389\" ]; },\n"
	    "{ name = \"adm\"; class = \"admin\"; who = [ \"b\" ]; to = [ \"10.20.0.0/16:22\" ]; } ); };", base);
	p = load_text(text);
	CHECK(p != NULL);
	policy_unref(p);
	snprintf(text, sizeof text, "%sbridge = { grants = ( { name = \"t\"; who = [ \"a\" ]; to = [ \"10.20.3.0/24:3389\" ]; } ); };", base);
	p = load_text(text);
	CHECK(p == NULL && has_diag(DIAG_ERROR, "bridge grant 't' gives telework users \"10.20.3.0/24:3389\", which is not inside a host with role screen-transfer"));
	policy_unref(p);
	snprintf(text, sizeof text, "%sbridge = { grants = ( { name = \"t\"; class = \"vip\"; who = [ \"a\" ]; to = [ \"10.20.3.1:3389\" ]; } ); };", base);
	p = load_text(text);
	CHECK(p == NULL && has_diag(DIAG_ERROR, "'class' = \"vip\" is not one of: telework, asp-vendor, admin"));
	policy_unref(p);
}

static void
test_exception_days(void)
{
	char text[2048], until[16];
	time_t now = time(NULL);
	struct policy_exception e;
	struct tm tm;
	struct policy *p;

	/* ten calendar days from today's date (adding seconds to now gave 11 after 23:00) */
	localtime_r(&now, &tm);
	tm.tm_mday += 10;
	tm.tm_hour = 12;
	tm.tm_isdst = -1;
	mktime(&tm);
	strftime(until, sizeof until, "%Y-%m-%d", &tm);
	snprintf(text, sizeof text, "model = \"alpha\";\n"
	    "zones = ( { name = \"mynumber\"; networks = [ \"10.10.0.0/16\" ]; }, { name = \"lgwan\"; networks = [ \"10.20.0.0/16\" ]; },\n"
	    "  { name = \"internet\"; networks = [ \"0.0.0.0/0\" ]; } );\n"
	    "hosts = ( { name = \"i\"; address = \"10.20.5.10\"; roles = [ \"intermediate-server\" ]; } );\n"
	    "rules = ( { name = \"x\"; from = \"mynumber\"; to = \"lgwan\"; dst = [ \"i\" ]; proto = \"tcp\"; dport = 80; "
	    "action = \"accept\"; exception = { reason = \"vendor portal\"; approved_by = \"CISO\"; until = \"%s\"; }; } );", until);
	p = load_text(text);
	CHECK(p != NULL);
	CHECK_INT(policy_exception_count(p), 1);
	CHECK(policy_exception_get(p, 0, &e));
	CHECK_STR(e.rule, "x");
	CHECK_STR(e.approved_by, "CISO");
	CHECK_STR(e.until, until);
	CHECK_INT(e.days_left, 10);
	CHECK(!policy_exception_get(p, 1, &e));
	policy_unref(p);
}

int
main(void)
{
	diags_init(&test_diags, "test.conf");
	UNIT_RUN(test_path_cases);
	UNIT_RUN(test_paths_brute_force);
	UNIT_RUN(test_asp_state_lines);
	UNIT_RUN(test_asp_passed);
	UNIT_RUN(test_security_cloud);
	UNIT_RUN(test_grants);
	UNIT_RUN(test_exception_days);
	diags_free(&test_diags);
	UNIT_EXIT();
}

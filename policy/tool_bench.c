/* tool_bench.c -- tiergate-policy bench: ns per lookup on a file's (or a generated) policy, vs a plain scan. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/util.h"
#include "policy/internal.h"
#include "policy/tool.h"

struct bench_args {
	const char *file;
	unsigned long rules, flows;
	uint64_t seed;
};

static uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A random address inside net (host bits random). */
static void
bench_addr_in(const struct prefix *net, struct addr *out, uint64_t *rs)
{
	*out = net->addr;
	for (unsigned i = net->len; i < 128; i++)
		if (gen_rand(rs) & 1)
			out->b[i / 8] |= (uint8_t)(0x80u >> (i % 8));
}

/* A random network of zone in the wanted family, or NULL. */
static const struct prefix *
bench_zone_net(const struct policy *p, int zone, bool v4, uint64_t *rs)
{
	const struct pzone *z;
	int start;

	if (zone < 0)
		zone = (int)(gen_rand(rs) % (unsigned)p->nzones);
	z = &p->zones[zone];
	if (z->nnets == 0)
		return NULL;
	start = (int)(gen_rand(rs) % (unsigned)z->nnets);
	for (int i = 0; i < z->nnets; i++) {
		const struct prefix *n = &z->nets[(start + i) % z->nnets];
		if ((n->family == AF_INET) == v4)
			return n;
	}
	return NULL;
}

static bool
bench_side(const struct policy *p, const struct paddr *v, int n, int zone, bool v4, struct addr *out,
    uint64_t *rs)
{
	const struct prefix *net = NULL;

	if (n > 0) {
		int start = (int)(gen_rand(rs) % (unsigned)n);
		for (int i = 0; i < n && net == NULL; i++)
			if (addr_is_v4(&v[(start + i) % n].net.addr) == v4)
				net = &v[(start + i) % n].net;
	} else {
		net = bench_zone_net(p, zone, v4, rs);
	}
	if (net == NULL)
		return false;
	bench_addr_in(net, out, rs);
	return true;
}

/* A flow aimed at a random rule (three in four) or anywhere (one in four). */
static bool
bench_flow(const struct policy *p, bool v4, struct policy_flow *f, uint64_t *rs)
{
	static const uint8_t by_rp[] = { IPPROTO_TCP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP };
	const struct prule *r = p->nrules && gen_rand(rs) % 4 ? &p->rules[gen_rand(rs) % (unsigned)p->nrules] : NULL;

	memset(f, 0, sizeof *f);
	if (r == NULL) {
		f->proto = gen_rand(rs) % 2 ? IPPROTO_TCP : IPPROTO_UDP;
		f->dport = (uint16_t)gen_rand(rs);
		return bench_side(p, NULL, 0, -1, v4, &f->src, rs) && bench_side(p, NULL, 0, -1, v4, &f->dst, rs);
	}
	f->proto = by_rp[r->proto];
	if (r->nports > 0) {
		const struct port_range *pr = &r->ports[gen_rand(rs) % (unsigned)r->nports];
		f->dport = (uint16_t)(pr->lo + gen_rand(rs) % ((unsigned)pr->hi - pr->lo + 1));
	} else {
		f->dport = (uint16_t)gen_rand(rs);
	}
	return bench_side(p, r->src, r->nsrc, r->from >= 0 ? r->from : -1, v4, &f->src, rs) &&
	    bench_side(p, r->dst, r->ndst, r->to >= 0 ? r->to : -1, v4, &f->dst, rs);
}

static size_t
bench_flows(const struct policy *p, bool v4, struct policy_flow *out, size_t n, uint64_t *rs)
{
	size_t got = 0;

	for (size_t tries = 0; got < n && tries < n * 20; tries++)
		got += bench_flow(p, v4, &out[got], rs);
	return got;
}

typedef void (*bench_lookup_fn)(const struct policy *, const struct policy_flow *, const char *,
    struct policy_verdict *);

/* ns per lookup over the flows, repeated to at least min_lookups (accepts counted: nothing is optimised away). */
static double
bench_time(const struct policy *p, const struct policy_flow *f, size_t n, const char *app,
    bench_lookup_fn fn, size_t min_lookups, unsigned long *accepts)
{
	uint64_t start = bench_now_ns();
	size_t done = 0;
	struct policy_verdict v;

	while (done < min_lookups) {
		for (size_t i = 0; i < n; i++) {
			fn(p, &f[i], app, &v);
			*accepts += v.action == ACT_ACCEPT;
		}
		done += n;
	}
	return (double)(bench_now_ns() - start) / (double)done;
}

static void
bench_family(const struct policy *p, const char *label, bool v4, const struct bench_args *a,
    uint64_t *rs)
{
	struct policy_flow *f = xcalloc(a->flows, sizeof *f);
	size_t n = bench_flows(p, v4, f, a->flows, rs);
	unsigned long accepts = 0;
	size_t slow = p->nrules > 2000 ? n / 20 + 1 : n;

	if (n == 0) {
		printf("  %s: no flows (no networks of that family)\n", label);
		free(f);
		return;
	}
	printf("  %s  index: pending %6.0f ns  app TLS %6.0f ns   |  "
	    "plain scan: pending %8.0f ns  app TLS %8.0f ns\n",
	    label, bench_time(p, f, n, APP_PENDING, policy_lookup, 1000000, &accepts),
	    bench_time(p, f, n, "TLS", policy_lookup, 1000000, &accepts),
	    bench_time(p, f, slow, APP_PENDING, policy_lookup_linear, 1, &accepts),
	    bench_time(p, f, slow, "TLS", policy_lookup_linear, 1, &accepts));
	accepts = 0;
	bench_time(p, f, n, "TLS", policy_lookup, 1, &accepts);
	printf("  %s  (%zu flows aimed at the rules; %.0f%% accepted with app TLS)\n", label, n,
	    100.0 * (double)accepts / (double)n);
	free(f);
}

static int
bench_parse(int argc, char **argv, struct bench_args *a)
{
	memset(a, 0, sizeof *a);
	a->flows = 4096;   /* a working set that stays in cache: the lookup, not memory, is measured */
	a->seed = 1;
	for (int i = 0; i < argc; i++) {
		unsigned long *dst = NULL;
		if (strcmp(argv[i], "--rules") == 0)
			dst = &a->rules;
		else if (strcmp(argv[i], "--flows") == 0)
			dst = &a->flows;
		else if (argv[i][0] != '-' && a->file == NULL) {
			a->file = argv[i];
			continue;
		} else
			return tool_usage_error("bench: unexpected argument '%s'", argv[i]);
		if (i + 1 >= argc || parse_ulong(argv[i + 1], 10000000, dst) < 0 || *dst == 0)
			return tool_usage_error("%s wants a positive number", argv[i]);
		i++;
	}
	if ((a->file == NULL) == (a->rules == 0))
		return tool_usage_error("bench takes FILE or --rules N");
	return 0;
}

static struct policy *
bench_load(const struct bench_args *a, double *load_ms)
{
	uint64_t start = bench_now_ns();
	struct policy *p;
	struct diags d;

	if (a->file) {
		p = tool_load(a->file, stderr);
	} else {
		char *text = gen_policy_text((int)a->rules, a->seed);
		diags_init(&d, "generated");
		p = policy_load_string(text, "generated", &d);
		if (p == NULL)
			diags_print(&d, stderr);
		diags_free(&d);
		free(text);
	}
	*load_ms = (double)(bench_now_ns() - start) / 1e6;
	return p;
}

/*
 * What `check` costs on a generated site with relay hosts under its rules:
 * parsing, the per-rule invariants (the peer: what check did before), the
 * path analysis, the shadowing scan. Errors do not stop it: the time is the point.
 */
static void
bench_check(const struct bench_args *a)
{
	char *text = gen_policy_text_relays((int)a->rules, 40, a->seed);
	uint64_t t0, t1, t2, t3, t4;
	struct policy *p;
	struct diags d;
	config_t cfg;

	diags_init(&d, "generated");
	config_init(&cfg);
	t0 = bench_now_ns();
	p = conf_load_string(&cfg, text, NULL, &d) == 0 ? policy_parse(&cfg, "generated", &d) : NULL;
	t1 = bench_now_ns();
	if (p != NULL) {
		invariant_check(p, &d);
		t2 = bench_now_ns();
		paths_check(p, &d);
		t3 = bench_now_ns();
		invariant_shadowing(p, &d);
		t4 = bench_now_ns();
		printf("  check with 40 relay hosts: %.1f ms in all (parse %.1f, invariants %.1f, "
		    "paths %.1f, shadowing %.1f; %zu errors, %zu warnings)\n", (double)(t4 - t0) / 1e6,
		    (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6, (double)(t3 - t2) / 1e6,
		    (double)(t4 - t3) / 1e6, diags_count(&d, DIAG_ERROR), diags_count(&d, DIAG_WARNING));
		policy_free(p);
	}
	config_destroy(&cfg);
	diags_free(&d);
	free(text);
}

int
tool_bench(int argc, char **argv)
{
	struct bench_args a;
	struct policy *p;
	double load_ms;
	uint64_t rs = 0x2545f4914f6cdd1dull;

	if (bench_parse(argc, argv, &a) != 0)
		return TOOL_EXIT_USAGE;
	p = bench_load(&a, &load_ms);
	if (p == NULL)
		return 1;
	printf("%s: %d rules, %d zones; loaded, checked and compiled in %.1f ms; "
	    "index %zu port intervals, %zu candidate slots\n",
	    a.file ? a.file : "generated", p->nrules, p->nzones, load_ms, p->cindex.nivs, p->cindex.ncands);
	bench_family(p, "IPv4", true, &a, &rs);
	bench_family(p, "IPv6", false, &a, &rs);
	if (a.rules)
		bench_check(&a);
	policy_unref(p);
	return 0;
}

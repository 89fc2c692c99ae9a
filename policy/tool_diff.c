/* tool_diff.c -- tiergate-policy diff: the flows whose verdict differs between two files, by zone pair and rule. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "policy/internal.h"
#include "policy/tool.h"

/*
 * The verdict can only change where some rule of either file starts or stops
 * matching, so the flows tried are built from both files: every zone network,
 * host and rule address (its first address and one in the middle), every
 * rule port range's ends, every application either file names, Unknown, one
 * application neither names, and the application still pending.
 */

#define DIFF_OTHER_APP "(another application)"
#define DIFF_MAX_PER_PAIR 4000000ul   /* flows tried per zone pair before sampling */

struct diff_probe {
	uint8_t proto;
	uint16_t port;
};

struct diff_space {
	struct addr *addrs;
	size_t naddrs, addrcap;
	struct diff_probe *probes;
	size_t nprobes, probecap;
	const char **apps;    /* [0] is APP_PENDING */
	size_t napps, appcap;
};

struct diff_group {
	char key[512];
	unsigned long count;
	struct policy_flow example;
	const char *app;
	char line[512];
};

struct diff_result {
	struct diff_group *v;
	size_t n, cap;
};

static void
diff_add_addr(struct diff_space *s, const struct addr *a)
{
	for (size_t i = 0; i < s->naddrs; i++)
		if (memcmp(&s->addrs[i], a, sizeof *a) == 0)
			return;
	if (s->naddrs == s->addrcap) {
		s->addrcap = s->addrcap ? s->addrcap * 2 : 64;
		s->addrs = xrealloc(s->addrs, s->addrcap, sizeof *s->addrs);
	}
	s->addrs[s->naddrs++] = *a;
}

/* The prefix's first host and one address in its upper half: inside, and not only at its edge. */
static void
diff_add_prefix(struct diff_space *s, const struct prefix *net)
{
	struct addr a = net->addr;

	if (net->len < 128)
		a.b[15] |= 1;
	diff_add_addr(s, &a);
	if (net->len < 127) {
		a.b[net->len / 8] |= (uint8_t)(0x80u >> (net->len % 8));
		diff_add_addr(s, &a);
	}
}

static void
diff_add_probe(struct diff_space *s, uint8_t proto, uint16_t port)
{
	for (size_t i = 0; i < s->nprobes; i++)
		if (s->probes[i].proto == proto && s->probes[i].port == port)
			return;
	if (s->nprobes == s->probecap) {
		s->probecap = s->probecap ? s->probecap * 2 : 64;
		s->probes = xrealloc(s->probes, s->probecap, sizeof *s->probes);
	}
	s->probes[s->nprobes].proto = proto;
	s->probes[s->nprobes++].port = port;
}

static void
diff_add_app(struct diff_space *s, const char *app)
{
	for (size_t i = 0; i < s->napps; i++)
		if (s->apps[i] == app || (s->apps[i] && app && strcasecmp(s->apps[i], app) == 0))
			return;
	if (s->napps == s->appcap) {
		s->appcap = s->appcap ? s->appcap * 2 : 16;
		s->apps = xrealloc(s->apps, s->appcap, sizeof *s->apps);
	}
	s->apps[s->napps++] = app;
}

static void
diff_rule_probes(struct diff_space *s, const struct prule *r)
{
	static const uint8_t by_rp[] = { 0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP };

	if (r->proto == RP_ANY || r->proto == RP_ICMP || r->nports == 0) {
		diff_add_probe(s, r->proto == RP_ANY ? IPPROTO_TCP : by_rp[r->proto], 1);
		return;
	}
	for (int i = 0; i < r->nports; i++) {
		diff_add_probe(s, by_rp[r->proto], r->ports[i].lo);
		diff_add_probe(s, by_rp[r->proto], r->ports[i].hi);
	}
}

static void
diff_collect(struct diff_space *s, const struct policy *p)
{
	for (int z = 0; z < p->nzones; z++)
		for (int i = 0; i < p->zones[z].nnets; i++)
			diff_add_prefix(s, &p->zones[z].nets[i]);
	for (int h = 0; h < p->nhosts; h++)
		diff_add_prefix(s, &p->hosts[h].net);
	for (int i = 0; i < p->nrules; i++) {
		const struct prule *r = &p->rules[i];
		for (int k = 0; k < r->nsrc; k++)
			diff_add_prefix(s, &r->src[k].net);
		for (int k = 0; k < r->ndst; k++)
			diff_add_prefix(s, &r->dst[k].net);
		diff_rule_probes(s, r);
	}
	for (int i = 0; i < p->napps; i++)
		diff_add_app(s, p->apps[i]);
}

static void
diff_space_build(struct diff_space *s, const struct policy *old, const struct policy *new)
{
	memset(s, 0, sizeof *s);
	diff_add_app(s, APP_PENDING);
	diff_add_app(s, APP_UNKNOWN);
	diff_add_app(s, DIFF_OTHER_APP);
	diff_add_probe(s, IPPROTO_TCP, 1);
	diff_add_probe(s, IPPROTO_UDP, 1);
	diff_add_probe(s, IPPROTO_ICMP, 8);
	diff_add_probe(s, IPPROTO_GRE, 0);
	diff_collect(s, old);
	diff_collect(s, new);
}

static void
diff_space_free(struct diff_space *s)
{
	free(s->addrs);
	free(s->probes);
	free(s->apps);
}

static const char *
diff_verdict_text(const struct policy_verdict *v, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", v->final ? "" : "accept while waiting, ",
	    v->final ? policy_action_name(v->action) : "then by application");
	return buf;
}

static void
diff_record(struct diff_result *res, const struct policy *old, const struct policy *new,
    const struct policy_flow *f, const char *app, const struct policy_verdict *a,
    const struct policy_verdict *b)
{
	char key[512], va[160], vb[160];
	struct diff_group *g = NULL;

	snprintf(key, sizeof key, "%s → %s", policy_zone_name(old, a->src_zone),
	    policy_zone_name(old, a->dst_zone));
	if (strcmp(policy_zone_name(old, a->src_zone), policy_zone_name(new, b->src_zone)) != 0 ||
	    strcmp(policy_zone_name(old, a->dst_zone), policy_zone_name(new, b->dst_zone)) != 0)
		snprintf(key + strlen(key), sizeof key - strlen(key), " (now %s → %s)",
		    policy_zone_name(new, b->src_zone), policy_zone_name(new, b->dst_zone));
	snprintf(key + strlen(key), sizeof key - strlen(key), "\trule %s → %s: %s → %s",
	    a->rule_name, b->rule_name, diff_verdict_text(a, va, sizeof va),
	    diff_verdict_text(b, vb, sizeof vb));
	for (size_t i = 0; i < res->n && g == NULL; i++)
		if (strcmp(res->v[i].key, key) == 0)
			g = &res->v[i];
	if (g == NULL) {
		if (res->n == res->cap) {
			res->cap = res->cap ? res->cap * 2 : 16;
			res->v = xrealloc(res->v, res->cap, sizeof *res->v);
		}
		g = &res->v[res->n++];
		memset(g, 0, sizeof *g);
		str_copy(g->key, key, sizeof g->key);
		g->example = *f;
		g->app = app;
	}
	g->count++;
}

static bool
diff_same(const struct policy_verdict *a, const struct policy_verdict *b)
{
	return a->action == b->action && a->final == b->final && strcmp(a->rule_name, b->rule_name) == 0;
}

static void
diff_one(struct diff_result *res, const struct policy *old, const struct policy *new,
    const struct diff_space *s, struct policy_flow *f)
{
	for (size_t k = 0; k < s->nprobes; k++) {
		f->proto = s->probes[k].proto;
		f->dport = s->probes[k].port;
		for (size_t a = 0; a < s->napps; a++) {
			struct policy_verdict va, vb;
			policy_lookup(old, f, s->apps[a], &va);
			policy_lookup(new, f, s->apps[a], &vb);
			if (!diff_same(&va, &vb))
				diff_record(res, old, new, f, s->apps[a], &va, &vb);
		}
	}
}

/* Tries every (src, dst) pair of one family; returns how many pairs were skipped by the cap. */
static unsigned long
diff_run(struct diff_result *res, const struct policy *old, const struct policy *new,
    const struct diff_space *s)
{
	unsigned long per_pair = (unsigned long)(s->nprobes * s->napps), budget, tried = 0, skipped = 0;
	size_t step = 1;

	budget = DIFF_MAX_PER_PAIR * 25;
	while ((unsigned long)(s->naddrs / step) * (s->naddrs / step) * per_pair > budget)
		step++;
	for (size_t i = 0; i < s->naddrs; i += step)
		for (size_t j = 0; j < s->naddrs; j += step) {
			struct policy_flow f;
			if (addr_is_v4(&s->addrs[i]) != addr_is_v4(&s->addrs[j]))
				continue;
			memset(&f, 0, sizeof f);
			f.src = s->addrs[i];
			f.dst = s->addrs[j];
			diff_one(res, old, new, s, &f);
			tried++;
		}
	if (step > 1)
		skipped = (unsigned long)(s->naddrs * s->naddrs) - tried;
	return skipped;
}

static void
diff_print_group(const struct diff_group *g)
{
	char src[ADDR_STRLEN], dst[ADDR_STRLEN], pbuf[16];
	const char *tab = strchr(g->key, '\t');

	addr_format(&g->example.src, src);
	addr_format(&g->example.dst, dst);
	printf("  %s\n      %lu flow%s, e.g. %s %s → %s port %u, app %s\n", tab + 1, g->count,
	    g->count == 1 ? "" : "s", tool_proto_name(g->example.proto, pbuf, sizeof pbuf), src, dst,
	    g->example.dport, g->app == APP_PENDING ? "not known yet" : g->app);
}

static int
diff_cmp_group(const void *a, const void *b)
{
	return strcmp(((const struct diff_group *)a)->key, ((const struct diff_group *)b)->key);
}

static void
diff_print(struct diff_result *res)
{
	char last[512] = "";

	qsort(res->v, res->n, sizeof *res->v, diff_cmp_group);
	for (size_t i = 0; i < res->n; i++) {
		const struct diff_group *g = &res->v[i];
		size_t pair_len = (size_t)(strchr(g->key, '\t') - g->key);
		if (strlen(last) != pair_len || strncmp(last, g->key, pair_len) != 0) {
			snprintf(last, sizeof last, "%.*s", (int)pair_len, g->key);
			printf("%s\n", last);
		}
		diff_print_group(g);
	}
}

static const struct prule *
diff_find_rule(const struct policy *p, const char *name)
{
	for (int i = 0; i < p->nrules; i++)
		if (strcmp(p->rules[i].name, name) == 0)
			return &p->rules[i];
	return NULL;
}

/* Rules added, removed or changed by name: the reason behind the flow changes. */
static int
diff_rules(const struct policy *old, const struct policy *new)
{
	int changes = 0;

	for (int i = 0; i < old->nrules; i++)
		if (diff_find_rule(new, old->rules[i].name) == NULL && ++changes)
			printf("rule removed: %s (%s:%d)\n", old->rules[i].name, old->rules[i].file,
			    old->rules[i].line);
	for (int i = 0; i < new->nrules; i++) {
		const struct prule *r = &new->rules[i], *o = diff_find_rule(old, r->name);
		char a[512], b[512];
		if (o == NULL) {
			printf("rule added: %s (%s:%d)\n", r->name, r->file, r->line);
			changes++;
			continue;
		}
		tool_rule_summary(old, o, a, sizeof a);
		tool_rule_summary(new, r, b, sizeof b);
		if (strcmp(a, b) != 0 || o->action != r->action || o->from != r->from || o->to != r->to) {
			printf("rule changed: %s (%s:%d): %s %s → %s %s\n", r->name, r->file, r->line,
			    policy_action_name(o->action), a, policy_action_name(r->action), b);
			changes++;
		}
	}
	return changes;
}

int
tool_diff(int argc, char **argv)
{
	struct policy *old, *new;
	struct diff_space space;
	struct diff_result res = { NULL, 0, 0 };
	unsigned long skipped;

	if (argc != 2)
		return tool_usage_error("diff takes OLD and NEW");
	old = tool_load(argv[0], stderr);
	new = old ? tool_load(argv[1], stderr) : NULL;
	if (old == NULL || new == NULL) {
		policy_unref(old);
		return 2;
	}
	diff_rules(old, new);
	diff_space_build(&space, old, new);
	skipped = diff_run(&res, old, new, &space);
	if (res.n == 0)
		printf("no flow changes verdict (%zu addresses, %zu services, %zu applications tried)\n",
		    space.naddrs, space.nprobes, space.napps);
	else
		diff_print(&res);
	if (skipped > 0)
		printf("(large policies: %lu address pairs sampled out)\n", skipped);
	diff_space_free(&space);
	free(res.v);
	policy_unref(old);
	policy_unref(new);
	return res.n > 0 ? 1 : 0;
}

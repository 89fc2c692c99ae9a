/* tool_paths.c -- tiergate-policy paths: every chain of accept rules from one zone into another, for an auditor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "policy/internal.h"
#include "policy/tool.h"

/*
 * Prints the shortest chain for each rule that ends a path (paths.c), clean
 * or not. Works on a file check refuses too: showing why is the point.
 * Exit 0 when nothing breaks the separation, 1 when a chain does (any chain
 * between mynumber and internet; one without a cleaning hop between lgwan
 * and internet), 2 on a usage error or a file that does not parse.
 */

struct tp_state {
	const char *from, *to;
	bool never, guarded;   /* mynumber <-> internet / lgwan <-> internet */
	int count, bad;
};

static void
tp_print_chain(const struct policy *p, const struct paths_chain *c, void *arg)
{
	struct tp_state *st = arg;
	bool named_exit = !st->never && strcmp(st->from, "lgwan") == 0 &&
	    invariant_alpha_prime_exit(p, &p->rules[c->rules[c->nrules - 1]]);
	bool bad = st->never || (st->guarded && !c->clean && !named_exit);
	char summary[512];

	st->count++;
	st->bad += bad;
	printf("\npath %d: %s\n  %s\n", st->count, bad ? (st->never ? "REFUSED: the two never connect" :
	    "REFUSED: no sanitizer or screen-transfer hop") : c->clean ? "clean: through or onto a "
	    "sanitizer or screen-transfer host" : named_exit ? "allowed: α′ named exit (names over "
	    "TLS/QUIC, or DNS to a resolver)" : "allowed", st->from);
	for (int i = 0; i < c->nrules; i++) {
		const struct prule *r = &p->rules[c->rules[i]];
		tool_rule_summary(p, r, summary, sizeof summary);
		printf("  └ rule '%s' (%s:%d)  %s → %s  %s\n", r->name, r->file, r->line,
		    policy_zone_name(p, r->from), policy_zone_name(p, r->to), summary);
		if (c->hosts[i] >= 0) {
			const struct phost *h = &p->hosts[c->hosts[i]];
			char net[64];
			prefix_format(&h->net, net, sizeof net);
			printf("  → host '%s' %s, passes it on as %s\n", h->name, net,
			    paths_roles[c->roles[i]].name);
		}
	}
	printf("  → %s\n", st->to);
}

static struct policy *
tp_parse(const char *path)
{
	struct diags d;
	config_t cfg;
	struct policy *p = NULL;

	diags_init(&d, path);
	config_init(&cfg);
	if (conf_load(&cfg, path, &d) == 0)
		p = policy_parse(&cfg, path, &d);
	config_destroy(&cfg);
	if (p && diags_count(&d, DIAG_ERROR) > 0) {
		diags_print(&d, stderr);
		policy_free(p);
		p = NULL;
	} else if (p == NULL) {
		diags_print(&d, stderr);
	}
	diags_free(&d);
	return p;
}

static bool
tp_pair(const char *a, const char *b, const char *x, const char *y)
{
	return (strcmp(a, x) == 0 && strcmp(b, y) == 0) || (strcmp(a, y) == 0 && strcmp(b, x) == 0);
}

int
tool_paths(int argc, char **argv)
{
	struct tp_state st = { NULL, NULL, false, false, 0, 0 };
	const char *file = NULL;
	struct policy *p;
	int a, b;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
			st.from = argv[++i];
		else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
			st.to = argv[++i];
		else if (argv[i][0] != '-' && file == NULL)
			file = argv[i];
		else
			return tool_usage_error("paths: unexpected '%s'", argv[i]);
	}
	if (file == NULL || st.from == NULL || st.to == NULL)
		return tool_usage_error("paths takes FILE --from ZONE --to ZONE");
	if ((p = tp_parse(file)) == NULL)
		return TOOL_EXIT_USAGE;
	a = policy_zone_by_name(p, st.from);
	b = policy_zone_by_name(p, st.to);
	if (a == ZONE_NONE || b == ZONE_NONE) {
		policy_free(p);
		return tool_usage_error("paths: no zone '%s' in %s", a == ZONE_NONE ? st.from : st.to, file);
	}
	st.never = tp_pair(st.from, st.to, "mynumber", "internet");
	st.guarded = tp_pair(st.from, st.to, "lgwan", "internet");
	printf("paths %s ⇝ %s in %s: accept rules, followed through hosts with a relay role "
	    "(sanitizer, screen-transfer, bridge, proxy, security-cloud), each passing on only what it "
	    "is for\n", st.from, st.to, file);
	paths_find(p, a, b, tp_print_chain, &st);
	printf("\n%d path%s", st.count, st.count == 1 ? "" : "s");
	if (st.never || st.guarded)
		printf(", %d refused", st.bad);
	printf("\n");
	policy_free(p);
	return st.bad > 0 ? 1 : 0;
}

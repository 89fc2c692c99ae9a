/* tool_show.c -- tiergate-policy show: the zone-to-zone matrix of what is accepted, then every rule. */
#include <stdio.h>
#include <string.h>

#include "lib/util.h"
#include "policy/internal.h"
#include "policy/tool.h"

#define SHOW_CELL_MAX 30   /* columns a matrix cell may use before it is cut with "…" */

static bool
show_invariant_pair(const struct policy *p, int from, int to)
{
	int my = p->z_mynumber, net = p->z_internet;

	return my >= 0 && net >= 0 && ((from == my && to == net) || (from == net && to == my));
}

/* Accept rules that apply to from -> to, explicitly or through "any". */
static bool
show_rule_applies(const struct prule *r, int from, int to)
{
	return r->action == ACT_ACCEPT && (r->from == from || r->from == ZONE_ANY) &&
	    (r->to == to || r->to == ZONE_ANY);
}

/* The short text of one cell: the services accepted, cut to SHOW_CELL_MAX columns. */
static void
show_cell(const struct policy *p, int from, int to, char *buf, size_t size)
{
	size_t used = 0;
	int count = 0;

	buf[0] = '\0';
	if (show_invariant_pair(p, from, to)) {
		str_copy(buf, "✗ invariant", size);
		return;
	}
	for (int i = 0; i < p->nrules; i++) {
		char service[128];
		if (!show_rule_applies(&p->rules[i], from, to))
			continue;
		tool_rule_service(p, &p->rules[i], service, sizeof service);
		if (strstr(buf, service) == NULL)
			tool_cat(buf, size, &used, "%s%s", count++ ? " " : "", service);
	}
	if (count == 0)
		str_copy(buf, "—", size);
	if (tool_width(buf) > SHOW_CELL_MAX) {
		size_t cut = 0, w = 0;
		for (; buf[cut] && w < SHOW_CELL_MAX - 1; cut++)
			w += ((unsigned char)buf[cut + 1] & 0xc0) != 0x80;
		while (((unsigned char)buf[cut] & 0xc0) == 0x80)
			cut++;
		snprintf(buf + cut, size - cut, "…");
	}
}

static void
show_matrix(const struct policy *p)
{
	size_t width[64] = { 0 }, head = 10;
	char cell[256];
	int nz = p->nzones < 63 ? p->nzones : 63;

	for (int f = 0; f < nz; f++)
		if (tool_width(p->zones[f].name) + 2 > head)
			head = tool_width(p->zones[f].name) + 2;
	for (int t = 0; t < nz; t++) {
		width[t] = tool_width(p->zones[t].name) + 2;
		for (int f = 0; f < nz; f++) {
			show_cell(p, f, t, cell, sizeof cell);
			if (tool_width(cell) + 2 > width[t])
				width[t] = tool_width(cell) + 2;
		}
	}
	tool_pad(stdout, "from \\ to", head);
	for (int t = 0; t < nz; t++)
		tool_pad(stdout, p->zones[t].name, width[t]);
	printf("\n");
	for (int f = 0; f < nz; f++) {
		tool_pad(stdout, p->zones[f].name, head);
		for (int t = 0; t < nz; t++) {
			show_cell(p, f, t, cell, sizeof cell);
			tool_pad(stdout, cell, width[t]);
		}
		printf("\n");
	}
}

static void
show_pair_details(const struct policy *p, int from, int to)
{
	bool header = false;

	for (int i = 0; i < p->nrules; i++) {
		char summary[512];
		const struct prule *r = &p->rules[i];
		if (!show_rule_applies(r, from, to) || show_invariant_pair(p, from, to))
			continue;
		if (!header)
			printf("\n%s → %s\n", p->zones[from].name, p->zones[to].name);
		header = true;
		tool_rule_summary(p, r, summary, sizeof summary);
		printf("  ");
		tool_pad(stdout, summary, 56);
		printf(" %s (line %d)\n", r->name, r->line);
	}
}

static void
show_rules(const struct policy *p)
{
	printf("\nrules, first match wins (default: %s; unknown application: %s)\n",
	    policy_action_name(p->def_action), policy_action_name(p->unknown_app));
	printf("  %-5s %-28s ", "line", "name");
	tool_pad(stdout, "from → to", 21);
	printf("%-8s %s\n", "action", "what");
	for (int i = 0; i < p->nrules; i++) {
		const struct prule *r = &p->rules[i];
		char zones[96], summary[512];
		snprintf(zones, sizeof zones, "%s → %s", policy_zone_name(p, r->from),
		    policy_zone_name(p, r->to));
		tool_rule_summary(p, r, summary, sizeof summary);
		printf("  %-5d %-28s ", r->line, r->name);
		tool_pad(stdout, zones, 21);
		printf("%-8s %s%s\n", policy_action_name(r->action), summary,
		    r->exception ? "  [exception]" : "");
	}
}

int
tool_show(int argc, char **argv)
{
	struct policy *p;

	if (argc != 1)
		return tool_usage_error("show takes one FILE");
	p = tool_load(argv[0], stderr);
	if (p == NULL)
		return 1;
	printf("%s: model %s, %d zones, %d hosts, %d rules\n\n", policy_source(p),
	    policy_model_name(p->model), p->nzones, p->nhosts, p->nrules);
	printf("accepted (rows: from, columns: to; — nothing; ✗ never, by the guideline)\n");
	show_matrix(p);
	for (int f = 0; f < p->nzones; f++)
		for (int t = 0; t < p->nzones; t++)
			show_pair_details(p, f, t);
	show_rules(p);
	if (policy_exception_count(p) > 0) {
		printf("\nexceptions (%d)\n", policy_exception_count(p));
		policy_exceptions_print(p, stdout);
	}
	policy_unref(p);
	return 0;
}

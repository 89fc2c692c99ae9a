/* cloud.c -- the prefecture's security cloud (自治体情報セキュリティクラウド): the internet only through it. */
#include <stdio.h>
#include <string.h>

#include "lib/util.h"
#include "policy/internal.h"

/*
 * security_cloud = { local = [ NETWORKS ]; } says the site reaches the
 * internet only through the prefecture's cloud (its proxy, mail relay and
 * DNS: hosts with role security-cloud). Then every accept rule's addresses in
 * the internet zone must be the site's own internet-zone networks (local:
 * β staff terminals, β′ business systems) or a security-cloud host, on both
 * sides: egress only to the cloud, inbound only from it.
 */
static const char *const cloud_known[] = { "local", "comment", NULL };

void
cloud_parse(struct policy *p, config_t *cfg, struct diags *d)
{
	config_setting_t *g = config_lookup(cfg, "security_cloud"), *list;
	int n;

	if (g == NULL)
		return;
	if (!config_setting_is_group(g)) {
		diags_add(d, DIAG_ERROR, g, "security_cloud must be a group { local = [ \"NETWORK\", ... ]; }");
		return;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		int k;
		for (k = 0; cloud_known[k] && strcmp(cloud_known[k], config_setting_name(m)) != 0; k++)
			;
		if (cloud_known[k] == NULL)
			diags_add(d, DIAG_ERROR, m, "security_cloud: unknown setting '%s'", config_setting_name(m));
	}
	p->cloud = true;
	p->cloud_file = xstrdup(conf_file(g) ? conf_file(g) : p->source);
	p->cloud_line = conf_line(g);
	list = config_setting_get_member(g, "local");
	n = list && config_setting_is_array(list) ? config_setting_length(list) : 0;
	if (list && !config_setting_is_array(list))
		diags_add(d, DIAG_ERROR, list, "security_cloud.local must be a list of networks [ ... ]");
	p->cloud_local = xcalloc(n > 0 ? (size_t)n : 1, sizeof *p->cloud_local);
	for (int i = 0; i < n; i++) {
		const char *text = config_setting_get_string(config_setting_get_elem(list, (unsigned)i));
		const char *why = "not a string";
		if (text == NULL || prefix_parse(text, &p->cloud_local[p->ncloud_local], &why) < 0)
			diags_add(d, DIAG_ERROR, list, "security_cloud.local: bad network '%s': %s",
			    text ? text : "?", why);
		else
			p->ncloud_local++;
	}
}

static bool
cloud_allowed(const struct policy *p, const struct prefix *net)
{
	int role = paths_role_of("security-cloud");

	for (int i = 0; i < p->ncloud_local; i++)
		if (prefix_covers(&p->cloud_local[i], net))
			return true;
	for (int h = 0; h < p->nhosts; h++)
		if (paths_host_has_role(&p->hosts[h], role) && prefix_covers(&p->hosts[h].net, net))
			return true;
	return false;
}

static void
cloud_check_side(const struct policy *p, const struct prule *r, bool src_side, struct diags *d)
{
	const struct paddr *v = src_side ? r->src : r->dst;
	int n = src_side ? r->nsrc : r->ndst;
	const char *dir = src_side ? "from" : "to";

	if (!invariant_rule_touches(p, r, p->z_internet, src_side))
		return;
	if (n == 0) {
		diags_add_at(d, DIAG_ERROR, r->file, r->line, "rule '%s' accepts traffic %s any internet "
		    "address; with security_cloud (%s:%d) only %s hosts with role security-cloud or the "
		    "site's own networks (security_cloud.local)", r->name, dir, p->cloud_file,
		    p->cloud_line, dir);
		return;
	}
	for (int i = 0; i < n; i++) {
		char text[64];
		if ((src_side ? r->from : r->to) == ZONE_ANY && !zone_may_hold(p, p->z_internet, &v[i].net))
			continue;
		if (cloud_allowed(p, &v[i].net))
			continue;
		prefix_format(&v[i].net, text, sizeof text);
		diags_add_at(d, DIAG_ERROR, r->file, r->line, "rule '%s' accepts traffic %s %s%s%s in the "
		    "internet zone; with security_cloud (%s:%d) only %s hosts with role security-cloud or "
		    "the site's own networks (security_cloud.local)", r->name, dir,
		    v[i].host >= 0 ? "host '" : "", v[i].host >= 0 ? p->hosts[v[i].host].name : text,
		    v[i].host >= 0 ? "'" : "", p->cloud_file, p->cloud_line, dir);
		return;
	}
}

void
cloud_check(const struct policy *p, struct diags *d)
{
	if (!p->cloud || p->z_internet < 0)
		return;
	for (int i = 0; i < p->nrules; i++) {
		const struct prule *r = &p->rules[i];
		if (r->action != ACT_ACCEPT || r->from == ZONE_MISSING || r->to == ZONE_MISSING)
			continue;
		cloud_check_side(p, r, true, d);
		cloud_check_side(p, r, false, d);
	}
}

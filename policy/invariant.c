/* invariant.c -- the guideline's rules (三層の対策) checked on every load; shadowed-rule warnings. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy/internal.h"

/*
 * The table of what is checked, with the guideline section each line comes
 * from, is in conf/README.md ("Invariants"); the ids I1..I7 there are the ones
 * in the messages' comments below. Every check looks at accept rules only: a
 * drop or reject rule can never open a path.
 */

/* Well-known ports of the clear-text general-purpose protocols (I2). */
static const struct {
	uint16_t port;
	const char *what;
} inv_gp_ports[] = {
	{ 20, "FTP data" }, { 21, "FTP" }, { 23, "Telnet" }, { 25, "SMTP" }, { 80, "HTTP" },
	{ 110, "POP3" }, { 143, "IMAP" },
};
static const char *const inv_gp_apps[] = {
	"SMTP", "HTTP", "FTP_CONTROL", "FTP_DATA", "Telnet", "POP3", "IMAP",
};

static bool
inv_is_ignored(const struct prule *r)
{
	return r->from == ZONE_MISSING || r->to == ZONE_MISSING;
}

/* Can the src (or dst) side of r hold an address of zone? "any" is narrowed by the rule's networks. */
bool
invariant_rule_touches(const struct policy *p, const struct prule *r, int zone, bool src_side)
{
	int ref = src_side ? r->from : r->to;
	const struct paddr *v = src_side ? r->src : r->dst;
	int n = src_side ? r->nsrc : r->ndst;

	if (zone < 0)
		return false;
	if (ref == zone)
		return true;
	if (ref != ZONE_ANY)
		return false;
	if (n == 0)
		return p->zones[zone].nnets > 0 || p->zones[zone].nifs > 0;
	for (int i = 0; i < n; i++)
		if (zone_may_hold(p, zone, &v[i].net))
			return true;
	return false;
}

/* I1: no accept between mynumber and internet, either way, explicit or through "any". */
static void
inv_mynumber_internet(const struct policy *p, const struct prule *r, struct diags *d)
{
	int my = p->z_mynumber, net = p->z_internet;

	if (invariant_rule_touches(p, r, my, true) && invariant_rule_touches(p, r, net, false))
		diags_add_at(d, DIAG_ERROR, r->file, r->line,
		    "rule '%s' accepts mynumber → internet: the two never connect (三層分離)%s",
		    r->name, r->from == ZONE_ANY || r->to == ZONE_ANY ? " (through \"any\")" : "");
	if (invariant_rule_touches(p, r, net, true) && invariant_rule_touches(p, r, my, false))
		diags_add_at(d, DIAG_ERROR, r->file, r->line,
		    "rule '%s' accepts internet → mynumber: the two never connect (三層分離)%s",
		    r->name, r->from == ZONE_ANY || r->to == ZONE_ANY ? " (through \"any\")" : "");
}

static bool
inv_ports_include(const struct prule *r, uint16_t port)
{
	if (r->nports == 0)
		return true;
	for (int i = 0; i < r->nports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return true;
	return false;
}

/* Names what general-purpose protocol r lets through, or returns false. */
static bool
inv_general_purpose(const struct policy *p, const struct prule *r, char *what, size_t size)
{
	if (r->napps > 0) {
		for (int k = 0; k < r->napps; k++)
			for (size_t g = 0; g < sizeof inv_gp_apps / sizeof inv_gp_apps[0]; g++)
				if (strcasecmp(p->apps[r->apps[k]], inv_gp_apps[g]) == 0) {
					snprintf(what, size, "application %s", inv_gp_apps[g]);
					return true;
				}
		return false;
	}
	if (r->proto == RP_ICMP)
		return false;
	if (r->nports == 0) {
		snprintf(what, size, "every port (no app or dport restriction)");
		return true;
	}
	for (size_t g = 0; g < sizeof inv_gp_ports / sizeof inv_gp_ports[0]; g++)
		if (r->proto != RP_UDP && inv_ports_include(r, inv_gp_ports[g].port)) {
			snprintf(what, size, "port %u (%s)", inv_gp_ports[g].port, inv_gp_ports[g].what);
			return true;
		}
	return false;
}

/* I2: general-purpose clear-text protocols in mynumber need a written exception. */
static void
inv_mynumber_general(const struct policy *p, const struct prule *r, struct diags *d)
{
	char what[96];
	int my = p->z_mynumber;

	if (r->exception)
		return;
	if (!invariant_rule_touches(p, r, my, true) && !invariant_rule_touches(p, r, my, false))
		return;
	if (inv_general_purpose(p, r, what, sizeof what))
		diags_add_at(d, DIAG_ERROR, r->file, r->line,
		    "rule '%s' accepts a general-purpose protocol in mynumber (%s); "
		    "if it is really needed, write an exception = { reason; approved_by; until; }",
		    r->name, what);
}

static bool
inv_host_has_role(const struct phost *h, const char *const *roles)
{
	for (int i = 0; i < h->nroles; i++)
		for (int k = 0; roles[k]; k++)
			if (strcmp(h->roles[i], roles[k]) == 0)
				return true;
	return false;
}

/*
 * Every destination of r must be a named host carrying one of roles.
 * Returns false and reports (as sev) what is not.
 */
static bool
inv_dst_roles(const struct policy *p, const struct prule *r, const char *const *roles,
    const char *what, const char *rolelist, enum diag_severity sev, struct diags *d)
{
	if (r->ndst == 0) {
		diags_add_at(d, sev, r->file, r->line, "rule '%s' accepts %s to any address; "
		    "only hosts with role %s may be reached", r->name, what, rolelist);
		return false;
	}
	for (int i = 0; i < r->ndst; i++) {
		const struct paddr *a = &r->dst[i];
		char text[64];
		if (a->host >= 0 && inv_host_has_role(&p->hosts[a->host], roles))
			continue;
		prefix_format(&a->net, text, sizeof text);
		diags_add_at(d, sev, r->file, r->line, "rule '%s' accepts %s to %s%s%s; "
		    "only hosts with role %s may be reached", r->name, what,
		    a->host >= 0 ? "host '" : "", a->host >= 0 ? p->hosts[a->host].name : text,
		    a->host >= 0 ? "'" : "", rolelist);
		return false;
	}
	return true;
}

/* I3: mynumber reaches other zones only at named hosts (error), of the expected kinds (warning). */
static void
inv_mynumber_out(const struct policy *p, const struct prule *r, struct diags *d)
{
	static const char *const expected[] = {
		"intermediate-server", "dns", "ntp", "update-server", NULL
	};

	if (!invariant_rule_touches(p, r, p->z_mynumber, true) || r->to == p->z_mynumber ||
	    invariant_rule_touches(p, r, p->z_internet, false))
		return;   /* toward the internet I1 has said it all */
	for (int i = 0; i < r->ndst; i++)
		if (r->dst[i].host < 0) {
			diags_add_at(d, DIAG_ERROR, r->file, r->line, "rule '%s' accepts mynumber → %s to "
			    "a bare network; name the destination hosts (hosts = ...)", r->name,
			    policy_zone_name(p, r->to));
			return;
		}
	if (r->ndst == 0) {
		diags_add_at(d, DIAG_ERROR, r->file, r->line, "rule '%s' accepts mynumber → %s to any "
		    "address; name the destination hosts (hosts = ...)", r->name, policy_zone_name(p, r->to));
		return;
	}
	inv_dst_roles(p, r, expected, "mynumber traffic",
	    "intermediate-server, dns, ntp or update-server", DIAG_WARNING, d);
}

/* I7: into mynumber only from named hosts (a warning: sites differ). */
static void
inv_mynumber_in(const struct policy *p, const struct prule *r, struct diags *d)
{
	if (!invariant_rule_touches(p, r, p->z_mynumber, false) || r->from == p->z_mynumber ||
	    invariant_rule_touches(p, r, p->z_internet, true))
		return;
	for (int i = 0; i < r->nsrc || r->nsrc == 0; i++)
		if (r->nsrc == 0 || r->src[i].host < 0) {
			diags_add_at(d, DIAG_WARNING, r->file, r->line, "rule '%s' accepts %s → mynumber "
			    "from unnamed sources; name the source hosts", r->name, policy_zone_name(p, r->from));
			return;
		}
}

/* I4-I6: the model's doors between internet and LGWAN. */
static void
inv_model(const struct policy *p, const struct prule *r, struct diags *d)
{
	static const char *const alpha_in[] = { "sanitizer", "bridge", NULL };
	static const char *const alpha_out[] = { "screen-transfer", "mail", "sanitizer", NULL };
	static const char *const beta_in[] = { "screen-transfer", "sanitizer", "bridge", NULL };
	int lg = policy_zone_by_name(p, "lgwan"), net = p->z_internet;
	bool in = invariant_rule_touches(p, r, net, true) && invariant_rule_touches(p, r, lg, false);
	bool out = invariant_rule_touches(p, r, lg, true) && invariant_rule_touches(p, r, net, false);

	bool alpha_like = p->model == MODEL_ALPHA || p->model == MODEL_ALPHA_PRIME;

	if (alpha_like && in)
		inv_dst_roles(p, r, alpha_in, "internet → lgwan (α)", "sanitizer or bridge", DIAG_ERROR, d);
	if (p->model == MODEL_ALPHA && out)
		inv_dst_roles(p, r, alpha_out, "lgwan → internet (α)", "screen-transfer, mail or sanitizer",
		    DIAG_ERROR, d);
	if (p->model == MODEL_ALPHA_PRIME && out)
		invariant_alpha_prime_out(p, r, d);
	if (!alpha_like && in)
		inv_dst_roles(p, r, beta_in, p->model == MODEL_BETA ? "internet → lgwan (β)" :
		    "internet → lgwan (β′)", "screen-transfer, sanitizer or bridge", DIAG_ERROR, d);
}

/* A rule whose src (dst) lies wholly outside its from (to) zone can never match: a typo, most likely. */
static void
inv_addrs_in_zone(const struct policy *p, const struct prule *r, bool src_side, struct diags *d)
{
	int zone = src_side ? r->from : r->to;
	const struct paddr *v = src_side ? r->src : r->dst;
	int n = src_side ? r->nsrc : r->ndst;

	if (zone < 0)
		return;
	for (int i = 0; i < n; i++) {
		char text[64];
		if (zone_may_hold(p, zone, &v[i].net))
			continue;
		prefix_format(&v[i].net, text, sizeof text);
		diags_add_at(d, DIAG_WARNING, r->file, r->line, "rule '%s': %s %s%s%s is not in zone '%s' "
		    "(that part of the rule never matches)", r->name, src_side ? "src" : "dst",
		    v[i].host >= 0 ? p->hosts[v[i].host].name : text, v[i].host >= 0 ? " = " : "",
		    v[i].host >= 0 ? text : "", p->zones[zone].name);
	}
}

/* The three zones of the guideline: without them the invariants have nothing to hold on to. */
static void
inv_core_zones(const struct policy *p, struct diags *d)
{
	static const char *const core[] = { "mynumber", "lgwan", "internet" };

	if (p->nzones == 0)
		return;
	for (size_t i = 0; i < sizeof core / sizeof core[0]; i++)
		if (policy_zone_by_name(p, core[i]) == ZONE_NONE)
			diags_add_at(d, DIAG_WARNING, p->zones[0].file, p->zones[0].line,
			    "no zone '%s': the guideline's checks involving it are skipped", core[i]);
}

void
invariant_check(const struct policy *p, struct diags *d)
{
	inv_core_zones(p, d);
	for (int i = 0; i < p->nrules; i++) {
		inv_addrs_in_zone(p, &p->rules[i], true, d);
		inv_addrs_in_zone(p, &p->rules[i], false, d);
	}
	for (int i = 0; i < p->nrules; i++) {
		const struct prule *r = &p->rules[i];
		if (r->action != ACT_ACCEPT || inv_is_ignored(r))
			continue;
		inv_mynumber_internet(p, r, d);
		inv_mynumber_general(p, r, d);
		inv_mynumber_out(p, r, d);
		inv_mynumber_in(p, r, d);
		inv_model(p, r, d);
	}
}

/* ---- shadowing ------------------------------------------------------------ */

static bool
inv_zone_covers(int outer, int inner)
{
	return outer == ZONE_ANY || outer == inner;
}

static bool
inv_addrs_cover(const struct paddr *outer, int nouter, const struct paddr *inner, int ninner)
{
	if (nouter == 0)
		return true;
	if (ninner == 0)
		return false;
	for (int i = 0; i < ninner; i++) {
		int k;
		for (k = 0; k < nouter && !prefix_covers(&outer[k].net, &inner[i].net); k++)
			;
		if (k == nouter)
			return false;
	}
	return true;
}

/* Outer's ranges are merged and disjoint, so each inner range must sit inside one of them. */
static bool
inv_ports_cover(const struct prule *outer, const struct prule *inner)
{
	if (outer->nports == 0)
		return true;
	if (inner->nports == 0)
		return false;
	for (int i = 0; i < inner->nports; i++) {
		int k;
		for (k = 0; k < outer->nports; k++)
			if (inner->ports[i].lo >= outer->ports[k].lo && inner->ports[i].hi <= outer->ports[k].hi)
				break;
		if (k == outer->nports)
			return false;
	}
	return true;
}

static bool
inv_apps_cover(const struct prule *outer, const struct prule *inner)
{
	if (outer->napps == 0)
		return true;
	if (inner->napps == 0)
		return false;
	for (int i = 0; i < inner->napps; i++) {
		int k;
		for (k = 0; k < outer->napps && outer->apps[k] != inner->apps[i]; k++)
			;
		if (k == outer->napps)
			return false;
	}
	return true;
}

/* True when every flow inner matches is matched by outer (so, if outer is earlier, inner never is). */
bool
invariant_rule_covers(const struct prule *outer, const struct prule *inner)
{
	return outer->names == NULL &&   /* a rule with names leaves other names to later rules */
	    inv_zone_covers(outer->from, inner->from) && inv_zone_covers(outer->to, inner->to) &&
	    (outer->proto == RP_ANY || outer->proto == inner->proto) &&
	    inv_ports_cover(outer, inner) && inv_apps_cover(outer, inner) &&
	    inv_addrs_cover(outer->src, outer->nsrc, inner->src, inner->nsrc) &&
	    inv_addrs_cover(outer->dst, outer->ndst, inner->dst, inner->ndst);
}

void
invariant_shadowing(const struct policy *p, struct diags *d)
{
	for (int j = 1; j < p->nrules; j++) {
		const struct prule *r = &p->rules[j];
		if (inv_is_ignored(r))
			continue;
		for (int i = 0; i < j; i++) {
			const struct prule *e = &p->rules[i];
			if (inv_is_ignored(e) || !invariant_rule_covers(e, r))
				continue;
			diags_add_at(d, DIAG_WARNING, r->file, r->line,
			    "rule '%s' is shadowed by rule '%s' (%s:%d) and never matches",
			    r->name, e->name, e->file, e->line);
			break;
		}
	}
}

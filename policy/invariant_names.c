/* invariant_names.c -- the α′ model's door from LGWAN to the internet: named cloud services only. */
#include <string.h>
#include <strings.h>

#include "policy/internal.h"

/*
 * α′ (総務省ガイドライン, 2024-10 revision): business terminals stay in LGWAN and
 * reach a few cloud services directly (local breakout), destinations strictly
 * limited. So an accept from lgwan to internet must be one of: a rule with
 * server names over TLS/QUIC, DNS to the site's resolvers (hosts with role
 * dns), or one of α's doors (screen transfer, mail relay, sanitizer).
 */

static bool
invn_host_role(const struct policy *p, const struct paddr *a, const char *const *roles)
{
	if (a->host < 0)
		return false;
	for (int i = 0; i < p->hosts[a->host].nroles; i++)
		for (int k = 0; roles[k]; k++)
			if (strcmp(p->hosts[a->host].roles[i], roles[k]) == 0)
				return true;
	return false;
}

static bool
invn_all_dst_roles(const struct policy *p, const struct prule *r, const char *const *roles)
{
	if (r->ndst == 0)
		return false;
	for (int i = 0; i < r->ndst; i++)
		if (!invn_host_role(p, &r->dst[i], roles))
			return false;
	return true;
}

static bool
invn_apps_only(const struct policy *p, const struct prule *r, const char *const *apps)
{
	if (r->napps == 0)
		return false;
	for (int k = 0; k < r->napps; k++) {
		int i;
		for (i = 0; apps[i] && strcasecmp(p->apps[r->apps[k]], apps[i]) != 0; i++)
			;
		if (apps[i] == NULL)
			return false;
	}
	return true;
}

static bool
invn_dns_only(const struct policy *p, const struct prule *r)
{
	static const char *const dns_app[] = { "DNS", NULL };

	if (invn_apps_only(p, r, dns_app))
		return true;
	if (r->napps > 0 || (r->proto != RP_UDP && r->proto != RP_TCP) || r->nports == 0)
		return false;
	for (int i = 0; i < r->nports; i++)
		if (r->ports[i].lo != 53 || r->ports[i].hi != 53)
			return false;
	return true;
}

static void
invn_named(const struct policy *p, const struct prule *r, struct diags *d)
{
	static const char *const breakout_apps[] = { "TLS", "QUIC", NULL };

	if (!invn_apps_only(p, r, breakout_apps))
		diags_add_at(d, DIAG_ERROR, r->file, r->line, "rule '%s' accepts lgwan → internet by server "
		    "name (α′) without app = [ \"TLS\", \"QUIC\" ]: names are verified only for TLS and QUIC "
		    "there", r->name);
	if (!r->bind_dns)
		diags_add_at(d, DIAG_WARNING, r->file, r->line, "rule '%s': bind_names_to_dns = false: a "
		    "client that forges the SNI reaches any address on these ports", r->name);
}

/* A door α′ allows from LGWAN to the internet without a relay: a named service over TLS/QUIC, or DNS to a resolver. */
bool
invariant_alpha_prime_exit(const struct policy *p, const struct prule *r)
{
	static const char *const breakout_apps[] = { "TLS", "QUIC", NULL };
	static const char *const resolvers[] = { "dns", NULL };

	if (p->model != MODEL_ALPHA_PRIME)
		return false;
	if (r->names != NULL)
		return invn_apps_only(p, r, breakout_apps);
	return invn_all_dst_roles(p, r, resolvers) && invn_dns_only(p, r);
}

void
invariant_alpha_prime_out(const struct policy *p, const struct prule *r, struct diags *d)
{
	static const char *const alpha_doors[] = { "screen-transfer", "mail", "sanitizer", NULL };
	static const char *const resolvers[] = { "dns", NULL };

	if (invn_all_dst_roles(p, r, alpha_doors))
		return;
	if (r->names != NULL) {
		invn_named(p, r, d);
		return;
	}
	if (invn_all_dst_roles(p, r, resolvers) && invn_dns_only(p, r))
		return;
	diags_add_at(d, DIAG_ERROR, r->file, r->line, "rule '%s' accepts lgwan → internet (α′) without "
	    "names: only TLS/QUIC to named services (names = [ ... ]), DNS to hosts with role dns, or "
	    "hosts with role screen-transfer, mail or sanitizer", r->name);
}

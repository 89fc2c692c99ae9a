/* paths.c -- path analysis: chains of accept rules through relay hosts, checked end to end (三層分離). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"
#include "policy/internal.h"

/*
 * The graph: an accept rule is an edge from the addresses its from/src allow
 * to the addresses its to/dst allow, carrying its protocol and applications.
 * Traffic goes on from where it arrives only at a host with a relay role, and
 * such a host passes on only what the role is for (paths_roles below; the
 * table with the guideline's sections is in conf/README.md, "Paths"). Any
 * other address is an end point. A sanitizer or screen-transfer hop cleans a
 * path; arriving on such a host with nothing but what it is for cleans it too.
 *
 * Checks: no path mynumber ⇝ internet or internet ⇝ mynumber at all; no path
 * internet ⇝ lgwan or lgwan ⇝ internet that is not clean; no relay host with
 * an unrestricted accept on both sides. A search is a breadth-first walk over
 * (relay host, role it passes as, clean so far): shortest chains first.
 */

static const char *const paths_mail_files[] = { "SMTP", "SMTPS", "HTTP", "TLS", NULL };
static const char *const paths_screen[] = { "RDP", "VNC", NULL };
static const char *const paths_tunnel[] = { "TLS", NULL };
static const char *const paths_bridge_out[] = { "RDP", "VNC", "TLS", NULL };
static const char *const paths_web[] = { "HTTP", "HTTP_Proxy", "TLS", NULL };
static const char *const paths_cloud[] = { "HTTP", "HTTP_Proxy", "TLS", "SMTP", "SMTPS", "DNS", NULL };

const struct paths_role paths_roles[PATHS_NROLES] = {
	{ "sanitizer", true, paths_mail_files, paths_mail_files },
	{ "screen-transfer", true, paths_screen, NULL },
	{ "bridge", false, paths_tunnel, paths_bridge_out },
	{ "proxy", false, paths_web, paths_web },
	{ "security-cloud", false, paths_cloud, paths_cloud },
};

int
paths_role_of(const char *name)
{
	for (int k = 0; k < PATHS_NROLES; k++)
		if (strcmp(paths_roles[k].name, name) == 0)
			return k;
	return -1;
}

bool
paths_host_has_role(const struct phost *h, int role)
{
	for (int i = 0; i < h->nroles; i++)
		if (strcmp(h->roles[i], paths_roles[role].name) == 0)
			return true;
	return false;
}

/* Can r carry something in apps (NULL: anything)? ICMP carries no application a relay passes. */
bool
paths_carries(const struct policy *p, const struct prule *r, const char *const *apps)
{
	if (r->proto == RP_ICMP)
		return false;
	if (apps == NULL || r->napps == 0)
		return true;
	for (int i = 0; i < r->napps; i++)
		for (int k = 0; apps[k]; k++)
			if (strcasecmp(p->apps[r->apps[i]], apps[k]) == 0)
				return true;
	return false;
}

static bool
paths_listed(const char *const *apps, const char *name)
{
	if (apps == NULL)
		return true;
	for (int k = 0; apps[k]; k++)
		if (strcasecmp(apps[k], name) == 0)
			return true;
	return false;
}

/*
 * Can r, carrying only what via lets through (NULL: anything), bring something
 * in (NULL: anything)? A relay passes on its out list, the next takes its in list.
 */
static bool
paths_carries_via(const struct policy *p, const struct prule *r, const char *const *via,
    const char *const *in)
{
	if (r->proto == RP_ICMP)
		return false;
	if (r->napps > 0) {
		for (int i = 0; i < r->napps; i++)
			if (paths_listed(via, p->apps[r->apps[i]]) && paths_listed(in, p->apps[r->apps[i]]))
				return true;
		return false;
	}
	if (via == NULL || in == NULL)
		return true;
	for (int k = 0; via[k]; k++)
		if (paths_listed(in, via[k]))
			return true;
	return false;
}

/* Does r carry nothing but what apps names? */
static bool
paths_carries_only(const struct policy *p, const struct prule *r, const char *const *apps)
{
	if (r->proto == RP_ICMP)
		return false;
	if (apps == NULL)
		return true;
	if (r->napps == 0)
		return false;
	for (int i = 0; i < r->napps; i++) {
		int k;
		for (k = 0; apps[k] && strcasecmp(p->apps[r->apps[i]], apps[k]) != 0; k++)
			;
		if (apps[k] == NULL)
			return false;
	}
	return true;
}

/*
 * Can r's source (src_side) or destination hold an address of zone? Like
 * invariant_rule_touches, but a rule whose addresses all lie outside its own
 * zone never matches, so it opens no path.
 */
bool
paths_rule_touches(const struct policy *p, const struct prule *r, int zone, bool src_side)
{
	int ref = src_side ? r->from : r->to;
	const struct paddr *v = src_side ? r->src : r->dst;
	int n = src_side ? r->nsrc : r->ndst;

	if (zone < 0 || (ref != ZONE_ANY && ref != zone))
		return false;
	if (n == 0)
		return p->zones[zone].nnets > 0 || p->zones[zone].nifs > 0;
	for (int i = 0; i < n; i++)
		if (zone_may_hold(p, zone, &v[i].net))
			return true;
	return false;
}

static bool
paths_overlap(const struct prefix *a, const struct prefix *b)
{
	return prefix_covers(a, b) || prefix_covers(b, a);
}

/* May r's source (src_side) or destination side hold host h's addresses? */
bool
paths_rule_at_host(const struct policy *p, const struct prule *r, const struct phost *h, bool src_side)
{
	int zone = src_side ? r->from : r->to;
	const struct paddr *v = src_side ? r->src : r->dst;
	int n = src_side ? r->nsrc : r->ndst;

	if (zone == ZONE_MISSING || (zone != ZONE_ANY && !zone_may_hold(p, zone, &h->net)))
		return false;
	if (n == 0)
		return true;
	for (int i = 0; i < n; i++)
		if (paths_overlap(&v[i].net, &h->net))
			return true;
	return false;
}

/*
 * Does r arrive in zone only on cleaning hosts, carrying nothing but what
 * they are for? (Then the crossing is the hop: e.g. RDP onto the LGWAN VDI.)
 */
static bool
paths_clean_arrival(const struct policy *p, const struct prule *r, int zone)
{
	if (r->ndst == 0)
		return false;
	for (int i = 0; i < r->ndst; i++) {
		bool ok = false;
		if (!zone_may_hold(p, zone, &r->dst[i].net))
			continue;   /* never arrives in zone */
		for (int h = 0; h < p->nhosts && !ok; h++) {
			if (!prefix_covers(&p->hosts[h].net, &r->dst[i].net))
				continue;
			for (int k = 0; k < PATHS_NROLES && !ok; k++)
				ok = paths_roles[k].cleans && paths_host_has_role(&p->hosts[h], k) &&
				    paths_carries_only(p, r, paths_roles[k].in);
		}
		if (!ok)
			return false;
	}
	return true;
}

/* ---- the search ----------------------------------------------------------- */

struct paths_state {
	int host, role;
	bool clean;
	int parent;           /* state index, -1 from the origin */
	int rule;             /* the rule that arrived here */
};

struct paths_search {
	const struct policy *p;
	int from, to;
	struct paths_state *st;
	int nst;
	int *index;           /* (host, role, clean) -> state index or -1 */
	bool *seen_end;       /* (rule, clean) already reported */
	paths_fn fn;
	void *arg;
};

static int
paths_slot(int host, int role, bool clean)
{
	return (host * PATHS_NROLES + role) * 2 + clean;
}

static void
paths_emit(struct paths_search *s, int parent, int rule, bool clean)
{
	struct paths_chain c;
	int n = 1;

	for (int i = parent; i >= 0; i = s->st[i].parent)
		n++;
	c.nrules = n;
	c.rules = xcalloc((size_t)n, sizeof *c.rules);
	c.hosts = xcalloc((size_t)n, sizeof *c.hosts);
	c.roles = xcalloc((size_t)n, sizeof *c.roles);
	c.rules[n - 1] = rule;
	c.hosts[n - 1] = c.roles[n - 1] = -1;
	for (int i = parent, k = n - 2; i >= 0; i = s->st[i].parent, k--) {
		c.rules[k] = s->st[i].rule;
		c.hosts[k] = s->st[i].host;
		c.roles[k] = s->st[i].role;
	}
	c.clean = clean;
	s->fn(s->p, &c, s->arg);
	free(c.rules);
	free(c.hosts);
	free(c.roles);
}

/*
 * r has just been taken, carrying what via lets through, with the path clean
 * so far or not: does it end in s->to? Which relays does it feed?
 */
static void
paths_step(struct paths_search *s, int parent, const struct prule *r, const char *const *via, bool clean)
{
	const struct policy *p = s->p;
	int ri = (int)(r - p->rules);

	if (paths_rule_touches(p, r, s->to, false)) {
		bool end_clean = clean || paths_clean_arrival(p, r, s->to);
		if (!s->seen_end[ri * 2 + end_clean]) {
			s->seen_end[ri * 2 + end_clean] = true;
			paths_emit(s, parent, ri, end_clean);
		}
	}
	for (int h = 0; h < p->nhosts; h++) {
		if (!paths_rule_at_host(p, r, &p->hosts[h], false))
			continue;
		for (int k = 0; k < PATHS_NROLES; k++) {
			int slot = paths_slot(h, k, clean);
			if (!paths_host_has_role(&p->hosts[h], k) || !paths_carries_via(p, r, via, paths_roles[k].in) ||
			    s->index[slot] >= 0)
				continue;
			s->index[slot] = s->nst;
			s->st[s->nst++] = (struct paths_state){ h, k, clean, parent, ri };
		}
	}
}

static bool
paths_usable(const struct prule *r)
{
	return r->action == ACT_ACCEPT && r->from != ZONE_MISSING && r->to != ZONE_MISSING;
}

void
paths_find(const struct policy *p, int from, int to, paths_fn fn, void *arg)
{
	struct paths_search s = { p, from, to, NULL, 0, NULL, NULL, fn, arg };
	size_t nslots = (size_t)(p->nhosts > 0 ? p->nhosts : 1) * PATHS_NROLES * 2;

	if (from < 0 || to < 0)
		return;
	s.st = xcalloc(nslots, sizeof *s.st);
	s.index = xmalloc(nslots * sizeof *s.index);
	for (size_t i = 0; i < nslots; i++)
		s.index[i] = -1;
	s.seen_end = xcalloc((size_t)p->nrules * 2 + 1, sizeof *s.seen_end);
	for (int i = 0; i < p->nrules; i++)
		if (paths_usable(&p->rules[i]) && paths_rule_touches(p, &p->rules[i], from, true))
			paths_step(&s, -1, &p->rules[i], NULL, false);
	for (int q = 0; q < s.nst; q++) {
		const struct paths_state cur = s.st[q];
		const struct paths_role *role = &paths_roles[cur.role];
		for (int i = 0; i < p->nrules; i++) {
			const struct prule *r = &p->rules[i];
			if (paths_usable(r) && paths_rule_at_host(p, r, &p->hosts[cur.host], true) &&
			    paths_carries(p, r, role->out))
				paths_step(&s, q, r, role->out, cur.clean || role->cleans);
		}
	}
	free(s.st);
	free(s.index);
	free(s.seen_end);
}

/* ---- the checks on load --------------------------------------------------- */

void
paths_format(const struct policy *p, const struct paths_chain *c, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < c->nrules; i++) {
		const struct prule *r = &p->rules[c->rules[i]];
		int n = snprintf(buf + used, size - used, "%srule '%s' (%s:%d)", i ? " → " : "",
		    r->name, r->file, r->line);
		if (n < 0 || (size_t)n >= size - used)
			return;
		used += (size_t)n;
		if (c->hosts[i] < 0)
			continue;
		n = snprintf(buf + used, size - used, " → host '%s' (%s)", p->hosts[c->hosts[i]].name,
		    paths_roles[c->roles[i]].name);
		if (n < 0 || (size_t)n >= size - used)
			return;
		used += (size_t)n;
	}
}

struct paths_check {
	struct diags *d;
	const char *from, *to;
	bool never;           /* mynumber <-> internet: no path at all */
	int reported;
};

#define PATHS_REPORT_MAX 8   /* per zone pair; the rest are counted */

static bool
paths_already_refused(const struct diags *d, const struct prule *r)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].severity == DIAG_ERROR && d->v[i].line == r->line && d->v[i].file &&
		    strcmp(d->v[i].file, r->file) == 0)
			return true;
	return false;
}

static void
paths_check_one(const struct policy *p, const struct paths_chain *c, void *arg)
{
	struct paths_check *pc = arg;
	const struct prule *first = &p->rules[c->rules[0]];
	char chain[2048];

	if (!pc->never && c->clean)
		return;
	if (!pc->never && strcmp(pc->from, "lgwan") == 0 &&
	    invariant_alpha_prime_exit(p, &p->rules[c->rules[c->nrules - 1]]))
		return;   /* α′: the path leaves by a named exit (names over TLS/QUIC, or DNS to a resolver) */
	if (c->nrules == 1 && paths_already_refused(pc->d, first))
		return;   /* the rule's own invariant (I1, I4-I6) has said it */
	if (++pc->reported > PATHS_REPORT_MAX)
		return;
	paths_format(p, c, chain, sizeof chain);
	if (pc->never)
		diags_add_at(pc->d, DIAG_ERROR, first->file, first->line, "path %s ⇝ %s: %s → %s; "
		    "the two never connect, over any number of hops (三層分離)", pc->from, pc->to, chain,
		    pc->to);
	else
		diags_add_at(pc->d, DIAG_ERROR, first->file, first->line, "path %s ⇝ %s with no sanitizer "
		    "or screen-transfer hop: %s → %s", pc->from, pc->to, chain, pc->to);
}

static void
paths_check_pair(const struct policy *p, const char *from, const char *to, bool never, struct diags *d)
{
	struct paths_check pc = { d, from, to, never, 0 };
	int a = policy_zone_by_name(p, from), b = policy_zone_by_name(p, to);

	if (a == ZONE_NONE || b == ZONE_NONE)
		return;
	paths_find(p, a, b, paths_check_one, &pc);
	if (pc.reported > PATHS_REPORT_MAX)
		diags_add_at(d, DIAG_ERROR, p->source, 1, "%d more paths %s ⇝ %s (tiergate-policy paths "
		    "FILE --from %s --to %s lists them)", pc.reported - PATHS_REPORT_MAX, from, to, from, to);
}

/* Accepts every service: no protocol narrower than tcp/udp, no port, no application. */
static bool
paths_wide_open(const struct prule *r)
{
	return r->proto != RP_ICMP && r->nports == 0 && r->napps == 0;
}

/* A relay with unrestricted accepts on both sides passes anything, whatever its role says. */
static void
paths_check_open_relays(const struct policy *p, struct diags *d)
{
	for (int h = 0; h < p->nhosts; h++) {
		const struct phost *host = &p->hosts[h];
		const struct prule *in = NULL, *out = NULL;
		int k;
		for (k = 0; k < PATHS_NROLES && !paths_host_has_role(host, k); k++)
			;
		if (k == PATHS_NROLES)
			continue;
		for (int i = 0; i < p->nrules; i++) {
			const struct prule *r = &p->rules[i];
			if (!paths_usable(r) || !paths_wide_open(r))
				continue;
			if (in == NULL && paths_rule_at_host(p, r, host, false))
				in = r;
			if (out == NULL && paths_rule_at_host(p, r, host, true))
				out = r;
		}
		if (in && out)
			diags_add_at(d, DIAG_ERROR, host->file, host->line, "relay host '%s' accepts any "
			    "service in (rule '%s', %s:%d) and out (rule '%s', %s:%d): it would pass on "
			    "anything; restrict both to what its role is for", host->name, in->name, in->file,
			    in->line, out->name, out->file, out->line);
	}
}

void
paths_check(const struct policy *p, struct diags *d)
{
	paths_check_open_relays(p, d);
	paths_check_pair(p, "mynumber", "internet", true, d);
	paths_check_pair(p, "internet", "mynumber", true, d);
	paths_check_pair(p, "internet", "lgwan", false, d);
	paths_check_pair(p, "lgwan", "internet", false, d);
}

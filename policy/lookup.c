/* lookup.c -- flow -> verdict: the indexed lookup gw calls, and the plain scan the tests compare it with. */
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "policy/internal.h"

static const char lookup_reason_default[] = "no rule matched: the default action (defaults.action)";
static const char lookup_reason_unknown[] =
    "the rule needed an application nDPI could not name: defaults.unknown_app";
static const char lookup_reason_invariant[] =
    "mynumber and internet never connect (三層分離), whatever the rules say";

enum walk_mode { WALK_PENDING, WALK_APP };

/* The first-match decision, fed the rules whose addresses, ports and zones match, in order. */
struct walk {
	const struct policy *p;
	const struct policy_flow *flow;
	enum walk_mode mode;
	int ids[3];           /* the flow's application in the policy's app table */
	int nids;
	bool skipped;         /* a rule naming other applications matched the tuple */
	bool unknown;         /* nDPI gave up on the flow */
	bool waiting;         /* pending: a rule needing nDPI matched; looking on only for names rules */
	int name_skip;        /* the first names rule that did not match the name, -1 none */
	enum name_cause name_cause;
	bool query_done;
	struct name_query query;   /* the flow's server name, prepared once */
	struct policy_verdict *out;
};

static void
walk_init(struct walk *w, const struct policy *p, const struct policy_flow *flow, const char *app,
    struct policy_verdict *out)
{
	w->p = p;
	w->flow = flow;
	w->out = out;
	w->skipped = false;
	w->waiting = false;
	w->name_skip = -1;
	w->query_done = false;
	out->name_list = POLICY_NAME_NONE;
	w->unknown = app != APP_PENDING && strcasecmp(app, APP_UNKNOWN) == 0;
	w->nids = 0;
	w->mode = app == APP_PENDING ? WALK_PENDING : WALK_APP;
	if (app != APP_PENDING)
		w->nids = apps_resolve(p, app, w->ids);
}

static bool
walk_app_listed(const struct walk *w, const struct prule *r)
{
	for (int i = 0; i < w->nids; i++)
		for (int k = 0; k < r->napps; k++)
			if (r->apps[k] == w->ids[i])
				return true;
	return false;
}

static void
walk_take(struct walk *w, int idx, bool final)
{
	const struct prule *r = &w->p->rules[idx];

	w->out->rule = idx;
	w->out->basis = POLICY_BASIS_RULE;
	w->out->rule_name = r->name;
	w->out->log = r->log;
	w->out->final = final;
	w->out->action = final ? r->action : ACT_ACCEPT;
	w->out->reason = final ? r->reason : r->wait_reason;
}

/* A names rule against the flow's name: -1 when it matches (list id in *list), else the cause. */
static int
walk_name_cause(struct walk *w, const struct prule *r, int *list)
{
	const struct policy_flow *f = w->flow;

	switch (f->name_state) {
	case NAME_NONE: return NC_NO_NAME;
	case NAME_ENCRYPTED: return NC_ENCRYPTED;
	case NAME_CUT: return NC_CUT;
	case NAME_KNOWN: break;
	}
	if (f->server_name == NULL)
		return NC_NO_NAME;
	if (!w->query_done) {
		names_query_init(&w->query, f->server_name);
		w->query_done = true;
	}
	if ((*list = names_match(r->names, &w->query)) == NAMES_NO_MATCH)
		return NC_NOT_LISTED;
	if (r->bind_dns && (f->name_bound == NULL ||
	    !f->name_bound(f->name_bound_arg, w->query.name, &f->dst)))
		return NC_NOT_BOUND;
	return -1;
}

/* The application is known: does the rule take the flow? */
static bool
walk_step_known(struct walk *w, int idx)
{
	const struct prule *r = &w->p->rules[idx];
	int cause, list = POLICY_NAME_NONE;

	if (r->napps > 0 && !walk_app_listed(w, r)) {
		w->skipped = true;
		return false;
	}
	if (r->names != NULL && (cause = walk_name_cause(w, r, &list)) >= 0) {
		if (w->name_skip < 0) {
			w->name_skip = idx;
			w->name_cause = (enum name_cause)cause;
		}
		w->skipped = true;
		return false;
	}
	walk_take(w, idx, true);
	w->out->name_list = list;
	return true;
}

/*
 * Returns true when rule idx decides the flow. While the application is
 * pending, the first rule that needs nDPI sets the waiting verdict, and the
 * walk goes on only to see whether a rule with names could still match: then
 * the flow is held (no payload passes before its name is known and matched).
 */
static bool
walk_step(struct walk *w, int idx)
{
	const struct prule *r = &w->p->rules[idx];
	bool needs_dpi = r->napps > 0 || r->names != NULL;

	if (w->mode == WALK_APP)
		return walk_step_known(w, idx);
	if (!needs_dpi) {
		if (!w->waiting)
			walk_take(w, idx, true);
		return true;
	}
	if (!w->waiting)
		walk_take(w, idx, false);   /* accept while nDPI looks; the final verdict comes later */
	w->waiting = true;
	if (r->names != NULL)
		w->out->hold = true;
	return false;
}

static void
walk_finish(struct walk *w)
{
	const struct policy *p = w->p;

	if (w->waiting)
		return;   /* the waiting verdict stands */
	w->out->rule = -1;
	w->out->final = true;
	w->out->log = p->def_log;
	w->out->action = p->def_action;
	w->out->basis = POLICY_BASIS_DEFAULT;
	w->out->rule_name = "default";
	w->out->reason = lookup_reason_default;
	if (w->name_skip >= 0)
		w->out->reason = p->rules[w->name_skip].name_reason[w->name_cause];
	if (w->unknown && w->skipped) {
		w->out->action = p->unknown_app;
		w->out->basis = POLICY_BASIS_UNKNOWN_APP;
		w->out->rule_name = "unknown-app";
		w->out->reason = lookup_reason_unknown;
	}
}

/* Sets the zones; returns false (verdict written) when mynumber meets internet. */
static bool
lookup_begin(const struct policy *p, const struct policy_flow *flow, struct policy_verdict *out)
{
	memset(out, 0, sizeof *out);
	out->name_list = POLICY_NAME_NONE;
	out->src_zone = policy_zone_of(p, &flow->src, flow->in_if);
	out->dst_zone = policy_zone_of(p, &flow->dst, flow->out_if);
	if (p->z_mynumber >= 0 && p->z_internet >= 0 &&
	    ((out->src_zone == p->z_mynumber && out->dst_zone == p->z_internet) ||
	    (out->src_zone == p->z_internet && out->dst_zone == p->z_mynumber))) {
		out->action = ACT_DROP;
		out->final = true;
		out->log = true;
		out->rule = -1;
		out->basis = POLICY_BASIS_INVARIANT;
		out->rule_name = "invariant:mynumber-internet";
		out->reason = lookup_reason_invariant;
		return false;
	}
	return true;
}

static bool
lookup_addr_in(const struct paddr *v, int n, const struct addr *a)
{
	if (n == 0)
		return true;
	for (int i = 0; i < n; i++)
		if (!v[i].asp_off && prefix_contains(&v[i].net, a))
			return true;
	return false;   /* also when every entry is an ASP that has not passed: nothing matches */
}

static bool
lookup_addrs(const struct prule *r, const struct policy_flow *flow)
{
	return lookup_addr_in(r->dst, r->ndst, &flow->dst) && lookup_addr_in(r->src, r->nsrc, &flow->src);
}

static const struct cinterval *
lookup_interval(const struct cindex *ci, const struct cbucket *b, uint16_t port)
{
	uint32_t lo = b->off, hi = b->off + b->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct cinterval *iv = &ci->ivs[mid];
		if (port < iv->lo)
			hi = mid;
		else if (port > iv->hi)
			lo = mid + 1;
		else
			return iv;
	}
	return NULL;
}

static int
lookup_slot(const struct policy *p, int zone)
{
	return zone == ZONE_NONE ? p->nzones : zone;
}

void
policy_lookup(const struct policy *p, const struct policy_flow *flow, const char *app,
    struct policy_verdict *out)
{
	const struct cindex *ci = &p->cindex;
	const struct cbucket *b;
	const struct cinterval *iv;
	struct walk w;
	size_t slot;

	if (!lookup_begin(p, flow, out))
		return;
	walk_init(&w, p, flow, app, out);
	slot = ((size_t)lookup_slot(p, out->src_zone) * (size_t)ci->nslots +
	    (size_t)lookup_slot(p, out->dst_zone)) * PC_COUNT + compile_proto_class(flow->proto);
	b = &ci->buckets[slot];
	iv = b->n ? lookup_interval(ci, b, flow->dport) : NULL;
	for (uint32_t i = 0; iv != NULL && i < iv->n; i++) {
		int idx = ci->cands[iv->off + i];
		if (lookup_addrs(&p->rules[idx], flow) && walk_step(&w, idx))
			return;
	}
	walk_finish(&w);
}

/* ---- the reference scan ------------------------------------------------- */

static bool
lookup_zone_is(int rule_zone, int zone)
{
	return rule_zone == ZONE_ANY || (rule_zone >= 0 && rule_zone == zone);
}

static bool
lookup_proto_is(enum rule_proto rp, uint8_t proto)
{
	switch (rp) {
	case RP_ANY: return true;
	case RP_TCP: return proto == IPPROTO_TCP;
	case RP_UDP: return proto == IPPROTO_UDP;
	case RP_ICMP: return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
	}
	return false;
}

static bool
lookup_port_in(const struct prule *r, uint16_t port)
{
	if (r->nports == 0)
		return true;
	for (int i = 0; i < r->nports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return true;
	return false;
}

bool
lookup_rule_tuple(const struct prule *r, const struct policy_flow *flow, int src_zone, int dst_zone)
{
	return lookup_zone_is(r->from, src_zone) && lookup_zone_is(r->to, dst_zone) &&
	    lookup_proto_is(r->proto, flow->proto) && lookup_port_in(r, flow->dport) &&
	    lookup_addrs(r, flow);
}

void
policy_lookup_linear(const struct policy *p, const struct policy_flow *flow, const char *app,
    struct policy_verdict *out)
{
	struct walk w;

	if (!lookup_begin(p, flow, out))
		return;
	walk_init(&w, p, flow, app, out);
	for (int i = 0; i < p->nrules; i++)
		if (lookup_rule_tuple(&p->rules[i], flow, out->src_zone, out->dst_zone) && walk_step(&w, i))
			return;
	walk_finish(&w);
}

/* reload.c -- a new policy for running flows (cut what it no longer accepts), and the flow listing. */
#include <netinet/in.h>
#include <string.h>

#include "gw/engine_int.h"

const char *
gw_tcp_state_name(enum gw_tcp_state s)
{
	static const char *const names[] = { "none", "syn_sent", "syn_recv", "established",
		"closing", "closed" };

	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

static void
reload_info(struct gw_engine *e, const struct flow *f, struct gw_flow_info *out)
{
	memset(out, 0, sizeof *out);
	out->flow_id = f->id;
	out->src = f->src;
	out->dst = f->dst;
	out->proto = f->proto;
	out->sport = (f->proto == IPPROTO_ICMP || f->proto == IPPROTO_ICMPV6) ? 0 : f->sport;
	out->dport = (f->proto == IPPROTO_ICMP || f->proto == IPPROTO_ICMPV6) ? f->policy_dport : f->dport;
	out->src_zone = flowlog_zone(e, f->src_zone);
	out->dst_zone = flowlog_zone(e, f->dst_zone);
	out->app = flowlog_app(e, f);
	out->rule = f->rule;
	out->reason = f->reason;
	out->server_name = f->name;
	out->verdict = (enum gw_verdict)f->action;
	out->final = f->final;
	out->tcp_state = (enum gw_tcp_state)f->tcp_state;
	out->pkts_toserver = f->pkts[0];
	out->pkts_toclient = f->pkts[1];
	out->bytes_toserver = f->bytes[0];
	out->bytes_toclient = f->bytes[1];
	out->first_us = f->first_us;
	out->last_us = f->last_us;
}

void
gw_engine_flows(struct gw_engine *e, gw_flow_fn fn, void *arg)
{
	struct gw_flow_info info;

	for (uint32_t i = 0; i < e->flows.used_hw; i++) {
		struct flow *f = flow_at(&e->flows, i);
		if (f->id == 0)
			continue;
		reload_info(e, f, &info);
		if (fn(&info, arg))
			return;
	}
}

/* One flow under the new policy: cut, changed, or unchanged. */
static void
reload_flow(struct gw_engine *e, struct flow *f, gw_reload_fn fn, void *arg,
    struct gw_reload_report *rep)
{
	enum policy_action before = f->action;
	const char *prev_rule = f->rule;
	bool was_final = f->final;
	struct gw_flow_info info;

	engine_lookup(e, f);
	if (was_final && !f->final) {
		/* Decided without its application, and now a rule wants it: the bytes that
		 * would name it have passed, so it is judged as "Unknown". */
		f->app = DPI_APP_UNKNOWN;
		engine_lookup(e, f);
	}
	rep->flows++;
	if (before == ACT_ACCEPT && f->action != ACT_ACCEPT) {
		rep->cut++;
		e->c.drops[GW_DROP_CUT]++;
		reload_info(e, f, &info);
		if (fn)
			fn(&info, GW_RELOAD_CUT, arg);
		engine_end_flow(e, f, FLOW_END_CUT);
	} else if (before != f->action) {
		rep->changed++;
		flowlog_verdict(e, f, 0, before, prev_rule, true);
		reload_info(e, f, &info);
		if (fn)
			fn(&info, GW_RELOAD_CHANGED, arg);
	}
}

void
gw_engine_set_policy(struct gw_engine *e, struct policy *policy, uint64_t now_us,
    gw_reload_fn fn, void *arg, struct gw_reload_report *report)
{
	struct policy *old = e->policy;
	struct gw_reload_report rep = { 0, 0, 0 };

	if (now_us > e->now_us)
		e->now_us = now_us;
	e->policy = policy_ref(policy);
	e->binds_names = policy_binds_names(policy);
	if (counters_policy(e) < 0)
		e->zones = 0;   /* out of memory: pair counters lump into one cell */
	for (uint32_t i = 0; i < e->flows.used_hw; i++) {
		struct flow *f = flow_at(&e->flows, i);
		if (f->id)
			reload_flow(e, f, fn, arg, &rep);
	}
	policy_unref(old);
	flowlog_flush(e);
	if (report)
		*report = rep;
}

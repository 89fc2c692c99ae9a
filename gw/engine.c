/* engine.c -- the packet path: decode, fragments, flow, application, policy, verdict. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "gw/dnsbind.h"
#include "gw/engine_int.h"
#include "gw/reply.h"
#include "lib/log.h"
#include "lib/util.h"

#define US 1000000ULL

static void
engine_timeouts(struct gw_engine *e)
{
	const struct gw_config *c = &e->conf;

	e->timeout_us[FLOW_LIST_NEW] = c->timeout_syn * US;
	e->timeout_us[FLOW_LIST_CLOSED] = c->timeout_closed * US;
	e->timeout_us[FLOW_LIST_OTHER] = c->timeout_icmp * US;
	e->timeout_us[FLOW_LIST_UDP] = c->timeout_udp * US;
	e->timeout_us[FLOW_LIST_CLOSING] = c->timeout_closing * US;
	e->timeout_us[FLOW_LIST_ESTABLISHED] = c->timeout_established * US;
}

static uint64_t
engine_seed(void)
{
	uint64_t seed = 0;

	if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != sizeof seed)
		seed = clock_mono_us() * 0x9e3779b97f4a7c15ULL;
	return seed;
}

struct gw_engine *
gw_engine_new(const struct gw_config *conf, struct policy *policy, struct ev_sink *sink)
{
	struct gw_engine *e = calloc(1, sizeof *e);
	uint64_t seed = engine_seed();

	if (e == NULL)
		return NULL;
	e->conf = *conf;
	e->policy = policy_ref(policy);
	e->binds_names = policy_binds_names(policy);
	e->sink = sink;
	e->next_flow_id = 1;
	e->ndpi_size = dpi_flow_size();
	e->dpi = dpi_new();
	e->evbuf = malloc(ENGINE_EVBUF);
	e->dnsbind = conf->dns_names ? dnsbind_new(conf->dns_names, conf->dns_grace) : NULL;
	if (e->dpi == NULL || e->evbuf == NULL || counters_policy(e) < 0 ||
	    (conf->dns_names && e->dnsbind == NULL) ||
	    flow_table_init(&e->flows, conf->max_flows, seed) < 0 ||
	    frag_table_init(&e->frags, conf->frag_max ? conf->frag_max : 1, seed >> 7) < 0) {
		log_warnx("gateway engine: cannot set up (out of memory or nDPI failed)");
		gw_engine_free(e);
		return NULL;
	}
	e->memory_limit = conf->max_memory_mb ? (uint64_t)conf->max_memory_mb << 20 :
	    (uint64_t)conf->max_flows * 1024;
	e->memory_limit += flow_table_overhead(&e->flows) + frag_table_bytes(&e->frags);
	engine_timeouts(e);
	return e;
}

void
gw_engine_set_id(struct gw_engine *e, unsigned index)
{
	e->next_flow_id = ((uint64_t)index << 48) | (e->next_flow_id & ((1ULL << 48) - 1));
}

void
gw_engine_free(struct gw_engine *e)
{
	if (e == NULL)
		return;
	if (e->flows.pool) {
		for (uint32_t i = 0; i < e->flows.used_hw; i++) {
			dpi_flow_free(e->flows.pool[i].dpi);
			free(e->flows.pool[i].name);
		}
	}
	dnsbind_unref(e->dnsbind);
	flow_table_free(&e->flows);
	frag_table_free(&e->frags);
	dpi_free(e->dpi);
	policy_unref(e->policy);
	free(e->pair_slot);
	for (unsigned i = 0; i < e->nif; i++)
		free(e->ifnames[i]);
	jb_free(&e->ev);
	free(e->evbuf);
	free(e);
}

/* Interface names are few: a flow keeps a one-byte index instead of a pointer it cannot own. */
static uint8_t
engine_intern_if(struct gw_engine *e, const char *name)
{
	if (name == NULL)
		return 0;
	for (unsigned i = 0; i < e->nif; i++) {
		if (strcmp(e->ifnames[i], name) == 0)
			return (uint8_t)(i + 1);
	}
	if (e->nif == ENGINE_IF_MAX)
		return 0;
	e->ifnames[e->nif] = strdup(name);
	return e->ifnames[e->nif] ? (uint8_t)(++e->nif) : 0;
}

static const char *
engine_if_name(const struct gw_engine *e, uint8_t index)
{
	return index ? e->ifnames[index - 1] : NULL;
}

static void
engine_dpi_release(struct gw_engine *e, struct flow *f)
{
	if (f->dpi == NULL)
		return;
	dpi_flow_free(f->dpi);
	f->dpi = NULL;
	e->c.ndpi_frees++;
	e->c.ndpi_active--;
	counters_ndpi_heap(e);
}

void
engine_end_flow(struct gw_engine *e, struct flow *f, enum flow_end_reason why)
{
	if (!f->counted) {
		counters_flow_decided(e, f);
		f->counted = 1;
	}
	flowlog_end(e, f, why);
	engine_dpi_release(e, f);
	servername_release(e, f);
	flow_remove(&e->flows, f);
	e->c.flows_ended++;
}

static enum flow_end_reason
engine_closed_reason(const struct flow *f, enum flow_end_reason otherwise)
{
	if (f->tcp_state != GW_TCP_CLOSED)
		return otherwise;
	return f->closed_by_rst ? FLOW_END_RST : FLOW_END_FIN;
}

static bool
engine_expired(const struct gw_engine *e, const struct flow *f, uint64_t now_us)
{
	return f->last_us + e->timeout_us[f->list < FLOW_LISTS ? f->list : 0] <= now_us;
}

static void
engine_expire_lists(struct gw_engine *e, uint64_t now_us)
{
	for (int l = 0; l < FLOW_LISTS; l++) {
		struct flow *f;
		while ((f = flow_oldest(&e->flows, (enum flow_list)l)) && engine_expired(e, f, now_us))
			engine_end_flow(e, f, engine_closed_reason(f, FLOW_END_TIMEOUT));
	}
}

void
gw_engine_expire(struct gw_engine *e, uint64_t now_us)
{
	if (now_us > e->now_us)
		e->now_us = now_us;
	engine_expire_lists(e, e->now_us);
	flowlog_flush(e);
}

void
gw_engine_flush(struct gw_engine *e)
{
	flowlog_flush(e);
}

void
gw_engine_shutdown(struct gw_engine *e, uint64_t now_us)
{
	struct flow *f;

	if (now_us > e->now_us)
		e->now_us = now_us;
	for (int l = 0; l < FLOW_LISTS; l++) {
		while ((f = flow_oldest(&e->flows, (enum flow_list)l)))
			engine_end_flow(e, f, engine_closed_reason(f, FLOW_END_SHUTDOWN));
	}
	for (uint32_t i = 0; i < e->flows.used_hw; i++) {   /* flows never touched */
		if (e->flows.pool[i].id)
			engine_end_flow(e, &e->flows.pool[i], FLOW_END_SHUTDOWN);
	}
	flowlog_flush(e);
}

/* Evicts one flow (never skip); false when nothing can go. */
static bool
engine_evict_one(struct gw_engine *e, const struct flow *skip)
{
	struct flow *victim = flow_victim(&e->flows, skip);

	if (victim == NULL)
		return false;
	engine_end_flow(e, victim, FLOW_END_EVICTED);
	e->c.evictions++;
	return true;
}

static bool
engine_room_for(struct gw_engine *e, size_t bytes, const struct flow *skip)
{
	while (counters_memory(e) + bytes > e->memory_limit) {
		if (!engine_evict_one(e, skip))
			return false;
	}
	return true;
}

static struct flow *
engine_new_flow(struct gw_engine *e, const struct decoded *d, const struct gw_packet *pkt)
{
	struct flow *f;

	if (e->flows.count >= e->flows.capacity)
		engine_expire_lists(e, e->now_us);
	if (!engine_room_for(e, sizeof *f, NULL))
		return NULL;
	f = flow_insert(&e->flows, d);
	if (f == NULL && engine_evict_one(e, NULL))
		f = flow_insert(&e->flows, d);
	if (f == NULL)
		return NULL;
	f->id = e->next_flow_id++;
	f->first_us = f->last_us = pkt->ts_us;
	f->policy_dport = d->is_icmp ? d->icmp_type : d->dport;
	f->in_if = engine_intern_if(e, pkt->in_if);
	f->out_if = engine_intern_if(e, pkt->out_if);
	f->src_zone = f->dst_zone = ZONE_NONE;
	f->name_list = POLICY_NAME_NONE;
	e->c.flows_created++;
	counters_peak(e);
	return f;
}

/*
 * A new SYN on a closed flow, or a packet after the idle timeout, starts a new
 * flow. Idleness is measured on the packet's own time: files replayed one
 * after another need not be in time order.
 */
static bool
engine_flow_is_over(struct gw_engine *e, const struct flow *f, const struct decoded *d, int dir,
    uint64_t ts_us)
{
	if (engine_expired(e, f, ts_us))
		return true;
	return f->tcp_state == GW_TCP_CLOSED && dir == 0 &&
	    (d->tcp_flags & (DECODE_TCP_SYN | DECODE_TCP_ACK)) == DECODE_TCP_SYN;
}

static struct flow *
engine_flow_for(struct gw_engine *e, const struct decoded *d, const struct gw_packet *pkt, int *dir)
{
	struct flow *f = flow_lookup(&e->flows, d, dir);

	if (f && engine_flow_is_over(e, f, d, *dir, pkt->ts_us)) {
		engine_end_flow(e, f, engine_closed_reason(f, FLOW_END_TIMEOUT));
		f = NULL;
	}
	if (f)
		return f;
	*dir = 0;
	return engine_new_flow(e, d, pkt);
}

/* The policy's view of a flow: its first packet's tuple and interfaces. */
static void
engine_policy_flow(const struct gw_engine *e, const struct flow *f, struct policy_flow *pf)
{
	pf->src = f->src;
	pf->dst = f->dst;
	pf->proto = f->proto;
	pf->sport = (f->proto == IPPROTO_ICMP || f->proto == IPPROTO_ICMPV6) ? 0 : f->sport;
	pf->dport = f->policy_dport;
	pf->in_if = engine_if_name(e, f->in_if);
	pf->out_if = engine_if_name(e, f->out_if);
	servername_policy_flow((struct gw_engine *)e, f, pf);
}

static const char *
engine_app_arg(struct gw_engine *e, const struct flow *f)
{
	if (f->app == FLOW_APP_PENDING)
		return APP_PENDING;
	return f->app == DPI_APP_UNKNOWN ? APP_UNKNOWN : dpi_app_name(e->dpi, f->app);
}

/*
 * Looks the flow up in the policy in force; true when verdict or rule changed.
 * Rule names are unique in a policy and f->rule points into the policy in force,
 * so the same rule is the same pointer.
 */
bool
engine_lookup(struct gw_engine *e, struct flow *f)
{
	struct policy_flow pf;
	struct policy_verdict v;
	const char *app = engine_app_arg(e, f);
	bool changed;

	engine_policy_flow(e, f, &pf);
	policy_lookup(e->policy, &pf, app, &v);
	changed = f->rule && (f->action != (uint8_t)v.action || f->rule != v.rule_name);
	f->action = (uint8_t)v.action;
	f->basis = (uint8_t)v.basis;
	f->final = v.final || app != APP_PENDING;
	f->rule = v.rule_name;
	f->reason = v.reason;
	f->log = v.log;
	f->hold = v.hold;
	f->name_list = (int16_t)v.name_list;
	if (v.final && v.action == ACT_ACCEPT && v.name_list != POLICY_NAME_NONE)
		f->name_bound = 1;
	f->src_zone = (int8_t)v.src_zone;
	f->dst_zone = (int8_t)v.dst_zone;
	return changed;
}

/* Reports a verdict: an event, and once final the zone-pair counters; nDPI state goes. */
static void
engine_announce(struct gw_engine *e, struct flow *f, uint64_t pkt_num,
    enum policy_action prev_action, const char *prev_rule, bool changed)
{
	if (f->final) {
		engine_dpi_release(e, f);
		counters_flow_decided(e, f);
		f->counted = 1;
		if (changed && prev_action != f->action)
			e->c.verdict_changes++;
		servername_list_hit(e, f);
	}
	flowlog_verdict(e, f, pkt_num, prev_action, prev_rule, changed);
}

/* The app became known (or will never be): look again and say what changed. */
static void
engine_evaluate(struct gw_engine *e, struct flow *f, uint64_t pkt_num, bool first)
{
	enum policy_action prev_action = f->action;
	const char *prev_rule = f->rule;
	bool changed = engine_lookup(e, f) && !first;

	engine_announce(e, f, pkt_num, prev_action, prev_rule, changed);
}

static bool
engine_dpi_alloc(struct gw_engine *e, struct flow *f)
{
	if (!engine_room_for(e, e->ndpi_size, f))
		return false;
	f->dpi = dpi_flow_new();
	if (f->dpi == NULL)
		return false;
	e->c.ndpi_allocs++;
	e->c.ndpi_active++;
	counters_ndpi_heap(e);
	counters_peak(e);
	return true;
}

/* Feeds nDPI while the app is pending; sets f->app when known or when the budget runs out. */
static void
engine_classify_step(struct gw_engine *e, struct flow *f, const struct decoded *d, uint64_t ts_us)
{
	unsigned budget = f->proto == IPPROTO_TCP ? e->conf.tcp_budget : e->conf.udp_budget;
	uint16_t app;

	if (f->pending_pkts < UINT8_MAX)
		f->pending_pkts++;
	if (d->payload_len == 0) {
		if (f->pending_pkts >= 4 * budget + 8)   /* talks but never sends data */
			f->app = f->dpi ? dpi_giveup(e->dpi, f->dpi) : DPI_APP_UNKNOWN;
		return;
	}
	if (f->dpi == NULL && !engine_dpi_alloc(e, f)) {
		f->app = DPI_APP_UNKNOWN;   /* no memory to look: fail closed */
		return;
	}
	if (dpi_process(e->dpi, f->dpi, d->l3, d->l3_len, ts_us, &app))
		f->app = app;
	else if (++f->dpi_pkts >= budget)
		f->app = dpi_giveup(e->dpi, f->dpi);
	counters_ndpi_heap(e);
	engine_room_for(e, 0, f);   /* nDPI may have grown its buffers: back under the bound */
	counters_peak(e);
}

/* ... and once it is known, keeps the server name nDPI read (before its state is freed). */
static void
engine_classify(struct gw_engine *e, struct flow *f, const struct decoded *d, uint64_t ts_us)
{
	engine_classify_step(e, f, d, ts_us);
	if (f->app != FLOW_APP_PENDING)
		servername_take(e, f, d);
}

static void
engine_count_packet(struct flow *f, const struct decoded *d, int dir, uint64_t ts_us)
{
	f->pkts[dir]++;
	f->bytes[dir] += d->l3_len;
	if (ts_us > f->last_us)
		f->last_us = ts_us;
}

static void
engine_track(struct gw_engine *e, struct flow *f, const struct decoded *d, int dir)
{
	enum flow_list list = f->proto == IPPROTO_TCP && d->has_l4 ? flow_tcp_update(f, d, dir) : flow_list_of(f);

	flow_touch(&e->flows, f, list);
}

static enum gw_drop_reason
engine_drop_reason(const struct flow *f)
{
	if (f->rule && f->basis == POLICY_BASIS_UNKNOWN_APP)
		return GW_DROP_UNKNOWN_APP;
	return GW_DROP_POLICY;
}

static void
engine_result(struct gw_engine *e, const struct flow *f, struct gw_result *res)
{
	static const uint32_t no_mark = 0;

	res->verdict = (enum gw_verdict)f->action;
	res->final = f->final;
	res->flow_id = f->id;
	res->drop_reason = engine_drop_reason(f);
	res->mark = !f->final ? no_mark : f->action == ACT_ACCEPT ? e->conf.mark_accept :
	    f->action == ACT_DROP ? e->conf.mark_drop : e->conf.mark_reject;
	if (f->final && f->action == ACT_ACCEPT && servername_keep_queued(e, f)) {
		res->final = false;   /* its answers must keep coming here (name binding) */
		res->mark = no_mark;
	}
	if (f->final && f->action != ACT_ACCEPT) {
		res->src = f->src;
		res->dst = f->dst;
		res->sport = f->sport;
		res->dport = f->dport;
		res->proto = f->proto;
	}
}

static void
engine_reject(struct gw_engine *e, const struct flow *f, const struct decoded *d,
    const struct gw_packet *pkt, struct gw_result *res)
{
	enum reply_kind kind = reply_build(d, res->reply, sizeof res->reply, &res->reply_len);

	if (kind == REPLY_NONE)
		return;
	e->c.rejects_sent++;
	flowlog_reject(e, f, d, pkt->pkt_num, reply_kind_name(kind));
}

/* A flow's packet: state, app, verdict. */
static void
engine_flow_packet(struct gw_engine *e, const struct decoded *d, const struct gw_packet *pkt,
    struct gw_result *res)
{
	int dir;
	struct flow *f = engine_flow_for(e, d, pkt, &dir);
	bool fresh;

	if (f == NULL) {
		res->verdict = GW_DROP;
		res->drop_reason = GW_DROP_TABLE_FULL;
		return;
	}
	fresh = f->rule == NULL;
	engine_count_packet(f, d, dir, pkt->ts_us);
	engine_track(e, f, d, dir);
	if (!f->final) {
		if (fresh)
			engine_lookup(e, f);   /* zones, and whether the app matters at all */
		if (!f->final)
			engine_classify(e, f, d, pkt->ts_us);
		if (fresh && (f->final || f->app == FLOW_APP_PENDING))
			engine_announce(e, f, pkt->pkt_num, ACT_ACCEPT, NULL, false);
		else if (f->app != FLOW_APP_PENDING)
			engine_evaluate(e, f, pkt->pkt_num, fresh);
	}
	if (d->first_frag)
		frag_remember(&e->frags, d, flow_index(&e->flows, f), f->id,
		    pkt->ts_us + e->conf.frag_timeout * US, e->now_us);
	engine_result(e, f, res);
	if (!f->final && f->hold && d->payload_len > 0) {
		res->verdict = GW_DROP;   /* not one byte before the name is known and matched */
		res->drop_reason = GW_DROP_HELD;
		return;
	}
	servername_dns(e, f, d, dir);
	if (f->action == ACT_REJECT)
		engine_reject(e, f, d, pkt, res);
}

/* Later fragments carry no ports: they follow the flow their first fragment went to. */
static void
engine_fragment(struct gw_engine *e, const struct decoded *d, const struct gw_packet *pkt,
    struct gw_result *res)
{
	const struct frag_entry *fe = e->conf.fragments == GW_FRAG_TRACK ?
	    frag_find(&e->frags, d, e->now_us) : NULL;
	struct flow *f = fe ? flow_at(&e->flows, fe->flow) : NULL;

	if (f == NULL || f->id != fe->flow_id) {
		res->verdict = GW_DROP;
		res->drop_reason = GW_DROP_FRAGMENT;
		return;
	}
	engine_count_packet(f, d, memcmp(&d->src, &f->src, sizeof f->src) == 0 ? 0 : 1, pkt->ts_us);
	flow_touch(&e->flows, f, flow_list_of(f));   /* keeps each idle list in last-seen order */
	engine_result(e, f, res);
	if (f->action == ACT_REJECT)
		res->verdict = GW_DROP;   /* the first fragment got the answer */
}

static void
engine_malformed(struct gw_engine *e, const struct decoded *d, const struct gw_packet *pkt,
    const char *why, struct gw_result *res)
{
	enum policy_action act = policy_malformed_action(e->policy);

	e->c.malformed++;
	res->verdict = (enum gw_verdict)act;
	res->drop_reason = GW_DROP_MALFORMED;
	flowlog_malformed(e, d, pkt->pkt_num, pkt->ts_us, why, act);
}

static void
engine_count_result(struct gw_engine *e, const struct gw_result *res)
{
	e->c.packets_by_verdict[res->verdict]++;
	if (res->verdict != GW_ACCEPT)
		e->c.drops[res->drop_reason]++;
}

void
gw_engine_process(struct gw_engine *e, const struct gw_packet *pkt, struct gw_result *res)
{
	struct decoded d;
	const char *why;

	res->verdict = GW_ACCEPT;
	res->final = false;
	res->mark = 0;
	res->flow_id = 0;
	res->drop_reason = GW_DROP_POLICY;
	res->reply_len = 0;
	e->c.packets++;
	e->c.bytes += pkt->len;
	if (pkt->ts_us > e->now_us)
		e->now_us = pkt->ts_us;
	why = decode_packet(pkt->l3, pkt->len, &d);
	if (why)
		engine_malformed(e, &d, pkt, why, res);
	else if (d.is_frag && (e->c.fragments++, e->conf.fragments == GW_FRAG_DROP)) {
		res->verdict = GW_DROP;
		res->drop_reason = GW_DROP_FRAGMENT;
	} else if (d.is_frag && !d.first_frag)
		engine_fragment(e, &d, pkt, res);
	else
		engine_flow_packet(e, &d, pkt, res);
	engine_count_result(e, res);
	if (e->evlen > ENGINE_EVBUF / 2)
		flowlog_flush(e);
}

/* live_stats.c -- what `ctl stats`, `ctl flows` and /metrics show: engine, queue and kernel counters per queue. */
#include "gw/live.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "gw/nfqct.h"
#include "lib/util.h"

#define LIVE_FLOWS_KERNEL_MAX 100000   /* kernel entries listed by ctl flows */

struct live_stats_q {
	struct gw_counters engine;
	bool engine_ok;
	struct nfqsock_stats sock;
	struct nfqsock_kstats kernel;
	bool kernel_ok;
	struct live_qstats own;
};

static void
live_stats_own(const struct live_qstats *in, struct live_qstats *out)
{
	for (int v = 0; v < 3; v++)
		out->verdict[v] = __atomic_load_n(&in->verdict[v], __ATOMIC_RELAXED);
	out->offloaded = __atomic_load_n(&in->offloaded, __ATOMIC_RELAXED);
	out->replies_sent = __atomic_load_n(&in->replies_sent, __ATOMIC_RELAXED);
	out->reply_errors = __atomic_load_n(&in->reply_errors, __ATOMIC_RELAXED);
	out->conntrack_updates = __atomic_load_n(&in->conntrack_updates, __ATOMIC_RELAXED);
	out->conntrack_errors = __atomic_load_n(&in->conntrack_errors, __ATOMIC_RELAXED);
}

static void
live_stats_collect(struct live *lv, unsigned i, struct live_stats_q *s)
{
	struct live_queue *q = &lv->queue[i];
	struct live_req req = { .kind = LIVE_REQ_COUNTERS, .counters = &s->engine };

	memset(s, 0, sizeof *s);
	s->engine_ok = live_queue_call(q, &req) == 0;
	nfqsock_stats(q->sock, &s->sock);
	s->kernel_ok = nfqsock_kstats(nfqsock_num(q->sock), &s->kernel) == 0;
	live_stats_own(&q->stats, &s->own);
}

/* --- ctl stats -------------------------------------------------------------- */

/* Server names: what nDPI read, the DNS answers read, the binding table (shared), hits per name list. */
static void
live_stats_names_text(const struct gw_counters *c, FILE *out)
{
	fprintf(out, "  names: %llu read, %llu hidden (ECH/ESNI); dns answers %llu (%llu bad), "
	    "%llu addresses learnt; binding table %llu of %llu names (%llu bytes), %llu evicted, "
	    "lookups %llu bound %llu not\n", (unsigned long long)c->names_known,
	    (unsigned long long)c->names_hidden, (unsigned long long)c->dns_answers,
	    (unsigned long long)c->dns_answers_bad, (unsigned long long)c->dns_addresses,
	    (unsigned long long)c->dns_names, (unsigned long long)c->dns_capacity,
	    (unsigned long long)c->dns_bytes, (unsigned long long)c->dns_evicted,
	    (unsigned long long)c->dns_hits, (unsigned long long)c->dns_misses);
	for (unsigned i = 0; i < c->lists && i < GW_LIST_MAX; i++)
		fprintf(out, "  name list %s: %llu flows\n", c->list[i].list,
		    (unsigned long long)c->list[i].hits);
}

static void
live_stats_queue_text(unsigned num, const struct live_stats_q *s, FILE *out)
{
	const struct gw_counters *c = &s->engine;

	fprintf(out, "queue %u: %llu packets %llu bytes; verdicts accept %llu drop %llu reject %llu; "
	    "offloaded %llu; replies %llu\n", num, (unsigned long long)s->sock.packets,
	    (unsigned long long)s->sock.bytes, (unsigned long long)s->own.verdict[GW_ACCEPT],
	    (unsigned long long)s->own.verdict[GW_DROP], (unsigned long long)s->own.verdict[GW_REJECT],
	    (unsigned long long)s->own.offloaded, (unsigned long long)s->own.replies_sent);
	fprintf(out, "  flows: %llu active, %llu created, %llu ended, %llu evicted; malformed %llu; "
	    "memory %llu of %llu bytes\n", (unsigned long long)c->flows_active,
	    (unsigned long long)c->flows_created, (unsigned long long)c->flows_ended,
	    (unsigned long long)c->evictions, (unsigned long long)c->malformed,
	    (unsigned long long)c->memory_bytes, (unsigned long long)c->memory_limit);
	fprintf(out, "  drops:");
	for (int r = 0; r < GW_DROP_REASONS; r++)
		fprintf(out, " %s %llu", gw_drop_reason_name((enum gw_drop_reason)r),
		    (unsigned long long)c->drops[r]);
	fprintf(out, "\n  kernel: %s queue_dropped %u user_dropped %u waiting %u\n",
	    s->kernel_ok ? "" : "(no /proc line)", s->kernel.queue_dropped, s->kernel.user_dropped,
	    s->kernel.waiting);
	live_stats_names_text(c, out);
	for (unsigned p = 0; p < c->pairs && p < GW_PAIR_MAX; p++)
		fprintf(out, "  %s -> %s: flows accepted %llu dropped %llu rejected %llu\n",
		    c->pair[p].src_zone, c->pair[p].dst_zone, (unsigned long long)c->pair[p].flows[GW_ACCEPT],
		    (unsigned long long)c->pair[p].flows[GW_DROP], (unsigned long long)c->pair[p].flows[GW_REJECT]);
}

void
live_stats_text(struct live *lv, FILE *out)
{
	fprintf(out, "ok\ntiergate-gw: up %llu s, policy %s (%s, %d rules), %u queue%s, offload %s\n",
	    (unsigned long long)((ev_now_us() - lv->started_us) / 1000000), policy_source(lv->policy),
	    policy_model_name(policy_model(lv->policy)), policy_rule_count(lv->policy), lv->n_queues,
	    lv->n_queues == 1 ? "" : "s", lv->nfq.offload ? "on" : "off");
	fprintf(out, "reloads: %llu ok, %llu refused, %llu flows cut; last: %s\n",
	    (unsigned long long)lv->reloads_ok, (unsigned long long)lv->reloads_refused,
	    (unsigned long long)lv->flows_cut, lv->last_reload[0] ? lv->last_reload : "none");
	live_ha_stats_text(lv, out);
	for (unsigned i = 0; i < lv->n_queues; i++) {
		struct live_stats_q s;

		live_stats_collect(lv, i, &s);
		live_stats_queue_text(nfqsock_num(lv->queue[i].sock), &s, out);
	}
}

static const char *
live_flows_mark_name(const struct live *lv, uint32_t mark)
{
	if (mark & lv->gw.mark_accept)
		return "accept";
	return mark & lv->gw.mark_reject ? "reject" : "drop";
}

/*
 * Decided flows live on in the kernel after the engines forget them, and a
 * pair's standby holds the active node's flows without ever seeing a packet:
 * conntrack is where both are, with the verdict in the connmark.
 */
static void
live_flows_kernel(struct live *lv, FILE *out)
{
	struct nfqct_entry *v = NULL;
	char src[ADDR_STRLEN], dst[ADDR_STRLEN];
	struct nfqct *ct = nfqct_open();
	int n = ct ? nfqct_list(ct, 0, 0, LIVE_FLOWS_KERNEL_MAX, &v) : -1;

	fprintf(out, "# in the kernel (conntrack; decided here, or synced from the pair's other node): "
	    "kernel proto src sport dst dport verdict\n");
	if (n < 0)
		fprintf(out, "# conntrack could not be read: %s\n", strerror(errno));
	for (int i = 0; i < n; i++) {
		if ((v[i].mark & lv->mark_mask) == 0)
			continue;
		addr_format(&v[i].src, src);
		addr_format(&v[i].dst, dst);
		fprintf(out, "kernel %s %s %u %s %u %s\n", v[i].proto == IPPROTO_TCP ? "tcp" :
		    v[i].proto == IPPROTO_UDP ? "udp" : "other", src, v[i].sport, dst, v[i].dport,
		    live_flows_mark_name(lv, v[i].mark));
	}
	free(v);
	nfqct_close(ct);
}

void
live_flows_text(struct live *lv, FILE *out)
{
	fprintf(out, "ok\n# flow_id proto src sport dst dport src_zone dst_zone app rule verdict "
	    "tcp_state pkts(toserver/toclient) bytes\n");
	for (unsigned i = 0; i < lv->n_queues; i++) {
		struct live_req req = { .kind = LIVE_REQ_FLOWS, .out = out };

		if (live_queue_call(&lv->queue[i], &req) < 0)
			fprintf(out, "# queue %u did not answer\n", lv->queue[i].index);
	}
	if (lv->nfq.offload)
		live_flows_kernel(lv, out);
}

/* --- Prometheus ------------------------------------------------------------- */

static void
live_prom_head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP tiergate_gw_%s %s\n# TYPE tiergate_gw_%s %s\n", name, help, name, type);
}

#define LIVE_PROM_EACH(out, st, n, name, expr) \
	do { \
		for (unsigned i_ = 0; i_ < (n); i_++) \
			fprintf(out, "tiergate_gw_%s{queue=\"%u\"} %llu\n", name, (st)[i_].num, \
			    (unsigned long long)((st)[i_].expr)); \
	} while (0)

struct live_prom_q {
	unsigned num;
	struct live_stats_q s;
};

static void
live_prom_queue_metrics(FILE *out, const struct live_prom_q *st, unsigned n)
{
	live_prom_head(out, "packets_total", "counter", "Packets read from the queue.");
	LIVE_PROM_EACH(out, st, n, "packets_total", s.sock.packets);
	live_prom_head(out, "bytes_total", "counter", "Bytes of the packets read from the queue.");
	LIVE_PROM_EACH(out, st, n, "bytes_total", s.sock.bytes);
	live_prom_head(out, "verdicts_total", "counter", "Verdicts given, by verdict.");
	for (unsigned i = 0; i < n; i++)
		for (int v = 0; v < 3; v++)
			fprintf(out, "tiergate_gw_verdicts_total{queue=\"%u\",verdict=\"%s\"} %llu\n",
			    st[i].num, policy_action_name((enum policy_action)v),
			    (unsigned long long)st[i].s.own.verdict[v]);
	live_prom_head(out, "offloaded_total", "counter", "Decided packets whose flow was handed to the kernel.");
	LIVE_PROM_EACH(out, st, n, "offloaded_total", s.own.offloaded);
	live_prom_head(out, "replies_sent_total", "counter", "TCP RST / ICMP unreachable answers sent.");
	LIVE_PROM_EACH(out, st, n, "replies_sent_total", s.own.replies_sent);
	live_prom_head(out, "kernel_queue_dropped_total", "counter", "Packets the kernel dropped: queue full.");
	LIVE_PROM_EACH(out, st, n, "kernel_queue_dropped_total", s.kernel.queue_dropped);
	live_prom_head(out, "kernel_user_dropped_total", "counter", "Packets the kernel dropped: socket buffer full.");
	LIVE_PROM_EACH(out, st, n, "kernel_user_dropped_total", s.kernel.user_dropped);
	live_prom_head(out, "kernel_queue_waiting", "gauge", "Packets waiting in the queue for a verdict.");
	LIVE_PROM_EACH(out, st, n, "kernel_queue_waiting", s.kernel.waiting);
}

static void
live_prom_names(FILE *out, const struct live_prom_q *st, unsigned n)
{
	live_prom_head(out, "server_names_total", "counter", "Flows whose server name nDPI read.");
	LIVE_PROM_EACH(out, st, n, "server_names_total", s.engine.names_known);
	live_prom_head(out, "server_names_hidden_total", "counter", "Flows whose ClientHello hid the name (ECH/ESNI).");
	LIVE_PROM_EACH(out, st, n, "server_names_hidden_total", s.engine.names_hidden);
	live_prom_head(out, "dns_answers_total", "counter", "DNS responses read to bind names to addresses.");
	LIVE_PROM_EACH(out, st, n, "dns_answers_total", s.engine.dns_answers);
	live_prom_head(out, "dns_binding_names", "gauge", "Names in the binding table (shared by the queues).");
	if (n > 0)
		fprintf(out, "tiergate_gw_dns_binding_names %llu\n", (unsigned long long)st[0].s.engine.dns_names);
	live_prom_head(out, "dns_binding_evictions_total", "counter", "Names pushed out of the binding table (LRU).");
	if (n > 0)
		fprintf(out, "tiergate_gw_dns_binding_evictions_total %llu\n",
		    (unsigned long long)st[0].s.engine.dns_evicted);
	live_prom_head(out, "name_list_flows_total", "counter", "Flows decided by a rule through a name of the list.");
	for (unsigned i = 0; i < n; i++)
		for (unsigned k = 0; k < st[i].s.engine.lists && k < GW_LIST_MAX; k++)
			fprintf(out, "tiergate_gw_name_list_flows_total{queue=\"%u\",list=\"%s\"} %llu\n",
			    st[i].num, st[i].s.engine.list[k].list, (unsigned long long)st[i].s.engine.list[k].hits);
}

static void
live_prom_engine_metrics(FILE *out, const struct live_prom_q *st, unsigned n)
{
	live_prom_head(out, "flows_active", "gauge", "Flows in the engine's table.");
	LIVE_PROM_EACH(out, st, n, "flows_active", s.engine.flows_active);
	live_prom_head(out, "flows_created_total", "counter", "Flows seen.");
	LIVE_PROM_EACH(out, st, n, "flows_created_total", s.engine.flows_created);
	live_prom_head(out, "evictions_total", "counter", "Flows ended early to make room.");
	LIVE_PROM_EACH(out, st, n, "evictions_total", s.engine.evictions);
	live_prom_head(out, "malformed_total", "counter", "Packets that did not decode.");
	LIVE_PROM_EACH(out, st, n, "malformed_total", s.engine.malformed);
	live_prom_head(out, "memory_bytes", "gauge", "Flow table and nDPI state in use.");
	LIVE_PROM_EACH(out, st, n, "memory_bytes", s.engine.memory_bytes);
	live_prom_head(out, "drops_total", "counter", "Packets dropped or rejected, by reason.");
	for (unsigned i = 0; i < n; i++)
		for (int r = 0; r < GW_DROP_REASONS; r++)
			fprintf(out, "tiergate_gw_drops_total{queue=\"%u\",reason=\"%s\"} %llu\n", st[i].num,
			    gw_drop_reason_name((enum gw_drop_reason)r), (unsigned long long)st[i].s.engine.drops[r]);
	live_prom_names(out, st, n);
	live_prom_head(out, "zone_flows_total", "counter", "Decided flows by zone pair and verdict.");
	for (unsigned i = 0; i < n; i++)
		for (unsigned p = 0; p < st[i].s.engine.pairs && p < GW_PAIR_MAX; p++)
			for (int v = 0; v < 3; v++)
				fprintf(out, "tiergate_gw_zone_flows_total{queue=\"%u\",src_zone=\"%s\","
				    "dst_zone=\"%s\",verdict=\"%s\"} %llu\n", st[i].num,
				    st[i].s.engine.pair[p].src_zone, st[i].s.engine.pair[p].dst_zone,
				    policy_action_name((enum policy_action)v),
				    (unsigned long long)st[i].s.engine.pair[p].flows[v]);
}

void
live_stats_prometheus(struct live *lv, FILE *out)
{
	struct live_prom_q *st = xcalloc(lv->n_queues, sizeof *st);

	for (unsigned i = 0; i < lv->n_queues; i++) {
		st[i].num = nfqsock_num(lv->queue[i].sock);
		live_stats_collect(lv, i, &st[i].s);
	}
	live_prom_queue_metrics(out, st, lv->n_queues);
	live_prom_engine_metrics(out, st, lv->n_queues);
	live_prom_head(out, "reloads_total", "counter", "Policy reloads, by result.");
	fprintf(out, "tiergate_gw_reloads_total{result=\"ok\"} %llu\n"
	    "tiergate_gw_reloads_total{result=\"refused\"} %llu\n",
	    (unsigned long long)lv->reloads_ok, (unsigned long long)lv->reloads_refused);
	live_prom_head(out, "flows_cut_total", "counter", "Flows cut because a reloaded policy no longer accepts them.");
	fprintf(out, "tiergate_gw_flows_cut_total %llu\n", (unsigned long long)lv->flows_cut);
	free(st);
}

/* flowlog.c -- the gateway's JSON events (flow, flow_end, reject, malformed), written in batches. */
#include <stdio.h>
#include <string.h>

#include "gw/engine_int.h"
#include "lib/log.h"

const char *
flowlog_proto(uint8_t proto, char buf[8])
{
	switch (proto) {
	case 6: return "TCP";
	case 17: return "UDP";
	case 1: return "ICMP";
	case 58: return "ICMPv6";
	default:
		snprintf(buf, 8, "%u", proto);
		return buf;
	}
}

const char *
flowlog_app(struct gw_engine *e, const struct flow *f)
{
	if (f->app == FLOW_APP_PENDING)
		return NULL;
	return f->app == DPI_APP_UNKNOWN ? APP_UNKNOWN : dpi_app_name(e->dpi, f->app);
}

const char *
flowlog_zone(struct gw_engine *e, int zone)
{
	return zone == ZONE_NONE ? NULL : policy_zone_name(e->policy, zone);
}

void
flowlog_flush(struct gw_engine *e)
{
	struct jbuf view = { e->evbuf, e->evlen, e->evlen, 0, 0, false };

	if (e->evlen == 0)
		return;
	if (ev_emit(e->sink, &view) < 0) {
		e->c.events_lost++;
		log_warn("writing events");
	}
	e->evlen = 0;
}

/* The finished line joins the batch; a batch is one write(2). */
static void
flowlog_commit(struct gw_engine *e)
{
	struct jbuf *jb = &e->ev;

	ev_end(jb);
	if (jb->oom) {
		e->c.events_lost++;
		return;
	}
	if (e->evlen + jb->len > ENGINE_EVBUF)
		flowlog_flush(e);
	if (jb->len > ENGINE_EVBUF) {
		if (ev_emit(e->sink, jb) < 0)
			e->c.events_lost++;
	} else {
		memcpy(e->evbuf + e->evlen, jb->buf, jb->len);
		e->evlen += jb->len;
	}
	e->c.events++;
}

static void
flowlog_tuple(struct gw_engine *e, const struct flow *f)
{
	char ip[ADDR_STRLEN], pbuf[8];
	bool icmp = f->proto == 1 || f->proto == 58;

	addr_format(&f->src, ip);
	jb_str(&e->ev, "src_ip", ip);
	jb_uint(&e->ev, "src_port", icmp ? 0 : f->sport);
	addr_format(&f->dst, ip);
	jb_str(&e->ev, "dst_ip", ip);
	jb_uint(&e->ev, "dst_port", icmp ? f->policy_dport : f->dport);
	jb_str(&e->ev, "proto", flowlog_proto(f->proto, pbuf));
	jb_str(&e->ev, "src_zone", flowlog_zone(e, f->src_zone));
	jb_str(&e->ev, "dst_zone", flowlog_zone(e, f->dst_zone));
}

void
flowlog_verdict(struct gw_engine *e, const struct flow *f, uint64_t pkt_num,
    enum policy_action prev_action, const char *prev_rule, bool changed)
{
	if (e->sink == NULL || !f->log)
		return;
	ev_begin(&e->ev, "flow", f->last_us);
	jb_uint(&e->ev, "flow_id", f->id);
	jb_uint(&e->ev, "pcap_cnt", pkt_num);
	flowlog_tuple(e, f);
	jb_str(&e->ev, "app", flowlog_app(e, f));
	jb_str(&e->ev, "rule", f->rule);
	jb_str(&e->ev, "verdict", policy_action_name(f->action));
	jb_bool(&e->ev, "final", f->final);
	jb_str(&e->ev, "reason", f->reason);
	if (changed) {
		jb_str(&e->ev, "previous_verdict", policy_action_name(prev_action));
		jb_str(&e->ev, "previous_rule", prev_rule);
	}
	flowlog_commit(e);
}

static const char *
flowlog_end_name(enum flow_end_reason why)
{
	static const char *const names[] = { "timeout", "fin", "rst", "evicted", "cut", "shutdown" };

	return names[why];
}

void
flowlog_end(struct gw_engine *e, const struct flow *f, enum flow_end_reason why)
{
	if (e->sink == NULL || !f->log)
		return;
	ev_begin(&e->ev, "flow_end", e->now_us > f->last_us ? e->now_us : f->last_us);
	jb_uint(&e->ev, "flow_id", f->id);
	flowlog_tuple(e, f);
	jb_str(&e->ev, "app", flowlog_app(e, f));
	jb_str(&e->ev, "rule", f->rule);
	jb_str(&e->ev, "verdict", policy_action_name(f->action));
	jb_uint(&e->ev, "pkts_toserver", f->pkts[0]);
	jb_uint(&e->ev, "pkts_toclient", f->pkts[1]);
	jb_uint(&e->ev, "bytes_toserver", f->bytes[0]);
	jb_uint(&e->ev, "bytes_toclient", f->bytes[1]);
	jb_str(&e->ev, "end_reason", flowlog_end_name(why));
	flowlog_commit(e);
}

void
flowlog_reject(struct gw_engine *e, const struct flow *f, const struct decoded *d,
    uint64_t pkt_num, const char *sent)
{
	if (e->sink == NULL)
		return;
	ev_begin(&e->ev, "reject", f->last_us);
	jb_uint(&e->ev, "flow_id", f->id);
	jb_uint(&e->ev, "pcap_cnt", pkt_num);
	flowlog_tuple(e, f);
	jb_str(&e->ev, "sent", sent);
	flowlog_commit(e);
}

static bool
flowlog_has_addr(const struct addr *a)
{
	static const struct addr zero;

	return memcmp(a, &zero, sizeof zero) != 0;
}

void
flowlog_malformed(struct gw_engine *e, const struct decoded *d, uint64_t pkt_num, uint64_t ts_us,
    const char *reason, enum policy_action verdict)
{
	if (e->sink == NULL)
		return;
	ev_begin(&e->ev, "malformed", ts_us);
	jb_uint(&e->ev, "pcap_cnt", pkt_num);
	if (flowlog_has_addr(&d->src)) {   /* the header was long enough to read them */
		char ip[ADDR_STRLEN];
		addr_format(&d->src, ip);
		jb_str(&e->ev, "src_ip", ip);
		addr_format(&d->dst, ip);
		jb_str(&e->ev, "dst_ip", ip);
	}
	jb_str(&e->ev, "reason", reason);
	jb_str(&e->ev, "verdict", policy_action_name(verdict));
	flowlog_commit(e);
}

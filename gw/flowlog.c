/* flowlog.c -- the gateway's JSON events (flow, flow_end, reject, malformed), built straight into a batch buffer. */
#include <stdio.h>
#include <string.h>

#include "gw/engine_int.h"
#include "lib/log.h"

/*
 * Events are the hot path of a replay (two or more per flow), so lines are
 * built in place: plain ASCII strings (addresses, names, most reasons) are
 * copied as they are; anything else goes through lib's escaper (jb_quote),
 * which keeps every line valid JSON. The timestamp's date part is formatted
 * once per second.
 */
#define FLOWLOG_LINE_MAX 4096   /* room reserved before a line is started */

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

static void
fl_put(struct gw_engine *e, const char *s, size_t n)
{
	if (e->evlen + n > ENGINE_EVBUF) {   /* one absurdly long line: cut, never overflow */
		e->ev.oom = true;
		return;
	}
	memcpy(e->evbuf + e->evlen, s, n);
	e->evlen += n;
}

static void
fl_key(struct gw_engine *e, const char *key)
{
	char buf[40];
	size_t n = strlen(key);

	buf[0] = ',';
	buf[1] = '"';
	memcpy(buf + 2, key, n);
	buf[n + 2] = '"';
	buf[n + 3] = ':';
	fl_put(e, buf, n + 4);
}

static bool
fl_plain(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return false;
	}
	return true;
}

static void
fl_str(struct gw_engine *e, const char *key, const char *val)
{
	size_t n;

	fl_key(e, key);
	if (val == NULL) {
		fl_put(e, "null", 4);
		return;
	}
	n = strlen(val);
	if (fl_plain(val, n)) {
		fl_put(e, "\"", 1);
		fl_put(e, val, n);
		fl_put(e, "\"", 1);
		return;
	}
	jb_reset(&e->ev);
	jb_quote(&e->ev, val, n);
	fl_put(e, e->ev.buf, e->ev.len);
}

static void
fl_uint(struct gw_engine *e, const char *key, uint64_t v)
{
	char buf[24];
	int i = sizeof buf;

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	fl_key(e, key);
	fl_put(e, buf + i, sizeof buf - (size_t)i);
}

static void
fl_bool(struct gw_engine *e, const char *key, bool v)
{
	fl_key(e, key);
	fl_put(e, v ? "true" : "false", v ? 4 : 5);
}

static void
fl_digits(char *out, int width, uint64_t v)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		out[i] = (char)('0' + v % 10);
}

/* IPv4 (most events) without printf; IPv6 through lib's formatter. */
static void
fl_ip(struct gw_engine *e, const char *key, const struct addr *a)
{
	char ip[ADDR_STRLEN], *p = ip;

	if (!addr_is_v4(a)) {
		addr_format(a, ip);
		fl_str(e, key, ip);
		return;
	}
	for (int i = 12; i < 16; i++) {
		unsigned b = a->b[i];
		if (b >= 100)
			*p++ = (char)('0' + b / 100);
		if (b >= 10)
			*p++ = (char)('0' + b / 10 % 10);
		*p++ = (char)('0' + b % 10);
		*p++ = i < 15 ? '.' : '\0';
	}
	fl_str(e, key, ip);
}

/* {"timestamp":"2026-11-22T02:27:04.123456+0000","event":"NAME" */
static void
fl_begin(struct gw_engine *e, const char *name, uint64_t ts_us)
{
	char us[8];

	if (e->evlen + FLOWLOG_LINE_MAX > ENGINE_EVBUF)
		flowlog_flush(e);
	e->ev_line = e->evlen;
	e->ev.oom = false;
	if (ts_us / 1000000 != e->ts_sec || e->ts_text[0] == '\0') {
		e->ts_sec = ts_us / 1000000;
		ev_timestamp(e->ts_text, e->ts_sec * 1000000);
	}
	fl_digits(us, 6, ts_us % 1000000);
	memcpy(e->ts_text + 20, us, 6);
	fl_put(e, "{\"timestamp\":\"", 14);
	fl_put(e, e->ts_text, strlen(e->ts_text));
	fl_put(e, "\"", 1);
	fl_str(e, "event", name);
	if (e->conf.node[0])
		fl_str(e, "node", e->conf.node);
}

static void
fl_end(struct gw_engine *e)
{
	fl_put(e, "}\n", 2);
	if (e->ev.oom) {
		e->evlen = e->ev_line;
		e->c.events_lost++;
		return;
	}
	e->c.events++;
}

static void
flowlog_tuple(struct gw_engine *e, const struct flow *f)
{
	char pbuf[8];
	bool icmp = f->proto == 1 || f->proto == 58;

	fl_ip(e, "src_ip", &f->src);
	fl_uint(e, "src_port", icmp ? 0 : f->sport);
	fl_ip(e, "dst_ip", &f->dst);
	fl_uint(e, "dst_port", icmp ? f->policy_dport : f->dport);
	fl_str(e, "proto", flowlog_proto(f->proto, pbuf));
	fl_str(e, "src_zone", flowlog_zone(e, f->src_zone));
	fl_str(e, "dst_zone", flowlog_zone(e, f->dst_zone));
}

/* server_name when nDPI read one (every model); name_hidden when the ClientHello hid it. */
static void
flowlog_name(struct gw_engine *e, const struct flow *f)
{
	if (f->name != NULL)
		fl_str(e, "server_name", f->name);
	if (f->name_state == NAME_ENCRYPTED)
		fl_bool(e, "server_name_hidden", true);
	if (f->name_list >= 0)
		fl_str(e, "name_list", policy_name_list_name(e->policy, f->name_list));
}

void
flowlog_verdict(struct gw_engine *e, const struct flow *f, uint64_t pkt_num,
    enum policy_action prev_action, const char *prev_rule, bool changed)
{
	if (e->sink == NULL || !f->log)
		return;
	fl_begin(e, "flow", f->last_us);
	fl_uint(e, "flow_id", f->id);
	fl_uint(e, "pcap_cnt", pkt_num);
	flowlog_tuple(e, f);
	fl_str(e, "app", flowlog_app(e, f));
	flowlog_name(e, f);
	fl_str(e, "rule", f->rule);
	fl_str(e, "verdict", policy_action_name(f->action));
	fl_bool(e, "final", f->final);
	fl_str(e, "reason", f->reason);
	if (changed) {
		fl_str(e, "previous_verdict", policy_action_name(prev_action));
		fl_str(e, "previous_rule", prev_rule);
	}
	fl_end(e);
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
	fl_begin(e, "flow_end", e->now_us > f->last_us ? e->now_us : f->last_us);
	fl_uint(e, "flow_id", f->id);
	flowlog_tuple(e, f);
	fl_str(e, "app", flowlog_app(e, f));
	flowlog_name(e, f);
	fl_str(e, "rule", f->rule);
	fl_str(e, "verdict", policy_action_name(f->action));
	fl_uint(e, "pkts_toserver", f->pkts[0]);
	fl_uint(e, "pkts_toclient", f->pkts[1]);
	fl_uint(e, "bytes_toserver", f->bytes[0]);
	fl_uint(e, "bytes_toclient", f->bytes[1]);
	fl_str(e, "end_reason", flowlog_end_name(why));
	fl_end(e);
}

void
flowlog_reject(struct gw_engine *e, const struct flow *f, const struct decoded *d,
    uint64_t pkt_num, const char *sent)
{
	if (e->sink == NULL)
		return;
	fl_begin(e, "reject", f->last_us);
	fl_uint(e, "flow_id", f->id);
	fl_uint(e, "pcap_cnt", pkt_num);
	flowlog_tuple(e, f);
	fl_str(e, "sent", sent);
	fl_end(e);
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
	fl_begin(e, "malformed", ts_us);
	fl_uint(e, "pcap_cnt", pkt_num);
	if (flowlog_has_addr(&d->src)) {   /* the header was long enough to read them */
		fl_ip(e, "src_ip", &d->src);
		fl_ip(e, "dst_ip", &d->dst);
	}
	fl_str(e, "reason", reason);
	fl_str(e, "verdict", policy_action_name(verdict));
	fl_end(e);
}

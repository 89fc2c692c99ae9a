/* engine.h -- the packet engine: one L3 packet in, a verdict out (shared by the live and pcap front-ends). */
#ifndef TIERGATE_GW_ENGINE_H
#define TIERGATE_GW_ENGINE_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "lib/conf.h"
#include "lib/event.h"
#include "policy/policy.h"

/*
 * One engine per thread: it owns a flow table, one nDPI module and its
 * counters, and is never shared. Policies are shared (policy_ref) and may be
 * swapped at run time. Typical use:
 *
 *	struct gw_config conf;  gw_config_load(cfg, &conf, &diags);
 *	struct gw_engine *e = gw_engine_new(&conf, policy, sink);
 *	for each packet:
 *		struct gw_packet pkt = { l3, len, ts_us, "eth0", "eth1", n };
 *		struct gw_result res;
 *		gw_engine_process(e, &pkt, &res);
 *		// res.verdict; res.final -> set res.mark; res.reply_len -> send res.reply
 *	every second or so:  gw_engine_expire(e, now_us); gw_engine_flush(e);
 *	at exit:             gw_engine_shutdown(e, now_us); gw_engine_free(e);
 *
 * Several engines in one process (one per queue thread): call
 * gw_engine_set_id(e, i) so their flow ids differ. An engine may be created
 * in one thread and used in another, but only ever by one thread at a time.
 */

/* ---- settings: the top-level group `gateway` (conf/parts/gateway.conf) ---- */

enum gw_frag_mode {
	GW_FRAG_TRACK,   /* non-first fragments follow their datagram's first fragment */
	GW_FRAG_DROP,    /* every fragment is dropped (reason "fragment") */
};

struct gw_config {
	unsigned tcp_budget;        /* payload packets nDPI may see before giving up (TCP) */
	unsigned udp_budget;        /* same for UDP and others */
	unsigned timeout_syn;       /* seconds: TCP handshake not completed */
	unsigned timeout_established;
	unsigned timeout_closing;   /* TCP after the first FIN */
	unsigned timeout_closed;    /* TCP after RST or both FINs: late packets still match */
	unsigned timeout_udp;
	unsigned timeout_icmp;      /* ICMP, ICMPv6 and other protocols */
	unsigned max_flows;         /* hard bound on the flow table */
	unsigned max_memory_mb;     /* hard bound on flows + nDPI state; 0 = derived from max_flows */
	enum gw_frag_mode fragments;
	unsigned frag_max;          /* datagrams remembered for fragment tracking */
	unsigned frag_timeout;      /* seconds */
	uint32_t mark_accept;       /* packet mark of a decided accepted flow (connmark offload) */
	uint32_t mark_drop;         /* ... of a decided dropped flow */
	uint32_t mark_reject;       /* ... of a decided rejected flow */
	char events[256];           /* event file for the live gateway ("" = none) */
	unsigned dns_names;         /* names whose DNS answers are kept (bind_names_to_dns); 0 = none */
	unsigned dns_grace;         /* seconds an answered address stays valid past its TTL */
	char node[64];              /* this gateway's name in a pair: "node" in every event ("" = none) */
};

void gw_config_defaults(struct gw_config *out);
/*
 * Fills out from the group `gateway` of cfg (defaults for what is missing;
 * unknown members warned about). Returns 0, or -1 with errors in diags.
 */
int gw_config_load(const config_t *cfg, struct gw_config *out, struct diags *diags);
/* A node name: 1-63 of [A-Za-z0-9._-] (it goes into every event and the log). */
bool gw_config_node_ok(const char *name);

/* ---- the engine ---- */

struct gw_engine;

/*
 * policy is referenced (policy_ref) and released by gw_engine_free. sink may
 * be NULL (no events); events are buffered and written by gw_engine_flush,
 * when the buffer fills, by gw_engine_expire and at shutdown. Returns NULL
 * (log says why) if memory or nDPI cannot be set up.
 */
struct gw_engine *gw_engine_new(const struct gw_config *conf, struct policy *policy,
    struct ev_sink *sink);
void gw_engine_free(struct gw_engine *e);
/* Engines of one process number their flows apart: flow ids get index in the top 16 bits. */
void gw_engine_set_id(struct gw_engine *e, unsigned index);

struct gw_packet {
	const uint8_t *l3;       /* from the IP header */
	size_t len;              /* bytes available at l3 (trailing link padding is trimmed) */
	uint64_t ts_us;          /* capture / arrival time, microseconds since the epoch */
	const char *in_if;       /* interface names, NULL when unknown (pcap) */
	const char *out_if;
	uint64_t pkt_num;        /* 1-based; reported as pcap_cnt in events */
};

enum gw_verdict { GW_ACCEPT = ACT_ACCEPT, GW_DROP = ACT_DROP, GW_REJECT = ACT_REJECT };

/* Why packets were dropped (or rejected): counters and the live front-end's stats. */
enum gw_drop_reason {
	GW_DROP_POLICY,          /* a rule or the default said drop/reject */
	GW_DROP_UNKNOWN_APP,     /* classification gave up, defaults.unknown_app */
	GW_DROP_MALFORMED,       /* did not decode: defaults.malformed */
	GW_DROP_FRAGMENT,        /* fragment of an unknown or dropped datagram, or fragments = "drop" */
	GW_DROP_TABLE_FULL,      /* no flow could be made (memory bound, nothing evictable) */
	GW_DROP_CUT,             /* flow cut by a policy reload */
	GW_DROP_HELD,            /* payload held back while a rule with names waits for the name */
	GW_DROP_REASONS
};
const char *gw_drop_reason_name(enum gw_drop_reason r);

#define GW_REPLY_MAX 160

struct gw_result {
	enum gw_verdict verdict;
	bool final;              /* the flow is decided: later packets get the same verdict */
	uint32_t mark;           /* when final: the mark to set so the kernel takes over the flow */
	uint64_t flow_id;        /* 0 when the packet belongs to no flow (malformed, fragment) */
	enum gw_drop_reason drop_reason;   /* meaningful when verdict != GW_ACCEPT */
	size_t reply_len;        /* reject: an IP packet to send back (TCP RST / ICMP unreachable) */
	uint8_t reply[GW_REPLY_MAX];
	/* final and not accepted: the flow's tuple, first packet's direction (live: kept in conntrack) */
	struct addr src, dst;
	uint16_t sport, dport;
	uint8_t proto;
};

/* The whole packet path. Never fails: undecodable input is a verdict too. */
void gw_engine_process(struct gw_engine *e, const struct gw_packet *pkt, struct gw_result *res);

/* Ends flows idle past their state's timeout (flow_end "timeout"; "fin"/"rst" for closed ones). */
void gw_engine_expire(struct gw_engine *e, uint64_t now_us);
/* Writes buffered events to the sink. */
void gw_engine_flush(struct gw_engine *e);
/* Ends every flow (flow_end "shutdown") and flushes; the engine stays usable. */
void gw_engine_shutdown(struct gw_engine *e, uint64_t now_us);

/* ---- flows: `ctl flows`, reload reports ---- */

enum gw_tcp_state {
	GW_TCP_NONE,             /* not TCP */
	GW_TCP_SYN_SENT, GW_TCP_SYN_RECV, GW_TCP_ESTABLISHED,
	GW_TCP_CLOSING,          /* one FIN seen */
	GW_TCP_CLOSED,           /* both FINs or a RST */
};
const char *gw_tcp_state_name(enum gw_tcp_state s);

struct gw_flow_info {
	uint64_t flow_id;
	struct addr src, dst;    /* src = sender of the flow's first packet */
	uint16_t sport, dport;   /* ICMP: 0 and the type of the first packet */
	uint8_t proto;
	const char *src_zone, *dst_zone;   /* NULL when in no zone */
	const char *app;         /* NULL while pending, "Unknown", or an nDPI name */
	const char *rule;
	const char *reason;
	const char *server_name; /* NULL when not known */
	enum gw_verdict verdict;
	bool final;
	enum gw_tcp_state tcp_state;
	uint64_t pkts_toserver, pkts_toclient, bytes_toserver, bytes_toclient;
	uint64_t first_us, last_us;
};

/* Calls fn for each flow; fn returns non-zero to stop. Strings are valid during the call only. */
typedef int (*gw_flow_fn)(const struct gw_flow_info *flow, void *arg);
void gw_engine_flows(struct gw_engine *e, gw_flow_fn fn, void *arg);

/* ---- reload ---- */

enum gw_reload_change {
	GW_RELOAD_CUT,           /* was accepted, the new policy drops/rejects it: ended ("cut") */
	GW_RELOAD_CHANGED,       /* verdict changed otherwise (e.g. dropped -> accepted): new mark */
};
typedef void (*gw_reload_fn)(const struct gw_flow_info *flow, enum gw_reload_change change,
    void *arg);

struct gw_reload_report {
	unsigned flows;          /* flows re-evaluated */
	unsigned cut;
	unsigned changed;
};

/*
 * Swaps in a new policy (referenced; the old one is released) and re-evaluates
 * every flow with the application already known. Flows the new policy no
 * longer accepts are cut: flow_end with end_reason "cut", removed, and passed
 * to fn (may be NULL) so the live side can clear their connmark; flows whose
 * verdict changes otherwise get a `flow` event with previous_verdict and are
 * passed to fn with GW_RELOAD_CHANGED.
 */
void gw_engine_set_policy(struct gw_engine *e, struct policy *policy, uint64_t now_us,
    gw_reload_fn fn, void *arg, struct gw_reload_report *report);

/* ---- counters: Prometheus, `ctl stats`, --stats ---- */

#define GW_PAIR_MAX 64
#define GW_LIST_MAX 64

struct gw_list_count {
	char list[48];           /* a name list of the policy (conf/names/LIST.list) */
	uint64_t hits;           /* flows accepted (or decided) by a rule through a name of the list */
};

struct gw_pair_count {
	char src_zone[32], dst_zone[32];   /* "none" when in no zone */
	uint64_t flows[3];       /* by final verdict: [GW_ACCEPT], [GW_DROP], [GW_REJECT] */
	uint64_t undecided;      /* ended while still waiting for the application */
};

struct gw_counters {
	uint64_t packets, bytes;
	uint64_t packets_by_verdict[3];
	uint64_t drops[GW_DROP_REASONS];   /* packets, by reason */
	uint64_t malformed;      /* packets that did not decode */
	uint64_t fragments;      /* fragment packets seen */
	uint64_t rejects_sent;   /* reply packets built */
	uint64_t flows_created, flows_ended, flows_active, flows_peak;
	uint64_t evictions;      /* flows ended early to make room */
	uint64_t verdict_changes;   /* flows whose verdict changed once the app was known */
	uint64_t ndpi_allocs, ndpi_frees, ndpi_active;   /* nDPI flow states */
	uint64_t ndpi_heap_bytes;   /* what nDPI holds for the flows: states and what they point to */
	uint64_t events, events_lost;
	uint64_t memory_bytes;   /* flow table + nDPI states in use, by the engine's own accounting */
	uint64_t memory_peak;
	uint64_t memory_limit;
	unsigned flow_bytes;     /* size of one flow entry (without nDPI state) */
	unsigned ndpi_bytes;     /* size of one nDPI flow state */
	unsigned pairs;          /* entries used in pair[] */
	struct gw_pair_count pair[GW_PAIR_MAX];
	uint64_t names_known;    /* flows whose server name nDPI read */
	uint64_t names_hidden;   /* ... whose ClientHello hid it (ESNI / ECH) */
	uint64_t dns_answers;    /* DNS responses read for name binding */
	uint64_t dns_answers_bad;   /* ... that were not well-formed responses */
	uint64_t dns_addresses;  /* (name, address) pairs learnt from them */
	/* the name-binding table, shared by the engines of a process */
	uint64_t dns_names, dns_capacity, dns_bytes, dns_evicted, dns_hits, dns_misses;
	unsigned lists;          /* entries used in list[] */
	struct gw_list_count list[GW_LIST_MAX];
};

void gw_engine_counters(const struct gw_engine *e, struct gw_counters *out);

/* Engines of one process share one name-binding table: the DNS answer and the TLS flow may meet
 * different queues. Makes e use other's table (call before the first packet). */
void gw_engine_share_names(struct gw_engine *e, const struct gw_engine *other);

#endif

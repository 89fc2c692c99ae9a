/* engine_int.h -- the engine's insides, shared by engine.c, flowlog.c and counters.c only. */
#ifndef TIERGATE_GW_ENGINE_INT_H
#define TIERGATE_GW_ENGINE_INT_H

#include "gw/decode.h"
#include "gw/engine.h"
#include "gw/flow.h"
#include "gw/frag.h"
#include "gw/ndpi_glue.h"

#define ENGINE_IF_MAX 64           /* interface names remembered (index 0 = unknown) */
#define ENGINE_EVBUF (256 * 1024)  /* events are written in batches of about this size */

struct gw_engine {
	struct gw_config conf;
	struct policy *policy;
	struct ev_sink *sink;
	struct dpi *dpi;
	struct flow_table flows;
	struct frag_table frags;
	uint64_t next_flow_id;
	uint64_t now_us;               /* latest packet time (never goes back) */
	uint64_t timeout_us[FLOW_LISTS];
	uint64_t memory_limit;
	size_t ndpi_size;
	int64_t ndpi_heap_base;        /* this thread's nDPI heap before the first packet */
	bool ndpi_heap_based;
	uint64_t ndpi_heap;            /* nDPI's bytes for this engine's flows (states and insides) */
	struct gw_counters c;
	struct dnsbind *dnsbind;       /* names -> answered addresses (servername.c), maybe shared */
	uint64_t names_bytes;          /* server names held by flows */
	bool binds_names;              /* the policy in force binds names to DNS answers */
	int16_t *pair_slot;            /* [(src+1) * (zones+1) + dst+1] -> index in c.pair, -1 new */
	int zones;
	char *ifnames[ENGINE_IF_MAX];
	unsigned nif;
	struct jbuf ev;                /* scratch for strings that need escaping */
	char *evbuf;                   /* finished lines waiting for a write */
	size_t evlen;
	size_t ev_line;                /* where the line being built starts */
	uint64_t ts_sec;               /* the second ts_text was formatted for */
	char ts_text[40];
};

/* flowlog.c: the JSON events of docs/events.md */
void flowlog_verdict(struct gw_engine *e, const struct flow *f, uint64_t pkt_num,
    enum policy_action prev_action, const char *prev_rule, bool changed);
void flowlog_end(struct gw_engine *e, const struct flow *f, enum flow_end_reason why);
void flowlog_reject(struct gw_engine *e, const struct flow *f, const struct decoded *d,
    uint64_t pkt_num, const char *sent);
void flowlog_malformed(struct gw_engine *e, const struct decoded *d, uint64_t pkt_num,
    uint64_t ts_us, const char *reason, enum policy_action verdict);
void flowlog_flush(struct gw_engine *e);
const char *flowlog_app(struct gw_engine *e, const struct flow *f);
const char *flowlog_zone(struct gw_engine *e, int zone);
const char *flowlog_proto(uint8_t proto, char buf[8]);

/* engine.c */
void engine_end_flow(struct gw_engine *e, struct flow *f, enum flow_end_reason why);
bool engine_lookup(struct gw_engine *e, struct flow *f);

/* servername.c: server names of flows, DNS answers, the name lists' counters */
void servername_take(struct gw_engine *e, struct flow *f, const struct decoded *d);
void servername_policy_flow(struct gw_engine *e, const struct flow *f, struct policy_flow *pf);
void servername_dns(struct gw_engine *e, const struct flow *f, const struct decoded *d, int dir);
bool servername_keep_queued(const struct gw_engine *e, const struct flow *f);
void servername_release(struct gw_engine *e, struct flow *f);
void servername_list_hit(struct gw_engine *e, const struct flow *f);
void servername_counters(const struct gw_engine *e, struct gw_counters *out);

/* counters.c */
int counters_policy(struct gw_engine *e);
void counters_flow_decided(struct gw_engine *e, const struct flow *f);
uint64_t counters_memory(const struct gw_engine *e);
void counters_peak(struct gw_engine *e);
void counters_ndpi_heap(struct gw_engine *e);

#endif

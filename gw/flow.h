/* flow.h -- the flow table: 5-tuple both ways, TCP state, idle lists, hard bound with eviction. */
#ifndef TIERGATE_GW_FLOW_H
#define TIERGATE_GW_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gw/decode.h"
#include "gw/engine.h"

#define FLOW_NIL UINT32_MAX
#define FLOW_APP_PENDING UINT16_MAX

/*
 * Idle lists, one per timeout class, each in last-seen order so expiry looks
 * only at heads. Eviction takes the oldest flow of the first non-empty list
 * in this order: half-open TCP first (what a SYN flood makes), established
 * TCP last.
 */
enum flow_list {
	FLOW_LIST_NEW,           /* TCP before the handshake completes (and mid-stream pickups) */
	FLOW_LIST_CLOSED,        /* TCP after RST or both FINs */
	FLOW_LIST_OTHER,         /* ICMP and other protocols */
	FLOW_LIST_UDP,
	FLOW_LIST_CLOSING,       /* TCP with one FIN */
	FLOW_LIST_ESTABLISHED,
	FLOW_LISTS
};

enum flow_end_reason { FLOW_END_TIMEOUT, FLOW_END_FIN, FLOW_END_RST, FLOW_END_EVICTED,
	FLOW_END_CUT, FLOW_END_SHUTDOWN };

/* ~160 bytes: with nDPI's 688-byte state still under 1 KB per flow. */
struct flow {
	struct addr src, dst;    /* src sent the first packet ("toserver") */
	uint16_t sport, dport;   /* key ports (ICMP echo: the id) */
	uint16_t app;            /* nDPI id, FLOW_APP_PENDING until known */
	uint16_t policy_dport;   /* what the policy sees as dport (ICMP: the first type) */
	uint8_t proto;
	uint8_t tcp_state;       /* enum gw_tcp_state */
	uint8_t list;            /* enum flow_list */
	uint8_t fins;            /* bit per direction */
	uint8_t in_if, out_if;   /* interned interface names, 0 = unknown */
	int8_t src_zone, dst_zone;
	uint8_t action;          /* enum policy_action now in force */
	uint8_t final;
	uint8_t log;
	uint8_t closed_by_rst;
	uint8_t dpi_pkts;        /* payload packets given to nDPI */
	uint8_t pending_pkts;    /* packets seen while the app is pending (saturates) */
	uint8_t counted;         /* added to the zone-pair counters */
	uint8_t basis;           /* enum policy_basis: what decided the verdict in force */
	uint32_t hnext;          /* hash chain */
	uint32_t lprev, lnext;   /* idle list */
	uint64_t id;
	uint64_t first_us, last_us;
	uint32_t pkts[2];        /* [0] toserver, [1] toclient */
	uint64_t bytes[2];
	const char *rule;        /* names and reasons live in the policy in force */
	const char *reason;
	struct dpi_flow *dpi;
	char *name;              /* server name (servername.c), NULL when none */
	uint8_t name_state;      /* enum policy_name_state, once the app is known */
	uint8_t hold;            /* waiting for a name: payload packets are held back */
	uint8_t name_bound;      /* accepted through a name once: a reload does not re-check its DNS answer */
	int16_t name_list;       /* the name list that decided, POLICY_NAME_* otherwise */
};

struct flow_table {
	struct flow *pool;       /* capacity entries; index is the flow's handle */
	uint32_t capacity, used_hw, free_head, count;
	uint32_t *buckets;
	uint32_t mask;
	uint64_t seed;
	uint32_t head[FLOW_LISTS], tail[FLOW_LISTS];
};

int flow_table_init(struct flow_table *t, uint32_t capacity, uint64_t seed);
void flow_table_free(struct flow_table *t);
size_t flow_table_overhead(const struct flow_table *t);   /* bucket array bytes */

/* Finds the flow of d; *dir is 0 for the toserver direction, 1 for toclient. */
struct flow *flow_lookup(struct flow_table *t, const struct decoded *d, int *dir);
/* Adds a flow for d (d's sender is src); NULL when the table is full. Zeroed otherwise. */
struct flow *flow_insert(struct flow_table *t, const struct decoded *d);
void flow_remove(struct flow_table *t, struct flow *f);
uint32_t flow_index(const struct flow_table *t, const struct flow *f);
struct flow *flow_at(struct flow_table *t, uint32_t index);

/* Moves f to the tail of its (possibly new) list: it was just seen. */
void flow_touch(struct flow_table *t, struct flow *f, enum flow_list list);
struct flow *flow_oldest(struct flow_table *t, enum flow_list list);
/* The flow eviction takes next (not skip), or NULL. */
struct flow *flow_victim(struct flow_table *t, const struct flow *skip);

/* TCP state machine for one packet in direction dir; returns the list the flow belongs on. */
enum flow_list flow_tcp_update(struct flow *f, const struct decoded *d, int dir);
enum flow_list flow_list_of(const struct flow *f);

#endif

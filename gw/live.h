/* live.h -- the live gateway's shared state: queues with their threads, the policy, sinks, and requests between threads. */
#ifndef TIERGATE_GW_LIVE_H
#define TIERGATE_GW_LIVE_H

#include <pthread.h>
#include <time.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gw/engine.h"
#include "gw/nfqconf.h"
#include "gw/nfqsock.h"

/*
 * The packet path: FORWARD jumps to the chain from gw/iptrules.c; packets of
 * undecided flows go to NFQUEUE (--queue-balance over the configured queues,
 * a flow stays on its queue); each queue's thread (live_queue.c) reads them
 * in bursts (nfqsock.c), runs the engine, and answers. An undecided flow's
 * packets are accepted plainly (batch verdicts); a decided flow's packet is
 * answered NF_REPEAT with the engine's mark: it runs through the chain once
 * more, the chain saves the mark to the connmark (setting the connmark in the
 * verdict is ignored by this kernel, see PLATFORM.md) and accepts, drops or
 * rejects it, and the kernel does the same for the rest of the flow. Reject
 * answers (RST, ICMP) are built by the engine and sent on raw sockets opened
 * before the privilege drop. A reload cuts through ctnetlink (nfqct.c) what
 * the engines report and what only the kernel still carries (live_reload.c).
 *
 * Threads: one per queue (its own nfqsock and engine, so one nDPI module per
 * thread) and the main thread (signals, control socket, metrics, reloads).
 * The main thread never touches an engine: it posts a request to the queue's
 * thread and waits for it to be done.
 */
enum live_req_kind {
	LIVE_REQ_COUNTERS,       /* copy the engine's counters */
	LIVE_REQ_FLOWS,          /* write the flow list as text */
	LIVE_REQ_POLICY,         /* swap in a new policy, cut what it no longer accepts */
};

struct live_req {
	enum live_req_kind kind;
	struct gw_counters *counters;
	FILE *out;
	struct policy *policy;
	struct gw_reload_report report;
	bool done;
};

/* What the queue thread counts itself (one writer; read relaxed by others). */
struct live_qstats {
	uint64_t verdict[3];          /* packets by verdict given: accept, drop, reject */
	uint64_t offloaded;           /* flows handed to the kernel by mark */
	uint64_t replies_sent, reply_errors;
	uint64_t conntrack_updates, conntrack_errors;
};

struct live;

struct live_queue {
	struct live *live;
	unsigned index;
	struct nfqsock *sock;
	struct gw_engine *engine;
	pthread_t thread;
	bool started;
	int wake_fd;                  /* eventfd: a request or stop is waiting */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct live_req *req;         /* under lock */
	struct live_qstats stats;
	uint64_t pkt_num;
};

struct live {
	const char *config_path;
	struct nfqconf nfq;
	struct gw_config gw;
	struct policy *policy;        /* the one in force (main thread's reference) */
	struct ev_sink *sink;
	pthread_rwlock_t sink_lock;   /* readers: queue threads writing events; writer: log reopen */
	int raw4, raw6;               /* raw sockets for reject answers, -1 when unavailable */
	uint32_t mark_mask;           /* every bit tiergate's marks use */
	struct live_queue queue[NFQCONF_MAX_QUEUES];
	unsigned n_queues;
	volatile sig_atomic_t stopping;
	uint64_t started_us;
	uint64_t reloads_ok, reloads_refused, flows_cut;
	char last_reload[512];        /* what the last reload did, for ctl */
	time_t asp_retry;             /* ASP state reload refused: not again before this */
	char ha_state[16];            /* pair: what keepalived last said ("" = not told yet) */
	uint64_t ha_since_us;
	unsigned ha_adopted;          /* undecided synced flows decided at the last promotion */
};

/* live_queue.c */
int live_queue_start(struct live *lv, struct live_queue *q);
void live_queue_stop(struct live_queue *q);
/* Posts req to the queue's thread and waits (bounded) until it is done. Returns 0 or -1. */
int live_queue_call(struct live_queue *q, struct live_req *req);

/* live_reload.c: loads the config file again; on success every queue gets the new policy. */
/* by: the uid that asked (kernel-reported); via: how ("SIGHUP", "ctl reload", ...). An admin event either way. */
int live_reload(struct live *lv, FILE *report, uid_t by, const char *via);
/* The admin event of a policy load or reload: file, its SHA-256, the result. */
void live_policy_event(struct live *lv, const char *action, uid_t by, const char *via, const char *result);
/* One policy_exception event per written exception of the policy in force (start and reload). */
void live_reload_announce(struct live *lv);
/* Reloads when the ASP state file changed or an ASP's pass ran out (main loop, every second). */
void live_reload_watch(struct live *lv, time_t now);

/* live_ha.c: --ha-state (root, keepalived's notify): the gate, then the daemon is told ("ha STATE"). */
int live_ha_state(struct live *lv, const char *state);
void live_ha_changed(struct live *lv, const char *state, FILE *answer);
void live_ha_stats_text(const struct live *lv, FILE *out);

/* live_stats.c */
void live_stats_text(struct live *lv, FILE *out);
void live_stats_prometheus(struct live *lv, FILE *out);
void live_flows_text(struct live *lv, FILE *out);

#endif

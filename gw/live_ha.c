/* live_ha.c -- one gateway of an active-standby pair: keepalived's notify hook (--ha-state), the gate, and what the daemon does when told. */
#include "gw/live.h"

#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "gw/ctl.h"
#include "gw/iptrules.h"
#include "gw/nfqct.h"
#include "lib/log.h"
#include "lib/util.h"

/*
 * The pair shares nothing but the kernel's conntrack table, which conntrackd
 * copies from the active node to the standby with every flow's connmark: a
 * decided flow carries its verdict across a failover and never reaches the
 * new node's queue. keepalived's notify script (conf/ha/notify.sh) commits
 * conntrackd's external cache, then runs `tiergate-gw --ha-state master`:
 * the daemon decides the synced flows that were still waiting for their
 * application (below), then the gate chain opens. On backup/fault the gate
 * closes first, so that a standby decides nothing from half a table.
 */

#define LIVE_HA_SCAN_MAX (1u << 20)   /* conntrack entries looked at per promotion */
#define LIVE_HA_ID_BASE (0xffffULL << 48)   /* flow ids of flows decided here, apart from the engines' */

static const char *const live_ha_states[] = { "master", "backup", "fault", "stop", NULL };

static bool
live_ha_state_ok(const char *state)
{
	for (int i = 0; live_ha_states[i]; i++)
		if (strcmp(state, live_ha_states[i]) == 0)
			return true;
	return false;
}

/* --- the hook (root, run by keepalived) -------------------------------------- */

/*
 * Master opens the gate. A healthy standby (backup) keeps it closed: it must
 * decide nothing before the commit. A node in fault or stop has lost its
 * gateway process or a link; there nfqueue's fail_open decides, as on a
 * single gateway: fail-open (every queue) lets undecided packets bypass the
 * dead queue, fail-closed drops them.
 */
int
live_ha_state(struct live *lv, const char *state)
{
	char cmd[32];
	bool open = strcmp(state, "master") == 0 ||
	    (strcmp(state, "backup") != 0 && nfqconf_all_fail_open(&lv->nfq));
	int told;

	if (!live_ha_state_ok(state)) {
		fprintf(stderr, "tiergate-gw: --ha-state '%s': expected master, backup, fault or stop\n",
		    state);
		return 2;
	}
	/* Closing comes first, opening last: the daemon decides the synced waiting flows before
	 * their packets can reach its queue. */
	if (!open && iptrules_gate(&lv->nfq, false) < 0)
		return 1;
	snprintf(cmd, sizeof cmd, "ha %s", state);
	told = ctl_client(lv->nfq.control_socket, cmd, stdout);
	if (open && iptrules_gate(&lv->nfq, true) < 0)
		return 1;
	if (told != 0)
		fprintf(stderr, "tiergate-gw: the gate is %s, but the running gateway was not told "
		    "(see above)\n", open ? "open" : "closed");
	log_info("HA state %s: gate %s%s", state, open ? "open" : "closed",
	    open && strcmp(state, "master") != 0 ? " (every queue is fail-open)" : "");
	return 0;
}

/* --- the daemon's side ---------------------------------------------------------- */

static void
live_ha_event(struct live *lv, struct jbuf *jb)
{
	ev_end(jb);
	pthread_rwlock_rdlock(&lv->sink_lock);
	if (lv->sink && ev_emit(lv->sink, jb) < 0)
		log_warn("writing an event");
	pthread_rwlock_unlock(&lv->sink_lock);
	jb_reset(jb);
}

static void
live_ha_flow_event(struct live *lv, struct jbuf *jb, const struct nfqct_entry *e,
    const struct policy_verdict *pv, const char *app)
{
	char src[ADDR_STRLEN], dst[ADDR_STRLEN];
	static uint64_t next_id = 1;

	addr_format(&e->src, src);
	addr_format(&e->dst, dst);
	ev_begin(jb, "flow", 0);
	jb_str(jb, "node", lv->gw.node[0] ? lv->gw.node : NULL);
	jb_uint(jb, "flow_id", LIVE_HA_ID_BASE | next_id++);
	jb_uint(jb, "pcap_cnt", 0);
	jb_str(jb, "src_ip", src);
	jb_uint(jb, "src_port", e->sport);
	jb_str(jb, "dst_ip", dst);
	jb_uint(jb, "dst_port", e->dport);
	jb_str(jb, "proto", e->proto == IPPROTO_TCP ? "TCP" : "UDP");
	jb_str(jb, "src_zone", policy_zone_name(lv->policy, pv->src_zone));
	jb_str(jb, "dst_zone", policy_zone_name(lv->policy, pv->dst_zone));
	jb_str(jb, "app", app);
	jb_str(jb, "rule", pv->rule_name);
	jb_str(jb, "verdict", policy_action_name(pv->action));
	jb_bool(jb, "final", true);
	jb_str(jb, "reason", pv->reason);
	jb_bool(jb, "synced", true);
	live_ha_event(lv, jb);
}

/* The node's own addresses (VIPs included): its own traffic (sync link, VRRP, management) is no flow to decide. */
struct live_ha_local {
	struct addr a[64];
	unsigned n;
};

static void
live_ha_local_addrs(struct live_ha_local *l)
{
	struct ifaddrs *ifs, *i;

	l->n = 0;
	if (getifaddrs(&ifs) < 0)
		return;
	for (i = ifs; i && l->n < sizeof l->a / sizeof l->a[0]; i = i->ifa_next) {
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET)
			addr_from_v4(&l->a[l->n++],
			    (const uint8_t *)&((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr);
		else if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET6)
			addr_from_v6(&l->a[l->n++],
			    ((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr.s6_addr);
	}
	freeifaddrs(ifs);
}

static bool
live_ha_is_local(const struct live_ha_local *l, const struct addr *a)
{
	for (unsigned i = 0; i < l->n; i++)
		if (memcmp(&l->a[i], a, sizeof *a) == 0)
			return true;
	return false;
}

static uint32_t
live_ha_mark(const struct live *lv, enum policy_action a)
{
	if (a == ACT_ACCEPT)
		return lv->gw.mark_accept;
	return a == ACT_REJECT ? lv->gw.mark_reject : lv->gw.mark_drop;
}

/*
 * A synced entry without any of tiergate's marks is a flow the old active
 * node had not decided: it was waiting for its application. The bytes that
 * would name it went through the other node, so it is judged as app
 * "Unknown" here (as a reload judges flows decided without their
 * application), from conntrack's original tuple, which keeps the direction
 * right; then its connmark carries the verdict and its packets bypass the queue.
 */
static bool
live_ha_adopt_entry(struct live *lv, struct nfqct *ct, struct jbuf *jb, const struct nfqct_entry *e,
    const struct live_ha_local *local)
{
	/* No name either: the bytes that carried it went through the other node. */
	struct policy_flow f = { .src = e->src, .dst = e->dst, .proto = e->proto, .sport = e->sport,
		.dport = e->dport, .name_state = NAME_NONE };
	struct policy_verdict pv;
	const char *app = NULL;

	if ((e->mark & lv->mark_mask) || (e->proto != IPPROTO_TCP && e->proto != IPPROTO_UDP) ||
	    live_ha_is_local(local, &e->src) || live_ha_is_local(local, &e->dst))
		return false;
	policy_lookup(lv->policy, &f, APP_PENDING, &pv);
	if (pv.src_zone == ZONE_NONE || pv.dst_zone == ZONE_NONE)
		return false;   /* not between two zones */
	if (!pv.final) {
		app = APP_UNKNOWN;
		policy_lookup(lv->policy, &f, APP_UNKNOWN, &pv);
	}
	if (nfqct_set_mark(ct, &e->src, &e->dst, e->proto, e->sport, e->dport,
	    live_ha_mark(lv, pv.action), lv->mark_mask) < 0)
		return false;
	live_ha_flow_event(lv, jb, e, &pv, app);
	return true;
}

static unsigned
live_ha_adopt(struct live *lv)
{
	struct nfqct_entry *v = NULL;
	struct jbuf jb = JBUF_INIT;
	struct live_ha_local local;
	struct nfqct *ct = nfqct_open();
	unsigned n_adopted = 0;
	int n = ct ? nfqct_list(ct, 0, 0, LIVE_HA_SCAN_MAX, &v) : -1;

	if (n < 0)
		log_warn("HA: listing the synced flows (conntrack)");
	live_ha_local_addrs(&local);
	for (int i = 0; i < n; i++)
		if (live_ha_adopt_entry(lv, ct, &jb, &v[i], &local))
			n_adopted++;
	free(v);
	jb_free(&jb);
	nfqct_close(ct);
	return n_adopted;
}

void
live_ha_changed(struct live *lv, const char *state, FILE *answer)
{
	char prev[sizeof lv->ha_state];
	struct jbuf jb = JBUF_INIT;

	if (!live_ha_state_ok(state)) {
		fprintf(answer, "error: unknown HA state '%s' (master, backup, fault, stop)\n", state);
		return;
	}
	str_copy(prev, lv->ha_state, sizeof prev);
	str_copy(lv->ha_state, state, sizeof lv->ha_state);
	lv->ha_since_us = ev_now_us();
	ev_begin(&jb, "ha_state", 0);
	jb_str(&jb, "node", lv->gw.node[0] ? lv->gw.node : NULL);
	jb_str(&jb, "state", state);
	jb_str(&jb, "previous_state", prev[0] ? prev : NULL);
	live_ha_event(lv, &jb);
	jb_free(&jb);
	lv->ha_adopted = strcmp(state, "master") == 0 && lv->nfq.offload ? live_ha_adopt(lv) : 0;
	log_info("HA: node %s is %s (was %s)%s", lv->gw.node[0] ? lv->gw.node : "-", state,
	    prev[0] ? prev : "unknown", lv->ha_adopted ? "; synced flows still undecided were decided" : "");
	fprintf(answer, "ok\nnode %s: %s (was %s); %u synced undecided flows decided\n",
	    lv->gw.node[0] ? lv->gw.node : "-", state, prev[0] ? prev : "unknown", lv->ha_adopted);
}

void
live_ha_stats_text(const struct live *lv, FILE *out)
{
	if (!lv->nfq.ha_pair && lv->gw.node[0] == '\0')
		return;
	fprintf(out, "ha: node %s, %s", lv->gw.node[0] ? lv->gw.node : "-",
	    lv->ha_state[0] ? lv->ha_state : "state not told yet (standby until keepalived says master)");
	if (lv->ha_state[0])
		fprintf(out, " for %llu s; %u synced undecided flows decided at the last promotion",
		    (unsigned long long)((ev_now_us() - lv->ha_since_us) / 1000000), lv->ha_adopted);
	fputc('\n', out);
}

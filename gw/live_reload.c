/* live_reload.c -- SIGHUP / ctl reload: a new policy for every queue at once, or none and the old one stays. */
#include "gw/live.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw/nfqct.h"
#include "lib/evadmin.h"
#include "lib/log.h"

#define LIVE_SWEEP_MAX (1u << 20)   /* conntrack entries looked at per reload */
#define LIVE_SWEEP_LOG 20           /* cut flows named in the log per reload */

static void
live_reload_refused(struct live *lv, const struct diags *d, FILE *report)
{
	lv->reloads_refused++;
	log_warnx("reload refused: %s has errors; the policy loaded from %s stays in force",
	    lv->config_path, policy_source(lv->policy));
	diags_log(d);
	if (report) {
		fprintf(report, "error: reload refused, the old policy stays in force\n");
		diags_print(d, report);
	}
	snprintf(lv->last_reload, sizeof lv->last_reload, "refused (%zu errors); old policy kept",
	    diags_count(d, DIAG_ERROR));
}

/* Hands p to each queue's thread; they re-evaluate their flows and cut what p no longer accepts. */
static void
live_reload_apply(struct live *lv, struct policy *p, struct gw_reload_report *sum)
{
	for (unsigned i = 0; i < lv->n_queues; i++) {
		struct live_req req = { .kind = LIVE_REQ_POLICY, .policy = p };

		if (live_queue_call(&lv->queue[i], &req) < 0) {
			log_warnx("queue %u did not take the new policy in time", lv->queue[i].index);
			continue;
		}
		sum->flows += req.report.flows;
		sum->cut += req.report.cut;
		sum->changed += req.report.changed;
	}
}

/* Interface zones cannot be judged from conntrack (it keeps no interfaces): such sites skip the sweep. */
static bool
live_reload_has_interface_zones(const char *path)
{
	config_setting_t *zones;
	struct diags d;
	config_t cfg;
	bool found = false;

	diags_init(&d, path);
	config_init(&cfg);
	if (conf_load(&cfg, path, &d) == 0 && (zones = config_lookup(&cfg, "zones")) != NULL)
		for (int i = 0; i < config_setting_length(zones) && !found; i++)
			found = config_setting_get_member(config_setting_get_elem(zones, (unsigned)i),
			    "interfaces") != NULL;
	config_destroy(&cfg);
	diags_free(&d);
	return found;
}

static bool
live_reload_cut_entry(struct live *lv, struct nfqct *ct, struct policy *p, const struct nfqct_entry *e,
    unsigned logged)
{
	struct policy_flow f = { .src = e->src, .dst = e->dst, .proto = e->proto, .sport = e->sport,
	    .dport = e->dport };
	struct policy_verdict pv;
	char src[ADDR_STRLEN], dst[ADDR_STRLEN];

	if (e->proto != IPPROTO_TCP && e->proto != IPPROTO_UDP)
		return false;   /* ICMP and others carry no ports here; they time out within seconds */
	policy_lookup(p, &f, APP_PENDING, &pv);
	if (!pv.final || pv.action == ACT_ACCEPT)
		return false;   /* still allowed, or only the application (unknown here) could tell */
	if (nfqct_set_mark(ct, &e->src, &e->dst, e->proto, e->sport, e->dport,
	    pv.action == ACT_REJECT ? lv->gw.mark_reject : lv->gw.mark_drop, lv->mark_mask) < 0)
		return false;
	if (logged < LIVE_SWEEP_LOG) {
		addr_format(&e->src, src);
		addr_format(&e->dst, dst);
		log_info("reload: offloaded flow %s:%u -> %s:%u (%s) cut: %s", src, e->sport, dst, e->dport,
		    e->proto == IPPROTO_TCP ? "tcp" : "udp", pv.reason);
	}
	return true;
}

/*
 * Decided flows run in the kernel, so an engine sees no more of their packets
 * and forgets them after its idle timeouts: the engines cannot cut what they
 * no longer know. The kernel's accepted entries are checked against the new
 * policy here; those it refuses whatever their application are cut.
 */
static unsigned
live_reload_sweep(struct live *lv, struct policy *p)
{
	struct nfqct_entry *v = NULL;
	struct nfqct *ct;
	unsigned cut = 0;
	int n;

	if (!lv->nfq.offload || live_reload_has_interface_zones(lv->config_path))
		return 0;
	ct = nfqct_open();
	n = ct ? nfqct_list(ct, lv->gw.mark_accept, lv->mark_mask, LIVE_SWEEP_MAX, &v) : -1;
	if (n < 0)
		log_warn("reload: listing the kernel's accepted flows (conntrack)");
	for (int i = 0; i < n; i++)
		if (live_reload_cut_entry(lv, ct, p, &v[i], cut))
			cut++;
	free(v);
	nfqct_close(ct);
	return cut;
}

void
live_policy_event(struct live *lv, const char *action, uid_t by, const char *via, const char *result)
{
	struct jbuf jb = JBUF_INIT;
	char sha[65];

	if (lv->sink == NULL)
		return;
	ev_file_sha256(lv->config_path, sha);
	ev_admin_begin(&jb, action, by);
	jb_str(&jb, "via", via);
	jb_str(&jb, "file", lv->config_path);
	jb_str(&jb, "sha256", sha);
	jb_str(&jb, "result", result);
	ev_end(&jb);
	pthread_rwlock_rdlock(&lv->sink_lock);
	ev_emit(lv->sink, &jb);
	pthread_rwlock_unlock(&lv->sink_lock);
	jb_free(&jb);
}

int
live_reload(struct live *lv, FILE *report, uid_t by, const char *via)
{
	struct gw_reload_report sum = { 0, 0, 0 };
	unsigned kernel_only;
	struct diags d;
	struct policy *p;

	diags_init(&d, lv->config_path);
	p = policy_load(lv->config_path, &d);
	if (p == NULL) {
		live_reload_refused(lv, &d, report);
		live_policy_event(lv, "policy_reload", by, via, "refused; the old policy stays in force");
		diags_free(&d);
		return -1;
	}
	diags_log(&d);   /* warnings */
	diags_free(&d);
	live_reload_apply(lv, p, &sum);
	kernel_only = live_reload_sweep(lv, p);
	sum.cut += kernel_only;
	policy_unref(lv->policy);
	lv->policy = p;
	lv->reloads_ok++;
	lv->flows_cut += sum.cut;
	snprintf(lv->last_reload, sizeof lv->last_reload, "policy from %s (%s, %d rules): "
	    "%u flows re-evaluated, %u cut (%u known only to the kernel), %u changed", policy_source(p),
	    policy_model_name(policy_model(p)), policy_rule_count(p), sum.flows, sum.cut, kernel_only,
	    sum.changed);
	log_info("reloaded %s", lv->last_reload);
	live_policy_event(lv, "policy_reload", by, via, "applied");
	live_reload_announce(lv);
	if (report)
		fprintf(report, "ok\nreloaded %s\n", lv->last_reload);
	/* Log rotation goes with SIGHUP too: the event file is opened again while no thread writes. */
	pthread_rwlock_wrlock(&lv->sink_lock);
	if (lv->sink && ev_sink_reopen(lv->sink) < 0)
		log_warn("reopening the event file %s", lv->gw.events);
	pthread_rwlock_unlock(&lv->sink_lock);
	return 0;
}

static void
live_reload_asp_log(const struct policy *p)
{
	const char *names[32];
	char list[512] = "";
	int n = policy_asp_passed(p, names, 32);

	if (policy_asp_state_file(p) == NULL)
		return;
	for (int i = 0; i < n; i++) {
		size_t used = strlen(list);
		snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
	}
	log_info("ASP services that passed their check (asp:passed): %s", n ? list : "none");
}

void
live_reload_announce(struct live *lv)
{
	struct policy_exception e;

	live_reload_asp_log(lv->policy);
	pthread_rwlock_rdlock(&lv->sink_lock);
	for (int i = 0; policy_exception_get(lv->policy, i, &e); i++) {
		struct jbuf jb = JBUF_INIT;
		log_info("exception in force: rule '%s' (%s:%d): %s; approved by %s; until %s (%ld days left)",
		    e.rule, e.file, e.line, e.reason, e.approved_by, e.until, e.days_left);
		if (lv->sink == NULL)
			continue;
		ev_begin(&jb, "policy_exception", ev_now_us());
		if (lv->gw.node[0])
			jb_str(&jb, "node", lv->gw.node);   /* one node of a pair: which one says it */
		jb_str(&jb, "rule", e.rule);
		jb_str(&jb, "reason", e.reason);
		jb_str(&jb, "approved_by", e.approved_by);
		jb_str(&jb, "until", e.until);
		jb_int(&jb, "days_left", e.days_left);
		jb_str(&jb, "file", e.file);
		jb_int(&jb, "line", e.line);
		ev_end(&jb);
		ev_emit(lv->sink, &jb);
		jb_free(&jb);
	}
	pthread_rwlock_unlock(&lv->sink_lock);
}

void
live_reload_watch(struct live *lv, time_t now)
{
	int why = now < lv->asp_retry ? ASP_STALE_NO : policy_asp_stale(lv->policy, now);

	if (why == ASP_STALE_NO)
		return;
	log_info("ASP state %s: %s; reloading", policy_asp_state_file(lv->policy),
	    why == ASP_STALE_FILE ? "the file changed" : "a pass ran out (asp.max_result_age)");
	lv->asp_retry = live_reload(lv, NULL, getuid(), "ASP state changed") < 0 ? now + 10 : 0;
}

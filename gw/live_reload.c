/* live_reload.c -- SIGHUP / ctl reload: a new policy for every queue at once, or none and the old one stays. */
#include "gw/live.h"

#include "lib/log.h"

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

int
live_reload(struct live *lv, FILE *report)
{
	struct gw_reload_report sum = { 0, 0, 0 };
	struct diags d;
	struct policy *p;

	diags_init(&d, lv->config_path);
	p = policy_load(lv->config_path, &d);
	if (p == NULL) {
		live_reload_refused(lv, &d, report);
		diags_free(&d);
		return -1;
	}
	diags_log(&d);   /* warnings */
	diags_free(&d);
	live_reload_apply(lv, p, &sum);
	policy_unref(lv->policy);
	lv->policy = p;
	lv->reloads_ok++;
	lv->flows_cut += sum.cut;
	snprintf(lv->last_reload, sizeof lv->last_reload, "policy from %s (%s, %d rules): "
	    "%u flows re-evaluated, %u cut, %u changed", policy_source(p),
	    policy_model_name(policy_model(p)), policy_rule_count(p), sum.flows, sum.cut, sum.changed);
	log_info("reloaded %s", lv->last_reload);
	if (report)
		fprintf(report, "ok\nreloaded %s\n", lv->last_reload);
	/* Log rotation goes with SIGHUP too: the event file is opened again while no thread writes. */
	pthread_rwlock_wrlock(&lv->sink_lock);
	if (lv->sink && ev_sink_reopen(lv->sink) < 0)
		log_warn("reopening the event file %s", lv->gw.events);
	pthread_rwlock_unlock(&lv->sink_lock);
	return 0;
}

/* verify_run.c -- one case end to end: read case.conf, replay each pcap through tiergate-gw, check the events. */
#include "gw/verify/verify.h"

#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw/verify/verify_case.h"
#include "gw/verify/verify_check.h"
#include "gw/verify/verify_events.h"
#include "gw/verify/verify_gw.h"
#include "gw/verify/verify_index.h"
#include "gw/verify/verify_str.h"
#include "gw/verify/verify_update.h"
#include "lib/util.h"

/* What a case run collects before it becomes a vresult. */
struct vrun {
	const struct vopts *opts;
	size_t slot;              /* names this case's files in the work directory */
	struct vcase vc;
	struct vevents evs;
	struct vindex *index;     /* over evs, once every replay is read */
	char *policy;             /* resolved path of the policy replayed with */
	struct vs_buf details;
	struct vresult *res;
};

static void
vrun_fail(struct vrun *r, char *reason)
{
	r->res->status = VSTATUS_FAIL;
	if (r->res->reason == NULL)
		r->res->reason = vs_one_line(reason, 2000);
	free(reason);
}

static void
vrun_indent_diags(const struct diags *d, FILE *out)
{
	struct vs_buf b;
	char *text;

	vs_open(&b);
	diags_print(d, b.f);
	text = vs_take(&b);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		fprintf(out, "  %s\n", line);
	free(text);
}

static int
vrun_load_case(struct vrun *r, const char *dir)
{
	struct diags d;
	int rc;

	diags_init(&d, dir);
	rc = vcase_load(&r->vc, dir, &d);
	if (rc < 0) {
		const struct diag *first = &d.v[0];
		vrun_fail(r, vs_printf("malformed %s: %s:%d: %s", VCASE_FILE, first->file ? first->file : "?",
		    first->line, first->text));
		vrun_indent_diags(&d, r->details.f);
	}
	diags_free(&d);
	r->res->nchecks = r->vc.nchecks;
	return rc;
}

static bool
vrun_is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int
vrun_pick_policy(struct vrun *r)
{
	if (r->opts->policy) {
		r->policy = xstrdup(r->opts->policy);
	} else if (r->vc.policy) {
		r->policy = vcase_path(&r->vc, r->vc.policy);
	} else {
		vrun_fail(r, vs_printf("%s names no policy: add policy = \"...\"; or run with --policy FILE",
		    r->vc.conf_path));
		return -1;
	}
	errno = 0;
	if (!vrun_is_file(r->policy)) {
		vrun_fail(r, vs_printf("policy %s: %s", r->policy,
		    errno == 0 ? "not a regular file" : strerror(errno)));
		return -1;
	}
	return 0;
}

static int
vrun_replay(struct vrun *r, size_t index)
{
	char *pcap = vcase_path(&r->vc, r->vc.pcaps[index]);
	char *events = vs_printf("%s/%zu-%zu.jsonl", r->opts->workdir, r->slot, index);
	char *log = vs_printf("%s/%zu-%zu.log", r->opts->workdir, r->slot, index);
	struct vgw_job job = { r->opts->gw, pcap, r->vc.pcaps[index], r->policy, events, log,
		r->opts->timeout_s };
	char *reason = NULL, *output = NULL, *error = NULL;
	int rc = -1;

	if (!vrun_is_file(pcap)) {
		vrun_fail(r, vs_printf("pcap %s not found (%s: pcap \"%s\")", pcap, r->vc.conf_path,
		    r->vc.pcaps[index]));
	} else if (vgw_run(&job, &reason, &output) < 0) {
		char *cmd = vgw_command(&job);
		fprintf(r->details.f, "  %s\n  ran: %s\n", reason, cmd);
		free(cmd);
		for (char *line = strtok(output, "\n"); line; line = strtok(NULL, "\n"))
			fprintf(r->details.f, "    | %s\n", line);
		vrun_fail(r, reason);
		reason = NULL;
	} else if (vevents_load(&r->evs, events, basename(pcap), &error) < 0) {
		vrun_fail(r, vs_printf("tiergate-gw wrote a bad event log: %s", error));
		fprintf(r->details.f, "  %s\n  ran: %s --pcap %s ... (rerun with --keep to keep the log)\n",
		    r->res->reason, r->opts->gw, pcap);
	} else {
		rc = 0;
		if (r->opts->verbose) {
			char *cmd = vgw_command(&job);
			fprintf(r->details.f, "  ran: %s\n", cmd);
			free(cmd);
		}
	}
	free(reason);
	free(output);
	free(error);
	free(pcap);
	free(events);
	free(log);
	return rc;
}

static void
vrun_checks(struct vrun *r)
{
	size_t failed = 0;

	for (size_t i = 0; i < r->vc.nchecks; i++) {
		char *reason = NULL;
		if (vcheck_eval(&r->vc, &r->vc.checks[i], i + 1, &r->evs, r->index, &reason, r->details.f) < 0) {
			failed++;
			vrun_fail(r, reason);
		} else if (r->opts->verbose) {
			char *summary = vcheck_summary(&r->vc.checks[i]);
			fprintf(r->details.f, "  ok check %zu: %s\n", i + 1, summary);
			free(summary);
		}
	}
	if (failed > 1)
		fprintf(r->details.f, "  %zu of %zu checks failed\n", failed, r->vc.nchecks);
}

void
vrun_case(const struct vopts *opts, const struct vcase_ref *ref, size_t slot, struct vresult *res)
{
	struct vrun r;
	bool replayed = true;

	memset(&r, 0, sizeof r);
	memset(res, 0, sizeof *res);
	r.opts = opts;
	r.slot = slot;
	r.res = res;
	res->status = opts->update ? VSTATUS_SAME : VSTATUS_PASS;
	vs_open(&r.details);
	if (vrun_load_case(&r, ref->dir) == 0 && vrun_pick_policy(&r) == 0) {
		for (size_t i = 0; i < r.vc.npcaps && replayed; i++)
			replayed = vrun_replay(&r, i) == 0;
		r.index = replayed ? vindex_new(&r.evs) : NULL;
		if (replayed && opts->update)
			vupdate_case(&r.vc, &r.evs, r.index, res, r.details.f);
		else if (replayed)
			vrun_checks(&r);
	}
	if (opts->verbose && replayed && res->status != VSTATUS_FAIL)
		fprintf(r.details.f, "  %zu events from %zu pcap(s), policy %s\n", r.evs.n, r.evs.npcaps,
		    r.policy ? r.policy : "?");
	res->details = vs_take(&r.details);
	vindex_free(r.index);
	vevents_free(&r.evs);
	vcase_free(&r.vc);
	free(r.policy);
}

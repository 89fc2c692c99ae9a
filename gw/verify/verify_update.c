/* verify_update.c -- --update: record the gateway's current verdicts as a case's checks, shown as a diff. */
#include "gw/verify/verify_update.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gw/verify/verify_check.h"
#include "gw/verify/verify_str.h"
#include "lib/util.h"

/* The fields that identify a flow in a recorded check, and those it expects. */
static const char *const vupdate_tuple[] = { "proto", "src_ip", "src_port", "dst_ip", "dst_port", NULL };
static const char *const vupdate_expect[] = { "app", "rule", "verdict", NULL };
static const char *const vupdate_verdicts[] = { "accept", "drop", "reject", NULL };

#define VUPDATE_MAX_DIFF 4000   /* changed lines per side beyond which the diff is not aligned */

static bool
vupdate_is_final_flow(const struct vevent *ev)
{
	const struct json_value *final = json_get(&ev->obj, "final");
	const char *kind = json_get_str(&ev->obj, "event");

	return strcmp(kind, "flow") == 0 && final && final->type == JSON_BOOL && final->boolean;
}

/* Copies a scalar event value into fs; other types cannot be written to case.conf. */
static void
vupdate_copy(struct vfields *fs, const char *name, const struct json_value *v)
{
	if (v == NULL)
		return;
	if (v->type == JSON_STRING && strlen(v->text) == v->len)
		vfields_add_str(fs, name, v->text);
	else if (v->type == JSON_NUMBER && v->is_int)
		vfields_add_int(fs, name, v->integer);
	else if (v->type == JSON_BOOL)
		vfields_add_bool(fs, name, v->boolean);
	else if (v->type == JSON_NULL)
		vfields_add_str(fs, name, "null");
}

static void
vupdate_match(struct vcheck *ck, const struct vevent *ev, bool with_packet)
{
	vfields_add_str(&ck->match, "event", "flow");
	vfields_add_bool(&ck->match, "final", true);
	for (int i = 0; vupdate_tuple[i]; i++)
		vupdate_copy(&ck->match, vupdate_tuple[i], json_get(&ev->obj, vupdate_tuple[i]));
	if (with_packet)
		vupdate_copy(&ck->match, "pcap_cnt", json_get(&ev->obj, "pcap_cnt"));
}

/* Expect only what every selected event agrees on, so the recorded check holds. */
static void
vupdate_expect_agreed(struct vcheck *ck, const struct vevent *first, const struct vevents *evs,
    struct vindex *ix)
{
	struct vcands c = vindex_candidates(ix, evs, &ck->match);

	for (int k = 0; vupdate_expect[k]; k++) {
		const struct json_value *want = json_get(&first->obj, vupdate_expect[k]);
		struct vfields one = { NULL, 0 };
		bool agreed;
		vupdate_copy(&one, vupdate_expect[k], want);
		agreed = one.n == 1;
		for (size_t i = 0; i < c.n && agreed; i++) {
			const struct vevent *ev = &evs->v[vcands_at(&c, i)];
			if (vcheck_selects(ck, ev) &&
			    !vcheck_field_matches(&one.v[0], json_get(&ev->obj, vupdate_expect[k])))
				agreed = false;
		}
		if (agreed)
			vupdate_copy(&ck->expect, vupdate_expect[k], want);
		vfields_free(&one);
	}
}

static struct vcheck *
vupdate_push(struct vcase *vc)
{
	struct vcheck *ck;

	vc->checks = xrealloc(vc->checks, vc->nchecks + 1, sizeof *vc->checks);
	ck = &vc->checks[vc->nchecks++];
	memset(ck, 0, sizeof *ck);
	return ck;
}

/*
 * One check per flow (5-tuple; with the packet number when a flow changed its
 * verdict). A probe that also selects an earlier event is that event's check,
 * already recorded: so the pass stays linear with the index.
 */
static void
vupdate_flow_checks(struct vcase *out, const struct vevents *evs, struct vindex *ix)
{
	for (size_t i = 0; i < evs->n; i++) {
		struct vcheck probe = { 0 }, *ck;
		const struct vevent *first;
		size_t count;
		if (!vupdate_is_final_flow(&evs->v[i]))
			continue;
		vupdate_match(&probe, &evs->v[i], false);
		count = vcheck_count(&probe, evs, ix, &first);
		if (count > 1) {
			vcheck_free(&probe);
			vupdate_match(&probe, &evs->v[i], true);
			count = vcheck_count(&probe, evs, ix, &first);
		}
		if (first != &evs->v[i]) {
			vcheck_free(&probe);
			continue;
		}
		ck = vupdate_push(out);
		*ck = probe;
		ck->count = (long long)count;
		vupdate_expect_agreed(ck, first, evs, ix);
	}
}

static void
vupdate_verdict_counts(struct vcase *out, const struct vevents *evs, struct vindex *ix)
{
	const struct vevent *first;

	for (int i = 0; vupdate_verdicts[i]; i++) {
		struct vcheck *ck = vupdate_push(out);
		vfields_add_str(&ck->match, "event", "flow");
		vfields_add_bool(&ck->match, "final", true);
		vfields_add_str(&ck->match, "verdict", vupdate_verdicts[i]);
		ck->count = (long long)vcheck_count(ck, evs, ix, &first);
	}
}

static void
vupdate_keep(struct vcase *out, const struct vcase *old)
{
	for (size_t i = 0; i < old->nchecks; i++) {
		const struct vcheck *src = &old->checks[i];
		struct vcheck *ck;
		if (!src->keep)
			continue;
		ck = vupdate_push(out);
		ck->count = src->count;
		ck->keep = true;
		ck->line = src->line;
		ck->comment = src->comment ? xstrdup(src->comment) : NULL;
		for (size_t k = 0; k < src->match.n; k++)
			vupdate_copy_field(&ck->match, &src->match.v[k]);
		for (size_t k = 0; k < src->expect.n; k++)
			vupdate_copy_field(&ck->expect, &src->expect.v[k]);
	}
}

void
vupdate_copy_field(struct vfields *fs, const struct vfield *f)
{
	struct vfield *copy;

	fs->v = xrealloc(fs->v, fs->n + 1, sizeof *fs->v);
	copy = &fs->v[fs->n++];
	*copy = *f;
	copy->name = xstrdup(f->name);
	copy->str = f->str ? xstrdup(f->str) : NULL;
}

void
vupdate_record(struct vcase *out, const struct vcase *old, const struct vevents *evs, struct vindex *ix)
{
	memset(out, 0, sizeof *out);
	out->dir = xstrdup(old->dir);
	out->conf_path = xstrdup(old->conf_path);
	out->description = old->description ? xstrdup(old->description) : NULL;
	out->policy = old->policy ? xstrdup(old->policy) : NULL;
	out->header = old->header ? xstrdup(old->header) : NULL;
	out->pcaps = xcalloc(old->npcaps, sizeof *out->pcaps);
	for (size_t i = 0; i < old->npcaps; i++)
		out->pcaps[out->npcaps++] = xstrdup(old->pcaps[i]);
	vupdate_flow_checks(out, evs, ix);
	vupdate_verdict_counts(out, evs, ix);
	vupdate_keep(out, old);
}

static char **
vupdate_summaries(const struct vcase *vc)
{
	char **lines = xcalloc(vc->nchecks + 1, sizeof *lines);

	for (size_t i = 0; i < vc->nchecks; i++)
		lines[i] = vcheck_summary(&vc->checks[i]);
	return lines;
}

static void
vupdate_free_lines(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

/* Longest-common-subsequence table, lcs[i][j] for a[i..] and b[j..]. */
static unsigned *
vupdate_lcs(char **a, size_t na, char **b, size_t nb)
{
	unsigned *lcs = xcalloc((na + 1) * (nb + 1), sizeof *lcs);

	for (size_t i = na; i-- > 0;)
		for (size_t j = nb; j-- > 0;) {
			unsigned down = lcs[(i + 1) * (nb + 1) + j], right = lcs[i * (nb + 1) + j + 1];
			lcs[i * (nb + 1) + j] = strcmp(a[i], b[j]) == 0 ?
			    lcs[(i + 1) * (nb + 1) + j + 1] + 1 : (down > right ? down : right);
		}
	return lcs;
}

/* Diff of a[0..na) and b[0..nb) that share no prefix or suffix: aligned by LCS when small enough. */
static void
vupdate_diff_middle(char **a, size_t na, char **b, size_t nb, FILE *out, size_t *removed, size_t *added)
{
	unsigned *lcs = NULL;
	size_t i = 0, j = 0;

	if (na <= VUPDATE_MAX_DIFF && nb <= VUPDATE_MAX_DIFF)
		lcs = vupdate_lcs(a, na, b, nb);
	while (i < na || j < nb) {
		if (lcs && i < na && j < nb && strcmp(a[i], b[j]) == 0) {
			i++, j++;
		} else if (i < na && (j == nb || lcs == NULL ||
		    lcs[(i + 1) * (nb + 1) + j] >= lcs[i * (nb + 1) + j + 1])) {
			fprintf(out, "  - %s\n", a[i++]);
			(*removed)++;
		} else {
			fprintf(out, "  + %s\n", b[j++]);
			(*added)++;
		}
	}
	free(lcs);
}

void
vupdate_diff(char **a, size_t na, char **b, size_t nb, FILE *out, size_t *removed, size_t *added)
{
	size_t head = 0, tail = 0;

	*removed = *added = 0;
	while (head < na && head < nb && strcmp(a[head], b[head]) == 0)
		head++;
	while (tail < na - head && tail < nb - head && strcmp(a[na - 1 - tail], b[nb - 1 - tail]) == 0)
		tail++;
	vupdate_diff_middle(a + head, na - head - tail, b + head, nb - head - tail, out, removed, added);
}

static int
vupdate_write(const struct vcase *vc, char **error)
{
	struct vs_buf b;
	char *text;
	int rc;

	vs_open(&b);
	vcase_write(vc, b.f);
	text = vs_take(&b);
	rc = file_write_atomic(vc->conf_path, text, strlen(text), 0644);
	*error = rc < 0 ? vs_printf("cannot write %s: %s", vc->conf_path, strerror(errno)) : NULL;
	free(text);
	return rc;
}

/* Kept (hand-written) checks must still hold: --update never hides a broken guard. */
static char *
vupdate_check_kept(const struct vcase *vc, const struct vevents *evs, struct vindex *ix, FILE *details)
{
	char *first = NULL;

	for (size_t i = 0; i < vc->nchecks; i++) {
		char *reason = NULL;
		if (vc->checks[i].keep && vcheck_eval(vc, &vc->checks[i], i + 1, evs, ix, &reason, details) < 0
		    && first == NULL)
			first = vs_printf("kept check fails after the update: %s", reason);
		free(reason);
	}
	return first;
}

void
vupdate_case(const struct vcase *old, const struct vevents *evs, struct vindex *ix, struct vresult *res,
    FILE *details)
{
	struct vcase now;
	char **before = vupdate_summaries(old), **after, *error = NULL;
	size_t removed, added;

	vupdate_record(&now, old, evs, ix);
	after = vupdate_summaries(&now);
	vupdate_diff(before, old->nchecks, after, now.nchecks, details, &removed, &added);
	res->nchecks = now.nchecks;
	if (removed + added > 0 && vupdate_write(&now, &error) < 0) {
		res->status = VSTATUS_FAIL;
		res->reason = error;
	} else if (removed + added > 0) {
		res->status = VSTATUS_UPDATED;
		res->reason = vs_printf("%zu check%s removed, %zu added in %s", removed, removed == 1 ? "" : "s",
		    added, old->conf_path);
	}
	if (res->status != VSTATUS_FAIL && (error = vupdate_check_kept(&now, evs, ix, details)) != NULL) {
		free(res->reason);
		res->reason = error;
		res->status = VSTATUS_FAIL;
	}
	vupdate_free_lines(before, old->nchecks);
	vupdate_free_lines(after, now.nchecks);
	vcase_free(&now);
}

/* verify_check.c -- evaluating a case's checks against the events, with failures that explain themselves. */
#include "gw/verify/verify_check.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gw/verify/verify_str.h"
#include "lib/util.h"

#define VCHECK_SHOW_EVENTS 5    /* events listed under one failure */

bool
vcheck_field_matches(const struct vfield *f, const struct json_value *v)
{
	if (v == NULL)
		return false;
	switch (f->kind) {
	case VFIELD_STRING:
		if (v->type == JSON_NULL)
			return strcmp(f->str, "null") == 0;
		if (v->type == JSON_NUMBER)   /* dst_port = "443" means the number */
			return strcmp(f->str, v->text) == 0;
		return v->type == JSON_STRING && v->len == strlen(f->str) && strcmp(f->str, v->text) == 0;
	case VFIELD_INT:
		if (v->type != JSON_NUMBER)
			return false;
		return v->is_int ? v->integer == f->integer : v->number == (double)f->integer;
	case VFIELD_FLOAT:
		return v->type == JSON_NUMBER && v->number == f->real;
	case VFIELD_BOOL:
		return v->type == JSON_BOOL && v->boolean == f->boolean;
	}
	return false;
}

static size_t
vcheck_mismatches(const struct vfields *fs, const struct vevent *ev)
{
	size_t n = 0;

	for (size_t i = 0; i < fs->n; i++)
		if (!vcheck_field_matches(&fs->v[i], json_get(&ev->obj, fs->v[i].name)))
			n++;
	return n;
}

bool
vcheck_selects(const struct vcheck *ck, const struct vevent *ev)
{
	return vcheck_mismatches(&ck->match, ev) == 0;
}

/* "check 2 (DIR/case.conf:7) <summary>" -- where a reader finds the check. */
static void
vcheck_title(const struct vcase *vc, const struct vcheck *ck, size_t index, FILE *out)
{
	char *summary = vcheck_summary(ck);

	if (ck->line > 0)
		fprintf(out, "check %zu (%s:%d)", index, vc->conf_path, ck->line);
	else
		fprintf(out, "check %zu", index);
	if (ck->comment)
		fprintf(out, " \"%s\"", ck->comment);
	fprintf(out, " %s", summary);
	free(summary);
}

/* For each field of fs: "name=value" as the event has it ("name absent" when missing). */
static void
vcheck_actual(const struct vfields *fs, const struct vevent *ev, bool only_wrong, FILE *out)
{
	const char *sep = "";

	for (size_t i = 0; i < fs->n; i++) {
		const struct json_value *v = json_get(&ev->obj, fs->v[i].name);
		if (only_wrong && vcheck_field_matches(&fs->v[i], v))
			continue;
		fprintf(out, "%s%s", sep, fs->v[i].name);
		if (v) {
			fputc('=', out);
			vevent_value_text(v, out);
		} else {
			fputs(" absent", out);
		}
		sep = " ";
	}
}

static void
vcheck_expected(const struct vfields *fs, const struct vevent *ev, FILE *out)
{
	const char *sep = "";

	for (size_t i = 0; i < fs->n; i++) {
		char *text;
		if (vcheck_field_matches(&fs->v[i], json_get(&ev->obj, fs->v[i].name)))
			continue;
		text = vfield_text(&fs->v[i]);
		fprintf(out, "%s%s", sep, text);
		free(text);
		sep = " ";
	}
}

/* The rule, app and verdict the gateway gave: what an admin needs to see first. */
static void
vcheck_decision(const struct vevent *ev, FILE *out)
{
	static const char *const names[] = { "verdict", "rule", "app", NULL };

	const char *sep = "";

	for (int i = 0; names[i]; i++) {
		const struct json_value *v = json_get(&ev->obj, names[i]);
		if (v) {
			fprintf(out, "%s%s=", sep, names[i]);
			vevent_value_text(v, out);
			sep = " ";
		}
	}
}

static void
vcheck_event_line(const struct vevents *evs, const struct vevent *ev, const char *indent, FILE *out)
{
	fputs(indent, out);
	vevent_where(evs, ev, out);
	fputs(": ", out);
	vevent_summary(ev, out);
	fputc('\n', out);
}

static bool
vcheck_same_value(const struct vevent *a, const struct vevent *b, const char *name)
{
	const struct json_value *x = json_get(&a->obj, name), *y = json_get(&b->obj, name);

	if (x == NULL || y == NULL || x->type != y->type)
		return false;
	if (x->type == JSON_STRING || x->type == JSON_NUMBER)
		return strcmp(x->text, y->text) == 0;
	return x->type == JSON_NULL;
}

/* Same flow: same replay and flow_id, or (flow_end carries none) the same 5-tuple. */
static bool
vcheck_same_flow(const struct vevent *a, const struct vevent *b)
{
	static const char *const tuple[] = { "proto", "src_ip", "src_port", "dst_ip", "dst_port", NULL };

	if (a->pcap != b->pcap)
		return false;
	if (json_get(&a->obj, "flow_id") && json_get(&b->obj, "flow_id"))
		return vcheck_same_value(a, b, "flow_id");
	for (int i = 0; tuple[i]; i++)
		if (json_get(&a->obj, tuple[i]) && !vcheck_same_value(a, b, tuple[i]))
			return false;
	return json_get(&a->obj, "src_ip") != NULL;
}

/* The other events of ev's flow, nearest in the log first. */
static void
vcheck_flow_context(const struct vevents *evs, const struct vevent *ev, FILE *out)
{
	size_t at = (size_t)(ev - evs->v), shown = 0;

	for (size_t dist = 1; dist < evs->n && shown < VCHECK_SHOW_EVENTS; dist++) {
		const struct vevent *near[2] = {
			at >= dist ? &evs->v[at - dist] : NULL,
			at + dist < evs->n ? &evs->v[at + dist] : NULL,
		};
		if (near[0] == NULL && near[1] == NULL)
			break;
		for (int k = 0; k < 2 && shown < VCHECK_SHOW_EVENTS; k++) {
			if (near[k] == NULL || !vcheck_same_flow(ev, near[k]))
				continue;
			if (shown++ == 0)
				fputs("    other events of the same flow (nearest first):\n", out);
			vcheck_event_line(evs, near[k], "      ", out);
		}
	}
}

static int
vcheck_fail_expect(const struct vcase *vc, const struct vcheck *ck, size_t index,
    const struct vevents *evs, const struct vevent *ev, char **reason, FILE *details)
{
	struct vs_buf b;

	vs_open(&b);
	vcheck_title(vc, ck, index, b.f);
	fputs(": expected ", b.f);
	vcheck_expected(&ck->expect, ev, b.f);
	fputs(", got ", b.f);
	vcheck_actual(&ck->expect, ev, true, b.f);
	fputs(" (", b.f);
	vcheck_decision(ev, b.f);
	fputs(" at ", b.f);
	vevent_where(evs, ev, b.f);
	fputs(")", b.f);
	*reason = vs_take(&b);
	fprintf(details, "  %s\n", *reason);
	fputs("    expected: ", details);
	vcheck_expected(&ck->expect, ev, details);
	fputs("\n    actual:   ", details);
	vcheck_actual(&ck->expect, ev, false, details);
	fputc('\n', details);
	vcheck_event_line(evs, ev, "    event:    ", details);
	vcheck_flow_context(evs, ev, details);
	return -1;
}

static void
vcheck_list_selected(const struct vcheck *ck, const struct vevents *evs, const struct vcands *c, FILE *out)
{
	size_t shown = 0;

	for (size_t k = 0; k < c->n && shown < VCHECK_SHOW_EVENTS; k++) {
		const struct vevent *ev = &evs->v[vcands_at(c, k)];
		if (vcheck_selects(ck, ev)) {
			if (shown++ == 0)
				fputs("    selected events:\n", out);
			vcheck_event_line(evs, ev, "      ", out);
		}
	}
}

/* Events that miss the match by the fewest fields: usually the one the author meant. */
static void
vcheck_near_misses(const struct vcheck *ck, const struct vevents *evs, FILE *out)
{
	size_t best = SIZE_MAX, shown = 0;

	for (size_t i = 0; i < evs->n; i++) {
		size_t miss = vcheck_mismatches(&ck->match, &evs->v[i]);
		if (miss < best)
			best = miss;
	}
	if (best == SIZE_MAX || best > 2 || best * 2 > ck->match.n) {
		fprintf(out, "    no event comes close (%zu events in the log)\n", evs->n);
		return;
	}
	fputs("    nearest events (fields that differ):\n", out);
	for (size_t i = 0; i < evs->n && shown < VCHECK_SHOW_EVENTS; i++) {
		if (vcheck_mismatches(&ck->match, &evs->v[i]) != best)
			continue;
		shown++;
		fputs("      ", out);
		vevent_where(evs, &evs->v[i], out);
		fputs(": ", out);
		vcheck_actual(&ck->match, &evs->v[i], true, out);
		fputs(" -- ", out);
		vevent_summary(&evs->v[i], out);
		fputc('\n', out);
	}
}

size_t
vcheck_count(const struct vcheck *ck, const struct vevents *evs, struct vindex *ix,
    const struct vevent **first)
{
	struct vcands c = vindex_candidates(ix, evs, &ck->match);
	size_t n = 0;

	*first = NULL;
	for (size_t k = 0; k < c.n; k++) {
		const struct vevent *ev = &evs->v[vcands_at(&c, k)];
		if (vcheck_selects(ck, ev) && n++ == 0)
			*first = ev;
	}
	return n;
}

static int
vcheck_fail_count(const struct vcase *vc, const struct vcheck *ck, size_t index,
    const struct vevents *evs, const struct vcands *c, size_t selected, const struct vevent *first,
    char **reason, FILE *details)
{
	struct vs_buf b;

	vs_open(&b);
	vcheck_title(vc, ck, index, b.f);
	if (selected == 0) {
		fputs(": no event matches", b.f);
	} else {
		fprintf(b.f, ": expected %lld matching events, got %zu (first at ", ck->count, selected);
		vevent_where(evs, first, b.f);
		fputs(": ", b.f);
		vcheck_decision(first, b.f);
		fputs(")", b.f);
	}
	*reason = vs_take(&b);
	fprintf(details, "  %s\n", *reason);
	if (selected == 0)
		vcheck_near_misses(ck, evs, details);
	else
		vcheck_list_selected(ck, evs, c, details);
	return -1;
}

int
vcheck_eval(const struct vcase *vc, const struct vcheck *ck, size_t index,
    const struct vevents *evs, struct vindex *ix, char **reason, FILE *details)
{
	struct vcands c = vindex_candidates(ix, evs, &ck->match);
	const struct vevent *first;
	size_t selected = vcheck_count(ck, evs, ix, &first);

	*reason = NULL;
	if (ck->count >= 0 ? selected != (size_t)ck->count : selected == 0)
		return vcheck_fail_count(vc, ck, index, evs, &c, selected, first, reason, details);
	for (size_t k = 0; k < c.n; k++) {
		const struct vevent *ev = &evs->v[vcands_at(&c, k)];
		if (vcheck_selects(ck, ev) && vcheck_mismatches(&ck->expect, ev) > 0)
			return vcheck_fail_expect(vc, ck, index, evs, ev, reason, details);
	}
	return 0;
}

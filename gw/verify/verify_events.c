/* verify_events.c -- the JSON event log of a replay, read strictly, and events shown to people. */
#include "gw/verify/verify_events.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gw/verify/verify_str.h"
#include "lib/util.h"

/* The events file is temporary: name the replay and show the offending text instead. */
static char *
vevents_line_error(const struct vevents *evs, size_t line, const char *why, const char *text,
    size_t len)
{
	char *shown = xmalloc(len + 1), *one;
	char *msg;

	memcpy(shown, text, len);
	shown[len] = '\0';
	one = vs_one_line(shown, 120);
	msg = vs_printf("events of %s, line %zu: %s: %s%s", evs->pcap_names[evs->npcaps - 1], line, why, one,
	    len > 120 ? "..." : "");
	free(shown);
	free(one);
	return msg;
}

static int
vevents_add_line(struct vevents *evs, const char *text, size_t len, size_t line, char **error)
{
	struct json_error jerr;
	struct vevent *ev;
	struct json_value obj;

	if (json_parse(text, len, &obj, &jerr) < 0) {
		char *why = vs_printf("%s at column %zu", jerr.text, jerr.offset + 1);
		*error = vevents_line_error(evs, line, why, text, len);
		free(why);
		return -1;
	}
	if (obj.type != JSON_OBJECT || json_get_str(&obj, "event") == NULL) {
		*error = vevents_line_error(evs, line, obj.type != JSON_OBJECT ?
		    "not a JSON object" : "no string \"event\" field", text, len);
		json_free(&obj);
		return -1;
	}
	if (evs->n == evs->cap) {
		evs->cap = evs->cap ? evs->cap * 2 : 64;
		evs->v = xrealloc(evs->v, evs->cap, sizeof *evs->v);
	}
	ev = &evs->v[evs->n++];
	ev->obj = obj;
	ev->pcap = evs->npcaps - 1;
	ev->line = line;
	return 0;
}

int
vevents_load(struct vevents *evs, const char *path, const char *pcap_name, char **error)
{
	uint8_t *text;
	size_t len, line = 0;
	const char *cur, *end;

	*error = NULL;
	if (file_read_all(path, VEVENTS_MAX_FILE, &text, &len) < 0) {
		*error = vs_printf("%s: cannot read the events: %s", path, strerror(errno));
		return -1;
	}
	evs->pcap_names = xrealloc(evs->pcap_names, evs->npcaps + 1, sizeof *evs->pcap_names);
	evs->pcap_names[evs->npcaps++] = xstrdup(pcap_name);
	cur = (const char *)text;
	end = cur + len;
	while (cur < end && *error == NULL) {
		const char *nl = memchr(cur, '\n', (size_t)(end - cur));
		const char *stop = nl ? nl : end;
		line++;
		if (stop > cur)   /* blank lines are not events */
			vevents_add_line(evs, cur, (size_t)(stop - cur), line, error);
		cur = stop + 1;
	}
	if (*error == NULL && len > 0 && text[len - 1] != '\n')
		*error = vevents_line_error(evs, line, "last line is cut short (no newline)", "", 0);
	free(text);
	return *error ? -1 : 0;
}

void
vevents_free(struct vevents *evs)
{
	for (size_t i = 0; i < evs->n; i++)
		json_free(&evs->v[i].obj);
	free(evs->v);
	for (size_t i = 0; i < evs->npcaps; i++)
		free(evs->pcap_names[i]);
	free(evs->pcap_names);
	memset(evs, 0, sizeof *evs);
}

void
vevent_where(const struct vevents *evs, const struct vevent *ev, FILE *out)
{
	int64_t cnt;
	const char *pcap = ev->pcap < evs->npcaps ? evs->pcap_names[ev->pcap] : "?";

	if (json_get_int(&ev->obj, "pcap_cnt", &cnt))
		fprintf(out, "packet %" PRId64 " of %s", cnt, pcap);
	else
		fprintf(out, "event line %zu of %s", ev->line, pcap);
}

static void
vevent_string_text(const char *s, FILE *out)
{
	char *line = vs_one_line(s, 200);

	fputs(line, out);
	free(line);
}

void
vevent_value_text(const struct json_value *v, FILE *out)
{
	switch (v->type) {
	case JSON_NULL:
		fputs("null", out);
		break;
	case JSON_BOOL:
		fputs(v->boolean ? "true" : "false", out);
		break;
	case JSON_NUMBER:
		fputs(v->text, out);
		break;
	case JSON_STRING:
		vevent_string_text(v->text, out);
		break;
	case JSON_ARRAY:
		fprintf(out, "[%zu items]", v->len);
		break;
	case JSON_OBJECT:
		fprintf(out, "{%zu fields}", v->len);
		break;
	}
}

static void
vevent_endpoint(const struct json_value *obj, const char *ip_name, const char *port_name, FILE *out)
{
	const char *ip = json_get_str(obj, ip_name);
	const struct json_value *port = json_get(obj, port_name);
	bool v6 = ip && strchr(ip, ':') && port;

	fprintf(out, " %s", v6 ? "[" : "");
	vevent_string_text(ip ? ip : "?", out);
	fputs(v6 ? "]" : "", out);
	if (port) {
		fputc(':', out);
		vevent_value_text(port, out);
	}
}

/* name=value for the members worth showing that the event has, in a fixed order. */
static void
vevent_named_fields(const struct json_value *obj, FILE *out)
{
	static const char *const shown[] = { "app", "rule", "verdict", "final", "previous_verdict",
		"previous_rule", "reason", "sent", "end_reason", NULL };

	for (int i = 0; shown[i]; i++) {
		const struct json_value *v = json_get(obj, shown[i]);
		if (v == NULL)
			continue;
		fprintf(out, " %s=", shown[i]);
		vevent_value_text(v, out);
	}
}

void
vevent_summary(const struct vevent *ev, FILE *out)
{
	const struct json_value *obj = &ev->obj;
	const char *proto = json_get_str(obj, "proto");

	vevent_string_text(json_get_str(obj, "event"), out);
	if (json_get(obj, "src_ip")) {
		fprintf(out, " %s", proto ? proto : "?");
		vevent_endpoint(obj, "src_ip", "src_port", out);
		fputs(" ->", out);
		vevent_endpoint(obj, "dst_ip", "dst_port", out);
	}
	if (json_get(obj, "src_zone") || json_get(obj, "dst_zone")) {
		const struct json_value *from = json_get(obj, "src_zone"), *to = json_get(obj, "dst_zone");
		fputs(" zones ", out);
		if (from)
			vevent_value_text(from, out);
		fputs("->", out);
		if (to)
			vevent_value_text(to, out);
	}
	vevent_named_fields(obj, out);
}

/* verify_events.h -- the JSON event log of a replay, read strictly, and events shown to people. */
#ifndef TIERGATE_VERIFY_EVENTS_H
#define TIERGATE_VERIFY_EVENTS_H

#include <stddef.h>
#include <stdio.h>

#include "lib/json.h"

struct vevent {
	struct json_value obj;    /* the event object */
	size_t pcap;              /* index into vevents.pcap_names */
	size_t line;              /* line in the events file */
};

struct vevents {
	struct vevent *v;
	size_t n, cap;
	char **pcap_names;        /* shown in messages: "packet 4 of tls.pcap" */
	size_t npcaps;
};

/* Largest events file read, and longest line: a runaway gw must not take the verifier down. */
#define VEVENTS_MAX_FILE (512u << 20)

/*
 * Appends the events of one replay (one JSON object with a string "event" per
 * line). On a line that is not, returns -1 with *error "FILE:LINE: why" (caller frees).
 */
int vevents_load(struct vevents *evs, const char *path, const char *pcap_name, char **error);
void vevents_free(struct vevents *evs);

/* "packet 4 of tls.pcap" (or "line 3 of tls.pcap" for an event with no pcap_cnt). */
void vevent_where(const struct vevents *evs, const struct vevent *ev, FILE *out);
/* One readable line: kind, 5-tuple, zones, app, rule, verdict, ... */
void vevent_summary(const struct vevent *ev, FILE *out);
/* A JSON value as short text ("TLS", 443, true, null, {...}). */
void vevent_value_text(const struct json_value *v, FILE *out);

#endif

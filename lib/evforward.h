/* evforward.h -- a copy of every event line to syslog (RFC 5424), for the prefecture SOC's intake. */
#ifndef TIERGATE_EVFORWARD_H
#define TIERGATE_EVFORWARD_H

#include <libconfig.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"

/*
 * Site file, top level:
 *	events = { syslog = "udp:10.1.2.3:514";   # or "tcp:HOST:PORT" (RFC 6587 octet counting), "unix:/dev/log"
 *	           facility = "local0"; }          # local0..local7, daemon, auth, user
 * Every sink opened after ev_forward_configure() sends each line there too,
 * as the MSG of an RFC 5424 message whose MSGID is the event's name. The file
 * stays the record; a syslog peer that is down loses copies, counted.
 */
struct ev_forward;

/* Reads the top-level "events" group (absent: no forwarding). app is the APP-NAME. */
int ev_forward_configure(const config_t *cfg, const char *app, struct diags *d);
struct ev_forward *ev_forward_global(void);
/* line: one JSON object without its newline. */
void ev_forward_send(struct ev_forward *f, const char *line, size_t len);
/* How many copies could not be sent. */
unsigned long ev_forward_dropped(const struct ev_forward *f);
/* The collector's TCP port with "tcp:HOST:PORT" (what a sandbox must let the process connect to), else 0. */
uint16_t ev_forward_tcp_port(const struct ev_forward *f);

#endif

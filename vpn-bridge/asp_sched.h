/* asp_sched.h -- the scheduled ASP connection checks, on the root side: the state file is never written by the relay's user. */
#ifndef TIERGATE_BRIDGE_ASP_SCHED_H
#define TIERGATE_BRIDGE_ASP_SCHED_H

#include <sys/types.h>

#include "lib/event.h"
#include "vpn-bridge/config.h"

/*
 * Forks the checker (a child of the root parent, before any secret is read): every
 * asp.check_interval it runs asp_check_run, which writes asp.state_file atomically as
 * root; the relays only read the file (and re-read it when it changes). It dies with the
 * parent; when it dies, the relays are stopped (relay_pids, n), so the bridge exits and
 * its service manager restarts it, as for any other of its processes. Returns its pid,
 * 0 when there is nothing to check, -1 when it could not start.
 */
pid_t asp_sched_start(const struct bridge_conf *conf, struct ev_sink *events, const pid_t *relay_pids,
    unsigned n);

#endif

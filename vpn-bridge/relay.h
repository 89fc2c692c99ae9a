/* relay.h -- the unprivileged relay process: TLS listener, CONNECT handling, byte relaying. */
#ifndef TIERGATE_BRIDGE_RELAY_H
#define TIERGATE_BRIDGE_RELAY_H

#include <openssl/ssl.h>

#include "lib/event.h"
#include "policy/policy.h"
#include "vpn-bridge/config.h"

/*
 * Runs the relay on listen_fd until SIGTERM. zones: the site's zone model (or NULL). auth_fd is this relay's end of
 * the socketpair to the auth process; ctx is the one SSL_CTX every
 * connection uses. run_asp_checks: unused (the scheduled ASP checks run on the root
 * side, asp_sched.c; every relay re-reads the state file when it changes). Returns the exit status.
 */
int relay_run(const struct bridge_conf *conf, const struct policy *zones, SSL_CTX *ctx,
    int listen_fd, int auth_fd, struct ev_sink *events, bool run_asp_checks);

#endif

/* control.h -- the auth process's loop (relay requests) and the admin control socket (unlock). */
#ifndef TIERGATE_BRIDGE_CONTROL_H
#define TIERGATE_BRIDGE_CONTROL_H

#include <stddef.h>

#include "vpn-bridge/auth.h"

/* A listening unix socket at path, mode 0600 (only root / the bridge's owner may unlock). */
int control_listen(const char *path);
/*
 * Serves requests from the relays on fds[0..n) and admin commands on
 * control_fd (-1: none) until every relay has gone (returns 1) or SIGTERM/SIGINT
 * (returns 0). -1 on a poll error.
 */
int control_serve(struct auth *a, const int *fds, int n, int control_fd);
/* Client side: sends one command line, copies the one-line answer. Returns 0 or -1. */
int control_request(const char *path, const char *command, char *reply, size_t replysize);

#endif

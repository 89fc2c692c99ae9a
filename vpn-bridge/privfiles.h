/* privfiles.h -- at start: the files privileged processes trust must not be writable by the relay's user. */
#ifndef TIERGATE_BRIDGE_PRIVFILES_H
#define TIERGATE_BRIDGE_PRIVFILES_H

#include "vpn-bridge/config.h"

/*
 * users.db, the device registry, the control socket and the ASP state file (and the
 * directories they are in) must not be writable by bridge.user (the relay's account); the
 * ASP state file's directory is written by root only (no group or world write either), as
 * the gateway demands of the file (policy/asp.c). Returns 0, or -1 with the first offender
 * and why in why (why_size bytes). Nothing is checked when run_uid is not a real account.
 */
int privfiles_check(const struct bridge_conf *conf, char *why, size_t why_size);

#endif

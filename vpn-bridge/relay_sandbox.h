/* relay_sandbox.h -- the relay's Landlock domain and seccomp filter: after setup it may only do what relaying needs. */
#ifndef TIERGATE_BRIDGE_RELAY_SANDBOX_H
#define TIERGATE_BRIDGE_RELAY_SANDBOX_H

#include "lib/event.h"
#include "vpn-bridge/config.h"

/*
 * First the Landlock domain (relay_landlock.h); where the kernel has none, the relay
 * stops unless bridge.relay_landlock = "best-effort" (then it says so loudly). Then
 * the relay's allowlist (kill the process on anything else): sockets and
 * I/O on them, epoll, memory (never executable), time, signals, the event log's
 * flock/fstat/pread/writev, the syslog copy's socket/connect/sendmsg, and read-only
 * opens (the ASP state file). No execve, no ptrace, no file written by name.
 * A `bridge_sandbox` event says what was applied (written once the filter is on).
 * Returns 0, or -1 when the relay must not run (the event says why).
 */
int relay_sandbox_enter(const struct bridge_conf *conf, struct ev_sink *events, struct jbuf *jb);

#endif

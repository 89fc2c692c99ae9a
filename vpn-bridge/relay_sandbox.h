/* relay_sandbox.h -- the relay's seccomp filter: after setup it may only do what relaying needs. */
#ifndef TIERGATE_BRIDGE_RELAY_SANDBOX_H
#define TIERGATE_BRIDGE_RELAY_SANDBOX_H

/*
 * Installs the relay's allowlist (kill the process on anything else): sockets and
 * I/O on them, epoll, memory (never executable), time, signals, the event log's
 * flock/fstat/pread/writev, the syslog copy's socket/connect/sendmsg, and read-only
 * opens (the ASP state file). No execve, no ptrace, no file written by name.
 * Returns 0, or -1 when the filter could not be built or loaded.
 */
int relay_sandbox_enter(void);

#endif

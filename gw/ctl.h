/* ctl.h -- the control socket: `tiergate-gw ctl stats|flows|reload` over a unix socket, server and client. */
#ifndef TIERGATE_GW_CTL_H
#define TIERGATE_GW_CTL_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/*
 * One command line in, the answer out, connection closed. The answer's first
 * line is "ok" or "error: why"; the rest is for the person who asked.
 */
/* peer: the caller's uid as the kernel reports it (SO_PEERCRED); -1 when it could not be read. */
typedef void (*ctl_handler_fn)(const char *cmd, FILE *answer, uid_t peer, void *arg);

/* Binds path (a stale socket left by a crash is replaced), mode 0600. Returns the fd or -1 with why. */
int ctl_listen(const char *path, char *why, size_t why_size);
/* Accepts one connection on fd and answers it (bounded by a short timeout). */
void ctl_serve_one(int fd, ctl_handler_fn fn, void *arg);
/* Client: sends cmd, prints the answer's body to out. Returns 0 for "ok", 1 for an error answer, 2 when unreachable. */
int ctl_client(const char *path, const char *cmd, FILE *out);

#endif

/* evadmin.h -- the "admin" event: who (uid and name, as the kernel knows them) did what to tiergate. */
#ifndef TIERGATE_EVADMIN_H
#define TIERGATE_EVADMIN_H

#include <sys/types.h>

#include "lib/event.h"

/*
 * {"timestamp":..,"event":"admin","action":ACTION,"operator":{"uid":U,"name":N}, ...
 * The caller adds the action's own fields, then ev_end and ev_emit. The uid
 * comes from the kernel: getuid() of a command-line tool, SO_PEERCRED of a
 * socket's caller, ssi_uid of a signal's sender — never from what a caller says.
 */
void ev_admin_begin(struct jbuf *jb, const char *action, uid_t operator_uid);
/* One line: action, operator, and target (may be NULL) with result. */
void ev_admin_emit(struct ev_sink *sink, const char *action, uid_t operator_uid, const char *target,
    const char *result);
/* SHA-256 of a file's bytes as 64 hex digits; "" when it cannot be read. */
void ev_file_sha256(const char *path, char out[65]);

#endif

/* privdrop.h -- leaving root after the queues are bound: an unprivileged user with CAP_NET_ADMIN (+ CAP_NET_RAW) only. */
#ifndef TIERGATE_GW_PRIVDROP_H
#define TIERGATE_GW_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * As root: becomes user (its primary group, no supplementary groups), keeps
 * CAP_NET_ADMIN (verdicts and conntrack updates are netlink requests that
 * need it) and, when keep_raw, CAP_NET_RAW; empties the bounding set and sets
 * no_new_privs. Started unprivileged (systemd AmbientCapabilities): keeps the
 * user and drops every other capability. Must run before threads start.
 * Returns 0, or -1 with a sentence in why.
 */
int privdrop_to(const char *user, bool keep_raw, char *why, size_t why_size);

/* uid and primary gid of user (not root). Returns 0, or -1 with why. */
int privdrop_user_ids(const char *user, uid_t *uid, gid_t *gid, char *why, size_t why_size);

/* True when the process may bind queues (CAP_NET_ADMIN in its effective set). */
bool privdrop_can_bind(void);

#endif

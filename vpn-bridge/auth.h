/* auth.h -- the privileged auth process: password hashes, TOTP secrets, tokens, lockouts. */
#ifndef TIERGATE_BRIDGE_AUTH_H
#define TIERGATE_BRIDGE_AUTH_H

#include "lib/event.h"
#include "vpn-bridge/authproto.h"
#include "vpn-bridge/config.h"

struct auth;

/* Opens the user DB and device registry; NULL on error (logged). */
struct auth *auth_new(const struct bridge_conf *conf, struct ev_sink *events);
/* Where the auth process writes its events (admin actions on the control socket too). */
struct ev_sink *auth_events(struct auth *a);
void auth_free(struct auth *a);
/* Answers one request (the relay's, or a test's). */
void auth_handle(struct auth *a, const struct authreq *req, struct authres *res);
/* Admin unlock of "USER" or an address. Returns 1 if anything was locked/counted, 0 if not. */
int auth_unlock(struct auth *a, const char *what);
/* The relays' sockets, where the auth process sends the sessions to end (authend). */
void auth_set_relays(struct auth *a, const int *fds, int n);
/*
 * Re-reads the user DB and device registry when they changed on disk; a user removed or
 * whose password or TOTP secret changed, and a device removed, revoked or expired, loses
 * its tokens and open sessions (an event each). Called before each answer and every second.
 */
void auth_watch(struct auth *a);
/* Ends every token and open session of user (admin revoke); returns the tokens ended. */
size_t auth_revoke_user(struct auth *a, const char *user, const char *reason);
#endif

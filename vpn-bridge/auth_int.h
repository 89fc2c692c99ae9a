/* auth_int.h -- the auth process's state, shared by auth.c (the checks) and auth_revoke.c (revocations). */
#ifndef TIERGATE_BRIDGE_AUTH_INT_H
#define TIERGATE_BRIDGE_AUTH_INT_H

#include <stdint.h>
#include <time.h>

#include "lib/event.h"
#include "vpn-bridge/auth.h"
#include "vpn-bridge/devreg.h"
#include "lib/lockout.h"
#include "vpn-bridge/token.h"
#include "vpn-bridge/userdb.h"

struct auth {
	const struct bridge_conf *conf;
	struct ev_sink *events;
	struct userdb users;
	struct devreg devices;
	struct lockout *user_locks, *addr_locks;
	struct token_table *tokens;
	struct jbuf jb;
	const int *relay_fds;
	int n_relays;
	time_t expiry_swept_to;   /* registrations that ended before this were dealt with */
	time_t next_expiry;       /* the next not_after to pass (0: look again, -1: none) */
};

/* auth_revoke.c */
/* The digest of the user's password hash and TOTP secret a token is issued on. */
void auth_user_stamp(const struct userdb_user *u, uint8_t out[TOKEN_STAMP_LEN]);
/* Ends the tokens of user whose stamp is not keep (NULL: all) and the user's open sessions. */
size_t auth_end_user(struct auth *a, const char *user, const uint8_t *keep, const char *reason);
/* Why the registry refuses dev now (NULL: allowed). */
const char *auth_device_refusal(const struct devreg_device *dev, time_t now);
void auth_watch_users(struct auth *a);
void auth_watch_devices(struct auth *a, time_t now);

#endif

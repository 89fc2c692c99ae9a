/* relrevoke.h -- which approver tickets were ended by a logout: one record per approver holding a live ticket, no list of tickets. */
#ifndef TIERGATE_RELREVOKE_H
#define TIERGATE_RELREVOKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sanitizer/relticket.h"

/*
 * A ticket is (name, expiry, session) under the daemon's key. Per approver the
 * daemon remembers live_until, the latest expiry it issued, and void_through:
 * every ticket of that approver whose expiry is at or before it was ended by a
 * logout. A logout sets void_through = live_until, which voids exactly the
 * tickets issued so far, whatever their session; a later login is issued an
 * expiry above void_through (at most a second longer than the setting), so it
 * is not caught by the earlier logout.
 *
 * The record is taken at the login, never at the logout, so a logout never
 * needs room and is never forgotten. A record is dropped only once live_until
 * has passed (every ticket it could void has expired). With no room at a login
 * (cap approvers with live tickets) the login is refused, not a revocation lost.
 * Nothing is written to disk: the ticket key is drawn at each start, so a
 * restart ends every ticket anyway.
 */
#define RELREVOKE_MAX 4096

struct relrevoke_rec {
	char name[RELTICKET_NAME_MAX + 1];
	int64_t live_until, void_through;
};

struct relrevoke {
	struct relrevoke_rec *rec;
	size_t n, cap;
};

/* An empty store with room for cap approvers (RELREVOKE_MAX in the daemon). */
void relrevoke_init(struct relrevoke *rv, size_t cap);
void relrevoke_free(struct relrevoke *rv);
/*
 * A login of name at now, for a ticket of secs seconds: *expiry receives the
 * expiry to put in the ticket. Returns 0, or -1 when no record is free (the
 * login must be refused).
 */
int relrevoke_issue(struct relrevoke *rv, const char *name, int64_t now, unsigned secs, int64_t *expiry);
/* True when name's ticket of that expiry was ended by a logout. */
bool relrevoke_is_void(const struct relrevoke *rv, const char *name, int64_t expiry);
/* Ends every ticket issued to name so far. Returns 1 when some were still live at now, 0 when none. */
int relrevoke_logout(struct relrevoke *rv, const char *name, int64_t now);

#endif

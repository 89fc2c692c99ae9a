/* relticket.h -- approver tickets: tiergate-quarantined's MAC over (approver, expiry, portal session) after it checked the login itself. */
#ifndef TIERGATE_RELTICKET_H
#define TIERGATE_RELTICKET_H

#include <stddef.h>
#include <stdint.h>

/*
 * ticket = "a1." EXPIRY "." hex(approver name) "." hex(HMAC-SHA256)
 *
 * The daemon makes one when an approver's password and TOTP code check out
 * (it, not the portal, holds the approvers' secrets), bound to the hash of the
 * portal's session id. Every approve, refuse and status request carries the
 * ticket and that hash; the name in an event is the one the daemon verified.
 * The key is drawn at the daemon's start and never leaves it: a restart ends
 * every ticket (approvers log in again).
 */
#define RELTICKET_KEY_LEN 32
#define RELTICKET_NAME_MAX 64          /* bytes of a name, as relsock_proto.c's F_NAME */
#define RELTICKET_SESSION_LEN 64       /* hex SHA-256 of the portal's session id */
#define RELTICKET_MAX 256              /* "a1." + 20 + 1 + 128 + 1 + 64 + NUL fits */

enum relticket_result {
	RELTICKET_OK = 0, RELTICKET_MALFORMED = -1, RELTICKET_BAD_MAC = -2, RELTICKET_EXPIRED = -3,
	RELTICKET_LOGGED_OUT = -4,   /* not relticket_verify's: the daemon's revocations (relrevoke.c) */
};

/* Writes the ticket into out. Returns 0, or -1 for a name or session of the wrong form. */
int relticket_make(const uint8_t key[RELTICKET_KEY_LEN], const char *name, int64_t expiry,
    const char *session, char out[RELTICKET_MAX]);
/*
 * Checks form, MAC (constant time, which also binds the session) and expiry.
 * name receives the approver's name as soon as the form is right (for the event
 * of a refused ticket: "claimed"), so check the result before trusting it.
 */
enum relticket_result relticket_verify(const uint8_t key[RELTICKET_KEY_LEN], const char *ticket,
    const char *session, int64_t now, char name[RELTICKET_NAME_MAX + 1]);
/* The expiry written in a ticket (trust it only after relticket_verify said OK). 0, or -1 for a bad form. */
int relticket_expiry(const char *ticket, int64_t *expiry);
const char *relticket_result_text(enum relticket_result r);

#endif

/* authproto.h -- the messages between the relay (network side) and the auth process (secrets side). */
#ifndef TIERGATE_BRIDGE_AUTHPROTO_H
#define TIERGATE_BRIDGE_AUTHPROTO_H

#include <stdint.h>

#include "lib/addr.h"
#include "vpn-bridge/config.h"
#include "vpn-bridge/http.h"
#include "vpn-bridge/token.h"

/*
 * Fixed-size records over a SOCK_SEQPACKET socketpair: one message per
 * record, so there is no framing to get wrong. The auth process checks every
 * string is NUL-terminated before use: the relay may be compromised.
 */
enum authreq_kind { AUTHREQ_LOGIN = 1, AUTHREQ_TOKEN = 2 };

struct authreq {
	uint32_t id;
	uint8_t kind;
	char user[HTTP_USER_MAX];
	char secret[HTTP_SECRET_MAX];   /* password+OTP, or the token */
	char fp[BRIDGE_FP_HEX];         /* device certificate SHA-256 ("" when none) */
	char src[ADDR_STRLEN];
	uint16_t src_port;
};

/*
 * The answer carries allow/deny and nothing of why: the auth process writes the reason
 * to the event log itself, and the relay (hostile by assumption) only tells the client 407.
 */
struct authres {
	uint32_t id;
	uint8_t ok;                     /* 1 allow, 0 deny */
	char token[TOKEN_HEX];          /* issued or confirmed token */
	uint32_t token_ttl;
	char device_label[BRIDGE_NAME_MAX];
};

/*
 * The other way, unasked: the auth process tells a relay to end the open sessions of a user
 * (AUTHEND_USER) or of a device (AUTHEND_DEVICE) whose access was revoked. Told apart from
 * an authres by its size and its id 0, which no request carries.
 */
enum authend_kind { AUTHEND_USER = 1, AUTHEND_DEVICE = 2, AUTHEND_RELOAD = 3 /* SIGHUP: re-read the CRL */,
	AUTHEND_REOPEN = 4 /* SIGHUP: the event file after rotation, its descriptor passed (SCM_RIGHTS) */ };
#define AUTHEND_ID 0u

struct authend {
	uint32_t id;                    /* AUTHEND_ID */
	uint8_t kind;
	char user[HTTP_USER_MAX];
	char fp[BRIDGE_FP_HEX];
	char reason[64];
};

_Static_assert(sizeof(struct authend) != sizeof(struct authres), "records told apart by size");

#endif

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

struct authres {
	uint32_t id;
	uint8_t ok;
	char reason[96];                /* for the audit log; clients only see 407 */
	char token[TOKEN_HEX];          /* issued or confirmed token */
	uint32_t token_ttl;
	char device_label[BRIDGE_NAME_MAX];
};

#endif

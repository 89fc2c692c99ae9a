/* relay_state.h -- a relay session's states; which transitions are allowed is one table in relay_state.c. */
#ifndef TIERGATE_BRIDGE_RELAY_STATE_H
#define TIERGATE_BRIDGE_RELAY_STATE_H

#include <stdbool.h>

/*
 * accept -> HANDSHAKE -> REQUEST -> AUTH -> CONNECTING -> RELAY -> CLOSING -> freed.
 * Every state but HANDSHAKE may go to CLOSING (a refusal, a timeout, one side ending);
 * any state may be freed at once (the peer is gone). Nothing leaves CLOSING.
 */
enum relay_state {
	RS_HANDSHAKE,    /* TLS handshake on the relay's loop (handshake.c) */
	RS_REQUEST,      /* reading the CONNECT request, under request_timeout */
	RS_AUTH,         /* waiting for the auth process's answer */
	RS_CONNECTING,   /* connecting to the destination, under connect_timeout */
	RS_RELAY,        /* relaying bytes (relay_pump.c), idle timeout and max session */
	RS_CLOSING,      /* flushing what is queued for one side, then freed */
	RS_COUNT
};

const char *relay_state_name(enum relay_state s);
/* Whether a session in state from may go to state to. */
bool relay_state_may(enum relay_state from, enum relay_state to);

#endif

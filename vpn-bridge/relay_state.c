/* relay_state.c -- the table of a relay session's states and the transitions each allows. */
#include "vpn-bridge/relay_state.h"

#define RS_TO(s) (1u << (s))

static const struct relay_state_def {
	const char *name;
	unsigned next;   /* RS_TO() of every state this one may go to */
} relay_states[RS_COUNT] = {
	[RS_HANDSHAKE]  = { "handshake",  RS_TO(RS_REQUEST) },
	[RS_REQUEST]    = { "request",    RS_TO(RS_AUTH) | RS_TO(RS_CLOSING) },
	[RS_AUTH]       = { "auth",       RS_TO(RS_CONNECTING) | RS_TO(RS_CLOSING) },
	[RS_CONNECTING] = { "connecting", RS_TO(RS_RELAY) | RS_TO(RS_CLOSING) },
	[RS_RELAY]      = { "relay",      RS_TO(RS_CLOSING) },
	[RS_CLOSING]    = { "closing",    0 },
};

const char *
relay_state_name(enum relay_state s)
{
	return (unsigned)s < RS_COUNT ? relay_states[s].name : "?";
}

bool
relay_state_may(enum relay_state from, enum relay_state to)
{
	return (unsigned)from < RS_COUNT && (unsigned)to < RS_COUNT && (relay_states[from].next & RS_TO(to));
}

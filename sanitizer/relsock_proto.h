/* relsock_proto.h -- the release socket's request line: one verb and its fields, strictly bounded and checked. */
#ifndef TIERGATE_RELSOCK_PROTO_H
#define TIERGATE_RELSOCK_PROTO_H

#include <stddef.h>

/*
 * A client sends one request per connection: a single line
 *
 *	VERB TAB field TAB field ... LF
 *
 * at most RELSOCK_LINE_MAX bytes. Every field has a kind (quarantine ID, request
 * ID, path, free text, token, name) whose characters and length are checked here,
 * so the daemon's handlers only ever see well-formed values. The answer is one
 * line "OK text" or "ERR text", then a body (JSON) until the daemon closes.
 */
#define RELSOCK_LINE_MAX 4096
#define RELSOCK_FIELDS_MAX 5
#define RELSOCK_TEXT_MAX 1000     /* reason, comment (bytes of UTF-8) */
#define RELSOCK_PATH_MAX 1024
#define RELSOCK_TOKEN_MAX 512
#define RELSOCK_NAME_MAX 64
#define RELSOCK_REQID_LEN 16      /* hex digits of a request ID */
#define RELSOCK_SECRET_MAX 256    /* an approver's password (bytes of UTF-8) */
#define RELSOCK_SESSION_LEN 64    /* hex SHA-256 of the portal's session id */

enum relsock_verb {
	RELSOCK_LIST,       /* items in the quarantine */
	RELSOCK_SHOW,       /* ID: metadata and report of one item */
	RELSOCK_RELEASE,    /* ID [PATH]: release (or ask for the second approval) */
	RELSOCK_APPROVE,    /* REQ [COMMENT]: approve a pending request */
	RELSOCK_REFUSE,     /* REQ COMMENT: refuse a pending request */
	RELSOCK_REQUESTS,   /* pending and recent requests */
	RELSOCK_UNLOCK,     /* NAME|ADDRESS: lift an approver's or a source's login lockout */
	RELSOCK_LOGOUT,     /* NAME: end every ticket of an approver (a stolen laptop) */
	/* the portal's verbs: accepted from the portal's uid only */
	RELSOCK_INFO,       /* TOKEN: what arrived and what was delivered, for the recipient */
	RELSOCK_ASK,        /* TOKEN REASON: the recipient asks for the original */
	RELSOCK_MINE,       /* TOKEN: the state of this recipient's requests for the item */
	RELSOCK_PLOGIN,     /* NAME PASSWORD OTP SOURCE SESSION: the daemon checks it, answers a ticket */
	RELSOCK_PAPPROVE,   /* TICKET SESSION REQ [COMMENT] */
	RELSOCK_PREFUSE,    /* TICKET SESSION REQ COMMENT */
	RELSOCK_STATUS,     /* TICKET SESSION: counts by reason and day, pending, last releases */
	RELSOCK_PLOGOUT,    /* TICKET SESSION: the approver logged out: the daemon ends their tickets */
	RELSOCK_VERB_COUNT
};

struct relsock_req {
	enum relsock_verb verb;
	int n_fields;
	const char *field[RELSOCK_FIELDS_MAX];   /* NUL-terminated, inside the parsed buffer */
};

/*
 * Parses buf (len bytes, modified in place: tabs and the LF become NULs).
 * Returns 0, or -1 with *err set to a short reason for the ERR line.
 */
int relsock_parse(char *buf, size_t len, struct relsock_req *req, const char **err);
/* The verb's name on the wire (also used in events). */
const char *relsock_verb_name(enum relsock_verb verb);
/* True for verbs only the portal's uid may send. */
int relsock_verb_is_portal(enum relsock_verb verb);

#endif

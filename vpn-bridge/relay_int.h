/* relay_int.h -- what relay.c (sessions, checks, refusals) and relay_pump.c (the byte pump) share. */
#ifndef TIERGATE_BRIDGE_RELAY_INT_H
#define TIERGATE_BRIDGE_RELAY_INT_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/listener.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/addr.h"
#include "lib/event.h"
#include "vpn-bridge/asp.h"
#include "vpn-bridge/config.h"
#include "vpn-bridge/crl.h"
#include "vpn-bridge/http.h"
#include "vpn-bridge/relay_state.h"

/* Past this much unsent data one side stops reading the other: memory stays bounded. */
#define RELAY_HIGH_WATER (256 * 1024)
#define RELAY_PENDING 4096

struct relay;

/* Where an established session is in giving back its bufferevents while idle (relay_pump.c). */
enum relay_park {
	RELAY_PARK_NONE,    /* bufferevents carry the session */
	RELAY_PARK_SOON,    /* idle: parks on the next turn of the loop, outside libevent's callbacks */
	RELAY_PARKED,       /* no bufferevents: park_cli and park_up wait for either side */
};

/* Per connection; kept small because 10,000 idle sessions must fit in little memory. */
struct relay_conn {
	struct relay *r;
	struct handshake *hs;             /* only until the TLS handshake is done */
	/*
	 * The connection owns the TLS session and both sockets; the bufferevents only carry
	 * them (made without BEV_OPT_CLOSE_ON_FREE), so an idle session can give its
	 * bufferevents back and keep two plain read events instead (relay_pump.c: parking).
	 */
	SSL *ssl;                         /* from the end of the handshake on */
	int up_fd;                        /* the destination's socket, or -1 */
	struct bufferevent *cli, *up;     /* both NULL while parked */
	enum relay_park park;
	struct event park_cli, park_up;   /* read events while parked; park_cli also schedules it */
	enum relay_state state;           /* changed only by relay_transition() */
	struct addr src;
	uint16_t src_port, dst_port;
	bool counted_src, counted_user, counted_half_open, cert_ok;
	uint8_t screen_protocols;         /* screenproto bits the first client bytes must match; 0 once passed */
	const char *cert_why;             /* static string from OpenSSL or tls.c */
	char fp[BRIDGE_FP_HEX];
	char user[HTTP_USER_MAX];
	char *dest;                       /* "host:port" as asked */
	const char *asp_name;
	struct http_connect *req;         /* only between request and auth answer */
	char *token;                      /* for the 200 answer, only while connecting */
	uint32_t token_ttl;
	uint32_t auth_id;
	uint64_t bytes_up, bytes_down, start_us, last_io_us;
	struct event *timer;              /* phase deadline, then the max session length */
	struct relay_conn *sess_next, **sess_pprev;   /* in r->sessions while RS_RELAY */
};

struct relay {
	const struct bridge_conf *conf;
	const struct policy *zones;
	struct event_base *base;
	SSL_CTX *ctx;
	struct evconnlistener *listener;
	int auth_fd;
	struct event *auth_ev, *key_ev, *key_timer, *sigterm_ev, *sigint_ev, *sigchld_ev, *asp_timer;
	struct event *test_ev;            /* test build only (SIGUSR2: memory counts); NULL otherwise */
	uint32_t next_id;
	struct relay_conn *pending[RELAY_PENDING];
	struct relay_conn *sessions;      /* RS_RELAY sessions, for a revocation to end */
	struct crl_watch *crl;            /* NULL without bridge.crl */
	struct event *crl_timer;
	struct ev_sink *events;
	struct jbuf jb;
	unsigned n_conns, n_half_open;
	struct counts *per_source, *per_user, *half_open_per_source;
	struct asp_state asps;
};

/* relay.c */
/* Closes the destination's side (its bufferevent and socket), if open. */
void relay_up_close(struct relay_conn *c);
/*
 * Moves c to state to, after undoing what the state it leaves held. A transition the
 * table (relay_state.c) does not allow is a bug: the session is logged and freed, and
 * false returned: the caller must not touch c again.
 */
bool relay_transition(struct relay_conn *c, enum relay_state to);
/* The session's end event (bytes, duration); a session has one. */
void relay_session_ended(struct relay_conn *c, const char *end_reason);
/* Ends the session: what is queued for the client goes out, then it is freed. */
void relay_finish(struct relay_conn *c);
void relay_conn_free(struct relay_conn *c, const char *end_reason);
void relay_client_event(struct bufferevent *bev, short what, void *arg);
/* Cuts an established session for what it carries: a bridge_denied event with reason, then freed. */
void relay_cut(struct relay_conn *c, const char *reason);

/* relay_pump.c */
/* The session is established: both sides read, bytes flow, idle timeout on reads. */
void relay_pump_start(struct relay_conn *c);
/* One side ended (EOF, error, read timeout); what the other side still has queued is flushed. */
void relay_pump_side_event(struct relay_conn *c, struct bufferevent *bev, short what);
/*
 * A parked session gets its bufferevents back (to end it, or because a side is readable).
 * False: out of memory; the caller frees c.
 */
bool relay_pump_unpark(struct relay_conn *c);
/* Drops the parked read events (or a scheduled parking) before c is freed. */
void relay_pump_park_cancel(struct relay_conn *c);

#endif

/* portal.h -- inside tiergate-portal: settings, sessions, approvers, limits, and the request being answered. */
#ifndef TIERGATE_PORTAL_H
#define TIERGATE_PORTAL_H

#include <event2/buffer.h>
#include <event2/http.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "lib/event.h"
#include "sanitizer/portal_form.h"

struct portal_conf {
	char *listen;              /* "127.0.0.1:8443" */
	char *cert, *key;          /* PEM chain and key */
	char *socket;              /* tiergate-quarantined's socket */
	char *user;                /* dropped to when started as root */
	char *events;              /* JSON event log ("-" stdout) */
	unsigned idle_seconds, max_seconds;          /* session timeouts (900, 28800) */
	unsigned posts_per_minute;                   /* per source address (20) */
};

#define PORTAL_SESSIONS 256
#define PORTAL_RATES 512
#define PORTAL_NAME_MAX 64

#define PORTAL_TICKET_MAX 256

/* An approver's session: the name and ticket are tiergate-quarantined's answer to the login. */
struct portal_session {
	bool used;
	char id[65], csrf[65];
	char bind[65];             /* hex SHA-256 of id: what the daemon's ticket is bound to */
	char user[PORTAL_NAME_MAX];
	char ticket[PORTAL_TICKET_MAX];
	time_t created, last;
};

struct portal_rate {
	char addr[64];
	time_t minute;
	unsigned count;
};

struct portal {
	struct portal_conf conf;
	struct ev_sink *events;
	SSL_CTX *ssl;
	struct portal_session sessions[PORTAL_SESSIONS];
	struct portal_rate rates[PORTAL_RATES];
	uint8_t secret[32];        /* CSRF tokens of recipient forms and of the login form */
};

/* The request being answered. */
struct portal_req {
	struct portal *p;
	struct evhttp_request *http;
	const char *path;
	const char *query;         /* raw, may be NULL */
	bool post;
	char body[PORTAL_FORM_MAX_BYTES + 1];
	size_t body_len;
	char addr[64];             /* peer address */
	struct portal_session *session;   /* logged-in approver, or NULL */
};

/* portal_conf.c */
int portal_conf_load(struct portal_conf *c, const char *path);
void portal_conf_free(struct portal_conf *c);

/* portal_auth.c: logins (checked by the daemon), sessions, CSRF, rate limits */
/*
 * Password + TOTP, passed once to tiergate-quarantined, which checks them and its
 * lockouts; on success a new session holding the daemon's ticket. Returns it, or NULL
 * with the daemon's reason in why (why_size bytes).
 */
struct portal_session *portal_login(struct portal *p, const char *name, const char *password,
    const char *code, const char *addr, char *why, size_t why_size);
/* The session with this id (the tgp_s cookie) within both timeouts, or NULL. */
struct portal_session *portal_session_find(struct portal *p, const char *id);
void portal_session_end(struct portal *p, struct portal_session *s);
/* Ends sessions past a timeout, and their tickets in the daemon (portal_session_end event). */
void portal_sessions_sweep(struct portal *p);
/* HMAC(secret, purpose, value) as 64 hex: the recipient form's and the login form's CSRF tokens. */
void portal_csrf_bound(struct portal *p, const char *purpose, const char *value, char out[65]);
bool portal_csrf_equal(const char *a, const char *b);
/* False when addr has posted too often this minute. */
bool portal_rate_ok(struct portal *p, const char *addr);
void portal_random_hex(char out[65]);

/* portal_http.c */
void portal_send(struct portal_req *r, int code, struct evbuffer *body);
void portal_redirect(struct portal_req *r, const char *location);
void portal_error_page(struct portal_req *r, int code, const char *ja, const char *en);
void portal_set_cookie(struct portal_req *r, const char *name, const char *value, unsigned max_age);
const char *portal_cookie(struct portal_req *r, const char *name, char *out, size_t cap);
void portal_event(struct portal *p, const char *event, struct portal_req *r, const char *user,
    const char *what, bool ok, const char *error);

/* portal_pages.c: the recipient's pages */
void portal_page_request(struct portal_req *r);
/* portal_admin.c: the approvers' pages */
void portal_page_login(struct portal_req *r);
void portal_page_queue(struct portal_req *r);
void portal_page_decide(struct portal_req *r);
void portal_page_status(struct portal_req *r);
void portal_page_logout(struct portal_req *r);

#endif

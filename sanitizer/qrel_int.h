/* qrel_int.h -- inside tiergate-quarantined: the daemon's state, the caller as the kernel names it, replies and events. */
#ifndef TIERGATE_QREL_INT_H
#define TIERGATE_QREL_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/event.h"
#include "sanitizer/qrel_store.h"
#include "sanitizer/relrevoke.h"
#include "sanitizer/relsock_proto.h"
#include "sanitizer/relticket.h"
#include "sanitizer/reltoken.h"
#include "sanitizer/sanitize.h"

struct lockout;

/* Approvers' logins (qrel_login.c): lockouts and TOTP steps persisted beside the approvers file. */
struct qrel_logins {
	struct lockout *user_locks, *addr_locks;
	struct qrel_step { char name[RELTICKET_NAME_MAX + 1]; uint64_t step; } *steps;
	size_t n_steps;
	uint8_t ticket_key[RELTICKET_KEY_LEN];   /* drawn at start, never leaves the daemon */
	struct relrevoke revoked;                /* tickets ended by a logout (memory only: see relrevoke.h) */
};

struct qrel_daemon {
	struct san_config *sc;
	struct ev_sink *events;
	volatile int *reopen;   /* set by SIGHUP: events opened again (log rotation) */
	int listen_fd;
	bool have_key, have_portal, have_approvers;
	struct qrel_logins login;
	uid_t portal_uid;
	uint8_t key[RELTOKEN_KEY_LEN];
};

/* Who is on the other end: from SO_PEERCRED and the user database, never from the request. */
struct qrel_caller {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	char name[64];
	bool admin, portal;
};

/* One connection's answer: a status line, then a body. */
struct qrel_reply {
	bool ok;
	char status[512];
	struct jbuf body;
	char *raw;        /* a text body instead (show), malloc'd */
	size_t raw_len;
};

void qrel_reply_ok(struct qrel_reply *rp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void qrel_reply_err(struct qrel_reply *rp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An event for verb with the operator's uid and name; the caller adds fields, then qrel_event_end. */
void qrel_event_begin(struct jbuf *jb, const char *event, const struct qrel_caller *who);
void qrel_event_end(struct qrel_daemon *d, struct jbuf *jb, bool ok, const char *error);

/* qrel_admin.c: the admins' verbs (LIST SHOW RELEASE APPROVE REFUSE REQUESTS). */
void qrel_admin_handle(struct qrel_daemon *d, const struct qrel_caller *who,
    const struct relsock_req *req, struct qrel_reply *rp);
/* Adds an approval by (key, name); releases when the count is reached. */
void qrel_admin_approve(struct qrel_daemon *d, struct qrel_request *r, const char *key,
    const char *name, const char *comment, const struct qrel_caller *who, struct qrel_reply *rp);
void qrel_admin_refuse(struct qrel_daemon *d, struct qrel_request *r, const char *name,
    const char *comment, const struct qrel_caller *who, struct qrel_reply *rp);
void qrel_request_json(struct jbuf *jb, const struct qrel_request *r);

/* qrel_login.c: approvers' password + TOTP checked here, tickets, lockouts, unlock. */
int qrel_login_prepare(struct qrel_daemon *d);
int qrel_login_add(const char *path, const char *name, const char *password, char *totp_out, size_t cap);
void qrel_login_handle(struct qrel_daemon *d, const struct qrel_caller *who, const struct relsock_req *req,
    struct qrel_reply *rp);
/* 0 and the verified name, or -1 after an event (event name given) and an ERR reply. */
int qrel_login_ticket(struct qrel_daemon *d, const struct qrel_caller *who, const char *event,
    const char *ticket, const char *session, char name[RELTICKET_NAME_MAX + 1], struct qrel_reply *rp);
/* PLOGOUT TICKET SESSION (the portal) and LOGOUT NAME (admins): end an approver's tickets. */
void qrel_login_plogout(struct qrel_daemon *d, const struct qrel_caller *who, const struct relsock_req *req,
    struct qrel_reply *rp);
void qrel_login_logout(struct qrel_daemon *d, const struct qrel_caller *who, const char *name, struct qrel_reply *rp);
void qrel_login_unlock(struct qrel_daemon *d, const struct qrel_caller *who, const char *target,
    struct qrel_reply *rp);

/* qrel_notify.c: mails the recipient who asked that their request was refused. */
int qrel_notify_refused(struct qrel_daemon *d, const struct qrel_request *r);

/* qrel_portal.c: the portal's verbs (INFO ASK MINE PAPPROVE PREFUSE STATUS). */
void qrel_portal_handle(struct qrel_daemon *d, const struct qrel_caller *who,
    const struct relsock_req *req, struct qrel_reply *rp);

#endif

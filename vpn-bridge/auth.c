/* auth.c -- the auth process: checks device registry, password, TOTP, ownership; issues tokens. */
#include "vpn-bridge/auth.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "vpn-bridge/devreg.h"
#include "lib/lockout.h"
#include "lib/pwhash.h"
#include "lib/totp.h"
#include "vpn-bridge/userdb.h"
#include "vpn-bridge/auth_int.h"

/* What one check found: the reason goes to the audit log, never to the client. */
struct auth_ctx {
	const struct authreq *req;
	struct authres *res;
	const struct devreg_device *dev;
	time_t now;
	char user_key[LOCKOUT_KEY_MAX], addr_key[LOCKOUT_KEY_MAX];
	char reason[96];   /* why it failed: for the event, never sent to the relay */
};

struct ev_sink *
auth_events(struct auth *a)
{
	return a->events;
}

/* Locks survive a restart: kept beside users.db (root's directory), as USERS.lockout-KIND. */
static void
auth_persist_locks(struct lockout *lk, const char *users_file, const char *kind)
{
	char path[4096];
	const char *why;

	snprintf(path, sizeof path, "%s.lockout-%s", users_file, kind);
	if (lockout_persist(lk, path, time(NULL), &why) < 0)
		log_warnx("%s: %s (locks loaded up to that line)", path, why);
}

struct auth *
auth_new(const struct bridge_conf *conf, struct ev_sink *events)
{
	struct auth *a = xcalloc(1, sizeof *a);
	struct diags d;

	a->conf = conf;
	a->events = events;
	diags_init(&d, conf->devices_file);
	if (devreg_open(&a->devices, conf->devices_file, &d) < 0) {
		diags_log(&d);
		log_warnx("cannot load the device registry %s", conf->devices_file);
	}
	diags_free(&d);
	if (userdb_open(&a->users, conf->users_file) < 0) {
		log_warnx("cannot load the user database %s", conf->users_file);
		devreg_close(&a->devices);
		free(a);
		return NULL;
	}
	a->user_locks = lockout_new(conf->lockout_threshold, conf->lockout_base, conf->lockout_max);
	a->addr_locks = lockout_new(conf->lockout_source_threshold, conf->lockout_base,
	    conf->lockout_max);
	a->tokens = token_table_new();
	a->expiry_swept_to = time(NULL);
	auth_persist_locks(a->user_locks, conf->users_file, "user");
	auth_persist_locks(a->addr_locks, conf->users_file, "addr");
	return a;
}

void
auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	userdb_close(&a->users);
	devreg_close(&a->devices);
	lockout_free(a->user_locks);
	lockout_free(a->addr_locks);
	token_table_free(a->tokens);
	jb_free(&a->jb);
	free(a);
}

static void
auth_event_login(struct auth *a, const struct auth_ctx *c, const char *method)
{
	const struct authreq *req = c->req;

	ev_begin(&a->jb, "bridge_login", 0);
	jb_str(&a->jb, "result", c->res->ok ? "success" : "failure");
	if (!c->res->ok)
		jb_str(&a->jb, "reason", c->reason);
	jb_str(&a->jb, "user", req->user);
	jb_str(&a->jb, "method", method);
	jb_str(&a->jb, "device", req->fp[0] ? req->fp : NULL);
	jb_str(&a->jb, "device_label", c->dev ? c->dev->label : NULL);
	jb_str(&a->jb, "src_ip", req->src);
	jb_uint(&a->jb, "src_port", req->src_port);
	ev_end(&a->jb);
	ev_emit(a->events, &a->jb);
	jb_reset(&a->jb);
}

static void
auth_event_lockout(struct auth *a, const char *key, unsigned secs, const char *src)
{
	ev_begin(&a->jb, "bridge_lockout", 0);
	jb_str(&a->jb, "kind", str_has_prefix(key, "user:") ? "user" : "address");
	jb_str(&a->jb, "target", strchr(key, ':') + 1);
	jb_uint(&a->jb, "seconds", secs);
	jb_str(&a->jb, "src_ip", src);
	ev_end(&a->jb);
	ev_emit(a->events, &a->jb);
	jb_reset(&a->jb);
}

static void
auth_event_lockout_full(struct auth *a, const char *key, const char *src)
{
	ev_begin(&a->jb, "bridge_lockout_full", 0);
	jb_str(&a->jb, "kind", str_has_prefix(key, "user:") ? "user" : "address");
	jb_str(&a->jb, "target", strchr(key, ':') + 1);
	jb_str(&a->jb, "src_ip", src);
	ev_end(&a->jb);
	ev_emit(a->events, &a->jb);
	jb_reset(&a->jb);
}

static void
auth_failed(struct auth_ctx *c, const char *reason)
{
	c->res->ok = 0;
	str_copy(c->reason, reason, sizeof c->reason);
}

/* Counts a failure against the address, and the account when count_user. */
static void
auth_count_failure(struct auth *a, struct auth_ctx *c, bool count_user)
{
	unsigned secs = lockout_fail(a->addr_locks, c->addr_key, c->now);

	if (secs)
		auth_event_lockout(a, c->addr_key, secs, c->req->src);
	if (!count_user)
		return;
	secs = lockout_fail(a->user_locks, c->user_key, c->now);
	if (secs)
		auth_event_lockout(a, c->user_key, secs, c->req->src);
}

/* Refused while the address or the account is locked, or is new and the table has no room for it. */
static bool
auth_check_locks(struct auth *a, struct auth_ctx *c)
{
	char why[96];
	unsigned left;
	const char *key = c->addr_key, *what = "source address";
	enum lockout_state st = lockout_check(a->addr_locks, key, c->now, &left);

	if (st == LOCKOUT_OPEN) {
		key = c->user_key;
		what = "account";
		st = lockout_check(a->user_locks, key, c->now, &left);
	}
	if (st == LOCKOUT_OPEN)
		return true;
	if (st == LOCKOUT_FULL) {
		/* No room to count it without forgetting a counting entry: refused instead. */
		auth_event_lockout_full(a, key, c->req->src);
		snprintf(why, sizeof why, "lockout table full: new %s refused", what);
	} else
		snprintf(why, sizeof why, "%s locked out (%us left)", what, left);
	auth_failed(c, why);
	return false;
}

/* Check 1 (registry part; the chain and CRL were checked by the relay's TLS stack). */
static bool
auth_check_device(struct auth *a, struct auth_ctx *c)
{
	const char *why;

	if (c->req->fp[0] == '\0') {
		if (!a->conf->require_device)
			return true;
		auth_failed(c, "no client certificate");
		return false;
	}
	c->dev = devreg_find(&a->devices, c->req->fp);
	why = auth_device_refusal(c->dev, c->now);
	if (why == NULL)
		return true;
	auth_failed(c, why);
	auth_count_failure(a, c, false);
	return false;
}

/* Check 3: the device's owner is the user, or a group the user is in. */
static bool
auth_check_owner(struct auth *a, struct auth_ctx *c)
{
	char *owner[1];

	if (c->dev == NULL)
		return !a->conf->require_device;
	owner[0] = (char *)c->dev->owner;
	if (bconf_user_in(a->conf, c->req->user, owner, 1))
		return true;
	auth_failed(c, "device belongs to another user");
	auth_count_failure(a, c, true);
	return false;
}

/* Splits "password123456" into the password and the trailing digits. */
static int
auth_split_secret(const char *secret, unsigned digits, size_t *pwlen, const char **otp)
{
	size_t len = strlen(secret);

	if (len <= digits)
		return -1;
	for (size_t i = len - digits; i < len; i++)
		if (!isdigit((unsigned char)secret[i]))
			return -1;
	*pwlen = len - digits;
	*otp = secret + len - digits;
	return 0;
}

/* Marks the step used and writes it down before answering, so a restart cannot reopen it. */
static int
auth_consume_step(struct auth *a, const char *user, const uint8_t checked[TOKEN_STAMP_LEN],
    uint64_t step)
{
	int lock = userdb_lock(a->users.path);
	struct userdb_user *u;
	uint8_t stamp[TOKEN_STAMP_LEN];
	int rc = -1;

	auth_watch_users(a);
	u = userdb_find(&a->users, user);
	if (u != NULL)
		auth_user_stamp(u, stamp);
	/* Credentials changed since they were checked: this login used the old ones. */
	if (u != NULL && CRYPTO_memcmp(stamp, checked, sizeof stamp) == 0 && step > u->last_step) {
		u->last_step = step;
		rc = userdb_save(&a->users);
		if (rc < 0)
			log_warn("cannot write %s", a->users.path);
	}
	userdb_unlock(lock);
	return rc;
}

static const char *
auth_check_password_otp(struct auth *a, struct auth_ctx *c, struct userdb_user *u)
{
	const struct bridge_conf *conf = a->conf;
	size_t pwlen;
	const char *otp;
	uint64_t step = 0;
	uint8_t stamp[TOKEN_STAMP_LEN];

	if (auth_split_secret(c->req->secret, conf->totp_digits, &pwlen, &otp) < 0) {
		pwhash_dummy(c->req->secret, strlen(c->req->secret));
		return "no OTP appended to the password";
	}
	if (u == NULL) {
		pwhash_dummy(c->req->secret, pwlen);
		return "unknown user";
	}
	if (u->hash[0] == '\0' || !pwhash_verify(u->hash, c->req->secret, pwlen))
		return "wrong password";
	if (u->totp[0] == '\0')
		return "no TOTP enrolled";
	if (totp_check(u->totp, otp, c->now, conf->totp_step, conf->totp_window,
	    conf->totp_digits, &step) < 0)
		return "wrong OTP";
	if (step <= u->last_step)
		return "OTP replayed";
	/* u does not outlive the refresh in auth_consume_step: pass the request's copy of the name. */
	auth_user_stamp(u, stamp);
	if (auth_consume_step(a, c->req->user, stamp, step) < 0)
		return "OTP replayed";   /* raced with another login using the same code */
	return NULL;
}

/* Check 2: password + OTP, or a token issued to this user on this device. */
static bool
auth_check_user(struct auth *a, struct auth_ctx *c)
{
	const char *why = NULL;
	enum token_result tr;

	if (c->req->kind == AUTHREQ_TOKEN) {
		/* The user must still exist with the credentials the token was issued on. */
		const struct userdb_user *u = userdb_find(&a->users, c->req->user);
		uint8_t stamp[TOKEN_STAMP_LEN];
		if (u != NULL)
			auth_user_stamp(u, stamp);
		tr = token_check(a->tokens, c->req->secret, c->req->user, c->req->fp,
		    u != NULL ? stamp : (const uint8_t[TOKEN_STAMP_LEN]){ 0 }, c->now);
		if (tr == TOKEN_OK && u != NULL)
			return true;
		why = tr == TOKEN_WRONG_DEVICE ? "token used from another device" :
		      tr == TOKEN_WRONG_USER ? "token belongs to another user" :
		      tr == TOKEN_STALE ? "token revoked: password or TOTP secret changed" :
		      tr == TOKEN_OK ? "token revoked: user removed" :
		      "unknown or expired token";
	} else {
		why = auth_check_password_otp(a, c, userdb_find(&a->users, c->req->user));
		if (why == NULL)
			return true;
	}
	auth_failed(c, why);
	auth_count_failure(a, c, true);
	return false;
}

static void
auth_succeed(struct auth *a, struct auth_ctx *c)
{
	struct authres *res = c->res;
	const struct userdb_user *u = userdb_find(&a->users, c->req->user);
	uint8_t stamp[TOKEN_STAMP_LEN];

	res->ok = 1;
	lockout_clear(a->user_locks, c->user_key);
	if (c->dev)
		str_copy(res->device_label, c->dev->label, sizeof res->device_label);
	if (c->req->kind == AUTHREQ_TOKEN) {
		str_copy(res->token, c->req->secret, sizeof res->token);
		return;
	}
	if (u == NULL)
		return;   /* cannot happen: the password check found the user */
	auth_user_stamp(u, stamp);
	if (token_issue(a->tokens, c->req->user, c->req->fp, stamp, a->conf->token_lifetime, c->now,
	    res->token) == 0)
		res->token_ttl = a->conf->token_lifetime;
}

static bool
auth_request_sane(const struct authreq *req)
{
	return memchr(req->user, '\0', sizeof req->user) && memchr(req->secret, '\0', sizeof req->secret) &&
	    memchr(req->fp, '\0', sizeof req->fp) && memchr(req->src, '\0', sizeof req->src) &&
	    (req->kind == AUTHREQ_LOGIN || req->kind == AUTHREQ_TOKEN);
}

void
auth_handle(struct auth *a, const struct authreq *req, struct authres *res)
{
	struct auth_ctx c = { .req = req, .res = res, .now = time(NULL) };

	memset(res, 0, sizeof *res);
	res->id = req->id;
	if (!auth_request_sane(req) || !userdb_name_ok(req->user)) {
		auth_failed(&c, "malformed request or user name");
		if (auth_request_sane(req))
			auth_event_login(a, &c, "password+otp");
		return;
	}
	snprintf(c.user_key, sizeof c.user_key, "user:%s", req->user);
	snprintf(c.addr_key, sizeof c.addr_key, "addr:%s", req->src);
	auth_watch_users(a);   /* the files as they are now: what changed ends first */
	auth_watch_devices(a, c.now);
	if (auth_check_locks(a, &c) && auth_check_device(a, &c) && auth_check_user(a, &c) &&
	    auth_check_owner(a, &c))
		auth_succeed(a, &c);
	auth_event_login(a, &c, req->kind == AUTHREQ_TOKEN ? "token" : "password+otp");
}

int
auth_unlock(struct auth *a, const char *what)
{
	char key[LOCKOUT_KEY_MAX];
	struct addr addr;
	bool cleared;

	if (addr_parse(what, &addr) == 0) {
		char text[ADDR_STRLEN];
		addr_format(&addr, text);
		snprintf(key, sizeof key, "addr:%s", text);
	} else
		snprintf(key, sizeof key, "user:%s", what);
	cleared = lockout_clear(str_has_prefix(key, "user:") ? a->user_locks : a->addr_locks, key);
	if (str_has_prefix(key, "user:") && userdb_name_ok(what))
		auth_end_user(a, what, NULL, "unlocked by admin");   /* a fresh start: log in again */
	ev_begin(&a->jb, "bridge_unlock", 0);
	jb_str(&a->jb, "kind", str_has_prefix(key, "user:") ? "user" : "address");
	jb_str(&a->jb, "target", what);
	jb_bool(&a->jb, "was_counted", cleared);
	ev_end(&a->jb);
	ev_emit(a->events, &a->jb);
	jb_reset(&a->jb);
	return cleared ? 1 : 0;
}

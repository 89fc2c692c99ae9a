/* qrel_login.c -- approvers' logins checked by the daemon itself (scrypt + TOTP, persisted lockouts), tickets for the portal. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/crypto.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/lockout.h"
#include "lib/log.h"
#include "lib/pwhash.h"
#include "lib/totp.h"
#include "lib/util.h"
#include "sanitizer/qrel_int.h"

#define QREL_APPROVERS_MAX_BYTES (1u << 20)

/* ---- the approvers file: "name:scrypt-hash:totp-secret" lines, root's alone ------------ */

static bool
qrel_login_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= RELTICKET_NAME_MAX && strspn(name,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.@") == n;
}

/*
 * Finds name's hash and secret in the file as it is now (an approver added or removed
 * takes effect at the next login). Returns 1 found, 0 not there, -1 unreadable or a bad
 * line (logged with its number).
 */
static int
qrel_login_find(const char *path, const char *name, char hash[PWHASH_MAX], char secret[TOTP_SECRET_B32_MAX])
{
	uint8_t *text = NULL;
	size_t len = 0, lineno = 0;
	int found = 0;

	if (file_read_all(path, QREL_APPROVERS_MAX_BYTES, &text, &len) < 0) {
		log_warn("approvers %s", path);
		return -1;
	}
	for (char *line = (char *)text, *end = line + len, *nl; line < end && found == 0; line = nl + 1) {
		char *f1, *f2;
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		*nl = '\0';
		lineno++;
		if (*line == '\0' || *line == '#')
			continue;
		if ((f1 = strchr(line, ':')) == NULL || (f2 = strchr(f1 + 1, ':')) == NULL ||
		    (size_t)(f2 - f1 - 1) >= PWHASH_MAX || strlen(f2 + 1) >= TOTP_SECRET_B32_MAX) {
			log_warnx("%s:%zu: expected name:password-hash:totp-secret", path, lineno);
			found = -1;
			break;
		}
		*f1 = *f2 = '\0';
		if (strcmp(line, name) == 0) {
			str_copy(hash, f1 + 1, PWHASH_MAX);
			str_copy(secret, f2 + 1, TOTP_SECRET_B32_MAX);
			found = 1;
		}
	}
	OPENSSL_cleanse(text, len);
	free(text);
	return found;
}

int
qrel_login_add(const char *path, const char *name, const char *password, char *totp_out, size_t cap)
{
	char hash[PWHASH_MAX], secret[TOTP_SECRET_B32_MAX], line[512];
	int fd, n;

	if (!qrel_login_name_ok(name) || pwhash_make(password, strlen(password), hash) < 0 ||
	    totp_new_secret(secret) < 0)
		return -1;
	n = snprintf(line, sizeof line, "%s:%s:%s\n", name, hash, secret);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || n <= 0 || (size_t)n >= sizeof line || fd_write_all(fd, line, (size_t)n) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	str_copy(totp_out, secret, cap);
	return 0;
}

/*
 * The approvers file holds every approver's password hash and TOTP secret: it must be
 * the daemon's alone (owner, no group or other bits) and its directory not writable by
 * the portal's user, who could otherwise swap it.
 */
static int
qrel_login_file_check(const char *path, uid_t portal_uid, bool have_portal)
{
	char dir[4096];
	struct stat st;

	if (lstat(path, &st) < 0 && errno == ENOENT) {   /* a fresh install: nobody enrolled yet */
		log_warnx("approvers %s: none enrolled yet (tiergate-quarantined --add-approver NAME)", path);
		return 0;
	}
	if (lstat(path, &st) < 0)
		return log_warn("approvers %s", path), -1;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		log_warnx("approvers %s must be a file of uid %u with mode 0600 (it is uid %u, mode %03o): "
		    "refusing to start", path, (unsigned)geteuid(), (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
		return -1;
	}
	str_copy(dir, path, sizeof dir);
	if (stat(dirname(dir), &st) == 0 && ((have_portal && st.st_uid == portal_uid) || (st.st_mode & S_IWOTH) ||
	    (st.st_uid != geteuid() && st.st_uid != 0))) {
		log_warnx("the directory of approvers %s is writable by another user: refusing to start", path);
		return -1;
	}
	return 0;
}

/* ---- last TOTP step per approver, kept beside the file: a code is good once, restarts included */

static char *
qrel_login_side(const struct qrel_daemon *d, const char *suffix)
{
	return xstrfmt("%s.%s", d->sc->approvers, suffix);
}

static uint64_t *
qrel_login_step(struct qrel_daemon *d, const char *name, bool create)
{
	struct qrel_logins *l = &d->login;

	for (size_t i = 0; i < l->n_steps; i++)
		if (strcmp(l->steps[i].name, name) == 0)
			return &l->steps[i].step;
	if (!create)
		return NULL;
	l->steps = xrealloc(l->steps, l->n_steps + 1, sizeof *l->steps);
	str_copy(l->steps[l->n_steps].name, name, sizeof l->steps[0].name);
	l->steps[l->n_steps].step = 0;
	return &l->steps[l->n_steps++].step;
}

static int
qrel_login_steps_load(struct qrel_daemon *d)
{
	char *path = qrel_login_side(d, "steps"), line[160], name[RELTICKET_NAME_MAX + 1];
	unsigned long long step;
	FILE *f = fopen(path, "re");
	int rc = 0;

	if (f == NULL) {
		rc = errno == ENOENT ? 0 : -1;
		if (rc < 0)
			log_warn("%s", path);
		free(path);
		return rc;
	}
	while (rc == 0 && fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "%64s %llu", name, &step) != 2 || !qrel_login_name_ok(name)) {
			log_warnx("%s: a line is not \"NAME STEP\"", path);
			rc = -1;
		} else {
			*qrel_login_step(d, name, true) = step;
		}
	fclose(f);
	free(path);
	return rc;
}

static void
qrel_login_steps_save(struct qrel_daemon *d)
{
	char *path = qrel_login_side(d, "steps"), *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		fatal("open_memstream");
	for (size_t i = 0; i < d->login.n_steps; i++)
		fprintf(f, "%s %llu\n", d->login.steps[i].name, (unsigned long long)d->login.steps[i].step);
	fclose(f);
	if (file_write_atomic(path, buf, len, 0600) < 0)
		log_warn("cannot write %s", path);
	free(buf);
	free(path);
}

static int
qrel_login_locks(struct qrel_daemon *d, struct lockout *lk, const char *kind)
{
	char *path = qrel_login_side(d, kind);
	const char *why = NULL;
	int rc = lockout_persist(lk, path, time(NULL), &why);

	if (rc < 0)
		log_warnx("%s: %s", path, why);
	free(path);
	return rc;
}

int
qrel_login_prepare(struct qrel_daemon *d)
{
	const struct san_config *sc = d->sc;

	if (sc->approvers == NULL)
		return 0;
	if (qrel_login_file_check(sc->approvers, d->portal_uid, d->have_portal) < 0)
		return -1;
	if (getrandom(d->login.ticket_key, sizeof d->login.ticket_key, 0) != (ssize_t)sizeof d->login.ticket_key)
		fatal("getrandom");
	relrevoke_init(&d->login.revoked, RELREVOKE_MAX);
	d->login.user_locks = lockout_new(sc->lockout_threshold, sc->lockout_base, sc->lockout_max);
	d->login.addr_locks = lockout_new(sc->lockout_source_threshold, sc->lockout_base, sc->lockout_max);
	if (qrel_login_locks(d, d->login.user_locks, "lockout-user") < 0 ||
	    qrel_login_locks(d, d->login.addr_locks, "lockout-addr") < 0 || qrel_login_steps_load(d) < 0)
		return -1;
	d->have_approvers = true;
	return 0;
}

/* ---- PLOGIN --------------------------------------------------------------------------- */

struct qrel_attempt {
	const char *name, *src;
	char user_key[LOCKOUT_KEY_MAX], addr_key[LOCKOUT_KEY_MAX];
	time_t now;
	char why[128];
};

static void
qrel_login_lock_event(struct qrel_daemon *d, const struct qrel_caller *who, const char *event,
    const char *key, unsigned secs, const char *src)
{
	struct jbuf ev = JBUF_INIT;
	bool user = str_has_prefix(key, "user:");

	qrel_event_begin(&ev, event, who);
	jb_str(&ev, "kind", user ? "user" : "address");
	jb_str(&ev, "target", key + 5);
	if (secs)
		jb_uint(&ev, "seconds", secs);
	jb_str(&ev, "src_ip", src);
	qrel_event_end(d, &ev, false, user ? "approver locked out" : "source address locked out");
}

/* The bridge's rules: the source first, then the account; a new key with no room is refused. */
static bool
qrel_login_open(struct qrel_daemon *d, const struct qrel_caller *who, struct qrel_attempt *at)
{
	const char *key = at->addr_key, *what = "source address";
	unsigned left;
	enum lockout_state st = lockout_check(d->login.addr_locks, key, at->now, &left);

	if (st == LOCKOUT_OPEN) {
		key = at->user_key, what = "account";
		st = lockout_check(d->login.user_locks, key, at->now, &left);
	}
	if (st == LOCKOUT_OPEN)
		return true;
	if (st == LOCKOUT_FULL) {
		qrel_login_lock_event(d, who, "quarantine_lockout_full", key, 0, at->src);
		snprintf(at->why, sizeof at->why, "lockout table full: new %s refused", what);
	} else {
		snprintf(at->why, sizeof at->why, "%s locked out (%us left)", what, left);
	}
	return false;
}

static void
qrel_login_failed(struct qrel_daemon *d, const struct qrel_caller *who, struct qrel_attempt *at, bool known)
{
	unsigned secs = lockout_fail(d->login.addr_locks, at->addr_key, at->now);

	if (secs)
		qrel_login_lock_event(d, who, "quarantine_lockout", at->addr_key, secs, at->src);
	if (known && (secs = lockout_fail(d->login.user_locks, at->user_key, at->now)) != 0)
		qrel_login_lock_event(d, who, "quarantine_lockout", at->user_key, secs, at->src);
}

/* Password, then a TOTP code of a step after the last one used. Returns true when both check out. */
static bool
qrel_login_check(struct qrel_daemon *d, const struct qrel_caller *who, struct qrel_attempt *at,
    const char *password, const char *code)
{
	char hash[PWHASH_MAX], secret[TOTP_SECRET_B32_MAX];
	int found = qrel_login_find(d->sc->approvers, at->name, hash, secret);
	uint64_t step = 0, *last;
	bool ok = false;

	if (found > 0 && qrel_login_file_check(d->sc->approvers, d->portal_uid, d->have_portal) < 0)
		found = -1;   /* changed since the start: its owner or mode is no longer the daemon's alone */
	if (found <= 0) {
		pwhash_dummy(password, strlen(password));
		str_copy(at->why, found < 0 ? "the approvers file cannot be read or is not the daemon's alone" :
		    "unknown approver", sizeof at->why);
	} else if (!pwhash_verify(hash, password, strlen(password))) {
		str_copy(at->why, "wrong password", sizeof at->why);
	} else if (totp_check(secret, code, at->now, 30, 1, 6, &step) < 0 ||
	    ((last = qrel_login_step(d, at->name, false)) != NULL && step <= *last)) {
		str_copy(at->why, "wrong or reused TOTP code", sizeof at->why);
	} else {
		*qrel_login_step(d, at->name, true) = step;
		qrel_login_steps_save(d);
		ok = true;
	}
	OPENSSL_cleanse(secret, sizeof secret);
	if (!ok && found >= 0)
		qrel_login_failed(d, who, at, found > 0);
	return ok;
}

static void
qrel_login_event(struct qrel_daemon *d, const struct qrel_caller *who, const struct qrel_attempt *at, bool ok)
{
	struct jbuf ev = JBUF_INIT;

	qrel_event_begin(&ev, "quarantine_login", who);
	jb_str(&ev, "approver", at->name);
	jb_str(&ev, "src_ip", at->src);
	qrel_event_end(d, &ev, ok, at->why);
}

void
qrel_login_handle(struct qrel_daemon *d, const struct qrel_caller *who, const struct relsock_req *req,
    struct qrel_reply *rp)
{
	struct qrel_attempt at = { .name = req->field[0], .src = req->field[3], .now = time(NULL) };
	char ticket[RELTICKET_MAX];
	int64_t expiry = 0;
	bool ok = false;

	snprintf(at.user_key, sizeof at.user_key, "user:%s", at.name);
	snprintf(at.addr_key, sizeof at.addr_key, "addr:%s", at.src);
	if (!d->have_approvers)
		str_copy(at.why, "no approvers file configured", sizeof at.why);
	else if (qrel_login_open(d, who, &at) && qrel_login_check(d, who, &at, req->field[1], req->field[2]))
		ok = true;
	if (ok && relrevoke_issue(&d->login.revoked, at.name, (int64_t)at.now, d->sc->approver_ticket_seconds, &expiry) < 0)
		ok = false, snprintf(at.why, sizeof at.why, "ticket table full (%d approvers with live tickets): login refused",
		    RELREVOKE_MAX);
	if (ok && relticket_make(d->login.ticket_key, at.name, expiry, req->field[4], ticket) < 0)
		ok = false, str_copy(at.why, "cannot make a ticket for this name", sizeof at.why);
	if (ok)
		lockout_clear(d->login.user_locks, at.user_key);
	qrel_login_event(d, who, &at, ok);
	if (!ok) {
		qrel_reply_err(rp, "%s", at.why);
		return;
	}
	rp->raw = xstrfmt("ticket\t%s\nname\t%s\nexpires\t%lld\n\n", ticket, at.name, (long long)expiry);
	rp->raw_len = strlen(rp->raw);
	qrel_reply_ok(rp, "%s", at.name);
}

/* ---- tickets on every decision ---------------------------------------------------------- */

int
qrel_login_ticket(struct qrel_daemon *d, const struct qrel_caller *who, const char *event,
    const char *ticket, const char *session, char name[RELTICKET_NAME_MAX + 1], struct qrel_reply *rp)
{
	enum relticket_result r = RELTICKET_MALFORMED;
	struct jbuf ev = JBUF_INIT;

	int64_t expiry;

	if (d->have_approvers)
		r = relticket_verify(d->login.ticket_key, ticket, session, (int64_t)time(NULL), name);
	if (r == RELTICKET_OK && relticket_expiry(ticket, &expiry) == 0 &&
	    relrevoke_is_void(&d->login.revoked, name, expiry))
		r = RELTICKET_LOGGED_OUT;
	if (r == RELTICKET_OK)
		return 0;
	qrel_event_begin(&ev, event, who);
	if (name[0])
		jb_str(&ev, "claimed_approver", name);
	qrel_event_end(d, &ev, false, d->have_approvers ? relticket_result_text(r) : "no approvers file configured");
	qrel_reply_err(rp, "%s", d->have_approvers ? relticket_result_text(r) : "no approvers file configured");
	name[0] = '\0';
	return -1;
}

/* ---- PLOGOUT (the portal, with the ticket) and LOGOUT NAME (admins: a stolen laptop) ------- */

static void
qrel_login_logout_event(struct qrel_daemon *d, const struct qrel_caller *who, const char *name,
    const char *by, int live)
{
	struct jbuf ev = JBUF_INIT;

	qrel_event_begin(&ev, "quarantine_logout", who);
	jb_str(&ev, "approver", name);
	jb_str(&ev, "by", by);
	jb_bool(&ev, "tickets_ended", live > 0);
	qrel_event_end(d, &ev, true, NULL);
}

void
qrel_login_plogout(struct qrel_daemon *d, const struct qrel_caller *who, const struct relsock_req *req,
    struct qrel_reply *rp)
{
	char name[RELTICKET_NAME_MAX + 1];
	int live;

	if (qrel_login_ticket(d, who, "quarantine_logout", req->field[0], req->field[1], name, rp) < 0)
		return;
	live = relrevoke_logout(&d->login.revoked, name, (int64_t)time(NULL));
	qrel_login_logout_event(d, who, name, "portal", live);
	qrel_reply_ok(rp, "approver %s logged out: every ticket issued so far is ended", name);
}

void
qrel_login_logout(struct qrel_daemon *d, const struct qrel_caller *who, const char *name, struct qrel_reply *rp)
{
	struct jbuf ev = JBUF_INIT;
	int live;

	if (!d->have_approvers) {
		qrel_event_begin(&ev, "quarantine_logout", who);
		jb_str(&ev, "approver", name);
		jb_str(&ev, "by", "admin");
		qrel_event_end(d, &ev, false, "no approvers file configured");
		qrel_reply_err(rp, "no approvers file configured");
		return;
	}
	live = relrevoke_logout(&d->login.revoked, name, (int64_t)time(NULL));
	qrel_login_logout_event(d, who, name, "admin", live);
	qrel_reply_ok(rp, "approver %s: %s", name, live ? "every ticket ended (log in again)" :
	    "held no live ticket (nothing to end)");
}

/* ---- UNLOCK (admins) -------------------------------------------------------------------- */

void
qrel_login_unlock(struct qrel_daemon *d, const struct qrel_caller *who, const char *target, struct qrel_reply *rp)
{
	char key[LOCKOUT_KEY_MAX], text[ADDR_STRLEN];
	struct addr addr;
	struct jbuf ev = JBUF_INIT;
	bool user, cleared = false;

	if (addr_parse(target, &addr) == 0) {
		addr_format(&addr, text);
		snprintf(key, sizeof key, "addr:%s", text);
	} else {
		snprintf(key, sizeof key, "user:%s", target);
	}
	user = str_has_prefix(key, "user:");
	if (d->have_approvers)
		cleared = lockout_clear(user ? d->login.user_locks : d->login.addr_locks, key);
	qrel_event_begin(&ev, "quarantine_unlock", who);
	jb_str(&ev, "kind", user ? "user" : "address");
	jb_str(&ev, "target", key + 5);
	jb_bool(&ev, "was_counted", cleared);
	qrel_event_end(d, &ev, d->have_approvers, "no approvers file configured");
	if (!d->have_approvers)
		qrel_reply_err(rp, "no approvers file configured");
	else
		qrel_reply_ok(rp, "%s %s: %s", user ? "approver" : "address", key + 5,
		    cleared ? "unlocked" : "was not locked or counting");
}

/* auth_revoke.c -- revocations: users.db and devices.conf watched, tokens and open sessions of what they no longer allow ended. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "lib/util.h"
#include "vpn-bridge/auth_int.h"

/* What was allowed before a reload, to find what a reload took away. */
struct auth_user_was {
	char name[BRIDGE_NAME_MAX];
	uint8_t stamp[TOKEN_STAMP_LEN];
};

/* The digest of what a token stands on: a new password or TOTP secret makes it stale. */
void
auth_user_stamp(const struct userdb_user *u, uint8_t out[TOKEN_STAMP_LEN])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned len = TOKEN_STAMP_LEN;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, u->hash, strlen(u->hash) + 1) != 1 ||
	    EVP_DigestUpdate(md, u->totp, strlen(u->totp) + 1) != 1 ||
	    EVP_DigestFinal_ex(md, out, &len) != 1)
		RAND_bytes(out, TOKEN_STAMP_LEN);   /* matches nothing: fail closed */
	EVP_MD_CTX_free(md);
}

void
auth_set_relays(struct auth *a, const int *fds, int n)
{
	a->relay_fds = fds;
	a->n_relays = n;
}

/* Tells every relay to end the sessions of user (or of device fp); each relay logs its own. */
static void
auth_end_sessions(struct auth *a, enum authend_kind kind, const char *what, const char *reason)
{
	struct authend end;

	memset(&end, 0, sizeof end);
	end.id = AUTHEND_ID;
	end.kind = (uint8_t)kind;
	str_copy(kind == AUTHEND_USER ? end.user : end.fp, what,
	    kind == AUTHEND_USER ? sizeof end.user : sizeof end.fp);
	str_copy(end.reason, reason, sizeof end.reason);
	for (int i = 0; i < a->n_relays; i++)
		if (a->relay_fds[i] >= 0 && send(a->relay_fds[i], &end, sizeof end, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			log_warn("cannot tell relay %d to end sessions of %s", i, what);
}

struct auth_ended {
	struct auth *a;
	const char *reason;
};

static void
auth_event_token_ended(void *arg, const char *user, const char *fp)
{
	struct auth_ended *e = arg;
	struct jbuf *jb = &e->a->jb;

	ev_begin(jb, "bridge_token_revoked", 0);
	jb_str(jb, "user", user);
	jb_str(jb, "device", fp[0] ? fp : NULL);
	jb_str(jb, "reason", e->reason);
	ev_end(jb);
	ev_emit(e->a->events, jb);
	jb_reset(jb);
}

size_t
auth_end_user(struct auth *a, const char *user, const uint8_t *keep, const char *reason)
{
	struct auth_ended e = { a, reason };
	size_t n = token_revoke(a->tokens, user, NULL, keep, auth_event_token_ended, &e);

	log_info("%s: %zu token(s) and the open sessions ended (%s)", user, n, reason);
	auth_end_sessions(a, AUTHEND_USER, user, reason);
	return n;
}

size_t
auth_revoke_user(struct auth *a, const char *user, const char *reason)
{
	return auth_end_user(a, user, NULL, reason);
}

static void
auth_end_device(struct auth *a, const char *fp, const char *reason)
{
	struct auth_ended e = { a, reason };
	size_t n = token_revoke(a->tokens, NULL, fp, NULL, auth_event_token_ended, &e);

	log_info("device %s: %zu token(s) and the open sessions ended (%s)", fp, n, reason);
	auth_end_sessions(a, AUTHEND_DEVICE, fp, reason);
}

/* Reloads the user DB if it changed; users removed or with new credentials lose their access. */
void
auth_watch_users(struct auth *a)
{
	struct auth_user_was *was;
	size_t n;

	if (!userdb_changed(&a->users))
		return;
	n = a->users.n;
	was = xcalloc(n + 1, sizeof *was);
	for (size_t i = 0; i < n; i++) {
		str_copy(was[i].name, a->users.v[i].name, sizeof was[i].name);
		auth_user_stamp(&a->users.v[i], was[i].stamp);
	}
	if (userdb_refresh(&a->users) == 0)
		for (size_t i = 0; i < n; i++) {
			const struct userdb_user *u = userdb_find(&a->users, was[i].name);
			uint8_t now[TOKEN_STAMP_LEN];
			if (u == NULL) {
				auth_end_user(a, was[i].name, NULL, "user removed");
				continue;
			}
			auth_user_stamp(u, now);
			if (CRYPTO_memcmp(now, was[i].stamp, sizeof now) != 0)
				auth_end_user(a, was[i].name, now, "password or TOTP secret changed");
		}
	OPENSSL_cleanse(was, (n + 1) * sizeof *was);
	free(was);
}

const char *
auth_device_refusal(const struct devreg_device *dev, time_t now)
{
	if (dev == NULL)
		return "device not registered";
	if (dev->revoked)
		return "device revoked in registry";
	if (dev->not_after != 0 && dev->not_after < now)
		return "device registration expired";
	return NULL;
}

static void
auth_event_device_expired(struct auth *a, const struct devreg_device *dev)
{
	char when[40];

	ev_timestamp(when, (uint64_t)dev->not_after * 1000000u);
	ev_begin(&a->jb, "bridge_device_expired", 0);
	jb_str(&a->jb, "device", dev->fp);
	jb_str(&a->jb, "device_label", dev->label);
	jb_str(&a->jb, "owner", dev->owner);
	jb_str(&a->jb, "not_after", when);
	ev_end(&a->jb);
	ev_emit(a->events, &a->jb);
	jb_reset(&a->jb);
}

/*
 * Registrations whose not_after passed since the last sweep end now, with the tokens and
 * open sessions of their devices (a timer, not a check per packet: the auth process looks
 * at each request and every idle second, and walks the registry only when the next
 * not_after has come).
 */
static void
auth_sweep_expired(struct auth *a, time_t now)
{
	time_t next = 0;

	if (a->next_expiry == -1 || (a->next_expiry != 0 && now <= a->next_expiry))
		return;
	for (size_t i = 0; i < a->devices.n; i++) {
		const struct devreg_device *dev = &a->devices.v[i];
		if (dev->not_after == 0 || dev->revoked)
			continue;
		if (dev->not_after >= a->expiry_swept_to && dev->not_after < now) {
			auth_event_device_expired(a, dev);
			auth_end_device(a, dev->fp, "device registration expired");
		} else if (dev->not_after >= now && (next == 0 || dev->not_after < next))
			next = dev->not_after;
	}
	a->expiry_swept_to = now;
	a->next_expiry = next != 0 ? next : -1;   /* -1: none ahead until the file changes */
}

/* Reloads the registry if it changed; devices no longer allowed lose their access. */
void
auth_watch_devices(struct auth *a, time_t now)
{
	char (*was)[BRIDGE_FP_HEX];
	size_t n = 0;

	auth_sweep_expired(a, now);   /* on the registry as it was: what passed before a reload */
	if (!devreg_changed(&a->devices))
		return;
	was = xcalloc(a->devices.n + 1, sizeof *was);
	for (size_t i = 0; i < a->devices.n; i++)
		if (auth_device_refusal(&a->devices.v[i], now) == NULL)
			str_copy(was[n++], a->devices.v[i].fp, sizeof was[0]);
	devreg_refresh(&a->devices);
	for (size_t i = 0; i < n; i++) {
		const char *why = auth_device_refusal(devreg_find(&a->devices, was[i]), now);
		if (why != NULL)
			auth_end_device(a, was[i], why);
	}
	free(was);
	a->next_expiry = 0;   /* the new file's next not_after; what it refuses now was ended above */
}

void
auth_watch(struct auth *a)
{
	auth_watch_users(a);
	auth_watch_devices(a, time(NULL));
}

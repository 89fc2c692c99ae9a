/* portal_auth.c -- approvers' logins (checked by tiergate-quarantined), sessions with idle and absolute timeouts, CSRF, rate limits. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/portal.h"
#include "sanitizer/portal_client.h"

void
portal_random_hex(char out[65])
{
	uint8_t rnd[32];

	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		fatal("getrandom");
	hex_encode(rnd, sizeof rnd, out);
}

static bool
portal_session_live(const struct portal *p, const struct portal_session *s, time_t now)
{
	return s->used && now - s->last <= (time_t)p->conf.idle_seconds &&
	    now - s->created <= (time_t)p->conf.max_seconds;
}

/*
 * A session that ends without a logout (a timeout, or pushed out of a full table) also
 * ends its ticket in the daemon, as a logout does -- unless the approver still has another
 * live session here: the daemon voids every ticket of the approver issued so far (one
 * cutoff per approver), which would log that session out too. Then the ticket lasts until
 * it expires (approver_ticket_seconds), as before.
 */
static void
portal_session_expire(struct portal *p, struct portal_session *s, const char *why)
{
	time_t now = time(NULL);
	const char *f[3] = { "PLOGOUT", s->ticket, s->bind };
	struct portal_answer a = { 0 };
	bool other = false, ok;

	for (size_t i = 0; i < PORTAL_SESSIONS && !other; i++)
		other = &p->sessions[i] != s && portal_session_live(p, &p->sessions[i], now) &&
		    strcmp(p->sessions[i].user, s->user) == 0;
	if (other) {
		portal_event(p, "portal_session_end", NULL, s->user, why, false,
		    "another session of this approver is open: its ticket lasts until it expires");
	} else {
		ok = portal_call(p->conf.socket, f, 3, &a) == 0 && a.ok;
		portal_event(p, "portal_session_end", NULL, s->user, why, ok,
		    ok ? NULL : a.status ? a.status : "release daemon unreachable: its ticket lasts until it expires");
		portal_answer_free(&a);
	}
	portal_session_end(p, s);
}

void
portal_sessions_sweep(struct portal *p)
{
	time_t now = time(NULL);

	for (size_t i = 0; i < PORTAL_SESSIONS; i++)
		if (p->sessions[i].used && !portal_session_live(p, &p->sessions[i], now))
			portal_session_expire(p, &p->sessions[i], "timeout");
}

static struct portal_session *
portal_session_new(struct portal *p, const char *user)
{
	struct portal_session *s = NULL;

	portal_sessions_sweep(p);
	for (size_t i = 0; i < PORTAL_SESSIONS && s == NULL; i++)
		if (!p->sessions[i].used)
			s = &p->sessions[i];
	if (s == NULL) {   /* full: the oldest goes */
		for (size_t i = 0; i < PORTAL_SESSIONS; i++)
			if (s == NULL || p->sessions[i].last < s->last)
				s = &p->sessions[i];
		portal_session_expire(p, s, "pushed out by a newer login (session table full)");
	}
	memset(s, 0, sizeof *s);
	s->used = true;
	portal_random_hex(s->id);
	portal_random_hex(s->csrf);
	str_copy(s->user, user, sizeof s->user);
	s->created = s->last = time(NULL);
	return s;
}

/* The daemon binds its ticket to this: the session id itself never leaves the portal. */
static void
portal_session_bind(const char id[65], char bind[65])
{
	uint8_t md[32];
	unsigned len = sizeof md;

	if (EVP_Digest(id, strlen(id), md, &len, EVP_sha256(), NULL) != 1)
		fatalx("SHA-256 failed");
	hex_encode(md, sizeof md, bind);
}

/* A session slot is taken only once the daemon said yes: failed logins cannot push real sessions out. */
struct portal_session *
portal_login(struct portal *p, const char *name, const char *password, const char *code, const char *addr,
    char *why, size_t why_size)
{
	char id[65], bind[65];
	bool addr_ok = addr && *addr && strlen(addr) < 64 && strspn(addr, "0123456789abcdefABCDEF.:") == strlen(addr);
	const char *f[6] = { "PLOGIN", name, password, code, addr_ok ? addr : "-", bind };
	const struct portal_rec *rec;
	struct portal_session *s = NULL;
	struct portal_answer a;
	const char *ticket, *who;

	portal_random_hex(id);
	portal_session_bind(id, bind);
	if (portal_call(p->conf.socket, f, 6, &a) < 0) {
		str_copy(why, "the release service does not answer, or a field cannot be sent", why_size);
		return NULL;
	}
	rec = a.n_recs ? &a.recs[0] : NULL;
	ticket = rec ? portal_rec_get(rec, "ticket") : NULL;
	who = rec ? portal_rec_get(rec, "name") : NULL;
	if (!a.ok || ticket == NULL || who == NULL || strlen(ticket) >= sizeof s->ticket || strcmp(who, name) != 0) {
		str_copy(why, a.ok ? "malformed answer of the release service" : a.status, why_size);
	} else {
		s = portal_session_new(p, name);
		memcpy(s->id, id, sizeof s->id);
		memcpy(s->bind, bind, sizeof s->bind);
		str_copy(s->ticket, ticket, sizeof s->ticket);
	}
	OPENSSL_cleanse(id, sizeof id);
	portal_answer_free(&a);
	return s;
}

/* The session named by the tgp_s cookie, if it is within both timeouts. */
struct portal_session *
portal_session_find(struct portal *p, const char *id)
{
	time_t now = time(NULL);

	if (id == NULL || strlen(id) != 64)
		return NULL;
	for (size_t i = 0; i < PORTAL_SESSIONS; i++) {
		struct portal_session *s = &p->sessions[i];
		if (!s->used || !portal_csrf_equal(s->id, id))
			continue;
		if (!portal_session_live(p, s, now)) {
			portal_session_expire(p, s, "timeout");
			return NULL;
		}
		s->last = now;
		return s;
	}
	return NULL;
}

void
portal_session_end(struct portal *p, struct portal_session *s)
{
	(void)p;
	OPENSSL_cleanse(s, sizeof *s);
}

void
portal_csrf_bound(struct portal *p, const char *purpose, const char *value, char out[65])
{
	uint8_t mac[32];
	unsigned mac_len = sizeof mac;
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM params[] = { OSSL_PARAM_utf8_string("digest", (char *)"SHA256", 0), OSSL_PARAM_END };
	size_t outl = 0;

	if (ctx == NULL || EVP_MAC_init(ctx, p->secret, sizeof p->secret, params) != 1 ||
	    EVP_MAC_update(ctx, (const uint8_t *)purpose, strlen(purpose) + 1) != 1 ||
	    EVP_MAC_update(ctx, (const uint8_t *)value, strlen(value)) != 1 ||
	    EVP_MAC_final(ctx, mac, &outl, sizeof mac) != 1)
		fatalx("HMAC failed");
	mac_len = (unsigned)outl;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
	hex_encode(mac, mac_len, out);
}

bool
portal_csrf_equal(const char *a, const char *b)
{
	size_t n = strlen(a);

	return a && b && n == strlen(b) && n > 0 && CRYPTO_memcmp(a, b, n) == 0;
}

bool
portal_rate_ok(struct portal *p, const char *addr)
{
	time_t minute = time(NULL) / 60;
	struct portal_rate *slot = NULL;

	for (size_t i = 0; i < PORTAL_RATES; i++) {
		struct portal_rate *r = &p->rates[i];
		if (strcmp(r->addr, addr) == 0) {
			slot = r;
			break;
		}
		if (slot == NULL && (r->addr[0] == '\0' || r->minute != minute))
			slot = r;
	}
	if (slot == NULL)   /* every slot counting this minute: refuse rather than forget one */
		return false;
	if (strcmp(slot->addr, addr) != 0 || slot->minute != minute) {
		str_copy(slot->addr, addr, sizeof slot->addr);
		slot->minute = minute;
		slot->count = 0;
	}
	return ++slot->count <= p->conf.posts_per_minute;
}

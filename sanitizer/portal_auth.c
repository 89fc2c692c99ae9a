/* portal_auth.c -- approvers (scrypt + TOTP from lib/), sessions with idle and absolute timeouts, CSRF, lockout, rate limits. */
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
#include "lib/pwhash.h"
#include "lib/totp.h"
#include "lib/util.h"
#include "sanitizer/portal.h"

void
portal_random_hex(char out[65])
{
	uint8_t rnd[32];

	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		fatal("getrandom");
	hex_encode(rnd, sizeof rnd, out);
}

/* "name:hash:secret" lines; a bad line refuses the file with its number. */
int
portal_users_load(struct portal *p)
{
	uint8_t *text = NULL;
	size_t len = 0, lineno = 0;

	if (file_read_all(p->conf.users, 1u << 20, &text, &len) < 0) {
		log_warn("users %s", p->conf.users);
		return -1;
	}
	for (char *line = (char *)text, *end = line + len, *nl; line < end; line = nl + 1) {
		char *f1, *f2;
		nl = memchr(line, '\n', (size_t)(end - line));
		if (nl == NULL)
			nl = end;
		*nl = '\0';
		lineno++;
		if (*line == '\0' || *line == '#')
			continue;
		if ((f1 = strchr(line, ':')) == NULL || (f2 = strchr(f1 + 1, ':')) == NULL ||
		    (size_t)(f1 - line) >= PORTAL_NAME_MAX || f1 == line) {
			log_warnx("%s:%zu: expected name:password-hash:totp-secret", p->conf.users, lineno);
			free(text);
			return -1;
		}
		*f1++ = '\0';
		*f2++ = '\0';
		p->users = xrealloc(p->users, p->n_users + 1, sizeof *p->users);
		memset(&p->users[p->n_users], 0, sizeof *p->users);
		p->users[p->n_users].name = xstrdup(line);
		p->users[p->n_users].hash = xstrdup(f1);
		p->users[p->n_users++].totp = xstrdup(f2);
	}
	OPENSSL_cleanse(text, len);
	free(text);
	return 0;
}

int
portal_users_add(const char *path, const char *name, const char *password, char *totp_out, size_t cap)
{
	char hash[PWHASH_MAX], secret[TOTP_SECRET_B32_MAX], line[512];
	int fd, n;

	if (strlen(name) == 0 || strlen(name) >= PORTAL_NAME_MAX || strspn(name,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.@") != strlen(name))
		return -1;
	if (pwhash_make(password, strlen(password), hash) < 0 || totp_new_secret(secret) < 0)
		return -1;
	n = snprintf(line, sizeof line, "%s:%s:%s\n", name, hash, secret);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || n <= 0 || (size_t)n >= sizeof line || write(fd, line, (size_t)n) != n) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	str_copy(totp_out, secret, cap);
	return 0;
}

static struct portal_user *
portal_user_find(struct portal *p, const char *name)
{
	for (size_t i = 0; i < p->n_users; i++)
		if (strcmp(p->users[i].name, name) == 0)
			return &p->users[i];
	return NULL;
}

static struct portal_session *
portal_session_new(struct portal *p, const char *user)
{
	struct portal_session *s = NULL;
	time_t now = time(NULL);

	for (size_t i = 0; i < PORTAL_SESSIONS && s == NULL; i++)
		if (!p->sessions[i].used || now - p->sessions[i].last > (time_t)p->conf.idle_seconds ||
		    now - p->sessions[i].created > (time_t)p->conf.max_seconds)
			s = &p->sessions[i];
	if (s == NULL)   /* full: the oldest goes */
		for (size_t i = 0; i < PORTAL_SESSIONS; i++)
			if (s == NULL || p->sessions[i].last < s->last)
				s = &p->sessions[i];
	memset(s, 0, sizeof *s);
	s->used = true;
	portal_random_hex(s->id);
	portal_random_hex(s->csrf);
	str_copy(s->user, user, sizeof s->user);
	s->created = s->last = now;
	return s;
}

struct portal_session *
portal_login(struct portal *p, const char *name, const char *password, const char *code, const char **why)
{
	struct portal_user *u = portal_user_find(p, name);
	time_t now = time(NULL);
	uint64_t step = 0;
	bool ok;

	if (u == NULL) {
		pwhash_dummy(password, strlen(password));
		return *why = "unknown user", NULL;
	}
	if (u->locked_until > now)
		return *why = "locked out", NULL;
	ok = pwhash_verify(u->hash, password, strlen(password));
	if (ok && (totp_check(u->totp, code, now, 30, 1, 6, &step) < 0 || step <= u->last_step))
		ok = false, *why = "wrong or reused TOTP code";
	else if (!ok)
		*why = "wrong password";
	if (!ok) {
		if (++u->failures >= p->conf.lock_failures) {
			u->locked_until = now + (time_t)p->conf.lock_seconds;
			u->failures = 0;
			*why = "wrong credentials; now locked out";
		}
		return NULL;
	}
	u->failures = 0;
	u->last_step = step;
	return portal_session_new(p, name);
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
		if (now - s->last > (time_t)p->conf.idle_seconds || now - s->created > (time_t)p->conf.max_seconds) {
			portal_session_end(p, s);
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

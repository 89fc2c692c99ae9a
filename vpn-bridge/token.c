/* token.c -- the token table: only SHA-256 digests of tokens are kept, so a memory dump yields none. */
#include "vpn-bridge/token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define TOKEN_MAX 16384

struct token_entry {
	uint8_t digest[32];
	char user[BRIDGE_NAME_MAX];
	char fp[BRIDGE_FP_HEX];
	uint8_t stamp[TOKEN_STAMP_LEN];
	time_t expires;
};

struct token_table {
	struct token_entry *v;
	size_t n;
};

struct token_table *
token_table_new(void)
{
	struct token_table *t = xcalloc(1, sizeof *t);

	t->v = xcalloc(TOKEN_MAX, sizeof *t->v);
	return t;
}

void
token_table_free(struct token_table *t)
{
	if (t == NULL)
		return;
	OPENSSL_cleanse(t->v, TOKEN_MAX * sizeof *t->v);
	free(t->v);
	free(t);
}

static void
token_digest(const char *token, uint8_t out[32])
{
	unsigned len = 32;

	EVP_Digest(token, strlen(token), out, &len, EVP_sha256(), NULL);
}

static void
token_expire(struct token_table *t, time_t now)
{
	size_t kept = 0;

	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].expires > now)
			t->v[kept++] = t->v[i];
	t->n = kept;
}

int
token_issue(struct token_table *t, const char *user, const char *fp,
    const uint8_t stamp[TOKEN_STAMP_LEN], unsigned lifetime, time_t now, char out[TOKEN_HEX])
{
	uint8_t raw[32];
	struct token_entry *e;

	if (t->n == TOKEN_MAX)
		token_expire(t, now);
	if (t->n == TOKEN_MAX) {
		/* Full of live tokens: the oldest goes (its user logs in again with an OTP). */
		memmove(&t->v[0], &t->v[1], (TOKEN_MAX - 1) * sizeof *t->v);
		t->n--;
	}
	if (RAND_bytes(raw, sizeof raw) != 1)
		return -1;
	hex_encode(raw, sizeof raw, out);
	e = &t->v[t->n++];
	token_digest(out, e->digest);
	str_copy(e->user, user, sizeof e->user);
	str_copy(e->fp, fp, sizeof e->fp);
	memcpy(e->stamp, stamp, sizeof e->stamp);
	e->expires = now + lifetime;
	OPENSSL_cleanse(raw, sizeof raw);
	return 0;
}

enum token_result
token_check(struct token_table *t, const char *token, const char *user, const char *fp,
    const uint8_t stamp[TOKEN_STAMP_LEN], time_t now)
{
	uint8_t digest[32];

	token_digest(token, digest);
	for (size_t i = 0; i < t->n; i++) {
		struct token_entry *e = &t->v[i];
		if (CRYPTO_memcmp(e->digest, digest, sizeof digest) != 0)
			continue;
		if (e->expires <= now)
			return TOKEN_UNKNOWN;
		if (strcmp(e->user, user) != 0)
			return TOKEN_WRONG_USER;
		if (strcmp(e->fp, fp) != 0)
			return TOKEN_WRONG_DEVICE;
		return CRYPTO_memcmp(e->stamp, stamp, sizeof e->stamp) == 0 ? TOKEN_OK : TOKEN_STALE;
	}
	return TOKEN_UNKNOWN;
}

size_t
token_revoke(struct token_table *t, const char *user, const char *fp,
    const uint8_t keep[TOKEN_STAMP_LEN], token_ended_fn *ended, void *arg)
{
	size_t kept = 0, gone = 0;

	for (size_t i = 0; i < t->n; i++) {
		struct token_entry *e = &t->v[i];
		bool match = (user == NULL || strcmp(e->user, user) == 0) &&
		    (fp == NULL || strcmp(e->fp, fp) == 0) &&
		    (keep == NULL || CRYPTO_memcmp(e->stamp, keep, sizeof e->stamp) != 0);
		if (!match) {
			t->v[kept++] = *e;
			continue;
		}
		if (ended)
			ended(arg, e->user, e->fp);
		gone++;
	}
	if (gone)
		OPENSSL_cleanse(&t->v[kept], gone * sizeof *t->v);
	t->n = kept;
	return gone;
}

void
token_revoke_user(struct token_table *t, const char *user)
{
	token_revoke(t, user, NULL, NULL, NULL, NULL);
}

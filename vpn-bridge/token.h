/* token.h -- session tokens: random, bounded lifetime, bound to the device that logged in. */
#ifndef TIERGATE_BRIDGE_TOKEN_H
#define TIERGATE_BRIDGE_TOKEN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "vpn-bridge/config.h"

#define TOKEN_HEX 65   /* 32 random bytes as hex + NUL */
#define TOKEN_STAMP_LEN 32   /* SHA-256 of the user's credentials when the token was issued */

enum token_result { TOKEN_OK, TOKEN_UNKNOWN, TOKEN_WRONG_DEVICE, TOKEN_WRONG_USER, TOKEN_STALE };

/* Called for each token a revocation ends (for its event). */
typedef void token_ended_fn(void *arg, const char *user, const char *fp);

struct token_table;

struct token_table *token_table_new(void);
void token_table_free(struct token_table *t);
/*
 * Issues a token for user on device fp, valid lifetime seconds; stamp is the digest of the
 * user's credentials now (a password change or a new TOTP secret makes it stale). 0 or -1.
 */
int token_issue(struct token_table *t, const char *user, const char *fp,
    const uint8_t stamp[TOKEN_STAMP_LEN], unsigned lifetime, time_t now, char out[TOKEN_HEX]);
/* TOKEN_STALE when the user's credentials are no longer those of stamp. */
enum token_result token_check(struct token_table *t, const char *token, const char *user,
    const char *fp, const uint8_t stamp[TOKEN_STAMP_LEN], time_t now);
/*
 * Drops the tokens of user (NULL: any) on device fp (NULL: any) whose stamp differs from
 * keep (NULL: every one); calls ended for each. Returns how many went.
 */
size_t token_revoke(struct token_table *t, const char *user, const char *fp,
    const uint8_t keep[TOKEN_STAMP_LEN], token_ended_fn *ended, void *arg);
/* Drops every token of user. */
void token_revoke_user(struct token_table *t, const char *user);

#endif

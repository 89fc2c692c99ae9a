/* token.h -- session tokens: random, bounded lifetime, bound to the device that logged in. */
#ifndef TIERGATE_BRIDGE_TOKEN_H
#define TIERGATE_BRIDGE_TOKEN_H

#include <time.h>

#include "vpn-bridge/config.h"

#define TOKEN_HEX 65   /* 32 random bytes as hex + NUL */

enum token_result { TOKEN_OK, TOKEN_UNKNOWN, TOKEN_WRONG_DEVICE, TOKEN_WRONG_USER };

struct token_table;

struct token_table *token_table_new(void);
void token_table_free(struct token_table *t);
/* Issues a token for user on device fp, valid lifetime seconds. Returns 0 or -1. */
int token_issue(struct token_table *t, const char *user, const char *fp, unsigned lifetime,
    time_t now, char out[TOKEN_HEX]);
enum token_result token_check(struct token_table *t, const char *token, const char *user,
    const char *fp, time_t now);
/* Drops every token of user (unlock, password change). */
void token_revoke_user(struct token_table *t, const char *user);

#endif

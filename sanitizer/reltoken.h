/* reltoken.h -- request-link tokens: HMAC-SHA256 over (quarantine ID, recipient, expiry) with a key the portal never holds. */
#ifndef TIERGATE_RELTOKEN_H
#define TIERGATE_RELTOKEN_H

#include <stddef.h>
#include <stdint.h>

/*
 * token = QID "." EXPIRY "." base64url(recipient) "." base64url(HMAC)
 * The milter makes one per recipient for the notice; tiergate-quarantined
 * verifies it when the portal passes it on. Only those two read the key.
 */
#define RELTOKEN_KEY_LEN 32
#define RELTOKEN_RCPT_MAX 254
#define RELTOKEN_MAX 512

enum reltoken_result { RELTOKEN_OK = 0, RELTOKEN_MALFORMED = -1, RELTOKEN_BAD_MAC = -2, RELTOKEN_EXPIRED = -3 };

/* Reads the key file (exactly 32 bytes, or 64 hex digits and an optional newline). */
int reltoken_key_load(const char *path, uint8_t key[RELTOKEN_KEY_LEN]);
/* Writes the token into out (RELTOKEN_MAX bytes). Returns 0, or -1 when rcpt is too long. */
int reltoken_make(const uint8_t key[RELTOKEN_KEY_LEN], const char *qid, const char *rcpt,
    int64_t expiry, char out[RELTOKEN_MAX]);
/* Checks form, MAC (in constant time) and expiry against now; fills qid and rcpt on RELTOKEN_OK. */
enum reltoken_result reltoken_verify(const uint8_t key[RELTOKEN_KEY_LEN], const char *token, int64_t now,
    char qid[65], char rcpt[RELTOKEN_RCPT_MAX + 1], int64_t *expiry);
const char *reltoken_result_text(enum reltoken_result r);
/* base_url + "/r?t=" + token, malloc'd; NULL when rcpt is too long. */
char *reltoken_link(const uint8_t key[RELTOKEN_KEY_LEN], const char *base_url, const char *qid,
    const char *rcpt, int64_t expiry);

#endif

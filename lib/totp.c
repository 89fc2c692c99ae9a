/* totp.c -- TOTP codes: liboath generates each code of the window, we compare in constant time. */
#include "lib/totp.h"

#include <liboath/oath.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static int
totp_decode(const char *secret_b32, char **key, size_t *keylen)
{
	if (oath_init() != OATH_OK)
		return -1;
	return oath_base32_decode(secret_b32, strlen(secret_b32), key, keylen) == OATH_OK ? 0 : -1;
}

int
totp_check(const char *secret_b32, const char *code, time_t now, unsigned step_secs,
    unsigned window, unsigned digits, uint64_t *step)
{
	char *key = NULL;
	size_t keylen = 0;
	int found = -1;

	if (strlen(code) != digits || totp_decode(secret_b32, &key, &keylen) < 0)
		return -1;
	/* Every offset is computed and compared, match or not: the time taken says nothing. */
	for (long off = -(long)window; off <= (long)window; off++) {
		char want[16];
		time_t at = now + off * (long)step_secs;
		if (at < 0 || oath_totp_generate(key, keylen, at, step_secs, 0, digits, want) != OATH_OK)
			continue;
		if (CRYPTO_memcmp(want, code, digits) == 0 && found < 0) {
			*step = (uint64_t)at / step_secs;
			found = 0;
		}
	}
	OPENSSL_cleanse(key, keylen);
	free(key);
	return found;
}

int
totp_new_secret(char out[TOTP_SECRET_B32_MAX])
{
	uint8_t raw[20];
	char *b32 = NULL;
	size_t b32len = 0;
	size_t used = 0;

	if (oath_init() != OATH_OK || RAND_bytes(raw, sizeof raw) != 1 ||
	    oath_base32_encode((char *)raw, sizeof raw, &b32, &b32len) != OATH_OK)
		return -1;
	/* 20 bytes encode to 32 characters without padding. */
	for (size_t i = 0; i < b32len && b32[i] != '=' && used + 1 < TOTP_SECRET_B32_MAX; i++)
		out[used++] = b32[i];
	out[used] = '\0';
	OPENSSL_cleanse(raw, sizeof raw);
	OPENSSL_cleanse(b32, b32len);
	free(b32);
	return 0;
}

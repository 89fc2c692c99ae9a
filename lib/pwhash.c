/* pwhash.c -- scrypt password hashes: make, verify in constant time, and a decoy for unknown users. */
#include "lib/pwhash.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/util.h"

#define PWHASH_SALT 16
#define PWHASH_LEN 32
/* N = 2^14, r = 8: 16 MiB and ~40 ms per try; a stolen file costs an attacker that per guess. */
#define PWHASH_LN 14
#define PWHASH_R 8
#define PWHASH_P 1

static int
pwhash_derive(const char *password, size_t len, const uint8_t *salt, size_t saltlen,
    unsigned ln, unsigned r, unsigned p, uint8_t out[PWHASH_LEN])
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	uint64_t n = (uint64_t)1 << ln;
	uint32_t r32 = r, p32 = p;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)password, len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen),
		OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
		OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r32),
		OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p32),
		OSSL_PARAM_construct_end(),
	};
	int ok = kctx != NULL && EVP_KDF_derive(kctx, out, PWHASH_LEN, params) == 1;

	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return ok ? 0 : -1;
}

int
pwhash_make(const char *password, size_t len, char out[PWHASH_MAX])
{
	uint8_t salt[PWHASH_SALT], hash[PWHASH_LEN];
	char salthex[2 * PWHASH_SALT + 1], hashhex[2 * PWHASH_LEN + 1];

	if (RAND_bytes(salt, sizeof salt) != 1 ||
	    pwhash_derive(password, len, salt, sizeof salt, PWHASH_LN, PWHASH_R, PWHASH_P, hash) < 0)
		return -1;
	hex_encode(salt, sizeof salt, salthex);
	hex_encode(hash, sizeof hash, hashhex);
	snprintf(out, PWHASH_MAX, "$scrypt$ln=%d,r=%d,p=%d$%s$%s", PWHASH_LN, PWHASH_R, PWHASH_P,
	    salthex, hashhex);
	OPENSSL_cleanse(hash, sizeof hash);
	return 0;
}

static int
pwhash_unhex(const char *hex, size_t hexlen, uint8_t *out, size_t outsize)
{
	if (hexlen != 2 * outsize)
		return -1;
	for (size_t i = 0; i < outsize; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

bool
pwhash_verify(const char *stored, const char *password, size_t len)
{
	uint8_t salt[PWHASH_SALT], want[PWHASH_LEN], got[PWHASH_LEN];
	unsigned ln, r, p;
	int off = 0;
	const char *hash;
	bool same;

	if (sscanf(stored, "$scrypt$ln=%u,r=%u,p=%u$%n", &ln, &r, &p, &off) != 3 || off == 0 ||
	    ln < 10 || ln > 20 || r == 0 || r > 32 || p == 0 || p > 4)
		return false;
	hash = strchr(stored + off, '$');
	if (hash == NULL ||
	    pwhash_unhex(stored + off, (size_t)(hash - stored - off), salt, sizeof salt) < 0 ||
	    pwhash_unhex(hash + 1, strlen(hash + 1), want, sizeof want) < 0 ||
	    pwhash_derive(password, len, salt, sizeof salt, ln, r, p, got) < 0)
		return false;
	same = CRYPTO_memcmp(want, got, sizeof want) == 0;
	OPENSSL_cleanse(got, sizeof got);
	return same;
}

void
pwhash_dummy(const char *password, size_t len)
{
	static const uint8_t salt[PWHASH_SALT];
	uint8_t out[PWHASH_LEN];

	(void)pwhash_derive(password, len, salt, sizeof salt, PWHASH_LN, PWHASH_R, PWHASH_P, out);
}

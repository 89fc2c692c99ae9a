/* keyproc_policy.c -- what the key process agrees to sign: ECDSA digests, PKCS#1 v1.5 DigestInfos, PSS-encoded blocks; never a decryption. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "vpn-bridge/keyproc_policy.h"

#include <openssl/rsa.h>
#include <string.h>

/* DigestInfo prefixes of RFC 8017 9.2 note 1 (the hash follows). */
static const struct {
	uint8_t prefix[19];
	size_t hash_len;
} keyproc_policy_digestinfo[] = {
	{ { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
	    0x05, 0x00, 0x04, 0x20 }, 32 },
	{ { 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
	    0x05, 0x00, 0x04, 0x30 }, 48 },
	{ { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
	    0x05, 0x00, 0x04, 0x40 }, 64 },
};

static int
keyproc_policy_digest_len(size_t len)
{
	return len == 32 || len == 48 || len == 64;
}

static int
keyproc_policy_is_digestinfo(const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < sizeof keyproc_policy_digestinfo / sizeof keyproc_policy_digestinfo[0]; i++)
		if (len == sizeof keyproc_policy_digestinfo[i].prefix + keyproc_policy_digestinfo[i].hash_len &&
		    memcmp(data, keyproc_policy_digestinfo[i].prefix, sizeof keyproc_policy_digestinfo[i].prefix) == 0)
			return 1;
	return 0;
}

/*
 * EM (em_len bytes, em_bits significant) is EMSA-PSS with hash md, MGF1(md) and a salt of
 * the hash's length: maskedDB || H || 0xbc, where DB = maskedDB ^ MGF1(H) is
 * zeros || 0x01 || salt. The hash of the message is not known here, so H is not checked:
 * the caller gets a PSS signature of a hash of its choice, which TLS needs anyway, and
 * nothing else (a chosen ciphertext has this shape with negligible probability).
 */
static int
keyproc_policy_is_pss(const uint8_t *em, size_t em_len, unsigned em_bits, const EVP_MD *md)
{
	size_t h_len = (size_t)EVP_MD_get_size(md), db_len, i;
	uint8_t db[1024];
	unsigned top_bits = em_bits & 7;

	if (em_len < 2 * h_len + 2 || em_len - h_len - 1 > sizeof db || em[em_len - 1] != 0xbc)
		return 0;
	if (top_bits && (em[0] & (0xff << top_bits)) != 0)
		return 0;
	db_len = em_len - h_len - 1;
	if (PKCS1_MGF1(db, (long)db_len, em + db_len, (long)h_len, md) != 0)
		return 0;
	for (i = 0; i < db_len; i++)
		db[i] ^= em[i];
	if (top_bits)
		db[0] &= 0xff >> (8 - top_bits);
	for (i = 0; i < db_len - h_len - 1; i++)
		if (db[i] != 0)
			return 0;
	return db[i] == 0x01;
}

static int
keyproc_policy_rsa_pss(const EVP_PKEY *key, const uint8_t *data, size_t len)
{
	const EVP_MD *mds[] = { EVP_sha256(), EVP_sha384(), EVP_sha512() };
	int mod_bits = EVP_PKEY_get_bits(key), size = EVP_PKEY_get_size(key);
	unsigned em_bits = (unsigned)mod_bits - 1;

	if (mod_bits <= 0 || len != (size_t)size)
		return 0;
	if ((em_bits & 7) == 0) {   /* EM is one byte shorter than the modulus: a leading zero */
		if (data[0] != 0)
			return 0;
		data++;
		len--;
	}
	for (size_t i = 0; i < sizeof mds / sizeof mds[0]; i++)
		if (keyproc_policy_is_pss(data, len, em_bits, mds[i]))
			return 1;
	return 0;
}

int
keyproc_policy_allows(const EVP_PKEY *key, uint8_t op, int padding, const uint8_t *data,
    size_t len, const char **why)
{
	int type = EVP_PKEY_get_base_id(key);

	*why = NULL;
	if (op == KEYPROC_ECDSA_SIGN && type == EVP_PKEY_EC) {
		if (keyproc_policy_digest_len(len))
			return 1;
		*why = "ECDSA input is not a SHA-256/384/512 digest";
	} else if (op == KEYPROC_RSA_PRIV_ENC && type == EVP_PKEY_RSA && padding == RSA_PKCS1_PADDING) {
		if (keyproc_policy_is_digestinfo(data, len))
			return 1;
		*why = "PKCS#1 v1.5 input is not a SHA-256/384/512 DigestInfo";
	} else if (op == KEYPROC_RSA_PRIV_ENC && type == EVP_PKEY_RSA && padding == RSA_NO_PADDING) {
		if (keyproc_policy_rsa_pss(key, data, len))
			return 1;
		*why = "unpadded RSA block is not a PSS encoding (raw RSA refused)";
	} else if (op == KEYPROC_RSA_PRIV_DEC) {
		*why = "RSA decryption refused";
	} else {
		*why = "operation, padding or key type not allowed";
	}
	return 0;
}

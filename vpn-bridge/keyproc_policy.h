/* keyproc_policy.h -- what the key process agrees to sign: only the blocks TLS 1.2/1.3 signatures are made of. */
#ifndef TIERGATE_BRIDGE_KEYPROC_POLICY_H
#define TIERGATE_BRIDGE_KEYPROC_POLICY_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* The operations a relay may ask of its key process (keyproc_req.op). */
enum keyproc_op { KEYPROC_ECDSA_SIGN = 1, KEYPROC_RSA_PRIV_ENC, KEYPROC_RSA_PRIV_DEC };

/*
 * The relay is assumed compromised: its requests must not turn the key process into an
 * RSA decryption oracle or a signer of arbitrary blocks. Allowed, and nothing else:
 *   ECDSA_SIGN on an EC key, of a SHA-256/384/512 digest (32, 48 or 64 bytes);
 *   RSA_PRIV_ENC with RSA_PKCS1_PADDING of a DigestInfo for SHA-256/384/512 (TLS 1.2 "RSA+SHA*");
 *   RSA_PRIV_ENC with RSA_NO_PADDING only of a block that is a well-formed EMSA-PSS
 *     encoding (RFC 8017 9.1.1) with MGF1 and a salt as long as the hash, SHA-256/384/512
 *     (TLS 1.3 and TLS 1.2 "rsa_pss_rsae_*": OpenSSL pads PSS itself before calling the key);
 * RSA_PRIV_DEC (RSA key exchange, a decryption oracle) is never allowed.
 * Returns 1 when allowed, 0 otherwise (why in *why, a static string).
 */
int keyproc_policy_allows(const EVP_PKEY *key, uint8_t op, int padding, const uint8_t *data,
    size_t len, const char **why);

#endif

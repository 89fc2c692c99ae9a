/* reltoken.c -- making and verifying request-link tokens (HMAC-SHA256, base64url, expiry). */
#include "sanitizer/reltoken.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static const char reltoken_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t
reltoken_b64_encode(const uint8_t *in, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
		    (i + 2 < len ? in[i + 2] : 0);
		out[o++] = reltoken_b64[v >> 18 & 63];
		out[o++] = reltoken_b64[v >> 12 & 63];
		if (i + 1 < len)
			out[o++] = reltoken_b64[v >> 6 & 63];
		if (i + 2 < len)
			out[o++] = reltoken_b64[v & 63];
	}
	out[o] = '\0';
	return o;
}

/* Strict: only the url alphabet, no padding, no leftover bits. Returns the length or -1. */
static long
reltoken_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		const char *p = memchr(reltoken_b64, in[i], 64);
		if (p == NULL || in[i] == '\0')
			return -1;
		acc = acc << 6 | (uint32_t)(p - reltoken_b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return acc != 0 ? -1 : (long)o;
}

static void
reltoken_mac(const uint8_t key[RELTOKEN_KEY_LEN], const char *qid, const char *rcpt, int64_t expiry,
    uint8_t mac[32])
{
	char msg[64 + RELTOKEN_RCPT_MAX + 64];
	unsigned mac_len = 32;
	int n = snprintf(msg, sizeof msg, "tiergate-release-v1%c%s%c%s%c%lld", 0, qid, 0, rcpt, 0,
	    (long long)expiry);

	HMAC(EVP_sha256(), key, RELTOKEN_KEY_LEN, (const uint8_t *)msg, (size_t)n, mac, &mac_len);
}

int
reltoken_make(const uint8_t key[RELTOKEN_KEY_LEN], const char *qid, const char *rcpt,
    int64_t expiry, char out[RELTOKEN_MAX])
{
	uint8_t mac[32];
	size_t n, rl = strlen(rcpt);

	if (rl == 0 || rl > RELTOKEN_RCPT_MAX || strlen(qid) != 64)
		return -1;
	reltoken_mac(key, qid, rcpt, expiry, mac);
	n = (size_t)snprintf(out, RELTOKEN_MAX, "%s.%lld.", qid, (long long)expiry);
	n += reltoken_b64_encode((const uint8_t *)rcpt, rl, out + n);
	out[n++] = '.';
	reltoken_b64_encode(mac, sizeof mac, out + n);
	return 0;
}

/* Splits the token into its four dot-separated parts. */
static int
reltoken_split(const char *token, const char *part[4], size_t plen[4])
{
	const char *p = token;

	for (int i = 0; i < 4; i++) {
		const char *dot = strchr(p, '.');
		if ((dot == NULL) != (i == 3))
			return -1;
		part[i] = p;
		plen[i] = dot ? (size_t)(dot - p) : strlen(p);
		p = dot ? dot + 1 : p;
	}
	return 0;
}

enum reltoken_result
reltoken_verify(const uint8_t key[RELTOKEN_KEY_LEN], const char *token, int64_t now,
    char qid[65], char rcpt[RELTOKEN_RCPT_MAX + 1], int64_t *expiry)
{
	const char *part[4];
	size_t plen[4];
	char num[24];
	uint8_t mac[32], want[32];
	long rl, exp;

	if (strlen(token) >= RELTOKEN_MAX || reltoken_split(token, part, plen) < 0)
		return RELTOKEN_MALFORMED;
	if (plen[0] != 64 || strspn(part[0], "0123456789abcdef") < 64 || plen[1] == 0 || plen[1] > 12 ||
	    strspn(part[1], "0123456789") < plen[1] || plen[3] != 43)
		return RELTOKEN_MALFORMED;
	memcpy(num, part[1], plen[1]);
	num[plen[1]] = '\0';
	rl = reltoken_b64_decode(part[2], plen[2], (uint8_t *)rcpt, RELTOKEN_RCPT_MAX);
	if (parse_long(num, 0, 999999999999L, &exp) < 0 || rl <= 0 || memchr(rcpt, '\0', (size_t)rl) ||
	    reltoken_b64_decode(part[3], plen[3], mac, sizeof mac) != 32)
		return RELTOKEN_MALFORMED;
	rcpt[rl] = '\0';
	memcpy(qid, part[0], 64);
	qid[64] = '\0';
	reltoken_mac(key, qid, rcpt, exp, want);
	if (CRYPTO_memcmp(mac, want, sizeof mac) != 0)
		return RELTOKEN_BAD_MAC;
	*expiry = exp;
	return exp < now ? RELTOKEN_EXPIRED : RELTOKEN_OK;
}

const char *
reltoken_result_text(enum reltoken_result r)
{
	switch (r) {
	case RELTOKEN_OK: return "valid";
	case RELTOKEN_MALFORMED: return "malformed token";
	case RELTOKEN_BAD_MAC: return "forged token (bad MAC)";
	case RELTOKEN_EXPIRED: return "expired token";
	}
	return "?";
}

int
reltoken_key_load(const char *path, uint8_t key[RELTOKEN_KEY_LEN])
{
	uint8_t *text = NULL;
	size_t len = 0;
	int rc = -1;

	if (file_read_all(path, 1024, &text, &len) < 0)
		return -1;
	if (len == RELTOKEN_KEY_LEN) {
		memcpy(key, text, RELTOKEN_KEY_LEN);
		rc = 0;
	} else if (len == 64 || (len == 65 && text[64] == '\n')) {
		rc = 0;
		for (size_t i = 0; i < RELTOKEN_KEY_LEN && rc == 0; i++) {
			unsigned v;
			char h[3] = { (char)text[2 * i], (char)text[2 * i + 1], 0 };
			if (strspn(h, "0123456789abcdefABCDEF") != 2 || sscanf(h, "%2x", &v) != 1)
				rc = -1;
			else
				key[i] = (uint8_t)v;
		}
	}
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

char *
reltoken_link(const uint8_t key[RELTOKEN_KEY_LEN], const char *base_url, const char *qid,
    const char *rcpt, int64_t expiry)
{
	char token[RELTOKEN_MAX];
	size_t n, bl = strlen(base_url);
	char *url;

	while (bl > 0 && base_url[bl - 1] == '/')
		bl--;
	if (reltoken_make(key, qid, rcpt, expiry, token) < 0)
		return NULL;
	n = bl + strlen(token) + 8;
	url = xmalloc(n);
	snprintf(url, n, "%.*s/r?t=%s", (int)bl, base_url, token);
	return url;
}

/* relticket.c -- making and verifying approver tickets (HMAC-SHA256 over name, expiry and portal session; hex). */
#include "sanitizer/relticket.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "lib/util.h"

static const char relticket_name_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.@";

static int
relticket_all(const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(set, s[i]) == NULL)
			return 0;
	return 1;
}

static int
relticket_form_ok(const char *name, const char *session)
{
	size_t nl = strlen(name);

	return nl > 0 && nl <= RELTICKET_NAME_MAX && relticket_all(name, nl, relticket_name_chars) &&
	    strlen(session) == RELTICKET_SESSION_LEN && relticket_all(session, RELTICKET_SESSION_LEN, "0123456789abcdef");
}

static void
relticket_mac(const uint8_t key[RELTICKET_KEY_LEN], const char *name, int64_t expiry, const char *session,
    uint8_t mac[32])
{
	char msg[32 + RELTICKET_NAME_MAX + 24 + RELTICKET_SESSION_LEN];
	unsigned mac_len = 32;
	int n = snprintf(msg, sizeof msg, "tiergate-approver-v1%c%s%c%lld%c%s", 0, name, 0, (long long)expiry, 0,
	    session);

	HMAC(EVP_sha256(), key, RELTICKET_KEY_LEN, (const uint8_t *)msg, (size_t)n, mac, &mac_len);
}

int
relticket_make(const uint8_t key[RELTICKET_KEY_LEN], const char *name, int64_t expiry,
    const char *session, char out[RELTICKET_MAX])
{
	uint8_t mac[32];
	size_t n;

	if (!relticket_form_ok(name, session) || expiry < 0)
		return -1;
	relticket_mac(key, name, expiry, session, mac);
	n = (size_t)snprintf(out, RELTICKET_MAX, "a1.%lld.", (long long)expiry);
	hex_encode((const uint8_t *)name, strlen(name), out + n);
	n += 2 * strlen(name);
	out[n++] = '.';
	hex_encode(mac, sizeof mac, out + n);
	return 0;
}

static int
relticket_hex_value(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Lower-case hex of len digits into out; -1 when a digit is not one. */
static int
relticket_unhex(const char *in, size_t len, uint8_t *out)
{
	for (size_t i = 0; i + 1 < len; i += 2) {
		int hi = relticket_hex_value(in[i]), lo = relticket_hex_value(in[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return len % 2 ? -1 : 0;
}

/* "a1." EXPIRY "." NAMEHEX "." MACHEX into its parts; -1 when the shape is wrong. */
static int
relticket_split(const char *t, int64_t *expiry, char name[RELTICKET_NAME_MAX + 1], uint8_t mac[32])
{
	const char *e, *n, *m;
	long long v = 0;

	if (strlen(t) >= RELTICKET_MAX || strncmp(t, "a1.", 3) != 0)
		return -1;
	e = t + 3;
	if ((n = strchr(e, '.')) == NULL || (m = strchr(n + 1, '.')) == NULL || strchr(m + 1, '.') != NULL)
		return -1;
	if (n == e || n - e > 12 || !relticket_all(e, (size_t)(n - e), "0123456789"))
		return -1;
	for (const char *p = e; p < n; p++)
		v = v * 10 + (*p - '0');
	n++;
	if (m - n < 2 || m - n > 2 * RELTICKET_NAME_MAX || strlen(m + 1) != 64)
		return -1;
	memset(name, 0, RELTICKET_NAME_MAX + 1);
	if (relticket_unhex(n, (size_t)(m - n), (uint8_t *)name) < 0 || relticket_unhex(m + 1, 64, mac) < 0 ||
	    2 * strlen(name) != (size_t)(m - n))   /* no NUL inside the name */
		return -1;
	*expiry = v;
	return 0;
}

enum relticket_result
relticket_verify(const uint8_t key[RELTICKET_KEY_LEN], const char *ticket, const char *session, int64_t now,
    char name[RELTICKET_NAME_MAX + 1])
{
	uint8_t mac[32], want[32];
	int64_t expiry;

	name[0] = '\0';
	if (relticket_split(ticket, &expiry, name, mac) < 0 || !relticket_form_ok(name, session)) {
		name[0] = '\0';
		return RELTICKET_MALFORMED;
	}
	relticket_mac(key, name, expiry, session, want);
	if (CRYPTO_memcmp(mac, want, sizeof want) != 0)
		return RELTICKET_BAD_MAC;
	return expiry <= now ? RELTICKET_EXPIRED : RELTICKET_OK;
}

int
relticket_expiry(const char *ticket, int64_t *expiry)
{
	char name[RELTICKET_NAME_MAX + 1];
	uint8_t mac[32];

	return relticket_split(ticket, expiry, name, mac);
}

const char *
relticket_result_text(enum relticket_result r)
{
	switch (r) {
	case RELTICKET_OK: return "ticket valid";
	case RELTICKET_MALFORMED: return "malformed approver ticket";
	case RELTICKET_BAD_MAC: return "forged approver ticket or not this session's (bad MAC)";
	case RELTICKET_EXPIRED: return "expired approver ticket: log in again";
	case RELTICKET_LOGGED_OUT: return "approver ticket ended by a logout: log in again";
	}
	return "bad approver ticket";
}

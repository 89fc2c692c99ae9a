/* relsock_proto.c -- parsing and checking one release-socket request line (the daemon's only parser of client bytes). */
#include "sanitizer/relsock_proto.h"

#include <stdbool.h>
#include <string.h>

enum field_kind { F_QID, F_REQ, F_PATH, F_TEXT, F_TOKEN, F_NAME, F_SECRET, F_OTP, F_ADDR, F_SESSION, F_TARGET };

struct verb_spec {
	const char *name;
	int min, max;
	enum field_kind kind[RELSOCK_FIELDS_MAX];
	bool portal;
};

static const struct verb_spec relsock_verbs[RELSOCK_VERB_COUNT] = {
	[RELSOCK_LIST] = { "LIST", 0, 0, { 0 }, false },
	[RELSOCK_SHOW] = { "SHOW", 1, 1, { F_QID }, false },
	[RELSOCK_RELEASE] = { "RELEASE", 1, 2, { F_QID, F_PATH }, false },
	[RELSOCK_APPROVE] = { "APPROVE", 1, 2, { F_REQ, F_TEXT }, false },
	[RELSOCK_REFUSE] = { "REFUSE", 2, 2, { F_REQ, F_TEXT }, false },
	[RELSOCK_REQUESTS] = { "REQUESTS", 0, 0, { 0 }, false },
	[RELSOCK_UNLOCK] = { "UNLOCK", 1, 1, { F_TARGET }, false },
	[RELSOCK_LOGOUT] = { "LOGOUT", 1, 1, { F_NAME }, false },
	[RELSOCK_INFO] = { "INFO", 1, 1, { F_TOKEN }, true },
	[RELSOCK_ASK] = { "ASK", 2, 2, { F_TOKEN, F_TEXT }, true },
	[RELSOCK_MINE] = { "MINE", 1, 1, { F_TOKEN }, true },
	[RELSOCK_PLOGIN] = { "PLOGIN", 5, 5, { F_NAME, F_SECRET, F_OTP, F_ADDR, F_SESSION }, true },
	[RELSOCK_PAPPROVE] = { "PAPPROVE", 3, 4, { F_TOKEN, F_SESSION, F_REQ, F_TEXT }, true },
	[RELSOCK_PREFUSE] = { "PREFUSE", 4, 4, { F_TOKEN, F_SESSION, F_REQ, F_TEXT }, true },
	[RELSOCK_STATUS] = { "STATUS", 2, 2, { F_TOKEN, F_SESSION }, true },
	[RELSOCK_PLOGOUT] = { "PLOGOUT", 2, 2, { F_TOKEN, F_SESSION }, true },
};

const char *
relsock_verb_name(enum relsock_verb verb)
{
	return (unsigned)verb < RELSOCK_VERB_COUNT ? relsock_verbs[verb].name : "?";
}

int
relsock_verb_is_portal(enum relsock_verb verb)
{
	return (unsigned)verb < RELSOCK_VERB_COUNT && relsock_verbs[verb].portal;
}

static bool
relsock_all(const char *s, size_t min, size_t max, const char *set)
{
	size_t n = strlen(s);

	return n >= min && n <= max && strspn(s, set) == n;
}

/* Length of the UTF-8 sequence at s (1-4), or 0 when invalid (overlong, surrogate, > U+10FFFF). */
static size_t
relsock_utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Free text: valid UTF-8, no control characters (C0, DEL, C1). */
static bool
relsock_text_ok(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	while (*p) {
		size_t l = relsock_utf8_len(p);
		if (l == 0 || (l == 1 && (*p < 0x20 || *p == 0x7f)) ||
		    (l == 2 && p[0] == 0xc2 && p[1] < 0xa0))
			return false;
		p += l;
	}
	return true;
}

static bool
relsock_field_ok(enum field_kind kind, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
	static const char name[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.@";

	switch (kind) {
	case F_QID: return relsock_all(s, 8, 64, hex);
	case F_REQ: return relsock_all(s, RELSOCK_REQID_LEN, RELSOCK_REQID_LEN, hex);
	case F_PATH: return relsock_text_ok(s, RELSOCK_PATH_MAX);
	case F_TEXT: return relsock_text_ok(s, RELSOCK_TEXT_MAX);
	case F_TOKEN: return relsock_all(s, 1, RELSOCK_TOKEN_MAX, b64url);
	case F_NAME: return relsock_all(s, 1, RELSOCK_NAME_MAX, name);
	case F_SECRET: return relsock_text_ok(s, RELSOCK_SECRET_MAX);
	case F_OTP: return relsock_all(s, 6, 10, "0123456789");
	case F_ADDR: return relsock_all(s, 1, 63, "0123456789abcdefABCDEF.:-");
	case F_SESSION: return relsock_all(s, RELSOCK_SESSION_LEN, RELSOCK_SESSION_LEN, hex);
	case F_TARGET: return relsock_all(s, 1, RELSOCK_NAME_MAX, name) || relsock_all(s, 1, 63, "0123456789abcdefABCDEF.:");
	}
	return false;
}

/* Splits the line at tabs; fields[0] is the verb. Returns the count, -1 for too many. */
static int
relsock_split(char *line, char **fields, int max)
{
	int n = 0;

	for (char *p = line;; ) {
		char *tab = strchr(p, '\t');
		if (n == max)
			return -1;
		fields[n++] = p;
		if (tab == NULL)
			return n;
		*tab = '\0';
		p = tab + 1;
	}
}

int
relsock_parse(char *buf, size_t len, struct relsock_req *req, const char **err)
{
	char *fields[RELSOCK_FIELDS_MAX + 1];
	const struct verb_spec *spec = NULL;
	int n;

	memset(req, 0, sizeof *req);
	if (len == 0 || len > RELSOCK_LINE_MAX || buf[len - 1] != '\n')
		return *err = "request must be one line of at most 4096 bytes", -1;
	if (memchr(buf, '\0', len) != NULL || memchr(buf, '\n', len - 1) != NULL)
		return *err = "NUL or newline inside the request", -1;
	buf[len - 1] = '\0';
	if ((n = relsock_split(buf, fields, RELSOCK_FIELDS_MAX + 1)) < 0)
		return *err = "too many fields", -1;
	for (int v = 0; v < RELSOCK_VERB_COUNT; v++)
		if (strcmp(fields[0], relsock_verbs[v].name) == 0)
			spec = &relsock_verbs[v], req->verb = (enum relsock_verb)v;
	if (spec == NULL)
		return *err = "unknown verb", -1;
	if (n - 1 < spec->min || n - 1 > spec->max)
		return *err = "wrong number of fields for the verb", -1;
	for (int i = 1; i < n; i++) {
		if (!relsock_field_ok(spec->kind[i - 1], fields[i]))
			return *err = "malformed field", -1;
		req->field[i - 1] = fields[i];
	}
	req->n_fields = n - 1;
	return 0;
}

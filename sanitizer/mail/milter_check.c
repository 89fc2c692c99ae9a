/* milter_check.c -- the daemon's own check of a rebuilt message from the (untrusted) parser: only the shape the rebuild emits passes, or nothing is delivered. */
#include "sanitizer/mail/milter_check.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct check {
	char *why;
	size_t why_size;
};

/* One line: [at, at+len) without its line end; next is where the following line starts. */
struct check_line {
	const char *at;
	size_t len, next;
};

static int __attribute__((format(printf, 2, 3)))
check_fail(struct check *c, const char *fmt, ...)
{
	va_list ap;

	if (c->why[0] == '\0') {   /* the first reason is the one that counts */
		va_start(ap, fmt);
		vsnprintf(c->why, c->why_size, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool
check_next_line(const char *s, size_t len, size_t from, struct check_line *l)
{
	const char *nl;

	if (from >= len)
		return false;
	nl = memchr(s + from, '\n', len - from);
	l->at = s + from;
	l->next = nl ? (size_t)(nl - s) + 1 : len;
	l->len = (nl ? (size_t)(nl - s) : len) - from;
	if (l->len > 0 && l->at[l->len - 1] == '\r')
		l->len--;
	return true;
}

static bool
check_line_is(const struct check_line *l, const char *text)
{
	return l->len == strlen(text) && memcmp(l->at, text, l->len) == 0;
}

/* Lengths, no NUL, no lone CR inside the line. */
static int
check_line_bytes(struct check *c, const struct check_line *l, const char *where)
{
	if (l->len > MILTER_CHECK_LINE_MAX)
		return check_fail(c, "%s: a line of %zu bytes (limit %d)", where, l->len,
		    MILTER_CHECK_LINE_MAX);
	for (size_t i = 0; i < l->len; i++)
		if (l->at[i] == '\0' || l->at[i] == '\r')
			return check_fail(c, "%s: NUL or bare CR in a line", where);
	return 0;
}

/* A header field name: printable ASCII without ':' (RFC 5322 ftext), then ':'. Returns its length. */
static size_t
check_field_name(const struct check_line *l)
{
	size_t n = 0;

	while (n < l->len && l->at[n] >= 33 && l->at[n] <= 126 && l->at[n] != ':')
		n++;
	return n > 0 && n < l->len && l->at[n] == ':' ? n : 0;
}

/* The unfolded value of one field (first line + continuations), trimmed, into out. */
static void
check_field_value(const char *s, size_t len, size_t from, size_t name_len, char *out, size_t size)
{
	struct check_line l;
	size_t n = 0;
	bool first = true;

	while (check_next_line(s, len, from, &l) && (first || (l.len && (l.at[0] == ' ' || l.at[0] == '\t')))) {
		size_t skip = first ? name_len + 1 : 0;
		for (size_t i = skip; i < l.len && n + 1 < size; i++)
			out[n++] = l.at[i];
		first = false;
		from = l.next;
	}
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	out[n] = '\0';
	memmove(out, out + strspn(out, " \t"), strlen(out + strspn(out, " \t")) + 1);
}

/* The boundary="..." of a multipart/mixed value; false when the value is anything else. */
static bool
check_boundary_param(const char *value, char *boundary, size_t size)
{
	static const char prefix[] = "multipart/mixed; boundary=\"";
	const char *b, *end;

	if (strncasecmp(value, prefix, sizeof prefix - 1) != 0)
		return false;
	b = value + sizeof prefix - 1;
	end = strchr(b, '"');
	if (end == NULL || end == b || (size_t)(end - b) >= size || end[1] != '\0')
		return false;
	for (const char *p = b; p < end; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '=' || *p == '_'))
			return false;
	memcpy(boundary, b, (size_t)(end - b));
	boundary[end - b] = '\0';
	return true;
}

static bool
check_b64_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	    ch == '+' || ch == '/' || ch == '=';
}

/* Content of a leaf: base64 lines only. */
static int
check_base64(struct check *c, const char *s, size_t from, size_t to, const char *where)
{
	struct check_line l;

	for (size_t at = from; check_next_line(s, to, at, &l); at = l.next) {
		if (check_line_bytes(c, &l, where) < 0)
			return -1;
		for (size_t i = 0; i < l.len; i++)
			if (!check_b64_char(l.at[i]))
				return check_fail(c, "%s: content that is not base64: \"%.40s\"", where, l.at);
	}
	return 0;
}

/* End of the header block that starts at from: the offset of the body (after the empty line). */
static size_t
check_head_end(const char *s, size_t len, size_t from)
{
	struct check_line l;

	for (size_t at = from; check_next_line(s, len, at, &l); at = l.next)
		if (l.len == 0)
			return l.next;
	return len;
}

static int check_message(struct check *c, const char *s, size_t len, size_t body_at, size_t n_added,
    unsigned depth);

static const char *const check_media[] = { "text/plain", "text/csv", "application/pdf", "image/png",
	"image/jpeg", "application/zip", "message/rfc822", NULL };

/* One field of a part's header: only the three the rebuild writes, only its types. */
static int
check_part_field(struct check *c, const char *s, size_t to, size_t at, const struct check_line *l,
    const char *where, bool *message, bool *seen_type)
{
	size_t name = check_field_name(l);
	char value[1024], media[64];

	if (name == 12 && strncasecmp(l->at, "Content-Type", 12) == 0) {
		check_field_value(s, to, at, name, value, sizeof value);
		snprintf(media, sizeof media, "%.*s", (int)strcspn(value, "; \t"), value);
		for (size_t i = 0; check_media[i]; i++)
			if (strcasecmp(media, check_media[i]) == 0) {
				*message = i == 6;
				*seen_type = true;
				return 0;
			}
		return check_fail(c, "%s: Content-Type %s is not one the rebuild emits", where, media);
	}
	if (name == 25 && strncasecmp(l->at, "Content-Transfer-Encoding", 25) == 0) {
		check_field_value(s, to, at, name, value, sizeof value);
		if (strcasecmp(value, "base64") != 0 && strcasecmp(value, "8bit") != 0)
			return check_fail(c, "%s: Content-Transfer-Encoding %.40s", where, value);
		return 0;
	}
	if (name == 19 && strncasecmp(l->at, "Content-Disposition", 19) == 0)
		return 0;
	return check_fail(c, "%s: header field \"%.*s\" the rebuild never writes", where,
	    (int)(name ? name : (l->len > 40 ? 40 : l->len)), l->at);
}

/* One part between two delimiters: [from, to). */
static int
check_part(struct check *c, const char *s, size_t from, size_t to, unsigned depth, unsigned index)
{
	struct check_line l;
	char where[64];
	bool message = false, seen_type = false;
	size_t body = check_head_end(s, to, from), at;

	snprintf(where, sizeof where, "part %u at depth %u", index, depth);
	for (at = from; at < body && check_next_line(s, to, at, &l) && l.len > 0; at = l.next) {
		if (check_line_bytes(c, &l, where) < 0)
			return -1;
		if (l.at[0] == ' ' || l.at[0] == '\t')
			continue;   /* a folded parameter (RFC 2231 name) */
		if (check_part_field(c, s, to, at, &l, where, &message, &seen_type) < 0)
			return -1;
	}
	if (!seen_type)
		return check_fail(c, "%s: no Content-Type", where);
	if (message) {
		size_t inner_body = check_head_end(s, to, body);
		return check_message(c, s + body, to - body, inner_body - body, 4, depth + 1);
	}
	return check_base64(c, s, body, to, where);
}

/* The preamble line the rebuild writes, or nothing. */
static bool
check_preamble(const struct check_line *l)
{
	return l->len == 0 || check_line_is(l, "This is a multi-part message in MIME format.");
}

static int
check_multipart(struct check *c, const char *s, size_t len, size_t body_at, const char *boundary,
    unsigned depth)
{
	char open[96], close[96];
	struct check_line l;
	size_t part_from = 0, at;
	unsigned parts = 0;
	bool in_part = false, closed = false;

	snprintf(open, sizeof open, "--%s", boundary);
	snprintf(close, sizeof close, "--%s--", boundary);
	for (at = body_at; check_next_line(s, len, at, &l); at = l.next) {
		bool is_open = check_line_is(&l, open), is_close = check_line_is(&l, close);
		if (closed) {
			if (l.len != 0)
				return check_fail(c, "depth %u: text after the closing boundary", depth);
			continue;
		}
		if (is_open || is_close) {
			if (in_part && check_part(c, s, part_from, at, depth, parts) < 0)
				return -1;
			in_part = is_open;
			closed = is_close;
			part_from = l.next;
			parts += is_open;
			continue;
		}
		if (!in_part && !check_preamble(&l))
			return check_fail(c, "depth %u: text before the first boundary", depth);
	}
	if (!closed)
		return check_fail(c, "depth %u: the closing boundary --%s-- is missing", depth, boundary);
	if (parts == 0)
		return check_fail(c, "depth %u: a multipart without parts", depth);
	return 0;
}

/* The fields the rebuild adds, in its order, and what their values may be. */
static int
check_added(struct check *c, const char *s, size_t len, const size_t *starts, unsigned depth,
    char *boundary, size_t boundary_size)
{
	static const char *const names[4] = { "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
		"X-Tiergate-Sanitized" };
	char value[1024];
	bool multipart = false;

	for (int i = 0; i < 4; i++) {
		struct check_line l;
		size_t name;
		check_next_line(s, len, starts[i], &l);
		name = check_field_name(&l);
		if (name != strlen(names[i]) || strncasecmp(l.at, names[i], name) != 0)
			return check_fail(c, "depth %u: added header %d is \"%.*s\", not %s", depth, i + 1,
			    (int)(l.len > 40 ? 40 : l.len), l.at, names[i]);
		check_field_value(s, len, starts[i], name, value, sizeof value);
		if (i == 0 && strcmp(value, "1.0") != 0)
			return check_fail(c, "depth %u: MIME-Version %.20s", depth, value);
		if (i == 1) {
			multipart = check_boundary_param(value, boundary, boundary_size);
			if (!multipart && strcmp(value, "text/plain; charset=UTF-8") != 0)
				return check_fail(c, "depth %u: top Content-Type \"%.60s\" is not one the rebuild "
				    "emits", depth, value);
		}
		if (i == 2 && strcmp(value, multipart ? "7bit" : "base64") != 0)
			return check_fail(c, "depth %u: Content-Transfer-Encoding %.20s", depth, value);
		if (i == 3 && strncmp(value, "sanitized", 9) != 0 && strncmp(value, "quarantined", 11) != 0)
			return check_fail(c, "depth %u: X-Tiergate-Sanitized \"%.40s\"", depth, value);
	}
	if (!multipart)
		boundary[0] = '\0';
	return 0;
}

/* Header block [0, body_at): fields, line lengths; the last n_added are the rebuild's own. */
static int
check_message(struct check *c, const char *s, size_t len, size_t body_at, size_t n_added,
    unsigned depth)
{
	size_t starts[4] = { 0 }, n = 0, at;
	struct check_line l;
	char boundary[80], where[32];

	if (depth > MILTER_CHECK_DEPTH_MAX)
		return check_fail(c, "attached messages nested deeper than %d", MILTER_CHECK_DEPTH_MAX);
	if (n_added != 4)
		return check_fail(c, "%zu added header fields, the rebuild adds 4", n_added);
	snprintf(where, sizeof where, "header at depth %u", depth);
	for (at = 0; at < body_at && check_next_line(s, body_at, at, &l) && l.len > 0; at = l.next) {
		if (l.at[0] == ' ' || l.at[0] == '\t') {
			if (n == 0)
				return check_fail(c, "%s: a continuation line before any field", where);
		} else if (check_field_name(&l) == 0) {
			return check_fail(c, "%s: not a header field: \"%.40s\"", where, l.at);
		} else {
			starts[n++ % 4] = at;
		}
		/* the kept fields at the top are the original's, never sent back: only the new ones count */
		if (depth > 0 && check_line_bytes(c, &l, where) < 0)
			return -1;
	}
	if (n < 4)
		return check_fail(c, "%s: %zu header fields, fewer than the 4 the rebuild adds", where, n);
	{
		size_t ordered[4];
		for (size_t i = 0; i < 4; i++)
			ordered[i] = starts[(n - 4 + i) % 4];
		for (size_t i = 0; i < 4; i++)   /* each new field, continuation lines included */
			for (size_t a = ordered[i]; a < body_at && check_next_line(s, body_at, a, &l) &&
			    (a == ordered[i] || (l.len && (l.at[0] == ' ' || l.at[0] == '\t'))); a = l.next)
				if (check_line_bytes(c, &l, where) < 0)
					return -1;
		if (check_added(c, s, body_at, ordered, depth, boundary, sizeof boundary) < 0)
			return -1;
	}
	if (boundary[0] == '\0')
		return check_base64(c, s, body_at, len, depth ? "nested text body" : "text body");
	return check_multipart(c, s, len, body_at, boundary, depth);
}

int
milter_check_rebuilt(const char *msg, size_t len, size_t body_at, size_t n_added, char *why,
    size_t why_size)
{
	struct check c = { why, why_size };

	why[0] = '\0';
	if (msg == NULL || body_at > len || body_at < 2 || msg[body_at - 1] != '\n')
		return check_fail(&c, "the body does not start after an empty line");
	if (memchr(msg, '\0', len) != NULL)
		return check_fail(&c, "a NUL byte in the message");
	return check_message(&c, msg, len, body_at, n_added, 0);
}

/* wire.c -- the worker's result over its pipe: tagged, length-prefixed records, every length bounded on read. */
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "sanitizer/internal.h"

/*
 * Stream: "TGW1", then records { u8 tag, u32 length (little endian), bytes }.
 * A member of an archive is MEMBER_BEGIN, its records, MEMBER_END. The
 * stream ends with END; anything after END, a record longer than its bound
 * or a stream without END is refused (the parent then blocks the file).
 */
enum wire_tag {
	W_ACTION = 1, W_DETECTED, W_DECLARED, W_NAME, W_REASON, W_FINDING, W_ENCRYPTED,
	W_PAGES, W_OUT, W_OUT_NAME, W_OUT_MIME, W_USEC, W_MEMBER_BEGIN, W_MEMBER_END, W_END,
};

#define WIRE_MAGIC "TGW1"
#define WIRE_MAX_STRING 4096
#define WIRE_MAX_DEPTH 32

static int
wbuf_put(struct wbuf *w, const void *p, size_t n)
{
	if (w->len + n > w->cap) {
		size_t want = w->cap ? w->cap : 4096;
		uint8_t *grown;
		while (want < w->len + n)
			want *= 2;
		grown = realloc(w->p, want);
		if (grown == NULL)
			return -1;
		w->p = grown;
		w->cap = want;
	}
	if (n)   /* an empty record has no payload pointer */
		memcpy(w->p + w->len, p, n);
	w->len += n;
	return 0;
}

static int
wire_rec(struct wbuf *w, enum wire_tag tag, const void *p, size_t n)
{
	uint8_t hdr[5] = { (uint8_t)tag, (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16),
		(uint8_t)(n >> 24) };

	if (n > UINT32_MAX)
		return -1;
	return wbuf_put(w, hdr, 5) < 0 || wbuf_put(w, p, n) < 0 ? -1 : 0;
}

static int
wire_str(struct wbuf *w, enum wire_tag tag, const char *s)
{
	return s ? wire_rec(w, tag, s, strnlen(s, WIRE_MAX_STRING - 1)) : 0;
}

static int
wire_u64(struct wbuf *w, enum wire_tag tag, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return wire_rec(w, tag, b, 8);
}

static int
wire_encode_one(const struct san_result *r, struct wbuf *w)
{
	uint8_t action = (uint8_t)r->action, enc = r->encrypted;
	int rc = 0;

	rc |= wire_rec(w, W_ACTION, &action, 1);
	rc |= wire_str(w, W_NAME, r->name);
	rc |= wire_str(w, W_DETECTED, r->detected_mime);
	rc |= wire_str(w, W_DECLARED, r->declared_mime);
	rc |= wire_str(w, W_REASON, r->reason);
	for (size_t i = 0; i < r->n_findings; i++)
		rc |= wire_str(w, W_FINDING, r->findings[i]);
	rc |= wire_rec(w, W_ENCRYPTED, &enc, 1);
	rc |= wire_u64(w, W_PAGES, r->pages);
	rc |= wire_u64(w, W_USEC, r->usec_worker);
	if (r->out)
		rc |= wire_rec(w, W_OUT, r->out, r->out_len);
	rc |= wire_str(w, W_OUT_NAME, r->out_name);
	rc |= wire_str(w, W_OUT_MIME, r->out_mime);
	for (size_t i = 0; i < r->n_members; i++) {
		rc |= wire_rec(w, W_MEMBER_BEGIN, NULL, 0);
		rc |= wire_encode_one(&r->members[i], w);
		rc |= wire_rec(w, W_MEMBER_END, NULL, 0);
	}
	return rc ? -1 : 0;
}

int
wire_encode(const struct san_result *res, struct wbuf *out)
{
	if (wbuf_put(out, WIRE_MAGIC, 4) < 0 || wire_encode_one(res, out) < 0)
		return -1;
	return wire_rec(out, W_END, NULL, 0);
}

/* Reading: a cursor over the received bytes. */
struct wire_rd {
	const uint8_t *p;
	size_t len, pos;
	const struct san_config *cfg;
	size_t members_total;
};

static int
wire_next(struct wire_rd *rd, uint8_t *tag, const uint8_t **data, size_t *n)
{
	const uint8_t *h = rd->p + rd->pos;

	if (rd->len - rd->pos < 5)
		return -1;
	*tag = h[0];
	*n = (size_t)h[1] | (size_t)h[2] << 8 | (size_t)h[3] << 16 | (size_t)h[4] << 24;
	if (*n > rd->len - rd->pos - 5)
		return -1;
	*data = h + 5;
	rd->pos += 5 + *n;
	return 0;
}

static int
wire_take_str(char **field, const uint8_t *data, size_t n)
{
	if (n >= WIRE_MAX_STRING || memchr(data, '\0', n) != NULL)
		return -1;
	free(*field);
	*field = xmalloc(n + 1);
	memcpy(*field, data, n);
	(*field)[n] = '\0';
	return 0;
}

static uint64_t
wire_get_u64(const uint8_t *data)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | data[i];
	return v;
}

static int wire_decode_one(struct wire_rd *rd, struct san_result *r, int depth, enum wire_tag end);

static int
wire_member(struct wire_rd *rd, struct san_result *r, int depth)
{
	struct san_result *m;

	if (depth >= WIRE_MAX_DEPTH || ++rd->members_total > rd->cfg->archive_max_members * 4 + 16)
		return -1;
	r->members = xrealloc(r->members, r->n_members + 1, sizeof *r->members);
	m = &r->members[r->n_members++];
	memset(m, 0, sizeof *m);
	return wire_decode_one(rd, m, depth + 1, W_MEMBER_END);
}

static int
wire_field(struct wire_rd *rd, struct san_result *r, uint8_t tag, const uint8_t *data, size_t n, int depth)
{
	switch (tag) {
	case W_ACTION:
		if (n != 1 || data[0] > SAN_BLOCKED)
			return -1;
		r->action = (enum san_action)data[0];
		return 0;
	case W_NAME: return wire_take_str(&r->name, data, n);
	case W_DETECTED: return wire_take_str(&r->detected_mime, data, n);
	case W_DECLARED: return wire_take_str(&r->declared_mime, data, n);
	case W_REASON: return wire_take_str(&r->reason, data, n);
	case W_OUT_NAME: return wire_take_str(&r->out_name, data, n);
	case W_OUT_MIME: return wire_take_str(&r->out_mime, data, n);
	case W_FINDING:
		if (r->n_findings >= 256)
			return -1;
		r->findings = xrealloc(r->findings, r->n_findings + 1, sizeof *r->findings);
		r->findings[r->n_findings] = NULL;
		return wire_take_str(&r->findings[r->n_findings++], data, n);
	case W_ENCRYPTED:
		if (n != 1)
			return -1;
		r->encrypted = data[0] != 0;
		return 0;
	case W_PAGES:
	case W_USEC:
		if (n != 8)
			return -1;
		if (tag == W_PAGES)
			r->pages = (unsigned)wire_get_u64(data);
		else
			r->usec_worker = wire_get_u64(data);
		return 0;
	case W_OUT:
		if (r->out || n > rd->cfg->max_output_bytes)
			return -1;
		r->out = xmalloc(n ? n : 1);
		memcpy(r->out, data, n);
		r->out_len = n;
		return 0;
	case W_MEMBER_BEGIN:
		return n == 0 ? wire_member(rd, r, depth) : -1;
	default:
		return -1;
	}
}

static int
wire_decode_one(struct wire_rd *rd, struct san_result *r, int depth, enum wire_tag end)
{
	uint8_t tag;
	const uint8_t *data;
	size_t n;

	for (;;) {
		if (wire_next(rd, &tag, &data, &n) < 0)
			return -1;
		if (tag == end)
			return n == 0 ? 0 : -1;
		if (wire_field(rd, r, tag, data, n, depth) < 0)
			return -1;
	}
}

int
wire_decode(const uint8_t *p, size_t len, const struct san_config *cfg, struct san_result *res)
{
	struct wire_rd rd = { p, len, 4, cfg, 0 };

	memset(res, 0, sizeof *res);
	if (len < 4 || memcmp(p, WIRE_MAGIC, 4) != 0)
		return -1;
	if (wire_decode_one(&rd, res, 0, W_END) < 0 || rd.pos != len) {
		san_result_free(res);
		return -1;
	}
	return 0;
}

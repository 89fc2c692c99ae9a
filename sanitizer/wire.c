/* wire.c -- the worker's result over its pipe: tagged, length-prefixed records, every length bounded on read. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "sanitizer/internal.h"

/*
 * Stream: "TGW2", then records { u8 tag, u32 length (little endian), bytes }.
 * A member of an archive is MEMBER_BEGIN, its records, MEMBER_END. The
 * stream ends with END; anything after END, a record longer than its bound
 * or a stream without END is refused (the parent then blocks the file).
 *
 * What a worker can say is metadata (verdict, findings: short strings),
 * UTF-8 text (TEXT), and pages (PAGE: a fixed record pointing into the
 * pixel memfd, announced once by PIXELS and passed with SCM_RIGHTS). There
 * is no record for a file, a file name or a MIME type: the tags an older
 * worker used for them (OUT, OUT_NAME, OUT_MIME) are refused by name.
 */
enum wire_tag {
	W_ACTION = 1, W_DETECTED, W_DECLARED, W_NAME, W_REASON, W_FINDING, W_ENCRYPTED,
	W_PAGES, W_OUT, W_OUT_NAME, W_OUT_MIME, W_USEC, W_MEMBER_BEGIN, W_MEMBER_END, W_END,
	W_PAYLOAD, W_TEXT, W_PAGE, W_MTIME, W_PIXELS,
};

#define WIRE_MAGIC "TGW2"
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
wire_page(struct wbuf *w, const struct san_pixels *px)
{
	uint8_t b[SAN_PIXELS_RECORD];

	arena_put_pixels(b, px);
	return wire_rec(w, W_PAGE, b, sizeof b);
}

static int
wire_encode_one(const struct san_result *r, struct wbuf *w)
{
	uint8_t action = (uint8_t)r->action, enc = r->encrypted, payload = r->payload;
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
	rc |= wire_rec(w, W_PAYLOAD, &payload, 1);
	if (r->mtime)
		rc |= wire_u64(w, W_MTIME, (uint64_t)r->mtime);
	if (r->payload == SAN_PAY_TEXT || r->payload == SAN_PAY_CSV)
		rc |= wire_rec(w, W_TEXT, r->out, r->out_len);
	for (size_t i = 0; i < r->n_px; i++)
		rc |= wire_page(w, &r->px[i]);
	for (size_t i = 0; i < r->n_members; i++) {
		rc |= wire_rec(w, W_MEMBER_BEGIN, NULL, 0);
		rc |= wire_encode_one(&r->members[i], w);
		rc |= wire_rec(w, W_MEMBER_END, NULL, 0);
	}
	return rc ? -1 : 0;
}

int
wire_encode(const struct san_result *res, bool magic, struct wbuf *out)
{
	if (magic && wbuf_put(out, WIRE_MAGIC, 4) < 0)
		return -1;
	if (wire_encode_one(res, out) < 0)
		return -1;
	return wire_rec(out, W_END, NULL, 0);
}

/* PIXELS: batch number (u32), then the page descriptions of that memfd. */
int
wire_encode_pixels(uint32_t batch, const uint8_t *desc, size_t n, struct wbuf *out)
{
	uint8_t hdr[5 + 4] = { W_PIXELS };
	size_t len = 4 + n * SAN_PIXELS_RECORD;

	if (len > UINT32_MAX)
		return -1;
	for (int i = 0; i < 4; i++) {
		hdr[1 + i] = (uint8_t)(len >> (8 * i));
		hdr[5 + i] = (uint8_t)(batch >> (8 * i));
	}
	return wbuf_put(out, hdr, sizeof hdr) < 0 || wbuf_put(out, desc, n * SAN_PIXELS_RECORD) < 0 ? -1 : 0;
}

int
wire_next_pixels(const uint8_t *p, size_t len, size_t *pos, uint32_t *batch, const uint8_t **desc, size_t *n)
{
	size_t at = *pos, rec;

	if (len - at < 5 || p[at] != W_PIXELS)
		return 0;
	rec = (size_t)p[at + 1] | (size_t)p[at + 2] << 8 | (size_t)p[at + 3] << 16 | (size_t)p[at + 4] << 24;
	if (rec < 4 || (rec - 4) % SAN_PIXELS_RECORD != 0 || rec > (64u << 20))
		return -1;
	if (len - at - 5 < rec)
		return 0;   /* not all here yet */
	*batch = (uint32_t)p[at + 5] | (uint32_t)p[at + 6] << 8 | (uint32_t)p[at + 7] << 16 | (uint32_t)p[at + 8] << 24;
	*desc = p + at + 9;
	*n = (rec - 4) / SAN_PIXELS_RECORD;
	*pos = at + 5 + rec;
	return 1;
}

/* Reading: a cursor over the received bytes. */
struct wire_rd {
	const uint8_t *p;
	size_t len, pos;
	const struct san_config *cfg;
	size_t members_total, pages_total;
	char *why;
	size_t why_size;
};

/* Records why the stream is refused (the first reason stays); always -1. */
static int __attribute__((format(printf, 2, 3)))
wire_refuse(struct wire_rd *rd, const char *fmt, ...)
{
	va_list ap;

	if (rd->why[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(rd->why, rd->why_size, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
wire_next(struct wire_rd *rd, uint8_t *tag, const uint8_t **data, size_t *n)
{
	const uint8_t *h = rd->p + rd->pos;

	if (rd->len - rd->pos < 5)
		return wire_refuse(rd, "answer truncated (no end record)");
	*tag = h[0];
	*n = (size_t)h[1] | (size_t)h[2] << 8 | (size_t)h[3] << 16 | (size_t)h[4] << 24;
	if (*n > rd->len - rd->pos - 5)
		return wire_refuse(rd, "record longer than the answer");
	*data = h + 5;
	rd->pos += 5 + *n;
	return 0;
}

static int
wire_take_str(struct wire_rd *rd, char **field, const uint8_t *data, size_t n)
{
	if (n >= WIRE_MAX_STRING || memchr(data, '\0', n) != NULL)
		return wire_refuse(rd, "string record too long or with a NUL byte");
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
		return wire_refuse(rd, "too many or too deeply nested members");
	r->members = xrealloc(r->members, r->n_members + 1, sizeof *r->members);
	m = &r->members[r->n_members++];
	memset(m, 0, sizeof *m);
	return wire_decode_one(rd, m, depth + 1, W_MEMBER_END);
}

/* A PAGE record: only its form here (reserved bytes, bounded counts); sizes are build.c's to judge. */
static int
wire_take_page(struct wire_rd *rd, struct san_result *r, const uint8_t *data, size_t n)
{
	struct san_pixels px;

	if (n != SAN_PIXELS_RECORD || arena_get_pixels(data, &px) < 0)
		return wire_refuse(rd, "malformed page record");
	if (++rd->pages_total > (size_t)rd->cfg->max_pages * 4 + 16)
		return wire_refuse(rd, "more page records than the page limit allows");
	r->px = xrealloc(r->px, r->n_px + 1, sizeof *r->px);
	r->px[r->n_px++] = px;
	return 0;
}

static int
wire_take_text(struct wire_rd *rd, struct san_result *r, const uint8_t *data, size_t n)
{
	if (r->out || n > rd->cfg->max_text_bytes)
		return wire_refuse(rd, "text record repeated or over the text limit");
	r->out = xmalloc(n + 1);
	memcpy(r->out, data, n);
	r->out[n] = '\0';
	r->out_len = n;
	return 0;
}

static int
wire_take_byte(struct wire_rd *rd, const uint8_t *data, size_t n, unsigned max, unsigned *v)
{
	if (n != 1 || data[0] > max)
		return wire_refuse(rd, "malformed verdict record");
	*v = data[0];
	return 0;
}

static int
wire_take_u64(struct wire_rd *rd, const uint8_t *data, size_t n, uint64_t *v)
{
	if (n != 8)
		return wire_refuse(rd, "malformed number record");
	*v = wire_get_u64(data);
	return 0;
}

static int
wire_field(struct wire_rd *rd, struct san_result *r, uint8_t tag, const uint8_t *data, size_t n, int depth)
{
	unsigned v = 0;
	uint64_t u = 0;
	int rc;

	switch (tag) {
	case W_ACTION:
		rc = wire_take_byte(rd, data, n, SAN_BLOCKED, &v);
		r->action = (enum san_action)v;
		return rc;
	case W_PAYLOAD:
		rc = wire_take_byte(rd, data, n, SAN_PAY_ARCHIVE, &v);
		r->payload = (unsigned char)v;
		return rc;
	case W_ENCRYPTED:
		rc = wire_take_byte(rd, data, n, 1, &v);
		r->encrypted = v != 0;
		return rc;
	case W_NAME: return wire_take_str(rd, &r->name, data, n);
	case W_DETECTED: return wire_take_str(rd, &r->detected_mime, data, n);
	case W_DECLARED: return wire_take_str(rd, &r->declared_mime, data, n);
	case W_REASON: return wire_take_str(rd, &r->reason, data, n);
	case W_FINDING:
		if (r->n_findings >= 256)
			return wire_refuse(rd, "more than 256 findings");
		r->findings = xrealloc(r->findings, r->n_findings + 1, sizeof *r->findings);
		r->findings[r->n_findings] = NULL;
		return wire_take_str(rd, &r->findings[r->n_findings++], data, n);
	case W_PAGES:
		rc = wire_take_u64(rd, data, n, &u);
		r->pages = u > UINT32_MAX ? UINT32_MAX : (unsigned)u;
		return rc;
	case W_USEC: return wire_take_u64(rd, data, n, &r->usec_worker);
	case W_MTIME:
		rc = wire_take_u64(rd, data, n, &u);
		r->mtime = (int64_t)u;
		return rc;
	case W_TEXT: return wire_take_text(rd, r, data, n);
	case W_PAGE: return wire_take_page(rd, r, data, n);
	case W_MEMBER_BEGIN:
		return n == 0 ? wire_member(rd, r, depth) : wire_refuse(rd, "malformed member record");
	case W_OUT: case W_OUT_NAME: case W_OUT_MIME:
		return wire_refuse(rd, "worker sent an output %s (only pixels and text are accepted)",
		    tag == W_OUT ? "file" : tag == W_OUT_NAME ? "name" : "type");
	case W_PIXELS:
		return wire_refuse(rd, "pixel batch inside a result");
	default:
		return wire_refuse(rd, "unknown record tag %u", tag);
	}
}

static int
wire_decode_one(struct wire_rd *rd, struct san_result *r, int depth, enum wire_tag end)
{
	uint8_t tag = 0;
	const uint8_t *data = NULL;
	size_t n = 0;

	for (;;) {
		if (wire_next(rd, &tag, &data, &n) < 0)
			return -1;
		if (tag == end)
			return n == 0 ? 0 : wire_refuse(rd, "malformed end record");
		if (wire_field(rd, r, tag, data, n, depth) < 0)
			return -1;
	}
}

int
wire_decode(const uint8_t *p, size_t len, const struct san_config *cfg, struct san_result *res,
    uint32_t *batches, char *why, size_t why_size)
{
	struct wire_rd rd = { p, len, 4, cfg, 0, 0, why, why_size };
	uint32_t batch = 0;
	const uint8_t *desc = NULL;
	size_t n = 0;
	int got;

	memset(res, 0, sizeof *res);
	*batches = 0;
	why[0] = '\0';
	if (len < 4 || memcmp(p, WIRE_MAGIC, 4) != 0)
		return wire_refuse(&rd, "answer without the TGW2 header");
	/* the pixel batches come first, numbered in order, outside any result */
	while ((got = wire_next_pixels(p, len, &rd.pos, &batch, &desc, &n)) == 1)
		if (batch != (*batches)++)
			return wire_refuse(&rd, "pixel batch %u out of order", batch);
	if (got < 0)
		return wire_refuse(&rd, "malformed pixel record");
	if (wire_decode_one(&rd, res, 0, W_END) < 0 || rd.pos != len) {
		if (rd.pos != len)
			wire_refuse(&rd, "records after the end of the answer");
		san_result_free(res);
		return -1;
	}
	return 0;
}

/* tarread.c -- strict, bounded readers for tar (ustar, GNU, pax) and gzip: structure only, no policy. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/util.h"
#include "sanitizer/internal.h"

#define TAR_BLOCK 512
#define TAR_PATH_MAX 4096        /* a longer GNU long name or pax path refuses the archive */
#define TAR_PAX_MAX (1u << 20)   /* one pax extended header's records */

/* What extended headers ('x', 'L', 'K') say about the next entry. */
struct tar_pending {
	char *path, *link;        /* pax path / GNU long name; pax linkpath / GNU long link */
	bool has_size, has_mtime, sparse, any;
	uint64_t size;
	int64_t mtime;
};

struct tar_rd {
	const uint8_t *p;
	size_t len, pos;
	size_t max_entries;
	struct tar_pending pd;
	struct tar_list *out;
	char *why;
	size_t why_size;
};

static int __attribute__((format(printf, 2, 3)))
tar_fail(struct tar_rd *rd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rd->why, rd->why_size, fmt, ap);
	va_end(ap);
	return -1;
}

static void
tar_pending_clear(struct tar_pending *pd)
{
	free(pd->path);
	free(pd->link);
	memset(pd, 0, sizeof *pd);
}

static bool
tar_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * A numeric header field: octal digits after optional spaces, ended by the
 * field's end, a NUL or a space (as GNU tar reads them), or GNU base-256
 * (first byte 0x80). Negative base-256 values are refused.
 */
static int
tar_number(const uint8_t *f, size_t w, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] != 0x80)
			return -1;
		for (i = 1; i < w; i++) {
			if (v >> 55)
				return -1;
			v = v << 8 | f[i];
		}
		*out = v;
		return 0;
	}
	while (i < w && f[i] == ' ')
		i++;
	for (; i < w && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = v * 8 + (uint64_t)(f[i] - '0');
	}
	if (i < w && f[i] != '\0' && f[i] != ' ')
		return -1;
	*out = v;
	return 0;
}

/* The header checksum counts its own field as spaces; old tars summed signed bytes. */
static bool
tar_checksum_ok(const uint8_t *h)
{
	uint64_t want;
	long sum_u = 0, sum_s = 0;

	if (tar_number(h + 148, 8, &want) < 0)
		return false;
	for (int i = 0; i < TAR_BLOCK; i++) {
		uint8_t b = i >= 148 && i < 156 ? ' ' : h[i];
		sum_u += b;
		sum_s += (signed char)b;
	}
	return (uint64_t)sum_u == want || (sum_s >= 0 && (uint64_t)sum_s == want);
}

static bool
tar_posix(const uint8_t *h)
{
	return memcmp(h + 257, "ustar\0", 6) == 0;
}

static bool
tar_gnu(const uint8_t *h)
{
	return memcmp(h + 257, "ustar  \0", 8) == 0;
}

bool
tarread_is_tar(const uint8_t *data, size_t len)
{
	if (len < TAR_BLOCK || tar_zero(data, TAR_BLOCK))
		return false;
	if (tar_posix(data) || tar_gnu(data))
		return true;
	return tar_zero(data + 257, 8) && tar_checksum_ok(data);   /* v7: no magic, a valid checksum */
}

/* A header string field: up to w bytes, NUL-terminated only when shorter. */
static char *
tar_field(const uint8_t *f, size_t w)
{
	size_t n = strnlen((const char *)f, w);
	char *s = xmalloc(n + 1);

	memcpy(s, f, n);
	s[n] = '\0';
	return s;
}

static int
tar_decimal(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* pax mtime: [-]seconds[.fraction]; the fraction is dropped. */
static int
tar_pax_time(const char *s, size_t n, int64_t *out)
{
	bool neg = n && s[0] == '-';
	const char *dot = memchr(s, '.', n);
	size_t int_len = (dot ? (size_t)(dot - s) : n) - neg;
	uint64_t v;

	if (tar_decimal(s + neg, int_len, &v) < 0 || v > INT64_MAX)
		return -1;
	for (const char *f = dot ? dot + 1 : s + n; f < s + n; f++)
		if (*f < '0' || *f > '9')
			return -1;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

static int
tar_pax_string(struct tar_rd *rd, const char *key, const char *v, size_t n, char **field)
{
	if (n > TAR_PATH_MAX || memchr(v, '\0', n))
		return tar_fail(rd, "pax %s at offset %zu is too long or holds a NUL byte", key, rd->pos);
	free(*field);
	*field = xmalloc(n + 1);
	memcpy(*field, v, n);
	(*field)[n] = '\0';
	return 0;
}

/* One record's key=value (global headers are checked, not applied). */
static int
tar_pax_key(struct tar_rd *rd, const char *k, size_t klen, const char *v, size_t vlen, bool global)
{
	struct tar_pending *pd = &rd->pd;

#define KEY(s) (klen == sizeof(s) - 1 && memcmp(k, s, klen) == 0)
	if (klen >= 11 && memcmp(k, "GNU.sparse.", 11) == 0)
		pd->sparse = true;
	if (global)
		return 0;
	if (KEY("path"))
		return tar_pax_string(rd, "path", v, vlen, &pd->path);
	if (KEY("linkpath"))
		return tar_pax_string(rd, "linkpath", v, vlen, &pd->link);
	if (KEY("size")) {
		if (tar_decimal(v, vlen, &pd->size) < 0)
			return tar_fail(rd, "bad pax size at offset %zu", rd->pos);
		pd->has_size = true;
	} else if (KEY("mtime")) {
		if (tar_pax_time(v, vlen, &pd->mtime) < 0)
			return tar_fail(rd, "bad pax mtime at offset %zu", rd->pos);
		pd->has_mtime = true;
	}
#undef KEY
	return 0;
}

/* Records "LEN key=value\n", LEN counting the whole record; nothing else may be there. */
static int
tar_pax(struct tar_rd *rd, const uint8_t *p, size_t n, bool global)
{
	size_t pos = 0;

	while (pos < n) {
		const char *rec = (const char *)p + pos, *eq;
		size_t i = 0, reclen = 0;
		while (pos + i < n && rec[i] >= '0' && rec[i] <= '9' && i < 8)
			reclen = reclen * 10 + (size_t)(rec[i++] - '0');
		if (i == 0 || pos + i >= n || rec[i] != ' ' || reclen < i + 3 || reclen > n - pos ||
		    rec[reclen - 1] != '\n')
			return tar_fail(rd, "bad pax record at offset %zu", rd->pos);
		eq = memchr(rec + i + 1, '=', reclen - i - 2);
		if (eq == NULL || eq == rec + i + 1)
			return tar_fail(rd, "bad pax record at offset %zu", rd->pos);
		if (tar_pax_key(rd, rec + i + 1, (size_t)(eq - rec - i - 1), eq + 1,
		    (size_t)(rec + reclen - 1 - eq - 1), global) < 0)
			return -1;
		pos += reclen;
	}
	return 0;
}

/* GNU 'L'/'K': the data is the name, NUL-terminated or not. */
static int
tar_long(struct tar_rd *rd, const uint8_t *p, size_t n, char **field)
{
	size_t len = strnlen((const char *)p, n);

	if (len > TAR_PATH_MAX || len == 0)
		return tar_fail(rd, "GNU long name at offset %zu is empty or longer than %d bytes", rd->pos,
		    TAR_PATH_MAX);
	free(*field);
	*field = tar_field(p, len);
	return 0;
}

static enum tar_type
tar_type_of(uint8_t flag)
{
	switch (flag) {
	case '0': case '\0': case '7': return TAR_FILE;
	case '5': case 'D': return TAR_DIR;
	case '1': return TAR_HARDLINK;
	case '2': return TAR_SYMLINK;
	case '3': return TAR_CHARDEV;
	case '4': return TAR_BLOCKDEV;
	case '6': return TAR_FIFO;
	default: return TAR_OTHER;
	}
}

/* Types whose size field must be 0: data after them would be read one way by us and another by others. */
static bool
tar_no_data(uint8_t flag)
{
	return flag == '2' || flag == '3' || flag == '4' || flag == '5' || flag == '6';
}

/* path: pax path, else GNU long name, else the POSIX prefix + name. */
static char *
tar_path(const uint8_t *h, struct tar_pending *pd)
{
	char *path;

	if (pd->path) {
		path = pd->path;
		pd->path = NULL;
		return path;
	}
	if (tar_posix(h) && h[345]) {
		size_t pn = strnlen((const char *)h + 345, 155), nn = strnlen((const char *)h, 100);
		path = xmalloc(pn + nn + 2);
		memcpy(path, h + 345, pn);
		path[pn] = '/';
		memcpy(path + pn + 1, h, nn);
		path[pn + nn + 1] = '\0';
		return path;
	}
	return tar_field(h, 100);
}

static int
tar_entry(struct tar_rd *rd, const uint8_t *h, uint64_t size, const uint8_t *data)
{
	struct tar_list *tl = rd->out;
	struct tar_entry *e;
	uint64_t mtime = 0;

	if (tl->n >= rd->max_entries)
		return tar_fail(rd, "more than the limit of %zu members", rd->max_entries);
	if (tar_number(h + 136, 12, &mtime) < 0)
		return tar_fail(rd, "bad mtime field at offset %zu", rd->pos);
	tl->entries = xrealloc(tl->entries, tl->n + 1, sizeof *tl->entries);
	e = &tl->entries[tl->n++];
	memset(e, 0, sizeof *e);
	e->typeflag = (char)h[156];
	e->type = tar_type_of(h[156]);
	e->path = tar_path(h, &rd->pd);
	if (rd->pd.link) {
		e->link = rd->pd.link;
		rd->pd.link = NULL;
	} else if (e->type == TAR_HARDLINK || e->type == TAR_SYMLINK) {
		e->link = tar_field(h + 157, 100);
	}
	e->size = size;
	e->data = e->type == TAR_FILE ? data : NULL;
	e->mtime = rd->pd.has_mtime ? rd->pd.mtime : (int64_t)(mtime > INT64_MAX ? INT64_MAX : mtime);
	e->offset = rd->pos;
	tar_pending_clear(&rd->pd);
	return 0;
}

/* A header whose checksum and size were checked; data is inside the input. */
static int
tar_header(struct tar_rd *rd, const uint8_t *h, uint64_t size, const uint8_t *data)
{
	uint8_t flag = h[156];

	switch (flag) {
	case 'x': case 'g': case 'X':
		if (size > TAR_PAX_MAX)
			return tar_fail(rd, "pax header at offset %zu larger than %u bytes", rd->pos, TAR_PAX_MAX);
		rd->pd.any |= flag != 'g';
		return tar_pax(rd, data, (size_t)size, flag == 'g');
	case 'L':
		rd->pd.any = true;
		return tar_long(rd, data, (size_t)size, &rd->pd.path);
	case 'K':
		rd->pd.any = true;
		return tar_long(rd, data, (size_t)size, &rd->pd.link);
	case 'V':   /* GNU volume label: not a member */
		return 0;
	case 'S':
		return tar_fail(rd, "GNU sparse member at offset %zu is not supported", rd->pos);
	case 'M':
		return tar_fail(rd, "multi-volume continuation at offset %zu is not supported", rd->pos);
	default:
		if (rd->pd.sparse)
			return tar_fail(rd, "sparse member (pax GNU.sparse) at offset %zu is not supported", rd->pos);
		if (tar_no_data(flag) && size != 0)
			return tar_fail(rd, "entry of type '%c' at offset %zu declares %llu data bytes", flag, rd->pos,
			    (unsigned long long)size);
		return tar_entry(rd, h, size, data);
	}
}

/* One 512-byte header and its data; 1 at the end-of-archive block. */
static int
tar_step(struct tar_rd *rd)
{
	const uint8_t *h;
	uint64_t size, blocks;
	size_t left;

	if (rd->len - rd->pos < TAR_BLOCK)
		return tar_fail(rd, rd->pos == rd->len ? "truncated tar: no end-of-archive block after offset %zu" :
		    "truncated tar header at offset %zu", rd->pos);
	h = rd->p + rd->pos;
	if (tar_zero(h, TAR_BLOCK))
		return rd->pd.any ? tar_fail(rd, "extended header without a member before offset %zu", rd->pos) : 1;
	if (!tar_checksum_ok(h))
		return tar_fail(rd, "tar header checksum mismatch at offset %zu", rd->pos);
	if (!tar_posix(h) && !tar_gnu(h) && !tar_zero(h + 257, 8))
		return tar_fail(rd, "unknown tar header format at offset %zu", rd->pos);
	if (tar_number(h + 124, 12, &size) < 0)
		return tar_fail(rd, "bad size field at offset %zu", rd->pos);
	if (rd->pd.has_size && h[156] != 'x' && h[156] != 'g' && h[156] != 'L' && h[156] != 'K')
		size = rd->pd.size;
	if (tar_no_data(h[156]) && rd->pd.has_size)   /* pax size describes data; these have none */
		size = 0;
	left = rd->len - rd->pos - TAR_BLOCK;
	blocks = size / TAR_BLOCK + (size % TAR_BLOCK != 0);
	if (size > left || blocks > left / TAR_BLOCK)
		return tar_fail(rd, "entry at offset %zu claims %llu bytes, more than the archive holds (truncated?)",
		    rd->pos, (unsigned long long)size);
	if (tar_header(rd, h, size, h + TAR_BLOCK) < 0)
		return -1;
	rd->pos += TAR_BLOCK + (size_t)blocks * TAR_BLOCK;
	return 0;
}

int
tarread_parse(const uint8_t *data, size_t len, size_t max_entries, struct tar_list *out, char *why,
    size_t why_size)
{
	struct tar_rd rd = { data, len, 0, max_entries, { 0 }, out, why, why_size };
	int rc;

	memset(out, 0, sizeof *out);
	while ((rc = tar_step(&rd)) == 0)
		;
	tar_pending_clear(&rd.pd);
	if (rc < 0) {
		tarread_free(out);
		return -1;
	}
	for (size_t i = rd.pos + TAR_BLOCK; i < len; i++)   /* after the end: zero padding, or something hidden */
		if (data[i]) {
			out->trailing = len - i;
			break;
		}
	return 0;
}

void
tarread_free(struct tar_list *tl)
{
	for (size_t i = 0; i < tl->n; i++) {
		free(tl->entries[i].path);
		free(tl->entries[i].link);
	}
	free(tl->entries);
	memset(tl, 0, sizeof *tl);
}

/* Inflates into buf, growing it up to max_out + 1 bytes (one more than allowed shows "over"). */
static int
gunzip_loop(z_stream *zs, const uint8_t *in, size_t len, size_t max_out, uint8_t **buf, size_t *cap,
    size_t *used, size_t *consumed)
{
	for (;;) {
		size_t out_room, in_room, before_out, before_in;
		int rc;

		if (*used > max_out)
			return -2;
		if (*used == *cap) {
			*cap = *cap > (max_out + 1) / 2 ? max_out + 1 : *cap * 2;
			*buf = xrealloc(*buf, *cap, 1);
		}
		out_room = *cap - *used > (1u << 30) ? 1u << 30 : *cap - *used;
		in_room = len - *consumed > (1u << 30) ? 1u << 30 : len - *consumed;
		zs->next_out = *buf + *used;
		zs->avail_out = (uInt)out_room;
		zs->next_in = (Bytef *)(uintptr_t)(in + *consumed);
		zs->avail_in = (uInt)in_room;
		before_out = out_room;
		before_in = in_room;
		rc = inflate(zs, Z_NO_FLUSH);
		*used += before_out - zs->avail_out;
		*consumed += before_in - zs->avail_in;
		if (rc == Z_STREAM_END) {
			if (len - *consumed >= 2 && in[*consumed] == 0x1f && in[*consumed + 1] == 0x8b) {
				inflateReset(zs);   /* concatenated gzip members make one stream */
				continue;
			}
			return *used > max_out ? -2 : 0;
		}
		if (rc == Z_BUF_ERROR)   /* no progress: out of input (there is always output room) */
			return *consumed == len ? -3 : -1;
		if (rc != Z_OK)
			return -1;
	}
}

int
tarread_gunzip(const uint8_t *in, size_t len, size_t max_out, uint8_t **out, size_t *out_len,
    size_t *trailing, char *why, size_t why_size)
{
	z_stream zs;
	size_t cap, used = 0, consumed = 0;
	uint8_t *buf;
	int rc;

	if (max_out >= SIZE_MAX / 2)
		max_out = SIZE_MAX / 2 - 1;
	cap = len < SIZE_MAX / 4 && len * 4 > 65536 ? len * 4 : 65536;   /* a first guess, grown by doubling */
	cap = cap > max_out + 1 ? max_out + 1 : cap;
	memset(&zs, 0, sizeof zs);
	if (len < 18 || in[0] != 0x1f || in[1] != 0x8b || inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
		snprintf(why, why_size, "not a gzip stream");
		return -1;
	}
	buf = xmalloc(cap);
	rc = gunzip_loop(&zs, in, len, max_out, &buf, &cap, &used, &consumed);
	if (rc == -1)
		snprintf(why, why_size, "damaged gzip stream (%s) at input byte %zu", zs.msg ? zs.msg : "?", consumed);
	else if (rc == -3)
		snprintf(why, why_size, "truncated gzip stream (%zu bytes decoded)", used);
	else if (rc == -2)
		snprintf(why, why_size, "more than %zu bytes after decompression", max_out);
	inflateEnd(&zs);
	if (rc < 0) {
		free(buf);
		return rc == -2 ? -2 : -1;
	}
	*trailing = 0;
	for (size_t i = consumed; i < len; i++)
		if (in[i]) {
			*trailing = len - consumed;
			break;
		}
	*out = buf;
	*out_len = used;
	return 0;
}

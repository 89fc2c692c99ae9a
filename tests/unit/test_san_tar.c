/* test_san_tar.c -- the tar and gzip readers on hand-made headers, and tar/gz files through the archive rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/util.h"
#include "sanitizer/internal.h"
#include "sanitizer/sanitize.h"
#include "tests/lib/unit.h"

/* A tar being written by hand: headers exactly as the test wants them, good or bad. */
struct tarw {
	uint8_t buf[64 * 512];
	size_t len;
};

static void
tar_checksum(uint8_t *h)
{
	unsigned sum = 0;

	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

/* Appends a header (magic "ustar\0" "00" unless gnu) and size bytes of data filled with fill. */
static uint8_t *
tar_add(struct tarw *t, const char *name, char type, size_t size, const char *data, bool gnu)
{
	uint8_t *h = t->buf + t->len;

	memset(h, 0, 512);
	memcpy(h, name, strnlen(name, 100));
	snprintf((char *)h + 100, 8, "%07o", 0644);
	snprintf((char *)h + 124, 12, "%011o", (unsigned)size);
	snprintf((char *)h + 136, 12, "%011o", 1700000000);
	h[156] = (uint8_t)type;
	memcpy(h + 257, gnu ? "ustar  \0" : "ustar\00000", 8);
	tar_checksum(h);
	t->len += 512;
	if (size) {
		memset(t->buf + t->len, 0, (size + 511) / 512 * 512);
		if (data)
			memcpy(t->buf + t->len, data, size);
		t->len += (size + 511) / 512 * 512;
	}
	return h;
}

static void
tar_end(struct tarw *t)
{
	memset(t->buf + t->len, 0, 1024);
	t->len += 1024;
}

static int
parse(const struct tarw *t, size_t len, struct tar_list *tl, char *why)
{
	return tarread_parse(t->buf, len, 100, tl, why, 256);
}

static void
test_tar_basic(void)
{
	struct tarw t = { .len = 0 };
	struct tar_list tl;
	char why[256] = "";
	uint8_t *h;

	tar_add(&t, "dir/", '5', 0, NULL, false);
	tar_add(&t, "a.txt", '0', 6, "hello\n", false);
	tar_add(&t, "link", '2', 0, NULL, true);
	memcpy(t.buf + t.len - 512 + 157, "/etc/passwd", 11);
	tar_checksum(t.buf + t.len - 512);
	h = tar_add(&t, "b.txt", '0', 3, "abc", false);
	memcpy(h + 345, "pre/fix", 7);   /* POSIX prefix: the path is prefix/name */
	tar_checksum(h);
	tar_end(&t);
	CHECK_INT(parse(&t, t.len, &tl, why), 0);
	CHECK_INT(tl.n, 4);
	if (tl.n == 4) {
		CHECK_INT(tl.entries[0].type, TAR_DIR);
		CHECK_STR(tl.entries[1].path, "a.txt");
		CHECK(tl.entries[1].size == 6 && memcmp(tl.entries[1].data, "hello\n", 6) == 0);
		CHECK_INT(tl.entries[1].mtime, 1700000000);
		CHECK_INT(tl.entries[2].type, TAR_SYMLINK);
		CHECK_STR(tl.entries[2].link, "/etc/passwd");
		CHECK_STR(tl.entries[3].path, "pre/fix/b.txt");
	}
	CHECK_INT(tl.trailing, 0);
	tarread_free(&tl);
	CHECK(tarread_is_tar(t.buf, t.len));
	CHECK(!tarread_is_tar((const uint8_t *)"hello", 5));
	/* something after the end-of-archive blocks is counted, not read */
	t.buf[t.len++] = 'X';
	CHECK_INT(parse(&t, t.len, &tl, why), 0);
	CHECK_INT(tl.trailing, 1);
	tarread_free(&tl);
}

static void
test_tar_damage(void)
{
	struct tarw t = { .len = 0 };
	struct tar_list tl;
	char why[256] = "";
	uint8_t *h;

	tar_add(&t, "a.txt", '0', 600, NULL, false);
	tar_end(&t);
	CHECK_INT(parse(&t, 512 + 600, &tl, why), -1);   /* data cut inside its padding */
	CHECK(strstr(why, "more than the archive holds") != NULL);
	CHECK_INT(parse(&t, 300, &tl, why), -1);
	CHECK_STR(why, "truncated tar header at offset 0");
	CHECK_INT(parse(&t, 512 + 1024, &tl, why), -1);
	CHECK_STR(why, "truncated tar: no end-of-archive block after offset 1536");
	t.buf[10] ^= 1;
	CHECK_INT(parse(&t, t.len, &tl, why), -1);
	CHECK_STR(why, "tar header checksum mismatch at offset 0");

	t.len = 0;   /* a size field that is not a number */
	h = tar_add(&t, "a.txt", '0', 0, NULL, false);
	memcpy(h + 124, "0000000009x", 11);
	tar_checksum(h);
	tar_end(&t);
	CHECK_INT(parse(&t, t.len, &tl, why), -1);
	CHECK_STR(why, "bad size field at offset 0");

	t.len = 0;   /* GNU base-256 size: accepted when positive, bounded by the input */
	h = tar_add(&t, "big", '0', 0, NULL, true);
	memset(h + 124, 0, 12);
	h[124] = 0x80;
	h[131] = 0x01;   /* 2^32 bytes */
	tar_checksum(h);
	tar_end(&t);
	CHECK_INT(parse(&t, t.len, &tl, why), -1);
	CHECK(strstr(why, "claims 4294967296 bytes") != NULL);
	h[124] = 0xff;
	tar_checksum(h);
	CHECK_INT(parse(&t, t.len, &tl, why), -1);
	CHECK_STR(why, "bad size field at offset 0");

	t.len = 0;   /* a symlink with data: read differently by different tools, so refused */
	tar_add(&t, "l", '2', 10, "0123456789", false);
	tar_end(&t);
	CHECK_INT(parse(&t, t.len, &tl, why), -1);
	CHECK(strstr(why, "type '2'") != NULL);

	t.len = 0;
	tar_add(&t, "s", 'S', 0, NULL, true);
	tar_end(&t);
	CHECK_INT(parse(&t, t.len, &tl, why), -1);
	CHECK(strstr(why, "sparse") != NULL);

	t.len = 0;   /* magic that is neither ustar, GNU nor v7 */
	h = tar_add(&t, "a", '0', 0, NULL, false);
	memcpy(h + 257, "zzzzz", 5);
	tar_checksum(h);
	tar_end(&t);
	CHECK_INT(parse(&t, t.len, &tl, why), -1);
	CHECK_STR(why, "unknown tar header format at offset 0");

	t.len = 0;   /* more entries than allowed */
	for (int i = 0; i < 5; i++)
		tar_add(&t, "f", '0', 0, NULL, false);
	tar_end(&t);
	CHECK_INT(tarread_parse(t.buf, t.len, 4, &tl, why, sizeof why), -1);
	CHECK_STR(why, "more than the limit of 4 members");
}

static void
test_tar_extended(void)
{
	struct tarw t = { .len = 0 };
	struct tar_list tl;
	char why[256] = "", longname[300], pax[600];

	memset(longname, 'n', 250);
	memcpy(longname + 250, ".txt", 5);
	tar_add(&t, "././@LongLink", 'L', strlen(longname) + 1, longname, true);
	tar_add(&t, "truncated-name", '0', 2, "hi", true);
	/* pax: a path, a size that overrides the header's, an mtime with a fraction */
	snprintf(pax, sizeof pax, "%s%s%s", "31 path=dir/pax-named-file.txt\n", "10 size=4\n",
	    "30 mtime=1700000001.123456789\n");
	tar_add(&t, "PaxHeaders/x", 'x', strlen(pax), pax, false);
	tar_add(&t, "short", '0', 0, NULL, false);
	memcpy(t.buf + t.len, "data", 4);   /* the 4 bytes the pax size promises, padded */
	memset(t.buf + t.len + 4, 0, 508);
	t.len += 512;
	tar_end(&t);
	CHECK_INT(parse(&t, t.len, &tl, why), 0);
	CHECK_INT(tl.n, 2);
	if (tl.n == 2) {
		CHECK_STR(tl.entries[0].path, longname);
		CHECK_STR(tl.entries[1].path, "dir/pax-named-file.txt");
		CHECK(tl.entries[1].size == 4 && memcmp(tl.entries[1].data, "data", 4) == 0);
		CHECK_INT(tl.entries[1].mtime, 1700000001);
	}
	tarread_free(&tl);

	t.len = 0;   /* a record whose length does not match */
	tar_add(&t, "PaxHeaders/x", 'x', 12, "99 path=abc\n", false);
	tar_add(&t, "f", '0', 0, NULL, false);
	tar_end(&t);
	CHECK_INT(parse(&t, t.len, &tl, why), -1);
	CHECK_STR(why, "bad pax record at offset 0");

	t.len = 0;   /* an extended header and then the end: no member to apply it to */
	tar_add(&t, "PaxHeaders/x", 'x', 12, "12 path=abc\n", false);
	tar_end(&t);
	CHECK_INT(parse(&t, t.len, &tl, why), -1);
	CHECK_STR(why, "extended header without a member before offset 1024");

	t.len = 0;   /* pax GNU.sparse keys: sparse data we do not reassemble */
	tar_add(&t, "PaxHeaders/x", 'x', 22, "22 GNU.sparse.major=1\n", false);
	tar_add(&t, "f", '0', 0, NULL, false);
	tar_end(&t);
	CHECK_INT(parse(&t, t.len, &tl, why), -1);
	CHECK_STR(why, "sparse member (pax GNU.sparse) at offset 1024 is not supported");
}

/* gzip of in (one member) with zlib, as gzip(1) writes it. */
static size_t
gz(const void *in, size_t len, uint8_t *out, size_t cap)
{
	z_stream zs;

	memset(&zs, 0, sizeof zs);
	deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	deflate(&zs, Z_FINISH);
	deflateEnd(&zs);
	return cap - zs.avail_out;
}

static void
test_gunzip(void)
{
	static uint8_t zeros[4 << 20];
	uint8_t z[70000], *out = NULL;
	size_t zlen, zlen2, out_len = 0, trailing = 0;
	char why[256] = "";

	zlen = gz("hello\n", 6, z, sizeof z);
	zlen2 = gz("world\n", 6, z + zlen, sizeof z - zlen);
	CHECK_INT(tarread_gunzip(z, zlen, 100, &out, &out_len, &trailing, why, sizeof why), 0);
	CHECK(out_len == 6 && memcmp(out, "hello\n", 6) == 0);
	free(out);
	/* two members are one stream; zero padding after them is not "trailing" */
	memset(z + zlen + zlen2, 0, 16);
	CHECK_INT(tarread_gunzip(z, zlen + zlen2 + 16, 100, &out, &out_len, &trailing, why, sizeof why), 0);
	CHECK(out_len == 12 && memcmp(out, "hello\nworld\n", 12) == 0);
	CHECK_INT(trailing, 0);
	free(out);
	memcpy(z + zlen + zlen2, "PK\3\4", 4);
	CHECK_INT(tarread_gunzip(z, zlen + zlen2 + 16, 100, &out, &out_len, &trailing, why, sizeof why), 0);
	CHECK_INT(trailing, 16);
	free(out);
	CHECK_INT(tarread_gunzip(z, zlen - 3, 100, &out, &out_len, &trailing, why, sizeof why), -1);
	CHECK(strstr(why, "truncated gzip stream") != NULL);
	z[zlen - 6] ^= 0xff;   /* the CRC-32 */
	CHECK_INT(tarread_gunzip(z, zlen, 100, &out, &out_len, &trailing, why, sizeof why), -1);
	CHECK(strstr(why, "incorrect data check") != NULL);
	CHECK_INT(tarread_gunzip((const uint8_t *)"not gzip at all, no", 19, 100, &out, &out_len, &trailing,
	    why, sizeof why), -1);
	CHECK_STR(why, "not a gzip stream");
	/* a bomb stops at the limit, not at the end of the stream */
	zlen = gz(zeros, sizeof zeros, z, sizeof z);
	CHECK(zlen < 10000);
	CHECK_INT(tarread_gunzip(z, zlen, 1 << 20, &out, &out_len, &trailing, why, sizeof why), -2);
	CHECK_INT(tarread_gunzip(z, zlen, sizeof zeros, &out, &out_len, &trailing, why, sizeof why), 0);
	CHECK_INT(out_len, sizeof zeros);
	free(out);
}

/* tarball_sanitize in this process (no worker): what a tar or gz becomes. */
static void
run(const uint8_t *data, size_t len, const char *name, unsigned depth, uint64_t budget, struct san_result *r)
{
	static struct san_config cfg;
	static magic_t magic;
	struct san_job job;

	if (magic == NULL) {
		san_config_defaults(&cfg);
		magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
		magic_load(magic, NULL);
	}
	job.cfg = &cfg;
	job.magic = magic;
	job.depth = depth;
	job.budget = &budget;
	job.pool = NULL;
	job.arena = NULL;   /* text and archives of text only: no pixels */
	memset(r, 0, sizeof *r);
	dispatch_sanitize(&job, data, len, name, NULL, r);
	build_result(&cfg, NULL, name, r);   /* what the parent makes of the worker's answer (no pixels here) */
}

static bool
has_finding(const struct san_result *r, const char *part)
{
	for (size_t i = 0; i < r->n_findings; i++)
		if (strstr(r->findings[i], part))
			return true;
	return false;
}

static void
test_tarball(void)
{
	static struct tarw t;
	static uint8_t z[sizeof t.buf + 1024];
	struct san_result r;
	size_t zlen;

	t.len = 0;
	tar_add(&t, "docs/", '5', 0, NULL, false);
	tar_add(&t, "docs/memo.txt", '0', 5, "memo\n", false);
	tar_add(&t, "../up.txt", '0', 3, "up\n", false);
	tar_add(&t, "dev", '3', 0, NULL, false);
	tar_add(&t, "hard", '1', 0, NULL, false);
	tar_add(&t, "odd", 'Q', 0, NULL, false);
	tar_end(&t);
	run(t.buf, t.len, "files.tar", 0, 1 << 20, &r);
	CHECK_INT(r.action, SAN_ARCHIVE);
	CHECK_STR(r.out_name, "files.zip");
	CHECK_STR(r.out_mime, "application/zip");
	CHECK_INT(r.n_members, 5);
	CHECK(has_finding(&r, "tar archive rebuilt as ZIP (files.zip)"));
	CHECK(has_finding(&r, "unsafe member path \"../up.txt\" written as \"up.txt\""));
	CHECK(has_finding(&r, "dev: removed (character device not copied)"));
	CHECK(has_finding(&r, "hard: removed (hard link to \"\" not copied)"));
	CHECK(has_finding(&r, "odd: removed (tar entry of unknown type 'Q' not copied)"));
	san_result_free(&r);

	zlen = gz(t.buf, t.len, z, sizeof z);
	run(z, zlen, "files.tar.gz", 0, 1 << 20, &r);
	CHECK_INT(r.action, SAN_ARCHIVE);
	CHECK_STR(r.out_name, "files.zip");
	san_result_free(&r);
	run(z, zlen, "files.tgz", 0, 1 << 20, &r);
	CHECK_STR(r.out_name, "files.zip");
	san_result_free(&r);
	run(z, zlen, "files.tgz", 3, 1 << 20, &r);   /* at the depth limit: not opened */
	CHECK_STR(r.reason, "archive nested deeper than 3 levels");
	san_result_free(&r);
	run(t.buf, t.len, "files.tar", 0, 4, &r);     /* members over what the budget allows */
	CHECK_INT(r.action, SAN_BLOCKED);
	CHECK(r.reason && strstr(r.reason, "over the limit") != NULL);
	san_result_free(&r);

	zlen = gz("plain words\n", 12, z, sizeof z);   /* a lone .gz is its content */
	run(z, zlen, "note.txt.gz", 0, 1 << 20, &r);
	CHECK_INT(r.action, SAN_TEXT);
	CHECK_STR(r.out_name, "note.txt");
	CHECK(r.out_len == 12 && memcmp(r.out, "plain words\n", 12) == 0);
	CHECK(has_finding(&r, "gzip-compressed note.txt (text/plain)"));
	san_result_free(&r);

	t.len = 0;   /* only things that are removed: nothing to deliver */
	tar_add(&t, "l", '2', 0, NULL, false);
	tar_end(&t);
	run(t.buf, t.len, "links.tar", 0, 1 << 20, &r);
	CHECK_INT(r.action, SAN_BLOCKED);
	CHECK(r.reason && strstr(r.reason, "no member could be sanitized (l: symbolic link") != NULL);
	san_result_free(&r);
}

int
main(void)
{
	UNIT_RUN(test_tar_basic);
	UNIT_RUN(test_tar_damage);
	UNIT_RUN(test_tar_extended);
	UNIT_RUN(test_gunzip);
	UNIT_RUN(test_tarball);
	UNIT_EXIT();
}

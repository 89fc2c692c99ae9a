/* archive.c -- a ZIP rebuilt from its members, each sanitized by the same rules; bombs and encryption refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zip.h>

#include "lib/util.h"
#include "sanitizer/charset.h"
#include "sanitizer/internal.h"

/* The member name as a safe relative UTF-8 path: CP932 names decoded, no "..", no absolute paths. */
char *
archive_safe_path(const char *raw)
{
	char *utf8 = NULL, *out;
	size_t n = 0, o = 0;

	if (raw == NULL || charset_to_utf8_opts(NULL, (const uint8_t *)raw, strlen(raw),
	    CHARSET_SINGLE_LINE, &utf8, &n, NULL) < 0)
		return xstrdup("member");
	out = xmalloc(n + 1);
	for (char *seg = strtok(utf8, "/\\"); seg; seg = strtok(NULL, "/\\")) {
		if (strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0 || *seg == '\0')
			continue;
		if (o)
			out[o++] = '/';
		memcpy(out + o, seg, strlen(seg));
		o += strlen(seg);
	}
	out[o] = '\0';
	free(utf8);
	if (o == 0) {
		free(out);
		return xstrdup("member");
	}
	return out;
}

/* Checks what the central directory claims before reading anything. */
static int
archive_precheck(const struct san_job *job, zip_t *za, zip_int64_t count, struct san_result *res)
{
	const struct san_config *cfg = job->cfg;
	uint64_t total = 0, comp = 0;

	if ((uint64_t)count > cfg->archive_max_members) {
		res_block(res, "%lld members: more than the limit of %u", (long long)count, cfg->archive_max_members);
		return -1;
	}
	for (zip_int64_t i = 0; i < count; i++) {
		zip_stat_t st;
		if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) < 0) {
			res_block(res, "damaged ZIP archive");
			return -1;
		}
		if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE) {
			res->encrypted = true;
			res_block(res, "encrypted");
			return -1;
		}
		total += st.size;
		comp += st.comp_size;
	}
	if (total > *job->budget) {
		res_block(res, "uncompressed size %llu bytes over the limit (zip bomb?)", (unsigned long long)total);
		return -1;
	}
	if (total > 1024 * 1024 && total / (comp ? comp : 1) > cfg->archive_max_ratio) {
		res_block(res, "compression ratio %llu:1 over the limit (zip bomb?)",
		    (unsigned long long)(total / (comp ? comp : 1)));
		return -1;
	}
	return 0;
}

/* Reads a member, never more than it declared (a lying header cannot inflate past the budget). */
static int
archive_read(const struct san_job *job, zip_t *za, zip_uint64_t i, uint8_t **buf, size_t *len,
    struct san_result *member)
{
	zip_stat_t st;
	zip_file_t *zf;
	zip_int64_t got;

	if (zip_stat_index(za, i, 0, &st) < 0 || st.size > *job->budget) {
		res_block(member, "member larger than the archive limit");
		return -1;
	}
	if (st.size > 1024 * 1024 && st.size / (st.comp_size ? st.comp_size : 1) > job->cfg->archive_max_ratio) {
		res_block(member, "compression ratio over the limit (zip bomb?)");
		return -1;
	}
	zf = zip_fopen_index(za, i, 0);
	if (zf == NULL) {
		res_block(member, "member could not be read: %s", zip_strerror(za));
		return -1;
	}
	*buf = xmalloc(st.size + 1);
	got = zip_fread(zf, *buf, st.size + 1);
	zip_fclose(zf);
	if (got < 0 || (zip_uint64_t)got != st.size) {
		free(*buf);
		res_block(member, "member damaged (size or CRC mismatch)");
		return -1;
	}
	*job->budget -= st.size;
	*len = st.size;
	return 0;
}

static void
archive_add_member(struct san_result *res, struct san_result *member)
{
	res->members = xrealloc(res->members, res->n_members + 1, sizeof *res->members);
	res->members[res->n_members++] = *member;
	memset(member, 0, sizeof *member);
}

/*
 * The output name of a member: its directory kept, its file name from the
 * member's own rebuild (only the last part of it: a rebuild that keeps the
 * input name, as text does, would otherwise repeat the directory).
 */
static char *
archive_out_path(const char *in_path, const char *out_name)
{
	const char *slash = strrchr(in_path, '/'), *base = strrchr(out_name, '/');
	size_t dir = slash ? (size_t)(slash - in_path) + 1 : 0;
	char *out;

	out_name = base && base[1] ? base + 1 : out_name;
	out = xmalloc(dir + strlen(out_name) + 1);

	memcpy(out, in_path, dir);
	memcpy(out + dir, out_name, strlen(out_name) + 1);
	return out;
}

/* mtime: the original member's, so the same input always gives the same archive bytes */
static int
archive_write_member(zip_t *out, const struct san_result *m, time_t mtime)
{
	char *path = archive_out_path(m->name, m->out_name);
	zip_source_t *src = zip_source_buffer(out, m->out, m->out_len, 0);
	zip_int64_t idx = src ? zip_file_add(out, path, src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE) : -1;
	int rc = -1;

	if (idx >= 0) {
		zip_file_set_mtime(out, (zip_uint64_t)idx, mtime, 0);
		rc = 0;
	} else {
		zip_source_free(src);
	}
	free(path);
	return rc;
}

/* The new archive being built: members' outputs must live until zip_close has written them. */
struct archive_out {
	zip_source_t *src;
	zip_t *zip;
};

struct archive_out *
archive_out_new(void)
{
	struct archive_out *ao = xcalloc(1, sizeof *ao);
	zip_error_t err;

	zip_error_init(&err);
	ao->src = zip_source_buffer_create(NULL, 0, 0, &err);
	ao->zip = ao->src ? zip_open_from_source(ao->src, ZIP_TRUNCATE, &err) : NULL;
	zip_error_fini(&err);
	if (ao->zip == NULL) {
		zip_source_free(ao->src);
		free(ao);
		return NULL;
	}
	return ao;
}

/* A member that was not read (too big, damaged): listed with its reason. */
void
archive_out_blocked(struct san_result *res, struct san_result *m)
{
	res_finding(res, "%s: removed (%s)", m->name ? m->name : "?", m->reason ? m->reason : "blocked");
	archive_add_member(res, m);
}

/* Sanitizes one member's bytes by the same rules as any file and adds what comes out. */
void
archive_out_member(struct archive_out *ao, const struct san_job *job, const char *name, const char *raw,
    const uint8_t *data, size_t len, time_t mtime, struct san_result *res)
{
	struct san_job inner = *job;
	struct san_result m;

	inner.depth = job->depth + 1;
	memset(&m, 0, sizeof m);
	if (raw && (raw[0] == '/' || strstr(raw, "..") != NULL))
		res_finding(res, "unsafe member path \"%s\" written as \"%s\"", raw, name);
	dispatch_sanitize(&inner, data, len, name, NULL, &m);
	san_sha256_hex(data, len, m.sha256_in);
	if (m.action != SAN_BLOCKED && m.out && archive_write_member(ao->zip, &m, mtime) < 0)
		res_block(&m, "could not be added to the new archive");
	for (size_t f = 0; f < m.n_findings; f++)
		res_finding(res, "%s: %s", name, m.findings[f]);
	if (m.action == SAN_BLOCKED)   /* the admin sees what was left out of the new archive */
		archive_out_blocked(res, &m);
	else
		archive_add_member(res, &m);
}

/* Every ZIP member through archive_out_member. */
static void
archive_members(const struct san_job *job, zip_t *za, zip_int64_t count, struct archive_out *ao,
    struct san_result *res)
{
	for (zip_int64_t i = 0; i < count; i++) {
		const char *raw = zip_get_name(za, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
		char *name;
		struct san_result m;
		uint8_t *buf = NULL;
		size_t len = 0;
		zip_stat_t st;

		if (raw && raw[0] && raw[strlen(raw) - 1] == '/')   /* directories come back with their files */
			continue;
		name = archive_safe_path(raw);
		memset(&m, 0, sizeof m);
		res_set_str(&m.name, name);
		if (archive_read(job, za, (zip_uint64_t)i, &buf, &len, &m) == 0) {
			time_t mtime = zip_stat_index(za, (zip_uint64_t)i, 0, &st) == 0 &&
			    (st.valid & ZIP_STAT_MTIME) ? st.mtime : 315532800;   /* 1980: the earliest a zip says */
			archive_out_member(ao, job, name, raw, buf, len, mtime, res);
			san_result_free(&m);
			free(buf);
		} else {
			archive_out_blocked(res, &m);
		}
		free(name);
	}
}

/* Closes the in-memory zip and takes its bytes. */
static int
archive_close(zip_t *out, zip_source_t *src, uint8_t **bytes, size_t *len)
{
	zip_stat_t st;

	zip_source_keep(src);
	if (zip_close(out) < 0) {
		zip_discard(out);
		zip_source_free(src);
		return -1;
	}
	if (zip_source_open(src) < 0 || zip_source_stat(src, &st) < 0) {
		zip_source_free(src);
		return -1;
	}
	*bytes = xmalloc(st.size ? st.size : 1);
	*len = (size_t)zip_source_read(src, *bytes, st.size);
	zip_source_close(src);
	zip_source_free(src);
	return *len == st.size ? 0 : -1;
}

static zip_t *
archive_open(const uint8_t *data, size_t len, zip_source_t **srcp)
{
	zip_error_t err;
	zip_t *za;

	zip_error_init(&err);
	*srcp = zip_source_buffer_create(data, len, 0, &err);
	za = *srcp ? zip_open_from_source(*srcp, ZIP_RDONLY | ZIP_CHECKCONS, &err) : NULL;
	if (za == NULL && *srcp)
		zip_source_free(*srcp);
	zip_error_fini(&err);
	return za;
}

/* Writes the new archive into res, or blocks when no member survived. Frees ao. */
void
archive_out_finish(struct archive_out *ao, const char *name, struct san_result *res)
{
	size_t kept = 0, out_len = 0;
	uint8_t *bytes = NULL;
	char *out_name;

	for (size_t i = 0; i < res->n_members; i++)
		kept += res->members[i].action != SAN_BLOCKED;
	if (kept == 0) {   /* nothing to write: say why, with the first member's reason */
		zip_discard(ao->zip);
		free(ao);
		if (res->n_members)
			res_block(res, "no member could be sanitized (%s: %s)", res->members[0].name,
			    res->members[0].reason ? res->members[0].reason : "blocked");
		else
			res_block(res, "empty archive");
		return;
	}
	if (archive_close(ao->zip, ao->src, &bytes, &out_len) < 0) {
		free(ao);
		res_block(res, "cannot build the new archive");
		return;
	}
	free(ao);
	out_name = res_name_with_ext(name, ".zip", false);
	res_output(res, SAN_ARCHIVE, bytes, out_len, out_name, "application/zip");
	free(out_name);
}

void
archive_zip(const struct san_job *job, const uint8_t *data, size_t len, const char *name,
    struct san_result *res)
{
	zip_source_t *in_src;
	struct archive_out *ao;
	zip_t *za;
	zip_int64_t count;

	if (job->depth >= job->cfg->archive_max_depth) {
		res_block(res, "archive nested deeper than %u levels", job->cfg->archive_max_depth);
		return;
	}
	za = archive_open(data, len, &in_src);
	if (za == NULL) {
		res_block(res, "damaged ZIP archive");
		return;
	}
	count = zip_get_num_entries(za, 0);
	if (archive_precheck(job, za, count, res) < 0) {
		zip_discard(za);
		return;
	}
	ao = archive_out_new();
	if (ao == NULL) {
		zip_discard(za);
		res_block(res, "cannot build the new archive");
		return;
	}
	archive_members(job, za, count, ao, res);
	archive_out_finish(ao, name, res);
	zip_discard(za);
}

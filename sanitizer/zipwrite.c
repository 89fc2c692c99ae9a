/* zipwrite.c -- archives: the worker's member list (each member sanitized alone) and the parent's new ZIP, written deterministically. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zip.h>

#include "lib/util.h"
#include "sanitizer/internal.h"
#include "sanitizer/uniqname.h"

#define ZIP_TIME_MIN 315532800LL    /* 1980-01-01: the earliest a ZIP can say */
#define ZIP_TIME_MAX 4354819199LL   /* 2107-12-31 */

static void
zipwrite_add_result(struct san_result *res, struct san_result *member)
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
zipwrite_path(const char *in_path, const char *out_name)
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
zipwrite_add_file(zip_t *out, const struct san_result *m, time_t mtime)
{
	char *path = zipwrite_path(m->name, m->out_name);
	zip_source_t *src = zip_source_buffer(out, m->out, m->out_len, 0);
	/* never ZIP_FL_OVERWRITE: names are made unique first (zipwrite_unique), a duplicate is an error */
	zip_int64_t idx = src ? zip_file_add(out, path, src, ZIP_FL_ENC_UTF_8) : -1;
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

/* The new archive being built (parent): members' outputs must live until zip_close has written them. */
struct zipwrite {
	zip_source_t *src;
	zip_t *zip;
	struct uniqname_set names;   /* paths written so far (a.docx and a.docx.txt both become a.docx.txt) */
};

/*
 * Two members whose rebuilt paths collide (the same name in two encodings,
 * A.txt and a.txt on Windows, a.docx next to a.docx.txt) are both kept: the
 * later one becomes "name (2).ext", with a finding.
 */
static void
zipwrite_unique(struct zipwrite *zw, struct san_result *m, struct san_result *res)
{
	char *path = zipwrite_path(m->name, m->out_name), *unique;
	int renamed = 0;

	unique = uniqname_take(&zw->names, path, &renamed);
	if (renamed) {
		const char *base = strrchr(unique, '/');
		res_finding(res, "%s: written as \"%s\" (\"%s\" is already used in this archive)", m->name, unique, path);
		res_set_str(&m->out_name, base ? base + 1 : unique);
	}
	free(unique);
	free(path);
}

struct zipwrite *
zipwrite_new(void)
{
	struct zipwrite *zw = xcalloc(1, sizeof *zw);
	zip_error_t err;

	zip_error_init(&err);
	zw->src = zip_source_buffer_create(NULL, 0, 0, &err);
	zw->zip = zw->src ? zip_open_from_source(zw->src, ZIP_TRUNCATE, &err) : NULL;
	zip_error_fini(&err);
	if (zw->zip == NULL) {
		zip_source_free(zw->src);
		free(zw);
		return NULL;
	}
	return zw;
}

int
zipwrite_add(struct zipwrite *zw, struct san_result *m, struct san_result *res)
{
	zipwrite_unique(zw, m, res);
	int64_t t = m->mtime < ZIP_TIME_MIN ? ZIP_TIME_MIN : m->mtime > ZIP_TIME_MAX ? ZIP_TIME_MAX : m->mtime;

	return zipwrite_add_file(zw->zip, m, (time_t)t);
}

void
zipwrite_discard(struct zipwrite *zw)
{
	if (zw == NULL)
		return;
	zip_discard(zw->zip);
	uniqname_set_free(&zw->names);
	free(zw);
}

/* A member that was not read (too big, damaged): listed with its reason. */
void
zipwrite_blocked(struct san_result *res, struct san_result *m)
{
	res_finding(res, "%s: removed (%s)", m->name ? m->name : "?", m->reason ? m->reason : "blocked");
	zipwrite_add_result(res, m);
}

/* Worker: sanitizes one member's bytes by the same rules as any file; its payload joins the member list. */
void
zipwrite_member(const struct san_job *job, const char *name, const char *raw,
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
	res_set_str(&m.name, name);
	m.mtime = (int64_t)mtime;
	for (size_t f = 0; f < m.n_findings; f++)
		res_finding(res, "%s: %s", name, m.findings[f]);
	if (m.action == SAN_BLOCKED)   /* the admin sees what was left out of the new archive */
		zipwrite_blocked(res, &m);
	else
		zipwrite_add_result(res, &m);
}

/* Parent: closes the in-memory zip, takes its bytes and frees zw. */
int
zipwrite_close(struct zipwrite *zw, uint8_t **bytes, size_t *len)
{
	zip_source_t *src = zw->src;
	zip_stat_t st;

	zip_source_keep(src);
	uniqname_set_free(&zw->names);
	if (zip_close(zw->zip) < 0) {
		zip_discard(zw->zip);
		zip_source_free(src);
		free(zw);
		return -1;
	}
	free(zw);
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

/* Worker: the archive's verdict -- its member list for the parent to build, or blocked when none survived. */
void
zipwrite_finish(struct san_result *res)
{
	size_t kept = 0;

	for (size_t i = 0; i < res->n_members; i++)
		kept += res->members[i].action != SAN_BLOCKED;
	if (kept == 0) {   /* nothing to write: say why, with the first member's reason */
		if (res->n_members)
			res_block(res, "no member could be sanitized (%s: %s)", res->members[0].name,
			    res->members[0].reason ? res->members[0].reason : "blocked");
		else
			res_block(res, "empty archive");
		return;
	}
	res->action = SAN_ARCHIVE;
	res->payload = SAN_PAY_ARCHIVE;
}

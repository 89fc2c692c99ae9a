/* tarball.c -- tar and gzip files: tar members sanitized by the archive rules into a new ZIP; a lone .gz as its content. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"
#include "sanitizer/cleanres.h"
#include "sanitizer/internal.h"

#define MB (1024ULL * 1024ULL)
#define ZIP_TIME_MIN 315532800LL    /* 1980-01-01: the earliest a ZIP can say */
#define ZIP_TIME_MAX 4354819199LL   /* 2107-12-31 */

/* The name of what is inside a gzip: "a.pdf.gz" -> "a.pdf", "a.tgz" -> "a.tar", else unchanged. */
static char *
tarball_inner_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	char *out;

	if (n > 3 && strcasecmp(name + n - 3, ".gz") == 0) {
		out = xstrdup(name);
		out[n - 3] = '\0';
		return out;
	}
	if (n > 4 && strcasecmp(name + n - 4, ".tgz") == 0) {
		out = xstrdup(name);
		memcpy(out + n - 4, ".tar", 5);
		return out;
	}
	return xstrdup(n ? name : "file");
}

static const char *
tarball_type_name(enum tar_type type)
{
	switch (type) {
	case TAR_HARDLINK: return "hard link";
	case TAR_SYMLINK: return "symbolic link";
	case TAR_CHARDEV: return "character device";
	case TAR_BLOCKDEV: return "block device";
	case TAR_FIFO: return "FIFO";
	default: return "entry";
	}
}

/* Links, devices, FIFOs and unknown types carry no content we deliver: listed as removed. */
static void
tarball_removed(const struct tar_entry *e, const char *path, struct san_result *res)
{
	struct san_result m;

	memset(&m, 0, sizeof m);
	res_set_str(&m.name, path);
	if (e->link) {   /* the target is the sender's text: cleaned like a name, never shown raw */
		struct textclean_counts found = { 0 };
		char target[201], what[320];
		textclean_name(e->link, strlen(e->link), target, sizeof target, &found);   /* cut whole */
		snprintf(what, sizeof what, "%.300s: link target", path);
		cleanres_findings(res, &found, what);
		res_block(&m, "%s to \"%s\" not copied", tarball_type_name(e->type), target);
	}
	else if (e->type == TAR_OTHER)
		res_block(&m, "tar entry of unknown type '%c' not copied",
		    e->typeflag >= 0x21 && e->typeflag < 0x7f ? e->typeflag : '?');
	else
		res_block(&m, "%s not copied", tarball_type_name(e->type));
	zipwrite_blocked(res, &m);
}

static void
tarball_entry(const struct san_job *job, const struct tar_entry *e, struct san_result *res)
{
	struct textclean_counts found = { 0 };
	char *path = archive_safe_path(e->path, &found);
	int64_t mtime = e->mtime < ZIP_TIME_MIN ? ZIP_TIME_MIN : e->mtime > ZIP_TIME_MAX ? ZIP_TIME_MAX : e->mtime;
	struct san_result m;

	if (e->type == TAR_DIR) {   /* directories come back with their files */
		free(path);
		return;
	}
	archive_name_findings(res, path, &found);
	if (e->type != TAR_FILE) {
		tarball_removed(e, path, res);
	} else if (e->size > *job->budget) {
		memset(&m, 0, sizeof m);
		res_set_str(&m.name, path);
		res_block(&m, "member larger than the archive limit");
		zipwrite_blocked(res, &m);
	} else {
		*job->budget -= e->size;
		zipwrite_member(job, path, e->path, e->data, (size_t)e->size, (time_t)mtime, res);
	}
	free(path);
}

/* A tar (already gunzipped): every entry checked first, then each file through the archive rules. */
static void
tarball_tar(const struct san_job *job, const uint8_t *data, size_t len, const char *name,
    struct san_result *res)
{
	struct tar_list tl;
	uint64_t total = 0;
	char why[256];

	if (tarread_parse(data, len, job->cfg->archive_max_members, &tl, why, sizeof why) < 0) {
		res_block(res, "damaged or unsupported tar archive: %s", why);
		return;
	}
	for (size_t i = 0; i < tl.n; i++)
		total += tl.entries[i].type == TAR_FILE ? tl.entries[i].size : 0;
	if (total > *job->budget) {
		res_block(res, "uncompressed size %llu bytes over the limit", (unsigned long long)total);
		tarread_free(&tl);
		return;
	}
	if (tl.trailing)
		res_finding(res, "%zu bytes after the end of the tar archive (dropped)", tl.trailing);
	for (size_t i = 0; i < tl.n; i++)
		tarball_entry(job, &tl.entries[i], res);
	zipwrite_finish(res);
	if (res->action == SAN_ARCHIVE) {   /* the recipient gets a .zip where a tar was sent: say so */
		char *zip_name = res_name_with_ext(name, ".zip", false);   /* the name build.c gives it */
		res_finding(res, "tar archive rebuilt as ZIP (%s)", zip_name);
		free(zip_name);
	}
	tarread_free(&tl);
}

/* A single gzipped file: its content is sanitized by its own type and stands for the whole. */
static void
tarball_lone(const struct san_job *job, const uint8_t *data, size_t len, const char *inner_name,
    struct san_result *res)
{
	struct san_job inner = *job;
	struct san_result m;

	inner.depth = job->depth + 1;
	*job->budget -= len;
	memset(&m, 0, sizeof m);
	dispatch_sanitize(&inner, data, len, inner_name, NULL, &m);
	res_finding(res, "gzip-compressed %s (%s): decompressed and sanitized by its own type", inner_name,
	    m.detected_mime ? m.detected_mime : "?");
	for (size_t f = 0; f < m.n_findings; f++)
		res_finding(res, "%s", m.findings[f]);
	res->encrypted = m.encrypted;
	res->pages = m.pages;
	if (m.action == SAN_BLOCKED) {
		res_block(res, "%s", m.reason ? m.reason : "blocked");
	} else {   /* the content's payload stands for the whole */
		res->action = m.action;
		res->payload = m.payload;
		res->out = m.out;
		res->out_len = m.out_len;
		res->px = m.px;
		res->n_px = m.n_px;
		m.out = NULL;
		m.px = NULL;
		m.n_px = 0;
	}
	res->members = m.members;   /* a gzipped ZIP or tar: its members are this file's */
	res->n_members = m.n_members;
	m.members = NULL;
	m.n_members = 0;
	san_result_free(&m);
}

/* The gzip layer: bounded by the budget and by the ratio to the compressed size. */
static uint8_t *
tarball_gunzip(const struct san_job *job, const uint8_t *data, size_t len, size_t *plain_len,
    struct san_result *res)
{
	uint64_t by_ratio = (uint64_t)len * job->cfg->archive_max_ratio;
	uint64_t limit = by_ratio < MB ? MB : by_ratio;
	bool ratio_binds = limit < *job->budget;
	size_t trailing = 0;
	uint8_t *plain = NULL;
	char why[256];
	int rc;

	if (!ratio_binds)
		limit = *job->budget;
	rc = tarread_gunzip(data, len, limit > SIZE_MAX / 4 ? SIZE_MAX / 4 : (size_t)limit, &plain, plain_len,
	    &trailing, why, sizeof why);
	if (rc == -2 && ratio_binds)
		res_block(res, "compression ratio over the limit of %u:1 (gzip bomb?)", job->cfg->archive_max_ratio);
	else if (rc == -2)
		res_block(res, "uncompressed size over the limit of %llu bytes (gzip bomb?)",
		    (unsigned long long)*job->budget);
	else if (rc < 0)
		res_block(res, "%s", why);
	if (rc < 0)
		return NULL;
	if (trailing)
		res_finding(res, "%zu bytes after the end of the gzip stream (dropped)", trailing);
	return plain;
}

void
tarball_sanitize(const struct san_job *job, const uint8_t *data, size_t len, const char *name,
    bool gzipped, struct san_result *res)
{
	uint8_t *plain;
	size_t plain_len = 0;
	char *inner_name;

	if (!gzipped) {
		tarball_tar(job, data, len, name, res);
		return;
	}
	plain = tarball_gunzip(job, data, len, &plain_len, res);
	if (plain == NULL)
		return;
	inner_name = tarball_inner_name(name);
	/* a .tar.gz whose tar is damaged must say so, not be judged as an unknown file */
	if (tarread_is_tar(plain, plain_len) || detect_kind_of_name(inner_name) == KIND_TAR)
		tarball_tar(job, plain, plain_len, inner_name, res);
	else
		tarball_lone(job, plain, plain_len, inner_name, res);
	free(inner_name);
	free(plain);
}

/* archive.c -- reading a ZIP: bombs and encryption refused, every member to zipwrite.c to be sanitized and written anew. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zip.h>

#include "lib/util.h"
#include "sanitizer/charset.h"
#include "sanitizer/cleanres.h"
#include "sanitizer/internal.h"

/*
 * The member name as a safe relative UTF-8 path: CP932 names decoded, no "..", no absolute paths,
 * and through the one cleaner (no bidi, zero-width or tag characters: counted in *found).
 */
char *
archive_safe_path(const char *raw, struct textclean_counts *found)
{
	char *utf8 = NULL, *out;
	size_t n = 0, o = 0;

	/* UTF-8 names go to the cleaner as they are (it counts what the decoder would drop silently) */
	if (raw && (utf8 = cleanres_utf8_input((const uint8_t *)raw, strlen(raw), &n, found)) != NULL) {
		/* cleaned already: the segments below find nothing more */
	} else if (raw == NULL || charset_to_utf8_opts(NULL, (const uint8_t *)raw, strlen(raw),
	    CHARSET_SINGLE_LINE, &utf8, &n, NULL) < 0) {
		return xstrdup("member");
	}
	out = xmalloc(TEXTCLEAN_CAP(n) + 1);
	for (char *seg = strtok(utf8, "/\\"); seg; seg = strtok(NULL, "/\\")) {
		char *clean = cleanres_name(seg, found);
		if (strcmp(clean, ".") == 0 || strcmp(clean, "..") == 0 || *clean == '\0') {
			free(clean);
			continue;
		}
		if (o)
			out[o++] = '/';
		memcpy(out + o, clean, strlen(clean));
		o += strlen(clean);
		free(clean);
	}
	out[o] = '\0';
	free(utf8);
	if (o == 0) {
		free(out);
		return xstrdup("member");
	}
	return out;
}

/* What the cleaner took out of a member's name, as findings of the archive ("dir/a.pdf: name: removed ..."). */
void
archive_name_findings(struct san_result *res, const char *name, const struct textclean_counts *found)
{
	char what[320];

	if (textclean_total(found) == 0)
		return;
	snprintf(what, sizeof what, "%.300s: name", name);
	cleanres_findings(res, found, what);
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

/* Every ZIP member through zipwrite_member. */
static void
archive_members(const struct san_job *job, zip_t *za, zip_int64_t count, struct san_result *res)
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
		struct textclean_counts found = { 0 };
		name = archive_safe_path(raw, &found);
		archive_name_findings(res, name, &found);
		memset(&m, 0, sizeof m);
		res_set_str(&m.name, name);
		if (archive_read(job, za, (zip_uint64_t)i, &buf, &len, &m) == 0) {
			time_t mtime = zip_stat_index(za, (zip_uint64_t)i, 0, &st) == 0 &&
			    (st.valid & ZIP_STAT_MTIME) ? st.mtime : 315532800;   /* 1980: the earliest a zip says */
			zipwrite_member(job, name, raw, buf, len, mtime, res);
			san_result_free(&m);
			free(buf);
		} else {
			zipwrite_blocked(res, &m);
		}
		free(name);
	}
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

void
archive_zip(const struct san_job *job, const uint8_t *data, size_t len, const char *name,
    struct san_result *res)
{
	zip_source_t *in_src;
	zip_t *za;
	zip_int64_t count;

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
	(void)name;
	archive_members(job, za, count, res);
	zipwrite_finish(res);
	zip_discard(za);
}

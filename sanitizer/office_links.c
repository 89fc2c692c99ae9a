/* office_links.c -- in the worker: how many parts of an office document are linked from elsewhere (a finding: never fetched). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zip.h>

#include "lib/util.h"
#include "sanitizer/internal.h"

#define OLINKS_MAX_PARTS 4096
#define OLINKS_MAX_PART (8u << 20)

/* ODF elements whose xlink:href is content shown in the document (not a hyperlink a reader clicks). */
static const char *const olinks_odf_elements[] = {
	"text:section-source", "draw:image", "draw:object", "draw:object-ole", "table:table-source",
	"draw:plugin", "draw:floating-frame", "text:dde-connection-decl", "table:dde-source", NULL,
};

/* A member read whole within max, NULL when larger, encrypted or damaged. */
static char *
olinks_read(zip_t *za, zip_uint64_t idx, size_t max, size_t *len)
{
	zip_stat_t st;
	zip_file_t *zf;
	zip_int64_t got;
	char *buf;

	if (zip_stat_index(za, idx, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE) || st.size > max ||
	    st.encryption_method != ZIP_EM_NONE || (zf = zip_fopen_index(za, idx, 0)) == NULL)
		return NULL;
	buf = xmalloc(st.size + 1);
	got = zip_fread(zf, buf, st.size);
	zip_fclose(zf);
	if (got < 0 || (zip_uint64_t)got != st.size) {
		free(buf);
		return NULL;
	}
	buf[st.size] = '\0';
	*len = st.size;
	return buf;
}

/* OOXML relationships with TargetMode="External" that are not hyperlinks (linked images, OLE, workbooks, templates). */
static unsigned
olinks_rels(const char *xml, size_t len)
{
	const char *at = xml, *end = xml + len;
	unsigned n = 0;

	while ((at = memmem(at, (size_t)(end - at), "<Relationship ", 14)) != NULL) {
		const char *close = memchr(at, '>', (size_t)(end - at));
		size_t span = close ? (size_t)(close - at) : (size_t)(end - at);
		if ((memmem(at, span, "TargetMode=\"External\"", 21) || memmem(at, span, "TargetMode='External'", 21)) &&
		    !memmem(at, span, "/hyperlink\"", 11) && !memmem(at, span, "/hyperlink'", 11))
			n++;
		at += 14;
	}
	return n;
}

/* Whether an ODF href points outside the package: a scheme (http:, file:, ...) or a path out of it. */
static bool
olinks_href_outside(const char *v, size_t len)
{
	const char *colon = memchr(v, ':', len);

	return (colon && memchr(v, '/', len) && colon < (const char *)memchr(v, '/', len)) ||
	    (len >= 3 && memcmp(v, "../", 3) == 0) || (len >= 1 && v[0] == '/');
}

/* ODF: xlink:href values outside the package on elements that show content. */
static unsigned
olinks_odf(const char *xml, size_t len)
{
	const char *at = xml, *end = xml + len;
	unsigned n = 0;

	while ((at = memmem(at, (size_t)(end - at), "xlink:href=", 11)) != NULL) {
		const char *q = at + 11, *open = at, *v, *vend;
		at += 11;
		if (q >= end || (*q != '"' && *q != '\''))
			continue;
		v = q + 1;
		if ((vend = memchr(v, *q, (size_t)(end - v))) == NULL)
			break;
		while (open > xml && *open != '<')
			open--;
		if (*open != '<' || !olinks_href_outside(v, (size_t)(vend - v)))
			continue;
		for (int i = 0; olinks_odf_elements[i]; i++) {
			size_t el = strlen(olinks_odf_elements[i]);
			if ((size_t)(at - open) > el + 1 && memcmp(open + 1, olinks_odf_elements[i], el) == 0 &&
			    (open[el + 1] == ' ' || open[el + 1] == '\t' || open[el + 1] == '\n' || open[el + 1] == '\r')) {
				n++;
				break;
			}
		}
	}
	return n;
}

static bool
olinks_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

unsigned
office_count_links(const uint8_t *data, size_t len, const struct san_config *cfg)
{
	zip_error_t err;
	zip_source_t *src;
	zip_t *za;
	zip_int64_t parts;
	uint64_t total = 0;
	unsigned n = 0;

	zip_error_init(&err);
	src = zip_source_buffer_create(data, len, 0, &err);
	za = src ? zip_open_from_source(src, ZIP_RDONLY, &err) : NULL;
	if (za == NULL) {
		zip_source_free(src);
		zip_error_fini(&err);
		return 0;
	}
	parts = zip_get_num_entries(za, 0);
	for (zip_int64_t i = 0; i < parts && i < OLINKS_MAX_PARTS && total < cfg->office_max_total; i++) {
		const char *name = zip_get_name(za, (zip_uint64_t)i, 0);
		bool rels = name && olinks_ends_with(name, ".rels");
		bool odf = name && (strcmp(name, "content.xml") == 0 || strcmp(name, "styles.xml") == 0);
		size_t got = 0;
		char *xml = rels || odf ? olinks_read(za, (zip_uint64_t)i, OLINKS_MAX_PART, &got) : NULL;
		if (xml == NULL)
			continue;
		total += got;
		n += rels ? olinks_rels(xml, got) : olinks_odf(xml, got);
		free(xml);
	}
	zip_discard(za);
	zip_error_fini(&err);
	return n;
}

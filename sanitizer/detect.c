/* detect.c -- the true type: libmagic's MIME type mapped to what we rebuild, and what names promise. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zip.h>

#include "lib/util.h"
#include "sanitizer/internal.h"

struct mime_kind {
	const char *mime;   /* exact, or a prefix when it ends in '*' */
	enum san_kind kind;
};

static const struct mime_kind mime_kinds[] = {
	{ "application/pdf", KIND_PDF },
	{ "image/jpeg", KIND_IMAGE }, { "image/png", KIND_IMAGE }, { "image/gif", KIND_IMAGE },
	{ "image/bmp", KIND_IMAGE }, { "image/x-ms-bmp", KIND_IMAGE }, { "image/tiff", KIND_IMAGE },
	{ "image/jp2", KIND_IMAGE }, { "image/x-portable-*", KIND_IMAGE },
	{ "application/vnd.openxmlformats-officedocument.*", KIND_OOXML },
	{ "application/vnd.oasis.opendocument.*", KIND_ODF },
	{ "application/msword", KIND_LEGACY_OFFICE }, { "application/vnd.ms-excel", KIND_LEGACY_OFFICE },
	{ "application/vnd.ms-powerpoint", KIND_LEGACY_OFFICE }, { "application/x-ole-storage", KIND_LEGACY_OFFICE },
	{ "application/CDFV2*", KIND_LEGACY_OFFICE }, { "application/vnd.ms-office", KIND_LEGACY_OFFICE },
	{ "text/rtf", KIND_RTF }, { "application/rtf", KIND_RTF },
	{ "text/html", KIND_HTML }, { "application/xhtml+xml", KIND_HTML },
	{ "text/*", KIND_TEXT }, { "application/json", KIND_TEXT }, { "application/csv", KIND_TEXT },
	{ "application/zip", KIND_ZIP }, { "application/x-tar", KIND_TAR }, { "application/x-gtar", KIND_TAR },
	{ "application/x-ustar", KIND_TAR },   /* libmagic's name for a ustar header whose checksum fails */
	{ "application/gzip", KIND_GZIP }, { "application/x-gzip", KIND_GZIP },
	{ "application/x-executable", KIND_EXECUTABLE }, { "application/x-pie-executable", KIND_EXECUTABLE },
	{ "application/x-sharedlib", KIND_EXECUTABLE }, { "application/x-dosexec", KIND_EXECUTABLE },
	{ "application/x-mach-binary", KIND_EXECUTABLE }, { "application/x-msi", KIND_EXECUTABLE },
	{ "application/vnd.microsoft.portable-executable", KIND_EXECUTABLE },
	{ "application/x-object", KIND_EXECUTABLE }, { "application/x-coredump", KIND_EXECUTABLE },
	{ "application/java-archive", KIND_EXECUTABLE }, { "application/x-java-applet", KIND_EXECUTABLE },
	{ "application/x-7z-compressed", KIND_ARCHIVE_OTHER }, { "application/x-rar*", KIND_ARCHIVE_OTHER },
	{ "application/vnd.rar", KIND_ARCHIVE_OTHER }, { "application/x-bzip2", KIND_ARCHIVE_OTHER },
	{ "application/x-xz", KIND_ARCHIVE_OTHER }, { "application/x-lzh-compressed", KIND_ARCHIVE_OTHER },
	{ "application/x-iso9660-image", KIND_ARCHIVE_OTHER }, { "application/vnd.ms-cab-compressed", KIND_ARCHIVE_OTHER },
};

static bool
mime_matches(const char *pattern, const char *mime)
{
	size_t n = strlen(pattern);

	if (n && pattern[n - 1] == '*')
		return strncasecmp(pattern, mime, n - 1) == 0;
	return strcasecmp(pattern, mime) == 0;
}

enum san_kind
detect_kind(const char *mime)
{
	if (mime == NULL)
		return KIND_OTHER;
	for (size_t i = 0; i < ARRAY_LEN(mime_kinds); i++)
		if (mime_matches(mime_kinds[i].mime, mime))
			return mime_kinds[i].kind;
	return KIND_OTHER;
}

struct ext_kind {
	const char *ext;
	enum san_kind kind;
};

static const struct ext_kind ext_kinds[] = {
	{ "pdf", KIND_PDF }, { "jpg", KIND_IMAGE }, { "jpeg", KIND_IMAGE }, { "png", KIND_IMAGE },
	{ "gif", KIND_IMAGE }, { "bmp", KIND_IMAGE }, { "tif", KIND_IMAGE }, { "tiff", KIND_IMAGE },
	{ "docx", KIND_OOXML }, { "xlsx", KIND_OOXML }, { "pptx", KIND_OOXML },
	{ "docm", KIND_OOXML }, { "xlsm", KIND_OOXML }, { "pptm", KIND_OOXML },
	{ "odt", KIND_ODF }, { "ods", KIND_ODF }, { "odp", KIND_ODF },
	{ "doc", KIND_LEGACY_OFFICE }, { "xls", KIND_LEGACY_OFFICE }, { "ppt", KIND_LEGACY_OFFICE },
	{ "rtf", KIND_RTF }, { "htm", KIND_HTML }, { "html", KIND_HTML },
	{ "txt", KIND_TEXT }, { "csv", KIND_TEXT }, { "tsv", KIND_TEXT }, { "log", KIND_TEXT },
	{ "zip", KIND_ZIP }, { "tar", KIND_TAR }, { "gz", KIND_GZIP }, { "tgz", KIND_GZIP },
	{ "exe", KIND_EXECUTABLE }, { "dll", KIND_EXECUTABLE }, { "scr", KIND_EXECUTABLE },
	{ "com", KIND_EXECUTABLE }, { "msi", KIND_EXECUTABLE }, { "jar", KIND_EXECUTABLE },
};

enum san_kind
detect_kind_of_name(const char *name)
{
	const char *dot = name ? strrchr(name, '.') : NULL;

	if (dot == NULL || strchr(dot, '/'))
		return KIND_OTHER;
	for (size_t i = 0; i < ARRAY_LEN(ext_kinds); i++)
		if (strcasecmp(dot + 1, ext_kinds[i].ext) == 0)
			return ext_kinds[i].kind;
	return KIND_OTHER;
}

const char *
detect_kind_name(enum san_kind kind)
{
	static const char *const names[] = { "PDF", "image", "OOXML office document",
		"OpenDocument", "HTML", "text", "ZIP archive", "tar archive", "gzip file",
		"legacy binary office document",
		"RTF", "executable", "archive", "unknown" };

	return (unsigned)kind < ARRAY_LEN(names) ? names[kind] : "unknown";
}

char *
detect_mime(magic_t magic, const uint8_t *data, size_t len)
{
	const char *mime = magic ? magic_buffer(magic, data, len) : NULL;

	if (mime == NULL || *mime == '\0')
		mime = len == 0 ? "application/x-empty" : "application/octet-stream";
	return xstrdup(mime);
}

static bool
zip_has(zip_t *za, const char *member)
{
	return zip_name_locate(za, member, 0) >= 0;
}

/* The first member "mimetype" of ODF holds the type; OOXML has [Content_Types].xml. */
enum san_kind
detect_office_zip(const uint8_t *data, size_t len, const char *name)
{
	zip_error_t err;
	zip_source_t *src;
	zip_t *za;
	enum san_kind kind = KIND_ZIP;

	zip_error_init(&err);
	src = zip_source_buffer_create(data, len, 0, &err);
	if (src == NULL)
		return KIND_ZIP;
	za = zip_open_from_source(src, ZIP_RDONLY, &err);
	if (za == NULL) {
		zip_source_free(src);
		return KIND_ZIP;
	}
	if (zip_has(za, "[Content_Types].xml") &&
	    (zip_has(za, "word/document.xml") || zip_has(za, "xl/workbook.xml") ||
	    zip_has(za, "ppt/presentation.xml")))
		kind = KIND_OOXML;
	else if (zip_has(za, "mimetype") && zip_has(za, "content.xml"))
		kind = KIND_ODF;
	zip_discard(za);
	(void)name;
	return kind;
}

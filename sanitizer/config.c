/* config.c -- the "sanitizer" group of the site file into struct san_config, with defaults for every setting. */
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "lib/util.h"
#include "sanitizer/sanitize.h"

#define MB (1024ULL * 1024ULL)

void
san_config_defaults(struct san_config *sc)
{
	memset(sc, 0, sizeof *sc);
	sc->dpi = 150;
	sc->gray = false;
	sc->codec = SAN_CODEC_AUTO;
	sc->jpeg_quality = 75;
	sc->max_pages = 1000;
	sc->max_page_pixels = 60ULL * 1000 * 1000;
	sc->max_image_pixels = 100ULL * 1000 * 1000;
	sc->image_mode = SAN_IMAGE_REENCODE;
	sc->image_format = SAN_IMAGE_PNG;
	sc->max_input_bytes = 100 * MB;
	sc->max_output_bytes = 256 * MB;
	sc->max_text_bytes = 16 * MB;
	sc->archive_max_depth = 3;
	sc->archive_max_members = 1000;
	sc->archive_max_total = 512 * MB;
	sc->archive_max_ratio = 100;
	sc->office_max_member = 64 * MB;
	sc->office_max_total = 128 * MB;
	sc->office_output = SAN_OFFICE_BOTH;
	sc->office_slots = 1;
	sc->office_timeout = 60;
	sc->office_memory = 4096 * MB;
	sc->office_max_documents = 100;
	sc->worker_cpu_seconds = 60;
	sc->worker_memory = 2048 * MB;
	sc->worker_timeout = 120;
	sc->worker_user = xstrdup("tiergate-worker");   /* a uid of its own; 61000 when the user does not exist */
	sc->quarantine_dir = xstrdup("/var/lib/tiergate/quarantine");
	sc->quarantine_retention_days = 90;
	sc->sendmail = xstrdup("/usr/sbin/sendmail");
	sc->release_socket = xstrdup("/run/tiergate/quarantined.sock");
	sc->admin_group = xstrdup("tiergate-admin");
	sc->release_approvals = 1;
	sc->requests_dir = xstrdup("/var/lib/tiergate/release-requests");
	sc->request_days = 14;
	sc->approver_ticket_seconds = 28800;
	sc->lockout_threshold = 5;            /* the bridge's defaults (vpn-bridge/config.c) */
	sc->lockout_source_threshold = 20;
	sc->lockout_base = 60;
	sc->lockout_max = 3600;
}

/* Every string a config owns, once: san_config_copy and san_config_free walk the same list. */
static const size_t config_owned_strings[] = {
	offsetof(struct san_config, worker_user), offsetof(struct san_config, quarantine_dir),
	offsetof(struct san_config, sendmail), offsetof(struct san_config, release_socket),
	offsetof(struct san_config, admin_group), offsetof(struct san_config, release_dir),
	offsetof(struct san_config, requests_dir), offsetof(struct san_config, portal_user),
	offsetof(struct san_config, token_key), offsetof(struct san_config, portal_url),
	offsetof(struct san_config, approvers), offsetof(struct san_config, user_release_root),
	offsetof(struct san_config, libreoffice), offsetof(struct san_config, events),
};

static char **
config_string_at(struct san_config *sc, size_t i)
{
	return (char **)((char *)sc + config_owned_strings[i]);
}

void
san_config_copy(struct san_config *dst, const struct san_config *src)
{
	*dst = *src;
	for (size_t i = 0; i < sizeof config_owned_strings / sizeof *config_owned_strings; i++) {
		char **field = config_string_at(dst, i);
		*field = *field ? xstrdup(*field) : NULL;
	}
}

void
san_config_free(struct san_config *sc)
{
	for (size_t i = 0; i < sizeof config_owned_strings / sizeof *config_owned_strings; i++)
		free(*config_string_at(sc, i));
	memset(sc, 0, sizeof *sc);
}

/* A string member replaces the default copy; "" clears optional ones. */
static int
config_str(const config_setting_t *g, const char *name, char **field, struct diags *d)
{
	const char *val = NULL;

	if (conf_get_str(g, name, &val, d) < 0)
		return -1;
	if (val != NULL) {
		free(*field);
		*field = *val ? xstrdup(val) : NULL;
	}
	return 0;
}

/* Sizes are written in MB in the file. */
static int
config_mb(const config_setting_t *g, const char *name, uint64_t max_mb, uint64_t *out, struct diags *d)
{
	long long mb = -1;

	if (conf_get_int(g, name, 1, (long long)max_mb, &mb, d) < 0)
		return -1;
	if (mb > 0)
		*out = (uint64_t)mb * MB;
	return 0;
}

static int
config_size(const config_setting_t *g, const char *name, uint64_t max_mb, size_t *out, struct diags *d)
{
	uint64_t v = *out;
	int rc = config_mb(g, name, max_mb, &v, d);

	*out = (size_t)v;
	return rc;
}

static int
config_megapixels(const config_setting_t *g, const char *name, uint64_t *out, struct diags *d)
{
	long long mp = -1;

	if (conf_get_int(g, name, 1, 10000, &mp, d) < 0)
		return -1;
	if (mp > 0)
		*out = (uint64_t)mp * 1000 * 1000;
	return 0;
}

static int
config_pdf(struct san_config *sc, const config_setting_t *g, struct diags *d)
{
	static const char *const known[] = { "dpi", "color", "codec", "jpeg_quality", "max_pages",
		"max_page_megapixels", NULL };
	static const char *const colors[] = { "color", "gray", NULL };
	static const char *const codecs[] = { "auto", "jpeg", "flate", NULL };
	int color = sc->gray, codec = (int)sc->codec, rc = 0;

	conf_check_members(g, known, d);
	rc |= conf_get_uint(g, "dpi", 600, &sc->dpi, d);
	rc |= conf_get_enum(g, "color", colors, &color, d);
	rc |= conf_get_enum(g, "codec", codecs, &codec, d);
	rc |= conf_get_uint(g, "jpeg_quality", 100, &sc->jpeg_quality, d);
	rc |= conf_get_uint(g, "max_pages", 100000, &sc->max_pages, d);
	rc |= config_megapixels(g, "max_page_megapixels", &sc->max_page_pixels, d);
	sc->gray = color == 1;
	sc->codec = (enum san_codec)codec;
	if (sc->dpi < 36) {
		diags_add(d, DIAG_ERROR, config_setting_get_member(g, "dpi"), "'dpi' must be at least 36");
		rc = -1;
	}
	if (sc->jpeg_quality < 10)
		sc->jpeg_quality = 10;
	return rc;
}

static int
config_images(struct san_config *sc, const config_setting_t *g, struct diags *d)
{
	static const char *const known[] = { "mode", "format", "max_megapixels", NULL };
	static const char *const modes[] = { "reencode", "pdf", NULL };
	static const char *const formats[] = { "png", "jpeg", NULL };
	int mode = (int)sc->image_mode, format = (int)sc->image_format, rc = 0;

	conf_check_members(g, known, d);
	rc |= conf_get_enum(g, "mode", modes, &mode, d);
	rc |= conf_get_enum(g, "format", formats, &format, d);
	rc |= config_megapixels(g, "max_megapixels", &sc->max_image_pixels, d);
	sc->image_mode = (enum san_image_mode)mode;
	sc->image_format = (enum san_image_format)format;
	return rc;
}

static int
config_archive(struct san_config *sc, const config_setting_t *g, struct diags *d)
{
	static const char *const known[] = { "max_depth", "max_members", "max_total_mb",
		"max_ratio", NULL };
	int rc = 0;

	conf_check_members(g, known, d);
	rc |= conf_get_uint(g, "max_depth", 16, &sc->archive_max_depth, d);
	rc |= conf_get_uint(g, "max_members", 100000, &sc->archive_max_members, d);
	rc |= config_mb(g, "max_total_mb", 1 << 20, &sc->archive_max_total, d);
	rc |= conf_get_uint(g, "max_ratio", 100000, &sc->archive_max_ratio, d);
	return rc;
}

static int
config_office(struct san_config *sc, const config_setting_t *g, struct diags *d)
{
	static const char *const known[] = { "max_member_mb", "max_total_mb", "libreoffice", "output",
		"slots", "timeout_seconds", "memory_mb", "max_documents", NULL };
	static const char *const outputs[] = { "both", "image", "text", NULL };
	const char *output = NULL;
	int rc = 0;

	conf_check_members(g, known, d);
	rc |= config_mb(g, "max_member_mb", 4096, &sc->office_max_member, d);
	rc |= config_mb(g, "max_total_mb", 4096, &sc->office_max_total, d);
	rc |= config_str(g, "libreoffice", &sc->libreoffice, d);
	rc |= conf_get_str(g, "output", &output, d);
	for (int i = 0; output && outputs[i]; i++)
		if (strcmp(output, outputs[i]) == 0) {
			sc->office_output = (enum san_office_output)i;
			output = NULL;
		}
	if (output) {
		diags_add(d, DIAG_ERROR, config_setting_get_member(g, "output"),
		    "'output' must be \"image\", \"text\" or \"both\"");
		rc = -1;
	}
	rc |= conf_get_uint(g, "slots", 16, &sc->office_slots, d);
	rc |= conf_get_uint(g, "timeout_seconds", 3600, &sc->office_timeout, d);
	rc |= config_mb(g, "memory_mb", 1 << 20, &sc->office_memory, d);
	rc |= conf_get_uint(g, "max_documents", 1000000, &sc->office_max_documents, d);
	if (sc->office_slots == 0)
		sc->office_slots = 1;
	if (sc->office_timeout == 0)
		sc->office_timeout = 1;
	return rc;
}

static int
config_worker(struct san_config *sc, const config_setting_t *g, struct diags *d)
{
	static const char *const known[] = { "cpu_seconds", "memory_mb", "timeout_seconds",
		"user", "threads", NULL };
	int rc = 0;

	conf_check_members(g, known, d);
	rc |= conf_get_uint(g, "cpu_seconds", 86400, &sc->worker_cpu_seconds, d);
	rc |= config_mb(g, "memory_mb", 1 << 20, &sc->worker_memory, d);
	rc |= conf_get_uint(g, "timeout_seconds", 86400, &sc->worker_timeout, d);
	rc |= config_str(g, "user", &sc->worker_user, d);
	rc |= conf_get_uint(g, "threads", 64, &sc->worker_threads, d);
	if (sc->worker_cpu_seconds == 0)
		sc->worker_cpu_seconds = 1;
	if (sc->worker_timeout == 0)
		sc->worker_timeout = 1;
	return rc;
}

/* Approvers' logins, checked by the release daemon with the bridge's lockout rules. */
static int
config_release_logins(struct san_config *sc, const config_setting_t *g, struct diags *d)
{
	int rc = 0;

	rc |= config_str(g, "approvers", &sc->approvers, d);
	rc |= config_str(g, "user_release_root", &sc->user_release_root, d);
	rc |= conf_get_uint(g, "approver_ticket_seconds", 7 * 86400, &sc->approver_ticket_seconds, d);
	rc |= conf_get_uint(g, "lockout_threshold", 1000, &sc->lockout_threshold, d);
	rc |= conf_get_uint(g, "lockout_source_threshold", 100000, &sc->lockout_source_threshold, d);
	rc |= conf_get_uint(g, "lockout_base", 86400, &sc->lockout_base, d);
	rc |= conf_get_uint(g, "lockout_max", 7 * 86400, &sc->lockout_max, d);
	if (sc->approver_ticket_seconds == 0 || sc->lockout_threshold == 0 || sc->lockout_source_threshold == 0) {
		diags_add(d, DIAG_ERROR, g, "approver_ticket_seconds and the lockout thresholds must be positive");
		rc = -1;
	}
	if (sc->user_release_root && sc->user_release_root[0] != '/') {
		diags_add(d, DIAG_ERROR, config_setting_get_member(g, "user_release_root"),
		    "'user_release_root' must be an absolute path");
		rc = -1;
	}
	return rc;
}

/* The release daemon's settings live beside the store they release from. */
static int
config_release(struct san_config *sc, const config_setting_t *g, struct diags *d)
{
	int rc = 0;

	rc |= config_str(g, "release_socket", &sc->release_socket, d);
	rc |= config_str(g, "admin_group", &sc->admin_group, d);
	if (conf_get_uint(g, "release_approvals", 2, &sc->release_approvals, d) < 0 ||
	    sc->release_approvals == 0) {
		if (sc->release_approvals == 0)
			diags_add(d, DIAG_ERROR, config_setting_get_member(g, "release_approvals"),
			    "'release_approvals' must be 1 or 2");
		rc = -1;
	}
	rc |= config_str(g, "release_dir", &sc->release_dir, d);
	rc |= config_str(g, "requests_dir", &sc->requests_dir, d);
	rc |= config_str(g, "portal_user", &sc->portal_user, d);
	rc |= config_str(g, "token_key", &sc->token_key, d);
	rc |= conf_get_uint(g, "request_days", 365, &sc->request_days, d);
	rc |= config_str(g, "portal_url", &sc->portal_url, d);
	rc |= config_release_logins(sc, g, d);
	if (sc->release_dir && sc->release_dir[0] != '/') {
		diags_add(d, DIAG_ERROR, config_setting_get_member(g, "release_dir"),
		    "'release_dir' must be an absolute path");
		rc = -1;
	}
	return rc;
}

static int
config_quarantine(struct san_config *sc, const config_setting_t *g, struct diags *d)
{
	static const char *const known[] = { "dir", "retention_days", "sendmail", "release_socket",
		"admin_group", "release_approvals", "release_dir", "requests_dir", "portal_user",
		"token_key", "request_days", "portal_url", "approvers", "approver_ticket_seconds", "lockout_threshold",
		"lockout_source_threshold", "lockout_base", "lockout_max", "user_release_root", NULL };
	int rc = 0;

	conf_check_members(g, known, d);
	rc |= config_str(g, "dir", &sc->quarantine_dir, d);
	rc |= conf_get_uint(g, "retention_days", 36500, &sc->quarantine_retention_days, d);
	rc |= config_str(g, "sendmail", &sc->sendmail, d);
	rc |= config_release(sc, g, d);
	if (sc->quarantine_dir == NULL) {
		diags_add(d, DIAG_ERROR, g, "'dir' must name the quarantine directory");
		rc = -1;
	}
	return rc;
}

typedef int (*config_group_fn)(struct san_config *, const config_setting_t *, struct diags *);

static int
config_group(struct san_config *sc, const config_setting_t *parent, const char *name,
    config_group_fn fn, struct diags *d)
{
	const config_setting_t *g = config_setting_get_member(parent, name);

	if (g == NULL)
		return 0;
	if (!config_setting_is_group(g)) {
		diags_add(d, DIAG_ERROR, g, "'%s' must be a group { ... }", name);
		return -1;
	}
	return fn(sc, g, d);
}

int
san_config_load(struct san_config *sc, const config_setting_t *root, struct diags *d)
{
	static const char *const known[] = { "pdf", "images", "archive", "office", "worker",
		"quarantine", "max_input_mb", "max_output_mb", "max_text_mb", "events", NULL };
	const config_setting_t *g = root ? config_setting_get_member(root, "sanitizer") : NULL;
	size_t errors_before = diags_count(d, DIAG_ERROR);

	if (g == NULL)
		return 0;
	if (!config_setting_is_group(g)) {
		diags_add(d, DIAG_ERROR, g, "'sanitizer' must be a group { ... }");
		return -1;
	}
	conf_check_members(g, known, d);
	config_group(sc, g, "pdf", config_pdf, d);
	config_group(sc, g, "images", config_images, d);
	config_group(sc, g, "archive", config_archive, d);
	config_group(sc, g, "office", config_office, d);
	config_group(sc, g, "worker", config_worker, d);
	config_group(sc, g, "quarantine", config_quarantine, d);
	config_size(g, "max_input_mb", 1 << 16, &sc->max_input_bytes, d);
	config_size(g, "max_output_mb", 1 << 16, &sc->max_output_bytes, d);
	config_size(g, "max_text_mb", 1 << 16, &sc->max_text_bytes, d);
	config_str(g, "events", &sc->events, d);
	return diags_count(d, DIAG_ERROR) > errors_before ? -1 : 0;
}

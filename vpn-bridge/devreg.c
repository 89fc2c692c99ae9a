/* devreg.c -- loads the device registry file and looks devices up by certificate fingerprint. */
#include "vpn-bridge/devreg.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "lib/util.h"

int
devreg_normalize_fp(const char *text, char out[BRIDGE_FP_HEX])
{
	size_t used = 0;

	for (; *text; text++) {
		if (*text == ':')
			continue;
		if (!isxdigit((unsigned char)*text) || used == BRIDGE_FP_HEX - 1)
			return -1;
		out[used++] = (char)tolower((unsigned char)*text);
	}
	out[used] = '\0';
	return used == BRIDGE_FP_HEX - 1 ? 0 : -1;
}

/* "YYYY-MM-DD" (valid through that day, UTC) or "YYYY-MM-DDTHH:MM:SSZ" (valid up to that second). */
static int
devreg_parse_date(const char *text, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof tm);
	end = strptime(text, "%Y-%m-%d", &tm);
	if (end != NULL && *end == 'T') {
		end = strptime(end + 1, "%H:%M:%S", &tm);
		if (end == NULL || strcmp(end, "Z") != 0)
			return -1;
	} else if (end != NULL && *end == '\0') {
		tm.tm_hour = 23;
		tm.tm_min = 59;
		tm.tm_sec = 59;
	} else
		return -1;
	*out = timegm(&tm);
	return 0;
}

static void
devreg_parse_one(struct devreg_device *dev, config_setting_t *g, struct diags *d)
{
	static const char *const known[] = { "fingerprint", "owner", "label", "revoked",
		"not_after", NULL };
	const char *fp = "", *owner = "", *label = "", *not_after = NULL;

	conf_check_members(g, known, d);
	conf_get_str(g, "fingerprint", &fp, d);
	conf_get_str(g, "owner", &owner, d);
	conf_get_str(g, "label", &label, d);
	conf_get_bool(g, "revoked", &dev->revoked, d);
	conf_get_str(g, "not_after", &not_after, d);
	if (devreg_normalize_fp(fp, dev->fp) < 0)
		diags_add(d, DIAG_ERROR, g, "fingerprint must be a SHA-256 in hex");
	if (owner[0] == '\0' || str_copy(dev->owner, owner, sizeof dev->owner) >= sizeof dev->owner)
		diags_add(d, DIAG_ERROR, g, "a device needs an owner (user or @group)");
	str_copy(dev->label, label, sizeof dev->label);
	if (not_after && devreg_parse_date(not_after, &dev->not_after) < 0)
		diags_add(d, DIAG_ERROR, g, "not_after must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
}

static int
devreg_load(struct devreg *r, struct diags *d)
{
	config_t cfg;
	config_setting_t *list;
	struct stat st;
	int rc = 0;

	free(r->v);
	r->v = NULL;
	r->n = 0;
	if (stat(r->path, &st) < 0)
		return -1;
	config_init(&cfg);
	if (conf_load(&cfg, r->path, d) < 0) {
		config_destroy(&cfg);
		return -1;
	}
	list = config_lookup(&cfg, "devices");
	if (list != NULL && config_setting_is_list(list)) {
		r->v = xcalloc((size_t)config_setting_length(list) + 1, sizeof *r->v);
		for (int i = 0; i < config_setting_length(list); i++)
			devreg_parse_one(&r->v[r->n++], config_setting_get_elem(list, (unsigned)i), d);
	}
	if (diags_count(d, DIAG_ERROR) > 0)
		rc = -1;
	config_destroy(&cfg);
	r->mtime = st.st_mtim;
	r->ino = st.st_ino;
	return rc;
}

int
devreg_open(struct devreg *r, const char *path, struct diags *d)
{
	memset(r, 0, sizeof *r);
	r->path = xstrdup(path);
	return devreg_load(r, d);
}

void
devreg_close(struct devreg *r)
{
	free(r->v);
	free(r->path);
	memset(r, 0, sizeof *r);
}

bool
devreg_changed(const struct devreg *r)
{
	struct stat st;

	if (stat(r->path, &st) < 0)
		return r->n > 0;   /* a removed registry refuses every device */
	return st.st_ino != r->ino || st.st_mtim.tv_sec != r->mtime.tv_sec ||
	    st.st_mtim.tv_nsec != r->mtime.tv_nsec;
}

int
devreg_refresh(struct devreg *r)
{
	struct diags d;
	int rc;

	if (!devreg_changed(r))
		return 0;
	diags_init(&d, r->path);
	rc = devreg_load(r, &d);
	/* A broken registry refuses every device (fail closed) and says why. */
	diags_log(&d);
	diags_free(&d);
	if (rc < 0)
		r->n = 0;
	return rc;
}

const struct devreg_device *
devreg_find(const struct devreg *r, const char *fp)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].fp, fp) == 0)
			return &r->v[i];
	return NULL;
}

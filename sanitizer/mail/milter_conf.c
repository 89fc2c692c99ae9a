/* milter_conf.c -- the `milter` group of the site file: what tiergate-milter sanitizes and how. */
#include "sanitizer/mail/milter_conf.h"

#include <stdio.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "lib/evforward.h"
#include "sanitizer/internal.h"

void
milter_config_defaults(struct milter_config *mc)
{
	memset(mc, 0, sizeof *mc);
	mc->listen = xstrdup("inet:10025@127.0.0.1");
	mc->sanitize_all = true;
	mc->max_message_bytes = 50u << 20;
	mc->spill_bytes = 1u << 20;
	mc->spool_dir = xstrdup("/var/spool/tiergate/milter");
	mc->timeout = 300;
	mc->max_workers = 4;
	mc->parser_uid_base = 61000;
	mail_config_defaults(&mc->mail);
}

static void
milter_conf_strdup(char **dst, const char *value)
{
	if (value == NULL)
		return;
	free(*dst);
	*dst = xstrdup(value);
}

/* A list of strings (array); lower-cased copies. */
static int
milter_conf_list(const config_setting_t *group, const char *name, char ***out, size_t *n,
    struct diags *d)
{
	config_setting_t *list = config_setting_get_member(group, name);
	int count;

	if (list == NULL)
		return 0;
	if (!config_setting_is_array(list) && !config_setting_is_list(list)) {
		diags_add(d, DIAG_ERROR, list, "milter.%s must be a list of strings", name);
		return -1;
	}
	count = config_setting_length(list);
	*out = xcalloc((size_t)count + 1, sizeof **out);
	for (int i = 0; i < count; i++) {
		const char *v = config_setting_get_string_elem(list, i);
		if (v == NULL) {
			diags_add(d, DIAG_ERROR, list, "milter.%s[%d] must be a string", name, i);
			return -1;
		}
		(*out)[(*n)++] = xstrdup(v);
		for (char *c = (*out)[*n - 1]; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
	}
	return 0;
}

/* A size member in units (MB, KB) into bytes; absent leaves *bytes. */
static int
milter_conf_size(const config_setting_t *g, const char *name, long long max_units, size_t unit,
    size_t *bytes, struct diags *d)
{
	long long v = (long long)(*bytes / unit);
	int rc = conf_get_int(g, name, 1, max_units, &v, d);

	*bytes = (size_t)v * unit;
	return rc;
}

static int
milter_conf_sizes(struct milter_config *mc, const config_setting_t *g, struct diags *d)
{
	int rc = 0;

	rc |= milter_conf_size(g, "max_message_mb", 4096, 1u << 20, &mc->max_message_bytes, d);
	mc->mail.max_message_bytes = mc->max_message_bytes;
	rc |= milter_conf_size(g, "spill_kb", 1 << 22, 1u << 10, &mc->spill_bytes, d);
	rc |= milter_conf_size(g, "max_output_mb", 4096, 1u << 20, &mc->mail.max_output_bytes, d);
	rc |= conf_get_uint(g, "max_depth", 20, &mc->mail.max_depth, d);
	rc |= conf_get_uint(g, "max_parts", 100000, &mc->mail.max_parts, d);
	rc |= conf_get_uint(g, "timeout_seconds", 3600, &mc->timeout, d);
	rc |= conf_get_uint(g, "max_workers", 256, &mc->max_workers, d);
	rc |= conf_get_uint(g, "parser_uid_base", 4000000000u, &mc->parser_uid_base, d);
	if (mc->parser_uid_base != 0 && mc->parser_uid_base < 1000) {
		diags_add(d, DIAG_ERROR, config_setting_get_member(g, "parser_uid_base"),
		    "milter.parser_uid_base must be 0 (off) or at least 1000 (uids base .. base+max_workers-1 "
		    "must belong to nobody)");
		rc = -1;
	}
	return rc ? -1 : 0;
}

int
milter_config_load(struct milter_config *mc, const config_setting_t *root, struct diags *d)
{
	static const char *const known[] = { "listen", "sanitize_all", "recipient_domains",
		"daemon_names", "max_message_mb", "spill_kb", "max_output_mb", "max_depth",
		"max_parts", "timeout_seconds", "max_workers", "spool_dir", "events", "notice_language", "parser_uid_base", NULL };
	static const char *const langs[] = { "ja-en", "ja", "en", NULL };
	const config_setting_t *g = root ? config_setting_get_member(root, "milter") : NULL;
	const char *s;
	int rc = 0, lang = (int)mc->mail.notice_lang;

	if (g == NULL)
		return 0;
	conf_check_members(g, known, d);
	s = NULL;
	rc |= conf_get_str(g, "listen", &s, d);
	milter_conf_strdup(&mc->listen, s);
	s = NULL;
	rc |= conf_get_str(g, "spool_dir", &s, d);
	milter_conf_strdup(&mc->spool_dir, s);
	s = NULL;
	rc |= conf_get_str(g, "events", &s, d);
	milter_conf_strdup(&mc->events, s);
	rc |= conf_get_bool(g, "sanitize_all", &mc->sanitize_all, d);
	rc |= conf_get_enum(g, "notice_language", langs, &lang, d);
	mc->mail.notice_lang = (enum mail_notice_lang)lang;
	rc |= milter_conf_list(g, "recipient_domains", &mc->recipient_domains,
	    &mc->n_recipient_domains, d);
	rc |= milter_conf_list(g, "daemon_names", &mc->daemon_names, &mc->n_daemon_names, d);
	rc |= milter_conf_sizes(mc, g, d);
	if (strncmp(mc->listen, "inet:", 5) != 0 && strncmp(mc->listen, "inet6:", 6) != 0 &&
	    strncmp(mc->listen, "unix:", 5) != 0) {
		diags_add(d, DIAG_ERROR, config_setting_get_member(g, "listen"),
		    "milter.listen must be inet:PORT@127.0.0.1 (Postfix's smtpd is chrooted) or unix:PATH");
		rc = -1;
	}
	return rc ? -1 : 0;
}

static void
milter_conf_free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void
milter_config_free(struct milter_config *mc)
{
	free(mc->listen);
	free(mc->spool_dir);
	free(mc->events);
	milter_conf_free_list(mc->recipient_domains, mc->n_recipient_domains);
	milter_conf_free_list(mc->daemon_names, mc->n_daemon_names);
	memset(mc, 0, sizeof *mc);
}

/*
 * The parser's uids (base .. base+max_workers-1) must be nobody's: not the
 * file worker's user, not an account in the passwd database.
 */
static void
milter_conf_parser_uids(const struct san_config *sc, const struct milter_config *mc,
    const config_setting_t *root, struct diags *d)
{
	const config_setting_t *g = root ? config_setting_get_member(root, "milter") : NULL;
	const config_setting_t *where = g ? config_setting_get_member(g, "parser_uid_base") : NULL;
	struct passwd pw, *found = NULL;
	char buf[4096];
	unsigned n = mc->max_workers ? mc->max_workers : 1;
	uid_t worker_uid;
	gid_t worker_gid;

	if (mc->parser_uid_base == 0)
		return;
	if (mc->parser_uid_base > 4000000000u - n) {
		diags_add(d, DIAG_ERROR, where, "milter.parser_uid_base + max_workers is out of range");
		return;
	}
	if (sandbox_worker_ids(sc->worker_user, &worker_uid, &worker_gid) &&
	    worker_uid >= mc->parser_uid_base && worker_uid < mc->parser_uid_base + n)
		diags_add(d, DIAG_ERROR, where, "milter.parser_uid_base: uid %u is the file worker's (%s)",
		    (unsigned)worker_uid, sc->worker_user);
	for (unsigned i = 0; i < n; i++) {
		found = NULL;
		if (getpwuid_r(mc->parser_uid_base + i, &pw, buf, sizeof buf, &found) == 0 && found) {
			diags_add(d, DIAG_ERROR, where, "milter.parser_uid_base: uid %u belongs to %s; the "
			    "parser uids must belong to nobody", mc->parser_uid_base + i, found->pw_name);
			return;
		}
	}
}

int
milter_config_read(const char *path, struct san_config *sc, struct milter_config *mc)
{
	config_t cfg;
	struct diags d;
	int rc = 0;

	san_config_defaults(sc);
	milter_config_defaults(mc);
	if (path == NULL)
		return 0;
	config_init(&cfg);
	diags_init(&d, path);
	if (conf_load(&cfg, path, &d) < 0 ||
	    san_config_load(sc, config_root_setting(&cfg), &d) < 0 ||
	    milter_config_load(mc, config_root_setting(&cfg), &d) < 0 ||
	    ev_forward_configure(&cfg, "tiergate-milter", &d) < 0)
		rc = -1;
	if (rc == 0) {
		milter_conf_parser_uids(sc, mc, config_root_setting(&cfg), &d);
		if (diags_count(&d, DIAG_ERROR) > 0)
			rc = -1;
	}
	diags_print(&d, stderr);
	diags_free(&d);
	config_destroy(&cfg);
	return rc;
}

/* portal_conf.c -- the "portal" group of the site file into struct portal_conf (FILE:LINE for every problem). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf.h"
#include "lib/util.h"
#include "sanitizer/portal.h"

static int
portal_conf_str(const config_setting_t *g, const char *name, char **field, struct diags *d)
{
	const char *v = NULL;

	if (conf_get_str(g, name, &v, d) < 0)
		return -1;
	if (v) {
		free(*field);
		*field = xstrdup(v);
	}
	return 0;
}

static int
portal_conf_group(struct portal_conf *c, const config_setting_t *g, struct diags *d)
{
	static const char *const known[] = { "listen", "cert", "key", "socket", "user", "events",
		"session_idle_seconds", "session_max_seconds", "posts_per_minute", NULL };
	static const char *const moved[] = { "users", "lockout_failures", "lockout_seconds", NULL };
	static const char *const required[] = { "cert", "key", NULL };
	int rc = 0;

	for (int i = 0; moved[i]; i++)
		if (config_setting_get_member(g, moved[i]) != NULL) {
			diags_add(d, DIAG_ERROR, config_setting_get_member(g, moved[i]), "portal: '%s' is gone: approvers "
			    "and their lockout are tiergate-quarantined's (sanitizer.quarantine.approvers, lockout_*)", moved[i]);
			rc = -1;
		}
	conf_check_members(g, known, d);
	rc |= portal_conf_str(g, "listen", &c->listen, d);
	rc |= portal_conf_str(g, "cert", &c->cert, d);
	rc |= portal_conf_str(g, "key", &c->key, d);
	rc |= portal_conf_str(g, "socket", &c->socket, d);
	rc |= portal_conf_str(g, "user", &c->user, d);
	rc |= portal_conf_str(g, "events", &c->events, d);
	rc |= conf_get_uint(g, "session_idle_seconds", 86400, &c->idle_seconds, d);
	rc |= conf_get_uint(g, "session_max_seconds", 7 * 86400, &c->max_seconds, d);
	rc |= conf_get_uint(g, "posts_per_minute", 10000, &c->posts_per_minute, d);
	for (int i = 0; required[i]; i++)
		if (config_setting_get_member(g, required[i]) == NULL) {
			diags_add(d, DIAG_ERROR, g, "portal: '%s' is required", required[i]);
			rc = -1;
		}
	if (c->idle_seconds == 0 || c->max_seconds < c->idle_seconds) {
		diags_add(d, DIAG_ERROR, g, "portal: timeouts must be positive, "
		    "session_max_seconds >= session_idle_seconds");
		rc = -1;
	}
	return rc;
}

int
portal_conf_load(struct portal_conf *c, const char *path)
{
	config_t cfg;
	struct diags d;
	const config_setting_t *g;
	int rc = 0;

	memset(c, 0, sizeof *c);
	c->listen = xstrdup("127.0.0.1:8443");
	c->socket = xstrdup("/run/tiergate/quarantined.sock");
	c->idle_seconds = 900;
	c->max_seconds = 28800;
	c->posts_per_minute = 20;
	config_init(&cfg);
	diags_init(&d, path);
	if (conf_load(&cfg, path, &d) < 0) {
		rc = -1;
	} else if ((g = config_setting_get_member(config_root_setting(&cfg), "portal")) == NULL ||
	    !config_setting_is_group(g)) {
		diags_add(&d, DIAG_ERROR, NULL, "no 'portal' group");
		rc = -1;
	} else if (portal_conf_group(c, g, &d) < 0 || diags_count(&d, DIAG_ERROR) > 0) {
		rc = -1;
	}
	diags_print(&d, stderr);
	diags_free(&d);
	config_destroy(&cfg);
	return rc;
}

void
portal_conf_free(struct portal_conf *c)
{
	free(c->listen);
	free(c->cert);
	free(c->key);
	free(c->socket);
	free(c->user);
	free(c->events);
	memset(c, 0, sizeof *c);
}

/* config.c -- parses the `bridge` and `asp` groups into struct bridge_conf, with FILE:LINE diagnostics. */
#include "vpn-bridge/config.h"

#include <limits.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"
#include "lib/evforward.h"
#include "vpn-bridge/screenproto.h"

static const char *const bconf_bridge_members[] = {
	"listen", "certificates", "ca", "crl", "crl_expired", "relay_landlock", "tls_min", "tls_max", "ciphers", "ciphersuites",
	"devices", "users", "events", "control_socket", "user", "workers", "key_process", "cpu_affinity",
	"require_device",
	"totp_window", "totp_digits", "totp_step", "lockout_threshold", "lockout_source_threshold", "lockout_base",
	"lockout_max", "token_lifetime", "handshake_timeout", "request_timeout",
	"connect_timeout", "idle_timeout", "max_session", "max_sessions_per_user",
	"max_half_open", "max_half_open_per_source", "half_open_reserve", "max_conns_per_source",
	"max_conns", "groups", "grants", NULL
};
static const char *const bconf_asp_members[] = {
	"services", "state_file", "check_interval", "warn_days", "timeout", "max_result_age",
	"forbidden_ciphers", "allow_cbc", NULL
};

/*
 * Paths in the file are relative to the directory of the file that sets them.
 * libconfig names an @included file relative to the include directory (the
 * main file's), so that directory is kept here while one file is loaded.
 */
static const char *bconf_main_path;

static size_t
bconf_dirlen(const char *file)
{
	const char *slash = file ? strrchr(file, '/') : NULL;

	return slash ? (size_t)(slash - file) : 0;
}

static char *
bconf_path(const config_setting_t *where, const char *value)
{
	const char *file = conf_file(where);
	size_t mainlen = 0, dirlen = bconf_dirlen(file), len;
	char *out;

	if (value[0] == '/')
		return xstrdup(value);
	if (file == NULL || file[0] != '/')
		mainlen = bconf_dirlen(bconf_main_path);
	len = mainlen + dirlen + strlen(value) + 3;
	out = xmalloc(len);
	snprintf(out, len, "%.*s%s%.*s%s%s", (int)mainlen, bconf_main_path ? bconf_main_path : "",
	    mainlen ? "/" : "", (int)dirlen, file ? file : "", dirlen ? "/" : "", value);
	return out;
}

static void
bconf_get_path(const config_setting_t *group, const char *name, char **out, struct diags *d)
{
	const char *value = NULL;

	if (conf_get_str(group, name, &value, d) == 0 && value != NULL && value[0] != '\0') {
		free(*out);
		*out = bconf_path(config_setting_get_member(group, name), value);
	}
}

static void
bconf_get_string(const config_setting_t *group, const char *name, char **out, struct diags *d)
{
	const char *value = NULL;

	if (conf_get_str(group, name, &value, d) == 0 && value != NULL) {
		free(*out);
		*out = xstrdup(value);
	}
}

/* A list of strings ("who", "members", "forbidden_ciphers"). */
static int
bconf_get_strings(const config_setting_t *group, const char *name, char ***out, size_t *n,
    struct diags *d)
{
	config_setting_t *list = config_setting_get_member(group, name);
	int count;

	if (list == NULL)
		return 0;
	if (!config_setting_is_aggregate(list)) {
		diags_add(d, DIAG_ERROR, list, "'%s' must be a list of strings", name);
		return -1;
	}
	count = config_setting_length(list);
	*out = xcalloc((size_t)count + 1, sizeof **out);
	for (int i = 0; i < count; i++) {
		config_setting_t *elem = config_setting_get_elem(list, (unsigned)i);
		if (config_setting_type(elem) != CONFIG_TYPE_STRING) {
			diags_add(d, DIAG_ERROR, elem, "'%s' must hold strings only", name);
			continue;
		}
		(*out)[(*n)++] = xstrdup(config_setting_get_string(elem));
	}
	return 0;
}

/* "host:port", "[v6]:port" or ":port". */
static int
bconf_parse_listen(struct bridge_conf *c, const char *text)
{
	const char *colon = strrchr(text, ':');
	unsigned long port;
	size_t hostlen;

	if (colon == NULL || parse_ulong(colon + 1, 65535, &port) < 0 || port == 0)
		return -1;
	hostlen = (size_t)(colon - text);
	if (hostlen >= 2 && text[0] == '[' && text[hostlen - 1] == ']') {
		text++;
		hostlen -= 2;
	}
	free(c->listen_host);
	c->listen_host = strndup(text, hostlen);
	c->listen_port = (uint16_t)port;
	return 0;
}

static int
bconf_parse_ports(const char *text, uint16_t *lo, uint16_t *hi)
{
	char buf[16];
	char *dash;
	unsigned long a, b;

	if (str_copy(buf, text, sizeof buf) >= sizeof buf)
		return -1;
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (parse_ulong(buf, 65535, &a) < 0 || a == 0)
		return -1;
	b = a;
	if (dash && (parse_ulong(dash + 1, 65535, &b) < 0 || b < a))
		return -1;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

int
bconf_dest_parse(const char *text, struct bconf_dest *out, const char **why)
{
	char net[128];
	const char *colon;
	size_t netlen;

	memset(out, 0, sizeof *out);
	if (str_has_prefix(text, "asp:")) {
		out->is_asp = true;
		out->asp_name = xstrdup(text + 4);
		return 0;
	}
	colon = strrchr(text, ':');
	if (colon == NULL || (text[0] == '[' && colon[-1] != ']')) {
		*why = "expected NETWORK:PORT[-PORT] or asp:NAME";
		return -1;
	}
	netlen = (size_t)(colon - text);
	if (text[0] == '[') {
		text++;
		netlen -= 2;
	}
	if (netlen >= sizeof net) {
		*why = "network too long";
		return -1;
	}
	memcpy(net, text, netlen);
	net[netlen] = '\0';
	if (prefix_parse(net, &out->net, why) < 0)
		return -1;
	if (bconf_parse_ports(colon + 1, &out->port_lo, &out->port_hi) < 0) {
		*why = "bad port or port range";
		return -1;
	}
	return 0;
}

static void
bconf_parse_certs(struct bridge_conf *c, const config_setting_t *bridge, struct diags *d)
{
	config_setting_t *list = config_setting_get_member(bridge, "certificates");
	static const char *const known[] = { "cert", "key", NULL };

	if (list == NULL || !config_setting_is_list(list)) {
		diags_add(d, DIAG_ERROR, list ? list : bridge,
		    "bridge.certificates: a list of { cert = \"...\"; key = \"...\"; } is required");
		return;
	}
	for (int i = 0; i < config_setting_length(list); i++) {
		config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		struct bconf_cert *cert;
		if (c->n_certs == ARRAY_LEN(c->certs)) {
			diags_add(d, DIAG_ERROR, g, "at most %zu certificates", ARRAY_LEN(c->certs));
			return;
		}
		cert = &c->certs[c->n_certs++];
		conf_check_members(g, known, d);
		bconf_get_path(g, "cert", &cert->cert_file, d);
		bconf_get_path(g, "key", &cert->key_file, d);
		if (cert->cert_file == NULL || cert->key_file == NULL)
			diags_add(d, DIAG_ERROR, g, "a certificate needs both 'cert' and 'key'");
	}
}

static void
bconf_parse_groups(struct bridge_conf *c, const config_setting_t *bridge, struct diags *d)
{
	config_setting_t *list = config_setting_get_member(bridge, "groups");
	static const char *const known[] = { "name", "members", "comment", NULL };

	if (list == NULL)
		return;
	c->groups = xcalloc((size_t)config_setting_length(list) + 1, sizeof *c->groups);
	for (int i = 0; i < config_setting_length(list); i++) {
		config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		struct bconf_group *group = &c->groups[c->n_groups++];
		conf_check_members(g, known, d);
		bconf_get_string(g, "name", &group->name, d);
		bconf_get_strings(g, "members", &group->members, &group->n_members, d);
		if (group->name == NULL)
			diags_add(d, DIAG_ERROR, g, "a group needs a 'name'");
	}
}

/*
 * What the bridge lets through a grant's tunnels (issue 21: telework is screen transfer):
 * `protocols = [ "rdp", "vnc" ]`; a telework grant (class "telework", the default) that
 * lists none carries RDP only; other classes are not checked unless they list some.
 */
static void
bconf_parse_grant_protocols(struct bconf_grant *grant, config_setting_t *g, struct diags *d)
{
	const char *cls = "telework";
	char **names = NULL;
	size_t n = 0;

	config_setting_lookup_string(g, "class", &cls);
	bconf_get_strings(g, "protocols", &names, &n, d);
	for (size_t i = 0; i < n; i++) {
		unsigned bit = screenproto_from_name(names[i]);
		if (bit == 0)
			diags_add(d, DIAG_ERROR, config_setting_get_member(g, "protocols"),
			    "protocol \"%s\" is not a screen protocol the bridge knows (rdp, vnc)", names[i]);
		grant->protocols |= bit;
		free(names[i]);
	}
	free(names);
	if (n == 0 && strcmp(cls, "telework") == 0)
		grant->protocols = SCREENPROTO_RDP;
}

static void
bconf_parse_grant(struct bconf_grant *grant, config_setting_t *g, struct diags *d)
{
	static const char *const known[] = { "name", "who", "to", "class", "protocols", "comment", NULL };
	char **to = NULL;
	size_t n_to = 0;

	conf_check_members(g, known, d);
	bconf_parse_grant_protocols(grant, g, d);
	bconf_get_string(g, "name", &grant->name, d);
	bconf_get_strings(g, "who", &grant->who, &grant->n_who, d);
	bconf_get_strings(g, "to", &to, &n_to, d);
	if (grant->n_who == 0 || n_to == 0)
		diags_add(d, DIAG_ERROR, g, "a grant needs 'who' and 'to'");
	grant->dests = xcalloc(n_to + 1, sizeof *grant->dests);
	for (size_t i = 0; i < n_to; i++) {
		const char *why = "";
		if (bconf_dest_parse(to[i], &grant->dests[grant->n_dests], &why) < 0)
			diags_add(d, DIAG_ERROR, config_setting_get_member(g, "to"),
			    "grant destination \"%s\": %s", to[i], why);
		else
			grant->n_dests++;
		free(to[i]);
	}
	free(to);
}

static void
bconf_parse_grants(struct bridge_conf *c, const config_setting_t *bridge, struct diags *d)
{
	config_setting_t *list = config_setting_get_member(bridge, "grants");

	if (list == NULL)
		return;
	c->grants = xcalloc((size_t)config_setting_length(list) + 1, sizeof *c->grants);
	for (int i = 0; i < config_setting_length(list); i++)
		bconf_parse_grant(&c->grants[c->n_grants++],
		    config_setting_get_elem(list, (unsigned)i), d);
}

/* crl_expired = "refuse" (the default) | "warn": what a CRL past its nextUpdate means. */
static void
bconf_parse_crl_expired(struct bridge_conf *c, const config_setting_t *bridge, struct diags *d)
{
	const char *mode = NULL;

	if (conf_get_str(bridge, "crl_expired", &mode, d) < 0 || mode == NULL)
		return;
	if (strcmp(mode, "warn") == 0)
		c->crl_expired_warn = true;
	else if (strcmp(mode, "refuse") != 0)
		diags_add(d, DIAG_ERROR, config_setting_get_member(bridge, "crl_expired"),
		    "crl_expired = \"%s\": expected \"refuse\" or \"warn\"", mode);
}

/* relay_landlock = "require" (the default) | "best-effort": a kernel without Landlock stops the relay, or not. */
static void
bconf_parse_relay_landlock(struct bridge_conf *c, const config_setting_t *bridge, struct diags *d)
{
	const char *mode = NULL;

	if (conf_get_str(bridge, "relay_landlock", &mode, d) < 0 || mode == NULL)
		return;
	if (strcmp(mode, "best-effort") == 0)
		c->relay_landlock_best_effort = true;
	else if (strcmp(mode, "require") != 0)
		diags_add(d, DIAG_ERROR, config_setting_get_member(bridge, "relay_landlock"),
		    "relay_landlock = \"%s\": expected \"require\" or \"best-effort\"", mode);
}

static void
bconf_parse_tls(struct bridge_conf *c, const config_setting_t *bridge, struct diags *d)
{
	static const char *const versions[] = { "1.2", "1.3", NULL };
	int min = 0, max = 1;

	conf_get_enum(bridge, "tls_min", versions, &min, d);
	conf_get_enum(bridge, "tls_max", versions, &max, d);
	if (min > max)
		diags_add(d, DIAG_ERROR, config_setting_get_member(bridge, "tls_min"),
		    "tls_min is above tls_max");
	c->tls_min = min ? TLS1_3_VERSION : TLS1_2_VERSION;
	c->tls_max = max ? TLS1_3_VERSION : TLS1_2_VERSION;
	bconf_get_string(bridge, "ciphers", &c->ciphers, d);
	bconf_get_string(bridge, "ciphersuites", &c->ciphersuites, d);
}

static void
bconf_parse_numbers(struct bridge_conf *c, const config_setting_t *b, struct diags *d)
{
	conf_get_uint(b, "workers", 64, &c->workers, d);
	conf_get_uint(b, "totp_window", 10, &c->totp_window, d);
	conf_get_uint(b, "totp_digits", 8, &c->totp_digits, d);
	conf_get_uint(b, "totp_step", 300, &c->totp_step, d);
	conf_get_uint(b, "lockout_threshold", 1000, &c->lockout_threshold, d);
	conf_get_uint(b, "lockout_source_threshold", 100000, &c->lockout_source_threshold, d);
	conf_get_uint(b, "lockout_base", 86400, &c->lockout_base, d);
	conf_get_uint(b, "lockout_max", 7 * 86400, &c->lockout_max, d);
	conf_get_uint(b, "token_lifetime", 7 * 86400, &c->token_lifetime, d);
	conf_get_uint(b, "handshake_timeout", 3600, &c->handshake_timeout, d);
	conf_get_uint(b, "request_timeout", 3600, &c->request_timeout, d);
	conf_get_uint(b, "connect_timeout", 3600, &c->connect_timeout, d);
	conf_get_uint(b, "idle_timeout", 7 * 86400, &c->idle_timeout, d);
	conf_get_uint(b, "max_session", 7 * 86400, &c->max_session, d);
	conf_get_uint(b, "max_sessions_per_user", 1000000, &c->max_sessions_per_user, d);
	conf_get_uint(b, "max_half_open", 1000000, &c->max_half_open, d);
	conf_get_uint(b, "max_half_open_per_source", 1000000, &c->max_half_open_per_source, d);
	conf_get_uint(b, "half_open_reserve", 1000000, &c->half_open_reserve, d);
	conf_get_uint(b, "max_conns_per_source", 1000000, &c->max_conns_per_source, d);
	conf_get_uint(b, "max_conns", 10000000, &c->max_conns, d);
	if (c->totp_digits < 6 || c->totp_step == 0 || c->workers == 0)
		diags_add(d, DIAG_ERROR, b, "totp_digits must be 6..8, totp_step and workers above 0");
	if (c->half_open_reserve >= c->max_half_open || c->max_half_open_per_source == 0)
		diags_add(d, DIAG_ERROR, b, "half_open_reserve must be below max_half_open, max_half_open_per_source above 0");
}

static void
bconf_parse_bridge(struct bridge_conf *c, const config_setting_t *b, struct diags *d)
{
	const char *listen = NULL;

	conf_check_members(b, bconf_bridge_members, d);
	if (conf_get_str(b, "listen", &listen, d) == 0 && listen != NULL &&
	    bconf_parse_listen(c, listen) < 0)
		diags_add(d, DIAG_ERROR, config_setting_get_member(b, "listen"),
		    "listen = \"%s\": expected HOST:PORT", listen);
	bconf_parse_certs(c, b, d);
	bconf_get_path(b, "ca", &c->ca_file, d);
	bconf_get_path(b, "crl", &c->crl_file, d);
	bconf_parse_crl_expired(c, b, d);
	bconf_parse_relay_landlock(c, b, d);
	bconf_parse_tls(c, b, d);
	bconf_get_path(b, "devices", &c->devices_file, d);
	bconf_get_path(b, "users", &c->users_file, d);
	bconf_get_path(b, "events", &c->events_file, d);
	bconf_get_path(b, "control_socket", &c->control_socket, d);
	bconf_get_string(b, "user", &c->run_user, d);
	conf_get_bool(b, "require_device", &c->require_device, d);
	conf_get_bool(b, "key_process", &c->key_process, d);
	conf_get_bool(b, "cpu_affinity", &c->cpu_affinity, d);
	bconf_parse_numbers(c, b, d);
	bconf_parse_groups(c, b, d);
	bconf_parse_grants(c, b, d);
	if (c->ca_file == NULL || c->devices_file == NULL || c->users_file == NULL)
		diags_add(d, DIAG_ERROR, b, "bridge needs 'ca', 'devices' and 'users'");
}

static void
bconf_parse_service(struct bconf_asp *a, config_setting_t *g, struct diags *d)
{
	static const char *const known[] = { "name", "vendor", "host", "address", "port", "ca",
		"crl", "pin_sha256", "who", "comment", NULL };
	unsigned port = 443;

	conf_check_members(g, known, d);
	bconf_get_string(g, "name", &a->name, d);
	bconf_get_string(g, "vendor", &a->vendor, d);
	bconf_get_string(g, "host", &a->host, d);
	bconf_get_string(g, "address", &a->address, d);
	conf_get_uint(g, "port", 65535, &port, d);
	a->port = (uint16_t)port;
	bconf_get_path(g, "ca", &a->ca_file, d);
	bconf_get_path(g, "crl", &a->crl_file, d);
	bconf_get_string(g, "pin_sha256", &a->pin_sha256, d);
	bconf_get_strings(g, "who", &a->who, &a->n_who, d);
	if (a->name == NULL || a->host == NULL || a->ca_file == NULL || port == 0)
		diags_add(d, DIAG_ERROR, g, "an ASP service needs 'name', 'host', 'port' and 'ca'");
	/* The relay never resolves names: what it connects to is fixed here, by the admin. */
	struct addr ip;
	if (a->address == NULL || addr_parse(a->address, &ip) < 0)
		diags_add(d, DIAG_ERROR, g, "an ASP service needs 'address' as an IP literal");
}

static void
bconf_parse_asp(struct bridge_conf *c, const config_setting_t *a, struct diags *d)
{
	config_setting_t *list = config_setting_get_member(a, "services");

	conf_check_members(a, bconf_asp_members, d);
	bconf_get_path(a, "state_file", &c->asp_state_file, d);
	conf_get_uint(a, "check_interval", 7 * 86400, &c->asp_check_interval, d);
	conf_get_uint(a, "warn_days", 3650, &c->asp_warn_days, d);
	conf_get_uint(a, "timeout", 600, &c->asp_timeout, d);
	conf_get_uint(a, "max_result_age", 30 * 86400, &c->asp_max_age, d);
	bconf_get_strings(a, "forbidden_ciphers", &c->asp_forbidden_ciphers, &c->n_asp_forbidden, d);
	conf_get_bool(a, "allow_cbc", &c->asp_allow_cbc, d);
	if (list == NULL)
		return;
	c->asps = xcalloc((size_t)config_setting_length(list) + 1, sizeof *c->asps);
	for (int i = 0; i < config_setting_length(list); i++)
		bconf_parse_service(&c->asps[c->n_asps++], config_setting_get_elem(list, (unsigned)i), d);
	for (size_t i = 0; i < c->n_asps; i++)
		for (size_t j = 0; j < i; j++)
			if (c->asps[i].name && c->asps[j].name && strcmp(c->asps[i].name, c->asps[j].name) == 0)
				diags_add(d, DIAG_ERROR, config_setting_get_elem(list, (unsigned)i),
				    "ASP service \"%s\" is defined twice", c->asps[i].name);
	if (c->n_asps && c->asp_state_file == NULL)
		diags_add(d, DIAG_ERROR, a, "asp needs 'state_file' to record check results");
}

static void
bconf_defaults(struct bridge_conf *c)
{
	c->listen_host = xstrdup("0.0.0.0");
	c->listen_port = 8443;
	c->workers = 1;
	c->require_device = true;
	c->key_process = true;
	c->cpu_affinity = true;
	c->totp_window = 1;
	c->totp_digits = 6;
	c->totp_step = 30;
	c->lockout_threshold = 5;
	c->lockout_source_threshold = 20;   /* a NAT'd office shares one address */
	c->lockout_base = 60;
	c->lockout_max = 3600;
	c->token_lifetime = 8 * 3600;
	c->handshake_timeout = 5;   /* a silent connection holds a handshake slot this long at most */
	c->request_timeout = 10;
	c->connect_timeout = 10;
	c->idle_timeout = 900;
	c->max_session = 10 * 3600;
	c->max_sessions_per_user = 8;
	c->max_half_open = 256;
	c->max_half_open_per_source = 32;   /* an office behind NAT is one address */
	c->half_open_reserve = 32;   /* the last handshake slots go to addresses holding none */
	c->max_conns_per_source = 32;
	c->max_conns = 20000;
	c->asp_check_interval = 3600;
	c->asp_warn_days = 30;
	c->asp_timeout = 10;
	c->asp_max_age = 2 * 86400;
}

struct bridge_conf *
bconf_load(const char *path, struct diags *diags)
{
	struct bridge_conf *c = xcalloc(1, sizeof *c);
	config_t cfg;
	config_setting_t *group;

	bconf_defaults(c);
	c->path = xstrdup(path);
	bconf_main_path = path;
	config_init(&cfg);
	if (conf_load(&cfg, path, diags) == 0) {
		group = config_lookup(&cfg, "bridge");
		if (group == NULL || !config_setting_is_group(group))
			diags_add_at(diags, DIAG_ERROR, path, 0, "no 'bridge' group in the site file");
		else
			bconf_parse_bridge(c, group, diags);
		c->has_zones = config_lookup(&cfg, "zones") != NULL;
		ev_forward_configure(&cfg, "tiergate-bridge", diags);
		group = config_lookup(&cfg, "asp");
		if (group != NULL && config_setting_is_group(group))
			bconf_parse_asp(c, group, diags);
	}
	config_destroy(&cfg);
	bconf_main_path = NULL;
	if (diags_count(diags, DIAG_ERROR) > 0) {
		bconf_free(c);
		return NULL;
	}
	return c;
}

static void
bconf_free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
bconf_free_lists(struct bridge_conf *c)
{
	for (size_t i = 0; i < c->n_groups; i++) {
		free(c->groups[i].name);
		bconf_free_strings(c->groups[i].members, c->groups[i].n_members);
	}
	for (size_t i = 0; i < c->n_grants; i++) {
		struct bconf_grant *g = &c->grants[i];
		for (size_t k = 0; k < g->n_dests; k++)
			free(g->dests[k].asp_name);
		free(g->name);
		free(g->dests);
		bconf_free_strings(g->who, g->n_who);
	}
	for (size_t i = 0; i < c->n_asps; i++) {
		struct bconf_asp *a = &c->asps[i];
		free(a->name); free(a->vendor); free(a->host); free(a->address);
		free(a->ca_file); free(a->crl_file); free(a->pin_sha256);
		bconf_free_strings(a->who, a->n_who);
	}
	free(c->groups);
	free(c->grants);
	free(c->asps);
}

void
bconf_free(struct bridge_conf *c)
{
	if (c == NULL)
		return;
	bconf_free_lists(c);
	for (size_t i = 0; i < c->n_certs; i++) {
		free(c->certs[i].cert_file);
		free(c->certs[i].key_file);
	}
	free(c->path); free(c->listen_host); free(c->ca_file); free(c->crl_file);
	free(c->ciphers); free(c->ciphersuites); free(c->devices_file); free(c->users_file);
	free(c->events_file); free(c->control_socket); free(c->run_user);
	free(c->asp_state_file);
	bconf_free_strings(c->asp_forbidden_ciphers, c->n_asp_forbidden);
	free(c);
}

const struct bconf_asp *
bconf_asp_by_name(const struct bridge_conf *conf, const char *name)
{
	for (size_t i = 0; i < conf->n_asps; i++)
		if (strcmp(conf->asps[i].name, name) == 0)
			return &conf->asps[i];
	return NULL;
}

const struct bconf_asp *
bconf_asp_by_target(const struct bridge_conf *conf, const char *host, uint16_t port)
{
	for (size_t i = 0; i < conf->n_asps; i++) {
		const struct bconf_asp *a = &conf->asps[i];
		if (a->port == port &&
		    (strcasecmp(a->host, host) == 0 || strcasecmp(a->address, host) == 0))
			return a;
	}
	return NULL;
}

static bool
bconf_group_has(const struct bridge_conf *conf, const char *group, const char *user)
{
	for (size_t i = 0; i < conf->n_groups; i++) {
		if (strcmp(conf->groups[i].name, group) != 0)
			continue;
		for (size_t k = 0; k < conf->groups[i].n_members; k++)
			if (strcmp(conf->groups[i].members[k], user) == 0)
				return true;
	}
	return false;
}

bool
bconf_user_in(const struct bridge_conf *conf, const char *user, char *const *who, size_t n_who)
{
	for (size_t i = 0; i < n_who; i++) {
		if (who[i][0] == '@' ? bconf_group_has(conf, who[i] + 1, user)
		                     : strcmp(who[i], user) == 0)
			return true;
	}
	return false;
}

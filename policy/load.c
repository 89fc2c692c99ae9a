/* load.c -- the site file's policy sections (model, zones, hosts, defaults, rules) into struct policy. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"
#include "policy/internal.h"

static const char *const load_top_known[] = {
	"model", "zones", "hosts", "defaults", "rules", "gateway", "nfqueue", "sanitizer",
	"milter", "spool", "bridge", "asp", "security_cloud", "events", "portal", NULL
};
static const char *const load_zone_known[] = { "name", "networks", "interfaces", "comment", NULL };
static const char *const load_host_known[] = { "name", "address", "roles", "comment", NULL };
static const char *const load_defaults_known[] = {
	"action", "unknown_app", "malformed", "log", "bind_names_to_dns", NULL
};
static const char *const load_rule_known[] = {
	"name", "from", "to", "src", "dst", "proto", "dport", "app", "action", "log", "comment",
	"exception", "names", "bind_names_to_dns", NULL
};
static const char *const load_models[] = { "alpha", "beta", "beta-prime", "alpha-prime", NULL };
static const char *const load_actions[] = { "accept", "drop", "reject", NULL };
static const char *const load_protos[] = { "any", "tcp", "udp", "icmp", NULL };

/*
 * Inside a zone, host or rule an unknown setting is an error: a mistyped
 * restriction ("dports", "scr") would otherwise silently widen an accept.
 */
static void
load_check_members(const config_setting_t *g, const char *const *known, const char *what,
    const char *name, struct diags *d)
{
	int count = config_setting_length(g);

	for (int i = 0; i < count; i++) {
		config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *member = config_setting_name(s);
		int k;
		if (member == NULL)
			continue;
		for (k = 0; known[k] && strcmp(known[k], member) != 0; k++)
			;
		if (known[k] == NULL)
			diags_add(d, DIAG_ERROR, s, "%s '%s': unknown setting '%s' (a typo would widen "
			    "or hide a restriction)", what, name, member);
	}
}

static char *
load_dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

int
policy_parse_action(const char *word, enum policy_action *out)
{
	for (int i = 0; load_actions[i]; i++)
		if (strcmp(word, load_actions[i]) == 0) {
			*out = (enum policy_action)i;
			return 0;
		}
	return -1;
}

/*
 * A member that holds one string or a list/array of strings. Returns the
 * element settings' count; *elems gets the setting to iterate (or the scalar).
 * -1 (with an error) when the member has the wrong shape.
 */
static int
load_str_list(const config_setting_t *group, const char *name, config_setting_t **elems,
    struct diags *d)
{
	config_setting_t *s = config_setting_get_member(group, name);
	int n;

	*elems = s;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return 1;
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s)) {
		diags_add(d, DIAG_ERROR, s, "'%s' must be a string or a list of strings", name);
		return -1;
	}
	n = config_setting_length(s);
	for (int i = 0; i < n; i++)
		if (config_setting_type(config_setting_get_elem(s, (unsigned)i)) != CONFIG_TYPE_STRING) {
			diags_add(d, DIAG_ERROR, s, "'%s' must hold only strings", name);
			return -1;
		}
	return n;
}

static const char *
load_str_elem(const config_setting_t *list, int i)
{
	if (config_setting_type(list) == CONFIG_TYPE_STRING)
		return config_setting_get_string(list);
	return config_setting_get_string(config_setting_get_elem(list, (unsigned)i));
}

static bool
load_name_ok(const char *name)
{
	if (name[0] == '\0')
		return false;
	for (const char *c = name; *c; c++)
		if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
		    !(*c >= '0' && *c <= '9') && *c != '-' && *c != '_' && *c != '.')
			return false;
	return true;
}

/* The group's "name": required, a plain word. NULL (with an error) otherwise. */
static const char *
load_group_name(const config_setting_t *g, const char *what, struct diags *d)
{
	const char *name = NULL;

	if (!config_setting_is_group(g)) {
		diags_add(d, DIAG_ERROR, g, "each %s must be a group { ... }", what);
		return NULL;
	}
	if (conf_get_str(g, "name", &name, d) < 0)
		return NULL;
	if (name == NULL) {
		diags_add(d, DIAG_ERROR, g, "%s without a name", what);
		return NULL;
	}
	if (!load_name_ok(name)) {
		diags_add(d, DIAG_ERROR, config_setting_get_member(g, "name"),
		    "%s name '%s': use letters, digits, '-', '_' and '.'", what, name);
		return NULL;
	}
	return name;
}

/* A top-level list of groups; NULL when absent, error when of the wrong kind. */
static config_setting_t *
load_group_list(config_t *cfg, const char *name, struct diags *d)
{
	config_setting_t *s = config_setting_get_member(config_root_setting(cfg), name);

	if (s != NULL && (!config_setting_is_list(s) && !config_setting_is_array(s))) {
		diags_add(d, DIAG_ERROR, s, "'%s' must be a list ( { ... }, ... )", name);
		return NULL;
	}
	return s;
}

static int
load_net(const config_setting_t *where, const char *text, struct prefix *out, struct diags *d)
{
	const char *why = NULL;

	if (prefix_parse(text, out, &why) < 0) {
		diags_add(d, DIAG_ERROR, where, "bad network '%s': %s", text, why);
		return -1;
	}
	return 0;
}

static void
load_zone_nets(struct policy *p, struct pzone *z, const config_setting_t *g, struct diags *d)
{
	config_setting_t *list;
	int n = load_str_list(g, "networks", &list, d);

	z->nets = xcalloc(n > 0 ? (size_t)n : 1, sizeof *z->nets);
	for (int i = 0; i < n; i++)
		if (load_net(list, load_str_elem(list, i), &z->nets[z->nnets], d) == 0)
			z->nnets++;
}

static void
load_zone_ifs(struct pzone *z, const config_setting_t *g, struct diags *d)
{
	config_setting_t *list;
	int n = load_str_list(g, "interfaces", &list, d);

	z->ifs = xcalloc(n > 0 ? (size_t)n : 1, sizeof *z->ifs);
	for (int i = 0; i < n; i++)
		z->ifs[z->nifs++] = xstrdup(load_str_elem(list, i));
}

static int
load_zone_find(const struct policy *p, const char *name)
{
	for (int i = 0; i < p->nzones; i++)
		if (strcmp(p->zones[i].name, name) == 0)
			return i;
	return -1;
}

static void
load_zone(struct policy *p, const config_setting_t *g, struct diags *d)
{
	const char *name = load_group_name(g, "zone", d), *comment = NULL;
	struct pzone *z;
	int dup;

	if (name == NULL)
		return;
	load_check_members(g, load_zone_known, "zone", name, d);
	if (strcmp(name, "any") == 0) {
		diags_add(d, DIAG_ERROR, g, "'any' is reserved: it means every zone in rules");
		return;
	}
	if ((dup = load_zone_find(p, name)) >= 0) {
		diags_add(d, DIAG_ERROR, g, "zone '%s' defined twice (first at %s:%d)", name,
		    p->zones[dup].file, p->zones[dup].line);
		return;
	}
	conf_get_str(g, "comment", &comment, d);
	z = &p->zones[p->nzones++];
	z->name = xstrdup(name);
	z->comment = load_dup_or_null(comment);
	z->file = xstrdup(conf_file(g) ? conf_file(g) : p->source);
	z->line = conf_line(g);
	load_zone_nets(p, z, g, d);
	load_zone_ifs(z, g, d);
	if (z->nnets == 0 && z->nifs == 0)
		diags_add(d, DIAG_WARNING, g, "zone '%s' has no networks and no interfaces: nothing is in it",
		    name);
}

/* Two zones claiming the same network (or interface) leave an address's zone undefined. */
static void
load_zone_overlaps(struct policy *p, struct diags *d)
{
	for (int a = 0; a < p->nzones; a++)
		for (int b = a; b < p->nzones; b++)
			for (int i = 0; i < p->zones[a].nnets; i++)
				for (int j = a == b ? i + 1 : 0; j < p->zones[b].nnets; j++) {
					const struct prefix *x = &p->zones[a].nets[i], *y = &p->zones[b].nets[j];
					char text[64];
					if (x->len != y->len || memcmp(&x->addr, &y->addr, sizeof x->addr) != 0)
						continue;
					prefix_format(x, text, sizeof text);
					diags_add_at(d, a == b ? DIAG_WARNING : DIAG_ERROR, p->zones[b].file,
					    p->zones[b].line, "network %s is in zone '%s' and zone '%s'",
					    text, p->zones[a].name, p->zones[b].name);
				}
	for (int a = 0; a < p->nzones; a++)
		for (int i = 0; i < p->zones[a].nifs; i++)
			for (int b = a + 1; b < p->nzones; b++)
				for (int j = 0; j < p->zones[b].nifs; j++)
					if (strcmp(p->zones[a].ifs[i], p->zones[b].ifs[j]) == 0)
						diags_add_at(d, DIAG_ERROR, p->zones[b].file, p->zones[b].line,
						    "interface '%s' is in zone '%s' and zone '%s'",
						    p->zones[a].ifs[i], p->zones[a].name, p->zones[b].name);
}

static void
load_zones(struct policy *p, config_t *cfg, struct diags *d)
{
	config_setting_t *list = load_group_list(cfg, "zones", d);
	int n = list ? config_setting_length(list) : 0;

	if (list == NULL || n == 0) {
		diags_add_at(d, DIAG_ERROR, list ? conf_file(list) : p->source, list ? conf_line(list) : 1,
		    "no zones defined (need at least mynumber, lgwan, internet)");
		return;
	}
	p->zones = xcalloc((size_t)n, sizeof *p->zones);
	for (int i = 0; i < n; i++)
		load_zone(p, config_setting_get_elem(list, (unsigned)i), d);
	load_zone_overlaps(p, d);
}

static int
load_host_find(const struct policy *p, const char *name)
{
	for (int i = 0; i < p->nhosts; i++)
		if (strcmp(p->hosts[i].name, name) == 0)
			return i;
	return -1;
}

static void
load_host(struct policy *p, const config_setting_t *g, struct diags *d)
{
	const char *name = load_group_name(g, "host", d), *address = NULL, *comment = NULL;
	config_setting_t *roles;
	struct prefix net;
	struct phost *h;
	int dup, n;

	if (name == NULL)
		return;
	load_check_members(g, load_host_known, "host", name, d);
	if ((dup = load_host_find(p, name)) >= 0) {
		diags_add(d, DIAG_ERROR, g, "host '%s' defined twice (first at %s:%d)", name,
		    p->hosts[dup].file, p->hosts[dup].line);
		return;
	}
	if (conf_get_str(g, "address", &address, d) < 0)
		return;
	if (address == NULL) {
		diags_add(d, DIAG_ERROR, g, "host '%s' has no address", name);
		return;
	}
	if (load_net(config_setting_get_member(g, "address"), address, &net, d) < 0)
		return;
	conf_get_str(g, "comment", &comment, d);
	h = &p->hosts[p->nhosts++];
	h->name = xstrdup(name);
	h->comment = load_dup_or_null(comment);
	h->file = xstrdup(conf_file(g) ? conf_file(g) : p->source);
	h->line = conf_line(g);
	h->net = net;
	n = load_str_list(g, "roles", &roles, d);
	h->roles = xcalloc(n > 0 ? (size_t)n : 1, sizeof *h->roles);
	for (int i = 0; i < n; i++)
		h->roles[h->nroles++] = xstrdup(load_str_elem(roles, i));
}

static void
load_hosts(struct policy *p, config_t *cfg, struct diags *d)
{
	config_setting_t *list = load_group_list(cfg, "hosts", d);
	int n = list ? config_setting_length(list) : 0;

	p->hosts = xcalloc(n > 0 ? (size_t)n : 1, sizeof *p->hosts);
	for (int i = 0; i < n; i++)
		load_host(p, config_setting_get_elem(list, (unsigned)i), d);
}

static void
load_defaults(struct policy *p, config_t *cfg, struct diags *d)
{
	config_setting_t *g = config_setting_get_member(config_root_setting(cfg), "defaults");
	int action = ACT_DROP, unknown = ACT_DROP, malformed = ACT_DROP;

	p->def_action = p->unknown_app = p->malformed = ACT_DROP;
	p->def_log = true;
	p->bind_default = p->model == MODEL_ALPHA_PRIME;   /* α′: names are bound unless a site says otherwise */
	if (g == NULL)
		return;
	if (!config_setting_is_group(g)) {
		diags_add(d, DIAG_ERROR, g, "'defaults' must be a group { ... }");
		return;
	}
	conf_check_members(g, load_defaults_known, d);
	conf_get_enum(g, "action", load_actions, &action, d);
	conf_get_enum(g, "unknown_app", load_actions, &unknown, d);
	conf_get_enum(g, "malformed", load_actions, &malformed, d);
	conf_get_bool(g, "log", &p->def_log, d);
	conf_get_bool(g, "bind_names_to_dns", &p->bind_default, d);
	p->def_action = (enum policy_action)action;
	p->unknown_app = (enum policy_action)unknown;
	p->malformed = (enum policy_action)malformed;
}

static void
load_model(struct policy *p, config_t *cfg, struct diags *d)
{
	config_setting_t *root = config_root_setting(cfg);
	int model = MODEL_ALPHA;

	if (config_setting_get_member(root, "model") == NULL)
		diags_add_at(d, DIAG_ERROR, p->source, 1,
		    "no 'model' (alpha, beta, beta-prime or alpha-prime): the invariants depend on it");
	else
		conf_get_enum(root, "model", load_models, &model, d);
	p->model = (enum policy_model)model;
}

/* ---- rules ---------------------------------------------------------------- */

static int
load_rule_zone(const struct policy *p, const config_setting_t *g, const char *key,
    const char *rule, struct diags *d)
{
	const char *name = NULL;
	int zone;

	if (conf_get_str(g, key, &name, d) < 0)
		return ZONE_MISSING;
	if (name == NULL) {
		diags_add(d, DIAG_ERROR, g, "rule '%s' has no '%s' zone (a zone name or \"any\")", rule, key);
		return ZONE_MISSING;
	}
	if (strcmp(name, "any") == 0)
		return ZONE_ANY;
	zone = load_zone_find(p, name);
	if (zone < 0)
		diags_add(d, DIAG_ERROR, config_setting_get_member(g, key),
		    "rule '%s' names zone '%s', which is not defined", rule, name);
	return zone < 0 ? ZONE_MISSING : zone;
}

/* True when text is meant as an address (digits, dots, colons, slash) rather than a host name. */
static bool
load_looks_numeric(const char *text)
{
	return strspn(text, "0123456789abcdefABCDEF.:/") == strlen(text) &&
	    strpbrk(text, ".:") != NULL && strspn(text, "0123456789") > 0;
}

static int
load_rule_addr(const struct policy *p, const config_setting_t *where, const char *text,
    const char *rule, struct paddr *out, struct diags *d)
{
	int host = load_host_find(p, text);

	if (host >= 0) {
		out->net = p->hosts[host].net;
		out->host = host;
		return 0;
	}
	out->host = -1;
	if (load_looks_numeric(text) || strchr(text, '/'))
		return load_net(where, text, &out->net, d);
	if (prefix_parse(text, &out->net, NULL) == 0)
		return 0;
	diags_add(d, DIAG_ERROR, where, "rule '%s': unknown host '%s' (not in hosts, not a network)",
	    rule, text);
	return -1;
}

/* "asp:passed" (asp.c): once, in dst only. Returns entries added or -1. */
static int
load_rule_asp(const struct policy *p, const config_setting_t *list, const char *key,
    const char *text, struct prule *r, struct paddr *out, struct diags *d)
{
	int added;

	if (strcmp(key, "dst") != 0 || r->asp_dst) {
		diags_add(d, DIAG_ERROR, list, "rule '%s': \"%s\" only once, and only in dst", r->name, text);
		return -1;
	}
	added = asp_expand(p, list, text, r->name, out, d);
	r->asp_dst = added >= 0;
	return added;
}

static int
load_rule_addrs(const struct policy *p, const config_setting_t *g, const char *key,
    struct prule *r, struct paddr **out, struct diags *d)
{
	config_setting_t *list;
	int n = load_str_list(g, key, &list, d), count = 0, bad = 0;

	*out = xcalloc((size_t)(n > 0 ? n : 1) + (size_t)p->nasps, sizeof **out);
	for (int i = 0; i < n; i++) {
		const char *text = load_str_elem(list, i);
		int added;
		if (str_has_prefix(text, "asp:")) {
			added = load_rule_asp(p, list, key, text, r, &(*out)[count], d);
			count += added > 0 ? added : 0;
			bad |= added < 0;
		} else if (load_rule_addr(p, list, text, r->name, &(*out)[count], d) == 0) {
			count++;
		} else {
			bad = 1;
		}
	}
	if (n > 0 && count == 0)
		return -1;   /* an all-bad list must not turn into "any address" */
	return bad ? -1 : count;
}

static int
load_port_text(const char *text, struct port_range *out)
{
	char lo[16];
	const char *dash = strchr(text, '-');
	unsigned long a, b;

	if (dash == NULL) {
		if (parse_ulong(text, 65535, &a) < 0)
			return -1;
		out->lo = out->hi = (uint16_t)a;
		return 0;
	}
	if ((size_t)(dash - text) >= sizeof lo)
		return -1;
	memcpy(lo, text, (size_t)(dash - text));
	lo[dash - text] = '\0';
	if (parse_ulong(lo, 65535, &a) < 0 || parse_ulong(dash + 1, 65535, &b) < 0 || a > b)
		return -1;
	out->lo = (uint16_t)a;
	out->hi = (uint16_t)b;
	return 0;
}

static int
load_port_elem(const config_setting_t *e, const char *rule, struct port_range *out, struct diags *d)
{
	int type = config_setting_type(e);

	if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
		long long v = config_setting_get_int64(e);
		if (v >= 0 && v <= 65535) {
			out->lo = out->hi = (uint16_t)v;
			return 0;
		}
	} else if (type == CONFIG_TYPE_STRING &&
	    load_port_text(config_setting_get_string(e), out) == 0) {
		return 0;
	}
	diags_add(d, DIAG_ERROR, e, "rule '%s': bad port (want 0-65535 or \"low-high\")", rule);
	return -1;
}

static int
load_cmp_range(const void *a, const void *b)
{
	const struct port_range *x = a, *y = b;

	return (x->lo > y->lo) - (x->lo < y->lo);
}

/* Sorts and merges overlapping or touching ranges: the index and the shadow check want them disjoint. */
static int
load_merge_ranges(struct port_range *v, int n)
{
	int out = 0;

	qsort(v, (size_t)n, sizeof *v, load_cmp_range);
	for (int i = 0; i < n; i++) {
		if (out > 0 && (unsigned)v[i].lo <= (unsigned)v[out - 1].hi + 1) {
			if (v[i].hi > v[out - 1].hi)
				v[out - 1].hi = v[i].hi;
			continue;
		}
		v[out++] = v[i];
	}
	return out;
}

static int
load_rule_ports(const config_setting_t *g, struct prule *r, struct diags *d)
{
	config_setting_t *s = config_setting_get_member(g, "dport");
	int n, bad = 0;

	if (s == NULL)
		return 0;
	if (r->proto != RP_TCP && r->proto != RP_UDP) {
		diags_add(d, DIAG_ERROR, s, "rule '%s': dport needs proto \"tcp\" or \"udp\"", r->name);
		return -1;
	}
	n = config_setting_is_aggregate(s) ? config_setting_length(s) : 1;
	if (config_setting_is_group(s) || n == 0) {
		diags_add(d, DIAG_ERROR, s, "rule '%s': dport must be a port, \"low-high\" or a list of them",
		    r->name);
		return -1;
	}
	r->ports = xcalloc((size_t)n, sizeof *r->ports);
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_is_aggregate(s) ?
		    config_setting_get_elem(s, (unsigned)i) : s;
		bad |= load_port_elem(e, r->name, &r->ports[i], d) < 0;
	}
	if (bad)
		return -1;
	r->nports = load_merge_ranges(r->ports, n);
	if (r->nports == 1 && r->ports[0].lo == 0 && r->ports[0].hi == 65535)
		r->nports = 0;
	return 0;
}

static int
load_rule_apps(struct policy *p, const config_setting_t *g, struct prule *r, struct diags *d)
{
	config_setting_t *list;
	int n = load_str_list(g, "app", &list, d);

	if (n < 0)
		return -1;
	r->apps = xcalloc(n > 0 ? (size_t)n : 1, sizeof *r->apps);
	for (int i = 0; i < n; i++) {
		const char *name = load_str_elem(list, i), *canon = apps_ndpi_canonical(name);
		if (canon == NULL)
			diags_add(d, DIAG_WARNING, list, "rule '%s': application '%s' is not a protocol "
			    "nDPI 4.2 knows (it will never match)", r->name, name);
		r->apps[r->napps++] = apps_intern(p, canon ? canon : name);
	}
	if (list != NULL && config_setting_is_aggregate(list) && n == 0)
		diags_add(d, DIAG_WARNING, list, "rule '%s': empty app list means any application", r->name);
	return 0;
}

static void
load_rule_reasons(struct policy *p, struct prule *r)
{
	char apps[256] = "";

	for (int i = 0; i < r->napps; i++) {
		size_t used = strlen(apps);
		snprintf(apps + used, sizeof apps - used, "%s%s", i ? "/" : "", p->apps[r->apps[i]]);
	}
	r->reason = xstrfmt("rule '%s' (%s:%d)", r->name, r->file, r->line);
	r->wait_reason = xstrfmt("waiting for application: rule '%s' (%s:%d) needs %s",
	    r->name, r->file, r->line, r->napps ? apps : "a server name");
	load_names_reasons(r);
}

static int
load_rule_find(const struct policy *p, const char *name)
{
	for (int i = 0; i < p->nrules; i++)
		if (strcmp(p->rules[i].name, name) == 0)
			return i;
	return -1;
}

static int
load_rule_scalars(const config_setting_t *g, struct prule *r, struct policy *p, struct diags *d)
{
	const char *comment = NULL;
	int proto = RP_ANY, action = -1, bad = 0;

	bad |= conf_get_enum(g, "proto", load_protos, &proto, d) < 0;
	bad |= conf_get_enum(g, "action", load_actions, &action, d) < 0;
	if (action < 0 && !bad) {
		diags_add(d, DIAG_ERROR, g, "rule '%s' has no action (accept, drop or reject)", r->name);
		bad = 1;
	}
	r->log = p->def_log;
	bad |= conf_get_bool(g, "log", &r->log, d) < 0;
	bad |= conf_get_str(g, "comment", &comment, d) < 0;
	bad |= exception_parse(g, r->name, p->today, &r->exception, d) < 0;
	r->proto = (enum rule_proto)proto;
	r->action = action < 0 ? ACT_DROP : (enum policy_action)action;
	r->comment = load_dup_or_null(comment);
	return bad ? -1 : 0;
}

static void
load_rule_free(struct prule *r)
{
	free(r->name);
	free(r->comment);
	exception_free(r->exception);
	free(r->file);
	free(r->src);
	free(r->dst);
	free(r->ports);
	free(r->apps);
	free(r->reason);
	free(r->wait_reason);
	load_names_free_rule(r);
}

static void
load_rule(struct policy *p, const config_setting_t *g, struct diags *d)
{
	const char *name = load_group_name(g, "rule", d);
	struct prule *r;
	int dup, bad = 0;

	if (name == NULL)
		return;
	load_check_members(g, load_rule_known, "rule", name, d);
	if ((dup = load_rule_find(p, name)) >= 0) {
		diags_add(d, DIAG_ERROR, g, "duplicate rule name '%s' (first at %s:%d)", name,
		    p->rules[dup].file, p->rules[dup].line);
		return;
	}
	r = &p->rules[p->nrules];
	memset(r, 0, sizeof *r);
	r->name = xstrdup(name);
	r->file = xstrdup(conf_file(g) ? conf_file(g) : p->source);
	r->line = conf_line(g);
	r->from = load_rule_zone(p, g, "from", name, d);
	r->to = load_rule_zone(p, g, "to", name, d);
	bad |= load_rule_scalars(g, r, p, d) < 0;
	bad |= (r->nsrc = load_rule_addrs(p, g, "src", r, &r->src, d)) < 0;
	bad |= (r->ndst = load_rule_addrs(p, g, "dst", r, &r->dst, d)) < 0;
	bad |= load_rule_ports(g, r, d) < 0;
	bad |= load_rule_apps(p, g, r, d) < 0;
	bad |= load_names_rule(p, g, r, d) < 0;
	if (bad) {
		load_rule_free(r);
		return;
	}
	p->nrules++;
}

static void
load_rules(struct policy *p, config_t *cfg, struct diags *d)
{
	config_setting_t *list = load_group_list(cfg, "rules", d);
	int n = list ? config_setting_length(list) : 0;

	p->rules = xcalloc(n > 0 ? (size_t)n : 1, sizeof *p->rules);
	for (int i = 0; i < n; i++)
		load_rule(p, config_setting_get_elem(list, (unsigned)i), d);
	if (n == 0 && list)
		diags_add(d, DIAG_WARNING, list, "no rules: every flow gets the default action");
	else if (n == 0)
		diags_add_at(d, DIAG_WARNING, p->source, 1, "no rules: every flow gets the default action");
}

/* Parses everything the policy needs from cfg. Errors go to d; the caller decides. */
struct policy *
policy_parse(config_t *cfg, const char *source, struct diags *d)
{
	struct policy *p = xcalloc(1, sizeof *p);

	atomic_init(&p->refs, 1);
	p->source = xstrdup(source);
	p->today = exception_today();
	conf_check_members(config_root_setting(cfg), load_top_known, d);
	load_model(p, cfg, d);
	load_zones(p, cfg, d);
	load_hosts(p, cfg, d);
	load_defaults(p, cfg, d);
	asp_load(p, cfg, d);
	load_rules(p, cfg, d);
	apps_finish(p);
	for (int i = 0; i < p->nrules; i++)
		load_rule_reasons(p, &p->rules[i]);
	p->z_mynumber = load_zone_find(p, "mynumber");
	p->z_internet = load_zone_find(p, "internet");
	grants_check(p, cfg, d);
	cloud_parse(p, cfg, d);
	return p;
}

static void
load_strv_free(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	for (int i = 0; i < p->nzones; i++) {
		struct pzone *z = &p->zones[i];
		free(z->name);
		free(z->comment);
		free(z->file);
		free(z->nets);
		load_strv_free(z->ifs, z->nifs);
	}
	for (int i = 0; i < p->nhosts; i++) {
		struct phost *h = &p->hosts[i];
		free(h->name);
		free(h->comment);
		free(h->file);
		load_strv_free(h->roles, h->nroles);
	}
	for (int i = 0; i < p->nrules; i++)
		load_rule_free(&p->rules[i]);
	load_strv_free(p->apps, p->napps);
	load_names_free_lists(p);
	free(p->zones);
	free(p->hosts);
	free(p->rules);
	zone_index_free(&p->zindex);
	compile_free(&p->cindex);
	asp_free(p);
	free(p->cloud_file);
	free(p->cloud_local);
	free(p->source);
	free(p);
}

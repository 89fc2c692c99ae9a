/* grants.c -- the bridge's grants seen from the zone model: telework reaches screen-transfer hosts only. */
#include <stdio.h>
#include <string.h>

#include "lib/util.h"
#include "policy/internal.h"

/*
 * Telework is screen transfer (画面転送): a grant for telework users (class
 * "telework", the default) may name only addresses inside hosts with role
 * screen-transfer, so only pixels leave LGWAN for a home PC. ASP vendors and
 * administrators are other classes with their own rules (vpn-bridge/README.md).
 * The bridge parses the rest of a grant; here only what the policy can judge.
 */
static const char *const grants_classes[] = { "telework", "asp-vendor", "admin", NULL };

/* The network part of "NET:PORT" / "[V6NET]:PORT"; -1 when it does not parse (the bridge reports it). */
static int
grants_dest_net(const char *text, struct prefix *out)
{
	const char *colon = strrchr(text, ':');
	char net[128];
	size_t len;

	if (colon == NULL)
		return -1;
	len = (size_t)(colon - text);
	if (text[0] == '[') {
		if (len < 2 || colon[-1] != ']')
			return -1;
		text++;
		len -= 2;
	}
	if (len >= sizeof net)
		return -1;
	memcpy(net, text, len);
	net[len] = '\0';
	return prefix_parse(net, out, NULL);
}

static bool
grants_on_screen_host(const struct policy *p, const struct prefix *net)
{
	int st = paths_role_of("screen-transfer");

	for (int h = 0; h < p->nhosts; h++)
		if (paths_host_has_role(&p->hosts[h], st) && prefix_covers(&p->hosts[h].net, net))
			return true;
	return false;
}

static void
grants_check_dest(const struct policy *p, const config_setting_t *to, const char *grant,
    const char *dest, struct diags *d)
{
	struct prefix net;

	if (str_has_prefix(dest, "asp:")) {
		diags_add(d, DIAG_ERROR, to, "bridge grant '%s' gives telework users \"%s\": telework is "
		    "screen transfer; use the ASP from a screen-transfer desktop, or make the grant "
		    "class = \"asp-vendor\"", grant, dest);
		return;
	}
	if (grants_dest_net(dest, &net) < 0)
		return;
	if (!grants_on_screen_host(p, &net))
		diags_add(d, DIAG_ERROR, to, "bridge grant '%s' gives telework users \"%s\", which is not "
		    "inside a host with role screen-transfer (telework is screen transfer)", grant, dest);
}

static void
grants_check_one(const struct policy *p, const config_setting_t *g, struct diags *d)
{
	const char *name = "?";
	config_setting_t *to;
	int cls = 0;

	if (!config_setting_is_group(g))
		return;
	config_setting_lookup_string(g, "name", &name);
	if (conf_get_enum(g, "class", grants_classes, &cls, d) < 0 || cls != 0)
		return;
	to = config_setting_get_member(g, "to");
	if (to == NULL)
		return;
	if (config_setting_type(to) == CONFIG_TYPE_STRING) {
		grants_check_dest(p, to, name, config_setting_get_string(to), d);
		return;
	}
	for (int i = 0; i < config_setting_length(to); i++) {
		const char *dest = config_setting_get_string(config_setting_get_elem(to, (unsigned)i));
		if (dest)
			grants_check_dest(p, to, name, dest, d);
	}
}

void
grants_check(const struct policy *p, config_t *cfg, struct diags *d)
{
	config_setting_t *list = config_lookup(cfg, "bridge.grants");

	if (list == NULL || !config_setting_is_aggregate(list))
		return;
	for (int i = 0; i < config_setting_length(list); i++)
		grants_check_one(p, config_setting_get_elem(list, (unsigned)i), d);
}

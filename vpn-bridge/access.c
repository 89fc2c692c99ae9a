/* access.c -- destination checks: CIDR + port-range grants for users and groups, named ASP services. */
#include "vpn-bridge/access.h"

#include <string.h>

static bool
access_grant_opens_asp(const struct bconf_grant *g, const char *asp_name)
{
	for (size_t i = 0; i < g->n_dests; i++)
		if (g->dests[i].is_asp && strcmp(g->dests[i].asp_name, asp_name) == 0)
			return true;
	return false;
}

static bool
access_grant_opens_addr(const struct bconf_grant *g, const struct addr *a, uint16_t port)
{
	for (size_t i = 0; i < g->n_dests; i++) {
		const struct bconf_dest *d = &g->dests[i];
		if (!d->is_asp && prefix_contains(&d->net, a) && port >= d->port_lo && port <= d->port_hi)
			return true;
	}
	return false;
}

static int
access_check_asp(const struct bridge_conf *conf, struct asp_state *asps, const char *user,
    const struct bconf_asp *asp, struct access_target *out, const char **why)
{
	out->asp = asp;
	out->port = asp->port;
	if (addr_parse(asp->address, &out->addr) < 0) {
		*why = "ASP service has no usable address";
		return -1;
	}
	/* A service's own `who` list, when set, is the whole answer; else the grants decide. */
	if (asp->n_who) {
		if (!bconf_user_in(conf, user, asp->who, asp->n_who)) {
			*why = "ASP service not granted to this user";
			return -1;
		}
		out->grant = "asp:who";
	}
	for (size_t i = 0; out->grant == NULL && i < conf->n_grants; i++)
		if (bconf_user_in(conf, user, conf->grants[i].who, conf->grants[i].n_who) &&
		    access_grant_opens_asp(&conf->grants[i], asp->name))
			out->grant = conf->grants[i].name ? conf->grants[i].name : "unnamed";
	if (out->grant == NULL) {
		*why = "ASP service not granted to this user";
		return -1;
	}
	/* Granted is not enough: the service must have passed its connection check. */
	return asp_state_routable(asps, asp->name, conf->asp_max_age, why) ? 0 : -1;
}

/*
 * 三層分離: nothing from telework reaches the My Number zone. This holds even
 * when a grant was written too wide (10.0.0.0/8): the zone model has the last word.
 */
static bool
access_zone_ok(const struct policy *zones, const struct addr *a, const char **why)
{
	const char *zone;

	if (zones == NULL)
		return true;
	zone = policy_zone_name(zones, policy_zone_of(zones, a, NULL));
	if (zone != NULL && strcmp(zone, "mynumber") == 0) {
		*why = "destination is in the mynumber zone: never reachable through the bridge";
		return false;
	}
	return true;
}

int
access_check(const struct bridge_conf *conf, const struct policy *zones, struct asp_state *asps,
    const char *user, const struct http_connect *req, struct access_target *out, const char **why)
{
	const struct bconf_asp *asp = bconf_asp_by_target(conf, req->host, req->port);

	memset(out, 0, sizeof *out);
	if (req->host_is_ip && !access_zone_ok(zones, &req->addr, why))
		return -1;
	if (asp) {
		struct addr where;
		if (addr_parse(asp->address, &where) == 0 && !access_zone_ok(zones, &where, why))
			return -1;
		return access_check_asp(conf, asps, user, asp, out, why);
	}
	if (!req->host_is_ip) {
		*why = "destination is neither an IP address nor a registered ASP service";
		return -1;
	}
	out->addr = req->addr;
	out->port = req->port;
	for (size_t i = 0; i < conf->n_grants; i++) {
		const struct bconf_grant *g = &conf->grants[i];
		if (bconf_user_in(conf, user, g->who, g->n_who) &&
		    access_grant_opens_addr(g, &req->addr, req->port)) {
			out->grant = g->name ? g->name : "unnamed";
			out->protocols = g->protocols;
			return 0;
		}
	}
	*why = "destination not granted to this user";
	return -1;
}

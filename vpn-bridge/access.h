/* access.h -- check 4: may this user reach this CONNECT destination (grants, ASP registry, ASP checks)? */
#ifndef TIERGATE_BRIDGE_ACCESS_H
#define TIERGATE_BRIDGE_ACCESS_H

#include "policy/policy.h"
#include "vpn-bridge/asp.h"
#include "vpn-bridge/config.h"
#include "vpn-bridge/http.h"

struct access_target {
	const struct bconf_asp *asp;   /* the ASP service, or NULL */
	struct addr addr;              /* where to connect */
	uint16_t port;
	const char *grant;             /* the grant that allowed it ("asp:who" for ASP lists) */
	unsigned protocols;            /* screenproto bits the tunnel must carry; 0: not checked */
};

/*
 * Returns 0 and fills *out when user may reach req's host:port; else -1 with
 * the reason (for the 403 body and the audit log) in *why. zones (may be NULL)
 * is the site's zone model: a destination in the mynumber zone is refused
 * whatever the grants say.
 */
int access_check(const struct bridge_conf *conf, const struct policy *zones, struct asp_state *asps,
    const char *user, const struct http_connect *req, struct access_target *out, const char **why);

#endif

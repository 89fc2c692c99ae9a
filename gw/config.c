/* config.c -- the `gateway` group of the site file: packet budgets, timeouts, bounds, marks. */
#include <ctype.h>
#include <string.h>

#include "gw/engine.h"
#include "lib/util.h"

void
gw_config_defaults(struct gw_config *out)
{
	memset(out, 0, sizeof *out);
	out->tcp_budget = 8;
	out->udp_budget = 4;
	out->timeout_syn = 30;
	out->timeout_established = 3600;
	out->timeout_closing = 120;
	out->timeout_closed = 10;
	out->timeout_udp = 60;
	out->timeout_icmp = 30;
	out->max_flows = 262144;
	out->max_memory_mb = 0;
	out->fragments = GW_FRAG_TRACK;
	out->frag_max = 4096;
	out->frag_timeout = 30;
	out->mark_accept = 0x1;
	out->mark_drop = 0x2;
	out->mark_reject = 0x4;
	out->dns_names = 16384;
	out->dns_grace = 30;
}

static const char *const gw_config_members[] = {
	"tcp_budget", "udp_budget", "timeout_syn", "timeout_established", "timeout_closing",
	"timeout_closed", "timeout_udp", "timeout_icmp", "max_flows", "max_memory_mb",
	"fragments", "frag_max", "frag_timeout", "mark_accept", "mark_drop", "mark_reject",
	"events", "dns_names", "dns_grace", "node", NULL
};

static void
gw_config_timeouts(const config_setting_t *g, struct gw_config *out, struct diags *d)
{
	const unsigned day = 86400;

	conf_get_uint(g, "timeout_syn", day, &out->timeout_syn, d);
	conf_get_uint(g, "timeout_established", 7 * day, &out->timeout_established, d);
	conf_get_uint(g, "timeout_closing", day, &out->timeout_closing, d);
	conf_get_uint(g, "timeout_closed", day, &out->timeout_closed, d);
	conf_get_uint(g, "timeout_udp", day, &out->timeout_udp, d);
	conf_get_uint(g, "timeout_icmp", day, &out->timeout_icmp, d);
	conf_get_uint(g, "frag_timeout", 600, &out->frag_timeout, d);
}

/* Marks must be distinct single-purpose bits or the kernel rules cannot tell them apart. */
static void
gw_config_marks(const config_setting_t *g, struct gw_config *out, struct diags *d)
{
	conf_get_uint(g, "mark_accept", UINT32_MAX, &out->mark_accept, d);
	conf_get_uint(g, "mark_drop", UINT32_MAX, &out->mark_drop, d);
	conf_get_uint(g, "mark_reject", UINT32_MAX, &out->mark_reject, d);
	if (out->mark_accept == 0 || (out->mark_accept & (out->mark_drop | out->mark_reject)) ||
	    (out->mark_drop & out->mark_reject))
		diags_add(d, DIAG_ERROR, g, "gateway: mark_accept, mark_drop and mark_reject must be "
		    "non-zero and share no bits");
}

bool
gw_config_node_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
			return false;
	return true;
}

static void
gw_config_node(const config_setting_t *g, struct gw_config *out, struct diags *d)
{
	const char *node = NULL;

	if (conf_get_str(g, "node", &node, d) < 0 || node == NULL)
		return;
	if (!gw_config_node_ok(node)) {
		diags_add(d, DIAG_ERROR, config_setting_get_member(g, "node"), "gateway.node must be "
		    "1-63 letters, digits, '.', '_' or '-' (it names this gateway in events)");
		return;
	}
	str_copy(out->node, node, sizeof out->node);
}

int
gw_config_load(const config_t *cfg, struct gw_config *out, struct diags *d)
{
	const config_setting_t *g = config_lookup(cfg, "gateway");
	static const char *const frag_modes[] = { "track", "drop", NULL };
	const char *events = NULL;
	int frag = GW_FRAG_TRACK;
	size_t errors = diags_count(d, DIAG_ERROR);

	gw_config_defaults(out);
	if (g == NULL)
		return 0;
	if (!config_setting_is_group(g)) {
		diags_add(d, DIAG_ERROR, g, "gateway must be a group { ... }");
		return -1;
	}
	conf_check_members(g, gw_config_members, d);
	conf_get_uint(g, "tcp_budget", 255, &out->tcp_budget, d);
	conf_get_uint(g, "udp_budget", 255, &out->udp_budget, d);
	gw_config_timeouts(g, out, d);
	conf_get_uint(g, "max_flows", 1u << 26, &out->max_flows, d);
	conf_get_uint(g, "max_memory_mb", 1u << 20, &out->max_memory_mb, d);
	conf_get_uint(g, "frag_max", 1u << 20, &out->frag_max, d);
	conf_get_uint(g, "dns_names", 1u << 22, &out->dns_names, d);
	conf_get_uint(g, "dns_grace", 3600, &out->dns_grace, d);
	if (conf_get_enum(g, "fragments", frag_modes, &frag, d) == 0)
		out->fragments = (enum gw_frag_mode)frag;
	gw_config_marks(g, out, d);
	if (conf_get_str(g, "events", &events, d) == 0 && events)
		str_copy(out->events, events, sizeof out->events);
	gw_config_node(g, out, d);
	if (out->max_flows < 16)
		diags_add(d, DIAG_ERROR, g, "gateway.max_flows must be at least 16");
	if (out->tcp_budget == 0 || out->udp_budget == 0)
		diags_add(d, DIAG_ERROR, g, "gateway: tcp_budget and udp_budget must be at least 1");
	return diags_count(d, DIAG_ERROR) > errors ? -1 : 0;
}

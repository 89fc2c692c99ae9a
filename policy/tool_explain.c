/* tool_explain.c -- tiergate-policy explain: one flow's zones, rule, verdict and why (text or --json). */
#include <stdio.h>
#include <string.h>

#include "lib/event.h"
#include "lib/util.h"
#include "policy/internal.h"
#include "policy/tool.h"

#define EXPLAIN_MAX_ALTS 16
#define EXPLAIN_OTHER_APP "(another application)"

struct explain_args {
	const char *file, *app, *name;
	struct policy_flow flow;
	bool json, have_src, have_dst, have_proto;
};

/* What the flow would get once nDPI names it: one line per application a matching rule names. */
struct explain_alt {
	const char *app;
	struct policy_verdict v;
};

static int
explain_port(const char *opt, const char *val, uint16_t *out)
{
	unsigned long n;

	if (parse_ulong(val, 65535, &n) < 0)
		return tool_usage_error("%s wants a number 0-65535, not '%s'", opt, val);
	*out = (uint16_t)n;
	return 0;
}

static int
explain_addr(const char *opt, const char *val, struct addr *out, bool *have)
{
	if (addr_parse(val, out) < 0)
		return tool_usage_error("%s wants an IPv4 or IPv6 address, not '%s'", opt, val);
	*have = true;
	return 0;
}

static int
explain_option(struct explain_args *a, const char *opt, const char *val)
{
	if (strcmp(opt, "--src") == 0)
		return explain_addr(opt, val, &a->flow.src, &a->have_src);
	if (strcmp(opt, "--dst") == 0)
		return explain_addr(opt, val, &a->flow.dst, &a->have_dst);
	if (strcmp(opt, "--sport") == 0)
		return explain_port(opt, val, &a->flow.sport);
	if (strcmp(opt, "--dport") == 0)
		return explain_port(opt, val, &a->flow.dport);
	if (strcmp(opt, "--proto") == 0) {
		a->have_proto = true;
		if (tool_parse_proto(val, &a->flow.proto) < 0)
			return tool_usage_error("--proto wants tcp, udp, icmp or a number, not '%s'", val);
		return 0;
	}
	if (strcmp(opt, "--app") == 0)
		a->app = val;
	else if (strcmp(opt, "--name") == 0)
		a->name = val;
	else if (strcmp(opt, "--in-if") == 0)
		a->flow.in_if = val;
	else if (strcmp(opt, "--out-if") == 0)
		a->flow.out_if = val;
	else
		return tool_usage_error("explain: unknown option '%s'", opt);
	return 0;
}

/*
 * --name NAME: the flow's server name (SNI, Host); without --app, TLS. The DNS
 * binding cannot be known offline: explain assumes the site's resolver did
 * return --dst for NAME and says so.
 */
static bool
explain_bound(void *arg, const char *name, const struct addr *dst)
{
	*(bool *)arg = true;
	return true;
}

static bool explain_assumed_bound;

static void
explain_name(struct explain_args *a)
{
	if (a->app == NULL)
		a->app = "TLS";
	a->flow.server_name = a->name;
	a->flow.name_state = strlen(a->name) >= 79 ? NAME_CUT : NAME_KNOWN;
	a->flow.name_bound = explain_bound;
	a->flow.name_bound_arg = &explain_assumed_bound;
}

static int
explain_parse(int argc, char **argv, struct explain_args *a)
{
	memset(a, 0, sizeof *a);
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			a->json = true;
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			if (i + 1 >= argc)
				return tool_usage_error("%s needs a value", argv[i]);
			if (explain_option(a, argv[i], argv[i + 1]) != 0)
				return TOOL_EXIT_USAGE;
			i++;
		} else if (a->file == NULL) {
			a->file = argv[i];
		} else {
			return tool_usage_error("explain: unexpected argument '%s'", argv[i]);
		}
	}
	if (a->file == NULL || !a->have_src || !a->have_dst || !a->have_proto)
		return tool_usage_error("explain needs FILE --src ADDR --dst ADDR --proto PROTO");
	if (addr_is_v4(&a->flow.src) != addr_is_v4(&a->flow.dst))
		return tool_usage_error("--src and --dst must both be IPv4 or both IPv6");
	if (a->name != NULL)
		explain_name(a);
	return 0;
}

static bool
explain_seen(const struct explain_alt *alts, int n, const char *app)
{
	for (int i = 0; i < n; i++)
		if (strcmp(alts[i].app, app) == 0)
			return true;
	return false;
}

/* For a flow still waiting: its verdict with each application the matching rules name, Unknown, any other. */
static int
explain_alternatives(const struct policy *p, const struct policy_flow *flow,
    const struct policy_verdict *v, struct explain_alt *alts)
{
	int n = 0;

	for (int i = 0; i < p->nrules && n < EXPLAIN_MAX_ALTS - 2; i++) {
		const struct prule *r = &p->rules[i];
		if (!lookup_rule_tuple(r, flow, v->src_zone, v->dst_zone))
			continue;
		if (r->napps == 0)
			break;   /* this rule decides every application left */
		for (int k = 0; k < r->napps && n < EXPLAIN_MAX_ALTS - 2; k++)
			if (!explain_seen(alts, n, p->apps[r->apps[k]]))
				alts[n++].app = p->apps[r->apps[k]];
	}
	if (!explain_seen(alts, n, APP_UNKNOWN))
		alts[n++].app = APP_UNKNOWN;
	alts[n++].app = EXPLAIN_OTHER_APP;
	for (int i = 0; i < n; i++)
		policy_lookup(p, flow, alts[i].app, &alts[i].v);
	return n;
}

static const struct prule *
explain_rule(const struct policy *p, const struct policy_verdict *v)
{
	return v->rule >= 0 ? &p->rules[v->rule] : NULL;
}

static void
explain_endpoint(const struct policy *p, const char *label, const struct addr *a, const char *ifname,
    int zone)
{
	char text[ADDR_STRLEN], why[96];
	const char *host = tool_host_of(p, a);

	addr_format(a, text);
	tool_zone_why(p, a, ifname, zone, why, sizeof why);
	printf("%-9s%s  zone %s (%s)%s%s\n", label, text, policy_zone_name(p, zone), why,
	    host ? ", host " : "", host ? host : "");
}

static const char *
explain_alt_label(const struct explain_alt *alt)
{
	static char label[80];

	if (strcmp(alt->app, EXPLAIN_OTHER_APP) == 0)
		return "any other application";
	snprintf(label, sizeof label, "app %s", alt->app);
	return label;
}

static void
explain_print_text(const struct policy *p, const struct explain_args *a,
    const struct policy_verdict *v, const struct explain_alt *alts, int nalts)
{
	const struct prule *r = explain_rule(p, v);
	char pbuf[16], src[ADDR_STRLEN], dst[ADDR_STRLEN];

	addr_format(&a->flow.src, src);
	addr_format(&a->flow.dst, dst);
	printf("%-9s%s %s → %s port %u, %s%s\n", "flow", tool_proto_name(a->flow.proto, pbuf, sizeof pbuf),
	    src, dst, a->flow.dport, a->app ? "application " : "application not known yet",
	    a->app ? a->app : "");
	explain_endpoint(p, "src", &a->flow.src, a->flow.in_if, v->src_zone);
	explain_endpoint(p, "dst", &a->flow.dst, a->flow.out_if, v->dst_zone);
	if (r != NULL) {
		printf("%-9s%s at %s:%d\n", "rule", r->name, r->file, r->line);
		if (r->comment)
			printf("%-9s\"%s\"\n", "", r->comment);
	} else {
		printf("%-9s%s\n", "rule", v->rule_name);
	}
	if (v->final)
		printf("%-9s%s%s\n", "verdict", policy_action_name(v->action), v->log ? " (logged)" : "");
	else
		printf("%-9saccept for now, not final: would wait for the application\n", "verdict");
	printf("%-9s%s\n", "why", v->reason);
	if (a->name != NULL)
		printf("%-9s%s%s\n", "name", a->name, explain_assumed_bound ? "  (assumed among the site's "
		    "DNS answers for --dst: the gateway checks that; here it cannot)" : "");
	if (v->name_list >= 0)
		printf("%-9s%s (%s)\n", "list", p->lists[v->name_list].name, p->lists[v->name_list].file);
	for (int i = 0; i < nalts; i++)
		printf("%-9swith %-*s → %-7s %s\n", i == 0 ? "then" : "", 22, explain_alt_label(&alts[i]),
		    policy_action_name(alts[i].v.action), alts[i].v.rule_name);
}

static void
explain_json_verdict(struct jbuf *jb, const struct policy *p, const struct policy_verdict *v)
{
	const struct prule *r = explain_rule(p, v);

	jb_str(jb, "action", policy_action_name(v->action));
	jb_bool(jb, "final", v->final);
	jb_bool(jb, "log", v->log);
	jb_str(jb, "rule", v->rule_name);
	if (r) {
		jb_str(jb, "file", r->file);
		jb_int(jb, "line", r->line);
		jb_str(jb, "comment", r->comment);
	}
	jb_str(jb, "reason", v->reason);
}

static void
explain_print_json(const struct policy *p, const struct explain_args *a,
    const struct policy_verdict *v, const struct explain_alt *alts, int nalts)
{
	struct jbuf jb = JBUF_INIT;
	char src[ADDR_STRLEN], dst[ADDR_STRLEN], pbuf[16];

	addr_format(&a->flow.src, src);
	addr_format(&a->flow.dst, dst);
	jb_obj_open(&jb);
	jb_str(&jb, "src_ip", src);
	jb_str(&jb, "dest_ip", dst);
	jb_str(&jb, "proto", tool_proto_name(a->flow.proto, pbuf, sizeof pbuf));
	jb_uint(&jb, "dest_port", a->flow.dport);
	jb_str(&jb, "app", a->app);
	jb_str(&jb, "server_name", a->name);
	jb_str(&jb, "name_list", v->name_list >= 0 ? p->lists[v->name_list].name : NULL);
	jb_bool(&jb, "dns_binding_assumed", explain_assumed_bound);
	jb_str(&jb, "src_zone", policy_zone_name(p, v->src_zone));
	jb_str(&jb, "dest_zone", policy_zone_name(p, v->dst_zone));
	explain_json_verdict(&jb, p, v);
	jb_arr_begin(&jb, "with_app");
	for (int i = 0; i < nalts; i++) {
		jb_obj_open(&jb);
		jb_str(&jb, "app", strcmp(alts[i].app, EXPLAIN_OTHER_APP) == 0 ? NULL : alts[i].app);
		explain_json_verdict(&jb, p, &alts[i].v);
		jb_obj_end(&jb);
	}
	jb_arr_end(&jb);
	jb_obj_end(&jb);
	printf("%s\n", jb_cstr(&jb));
	jb_free(&jb);
}

int
tool_explain(int argc, char **argv)
{
	struct explain_args a;
	struct explain_alt alts[EXPLAIN_MAX_ALTS];
	struct policy_verdict v;
	struct policy *p;
	int nalts = 0;

	if (explain_parse(argc, argv, &a) != 0)
		return TOOL_EXIT_USAGE;
	p = tool_load(a.file, stderr);
	if (p == NULL)
		return 1;
	policy_lookup(p, &a.flow, a.app, &v);
	if (!v.final)
		nalts = explain_alternatives(p, &a.flow, &v, alts);
	if (a.json)
		explain_print_json(p, &a, &v, alts, nalts);
	else
		explain_print_text(p, &a, &v, alts, nalts);
	policy_unref(p);
	return 0;
}

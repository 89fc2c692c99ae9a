/* internal.h -- the policy's in-memory form, shared by the files of policy/ only. */
#ifndef TIERGATE_POLICY_INTERNAL_H
#define TIERGATE_POLICY_INTERNAL_H

#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>

#include "policy/names.h"
#include "policy/policy.h"

/* Zone references in rules besides real zone ids (>= 0). */
#define ZONE_ANY     (-2)    /* "any": every zone, and addresses in none */
#define ZONE_MISSING (-3)    /* named a zone the file does not define: rule ignored */

/* Why a rule with names did not match a flow whose tuple and application it matched. */
enum name_cause { NC_NO_NAME, NC_ENCRYPTED, NC_CUT, NC_NOT_LISTED, NC_NOT_BOUND, NAME_CAUSES };

/* A named list of server names: conf/names/NAME.list beside the site file. */
struct plist {
	char *name, *file;
	char **patterns;
	int npatterns;
};

/* What a rule says about the protocol. */
enum rule_proto { RP_ANY, RP_TCP, RP_UDP, RP_ICMP };
/* What a packet's protocol is, for the index. */
enum proto_class { PC_TCP, PC_UDP, PC_ICMP, PC_OTHER, PC_COUNT };

struct port_range {
	uint16_t lo, hi;
};

struct pzone {
	char *name, *comment, *file;
	int line;
	struct prefix *nets;
	int nnets;
	char **ifs;
	int nifs;
};

struct phost {
	char *name, *comment, *file;
	int line;
	struct prefix net;
	char **roles;
	int nroles;
};

/* One entry of a rule's src or dst: a literal network or a named host. */
struct paddr {
	struct prefix net;
	int host;             /* index into hosts, -1 for a literal network */
	bool asp_off;         /* from "asp:passed": this ASP has not passed its check (never matches) */
};

/* An LGWAN-ASP service of the site (asp.services) and whether its latest check passed (asp.c). */
struct pasp {
	char *name;
	struct prefix addr;
	bool passed;
};

/* A rule's written exception (exception.c). */
struct pexception {
	char *reason, *approved_by, *until;
	long days_left;       /* from the day the policy was loaded */
};

struct prule {
	char *name, *comment, *file;
	struct pexception *exception;   /* NULL: none */
	int line;
	int from, to;         /* zone id, ZONE_ANY or ZONE_MISSING */
	struct paddr *src, *dst;
	int nsrc, ndst;       /* 0 = any address */
	enum rule_proto proto;
	struct port_range *ports;
	int nports;           /* 0 = every port */
	int *apps;            /* sorted ids into policy.apps */
	int napps;            /* 0 = any application (decided without nDPI) */
	enum policy_action action;
	bool log;
	bool asp_dst;         /* dst holds "asp:passed" */
	char *reason;         /* "rule NAME (FILE:LINE)": the verdict's reason, built once */
	char *wait_reason;    /* the same while the application is not known yet */
	struct nameset *names;   /* server names (names.c); NULL: the rule names none */
	char **name_src;      /* the entries as written ("@list:m365" too), for show */
	int nname_src;
	bool bind_dns;        /* the name must also have resolved to dst (bind_names_to_dns) */
	char *name_reason[NAME_CAUSES];   /* why the rule did not match, per cause (names rules) */
};

/*
 * Most-specific zone lookup: one sorted table per prefix length, longest
 * first. Addresses are compared as two host-order 64-bit halves.
 */
struct zkey {
	uint64_t hi, lo;
};

struct zlevel {
	uint8_t len;
	bool has_v4, has_v6;  /* holds networks that IPv4 (mapped) / IPv6 addresses can fall in */
	struct zkey mask;
	int n;
	struct zentry {
		struct zkey net;
		int zone;
	} *v;
};

struct zindex {
	struct zlevel *levels;
	int nlevels;
};

/*
 * The rule index: for each (src zone, dst zone, protocol class) a sorted list
 * of disjoint destination-port intervals, each holding the ordered list of
 * rules whose zones, protocol and ports cover it. Slot nzones is "no zone".
 */
struct cinterval {
	uint16_t lo, hi;
	uint32_t off, n;      /* into cindex.cands */
};

struct cbucket {
	uint32_t off, n;      /* into cindex.ivs */
};

struct cindex {
	int nslots;
	struct cbucket *buckets;   /* nslots * nslots * PC_COUNT */
	struct cinterval *ivs;
	size_t nivs;
	int32_t *cands;
	size_t ncands;
};

struct policy {
	atomic_int refs;
	char *source;
	enum policy_model model;
	struct pzone *zones;
	int nzones;
	struct phost *hosts;
	int nhosts;
	struct prule *rules;
	int nrules;
	char **apps;          /* application names the rules use, sorted case-insensitively */
	int napps;
	enum policy_action def_action, unknown_app, malformed;
	bool def_log;
	int z_mynumber, z_internet;
	long today;           /* day number the file was loaded (exceptions' days left) */
	bool cloud;           /* security_cloud: the internet only through the prefecture's cloud */
	char *cloud_file;
	int cloud_line;
	struct prefix *cloud_local;   /* the site's own internet-zone networks */
	int ncloud_local;
	struct pasp *asps;
	int nasps;
	char *asp_state;      /* asp.state_file, resolved; NULL when none */
	struct stat asp_stat; /* the state file as read (asp_stat_ok: it existed) */
	bool asp_stat_ok;
	time_t asp_max_age;
	time_t asp_expiry;    /* earliest moment a pass counted here runs out, 0 = none */
	struct plist *lists;  /* name lists the rules use (loaded with the policy) */
	int nlists;
	bool bind_default;    /* defaults.bind_names_to_dns */
	struct zindex zindex;
	struct cindex cindex;
};

/* load.c */
struct policy *policy_parse(config_t *cfg, const char *source, struct diags *d);
void policy_free(struct policy *p);
int policy_parse_action(const char *word, enum policy_action *out);

/* load_names.c */
int load_names_rule(struct policy *p, const config_setting_t *g, struct prule *r, struct diags *d);
void load_names_reasons(struct prule *r);
void load_names_free_rule(struct prule *r);
void load_names_free_lists(struct policy *p);

/* zone.c */
void zone_index_build(struct policy *p);
void zone_index_free(struct zindex *zi);
int zone_of_net(const struct policy *p, const struct addr *a);
/* True when some address of net may belong to zone (for "any" in invariants). */
bool zone_may_hold(const struct policy *p, int zone, const struct prefix *net);

/* compile.c */
void compile_index(struct policy *p);
void compile_free(struct cindex *ci);
enum proto_class compile_proto_class(uint8_t proto);

/* lookup.c */
/* The reference: a plain scan over every rule, for the cross-check tests. */
void policy_lookup_linear(const struct policy *p, const struct policy_flow *flow, const char *app,
    struct policy_verdict *out);
bool lookup_rule_tuple(const struct prule *r, const struct policy_flow *flow, int src_zone,
    int dst_zone);

/* apps.c */
bool apps_ndpi_known(const char *name);
const char *apps_ndpi_canonical(const char *name);
/* Id of name in the policy's app table (case-insensitive), -1 if no rule names it. */
int apps_find(const struct policy *p, const char *name);
int apps_intern(struct policy *p, const char *name);
void apps_finish(struct policy *p);
int apps_resolve(const struct policy *p, const char *name, int ids[3]);

/* exception.c */
int exception_parse_date(const char *text, long *days);
long exception_today(void);
int exception_parse(const config_setting_t *rule, const char *name, long today,
    struct pexception **out, struct diags *d);
void exception_free(struct pexception *e);

/* paths.c: chains of accept rules through relay hosts */
#define PATHS_NROLES 5
struct paths_role {
	const char *name;
	bool cleans;                 /* a hop through it is a sanitizer / screen-transfer hop */
	const char *const *in;       /* applications it takes in to pass on (NULL: any) */
	const char *const *out;      /* applications it sends on (NULL: any) */
};
extern const struct paths_role paths_roles[PATHS_NROLES];
/* One chain: rules[i] arrives at hosts[i] (passing as roles[i]); the last has host -1. */
struct paths_chain {
	int nrules;
	int *rules, *hosts, *roles;
	bool clean;                  /* passed a cleaning hop, or arrived only on cleaning hosts */
};
typedef void (*paths_fn)(const struct policy *p, const struct paths_chain *c, void *arg);
/* Every rule that ends a path from zone from into zone to, once clean and once not: shortest chains. */
void paths_find(const struct policy *p, int from, int to, paths_fn fn, void *arg);
void paths_format(const struct policy *p, const struct paths_chain *c, char *buf, size_t size);
void paths_check(const struct policy *p, struct diags *d);
int paths_role_of(const char *name);
bool paths_host_has_role(const struct phost *h, int role);
bool paths_carries(const struct policy *p, const struct prule *r, const char *const *apps);
bool paths_rule_touches(const struct policy *p, const struct prule *r, int zone, bool src_side);
bool paths_rule_at_host(const struct policy *p, const struct prule *r, const struct phost *h,
    bool src_side);

/* asp.c */
struct asp_result_line {
	char service[64];
	bool passed;
	long long checked_at;
};
int asp_state_parse_line(const char *line, struct asp_result_line *r);
int asp_state_read(const char *path, struct asp_result_line **out, int *n, struct stat *st,
    const char **why);
void asp_load(struct policy *p, config_t *cfg, struct diags *d);
int asp_expand(const struct policy *p, const config_setting_t *where, const char *text,
    const char *rule, struct paddr *out, struct diags *d);
void asp_free(struct policy *p);

/* cloud.c */
void cloud_parse(struct policy *p, config_t *cfg, struct diags *d);
void cloud_check(const struct policy *p, struct diags *d);

/* grants.c */
void grants_check(const struct policy *p, config_t *cfg, struct diags *d);

/* invariant.c */
void invariant_check(const struct policy *p, struct diags *d);
void invariant_shadowing(const struct policy *p, struct diags *d);
bool invariant_rule_touches(const struct policy *p, const struct prule *r, int zone, bool src_side);
bool invariant_rule_covers(const struct prule *outer, const struct prule *inner);

/* invariant_names.c */
void invariant_alpha_prime_out(const struct policy *p, const struct prule *r, struct diags *d);
bool invariant_alpha_prime_exit(const struct policy *p, const struct prule *r);

#endif

/* policy.h -- the zone model: load a site file, check the guideline, answer flow -> verdict. */
#ifndef TIERGATE_POLICY_H
#define TIERGATE_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "lib/addr.h"
#include "lib/conf.h"

/*
 * A policy is loaded from the site's libconfig file (schema: conf/README.md),
 * checked against the guideline's invariants and compiled into an immutable
 * lookup structure. Readers may share one policy across threads; a reload
 * builds a new one and swaps the pointer (policy_ref/policy_unref).
 */
struct policy;

enum policy_model { MODEL_ALPHA, MODEL_BETA, MODEL_BETA_PRIME, MODEL_ALPHA_PRIME };
enum policy_action { ACT_ACCEPT, ACT_DROP, ACT_REJECT };

#define ZONE_NONE (-1)       /* address in no zone */
#define APP_PENDING NULL     /* application not known yet (nDPI still working) */
#define APP_UNKNOWN "Unknown"   /* nDPI gave up: the flow is matched as app "Unknown" */

/* What the flow said about its server's name, once the application is known. */
enum policy_name_state {
	NAME_NONE,               /* no name: TLS without SNI, or a protocol that carries none */
	NAME_KNOWN,              /* server_name holds it (TLS/QUIC SNI, HTTP Host, DNS question) */
	NAME_ENCRYPTED,          /* the ClientHello hides it (ESNI / Encrypted Client Hello) */
	NAME_CUT,                /* longer than nDPI keeps (79 bytes): cut, so never matched */
};

/* Was dst among the addresses the site's DNS returned for name (within their TTL)? */
typedef bool (*policy_name_bound_fn)(void *arg, const char *name, const struct addr *dst);

struct policy_flow {
	struct addr src, dst;
	uint8_t proto;           /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, ... */
	uint16_t sport, dport;   /* 0 for protocols without ports; ICMP: type in dport */
	const char *in_if;       /* interface names, NULL when unknown (pcap) */
	const char *out_if;
	/* Server name (rules with `names`); looked at only once the application is known. */
	enum policy_name_state name_state;
	const char *server_name; /* with NAME_KNOWN */
	policy_name_bound_fn name_bound;   /* NULL: never bound (rules binding names do not match) */
	void *name_bound_arg;
};

/* What decided a verdict: callers branch on this, never on rule_name's text. */
enum policy_basis {
	POLICY_BASIS_RULE,          /* a rule of the file (rule >= 0) */
	POLICY_BASIS_DEFAULT,       /* no rule matched: defaults.action */
	POLICY_BASIS_UNKNOWN_APP,   /* only rules naming applications matched, and the app is unknown */
	POLICY_BASIS_INVARIANT,     /* mynumber <-> internet, whatever the rules say */
};

struct policy_verdict {
	enum policy_action action;
	enum policy_basis basis;
	bool final;              /* false: a rule naming applications may still match */
	bool log;
	int rule;                /* index into the rule list, -1 for a default */
	const char *rule_name;   /* "default", "unknown-app", "invariant:mynumber-internet", or the rule's name */
	const char *reason;      /* one line a person reads: why this verdict */
	int src_zone, dst_zone;  /* zone ids, ZONE_NONE if none */
	bool hold;               /* not final and a rule with names may match: no payload may pass yet */
	int name_list;           /* the name list whose pattern matched: its id, or POLICY_NAME_* */
};

#define POLICY_NAME_NONE (-2)     /* name_list: no name rule decided */
#define POLICY_NAME_INLINE (-1)   /* name_list: a pattern written in the rule itself */

/*
 * Loads and compiles path. Every problem goes to diags (FILE:LINE). Returns
 * NULL when there is any error; warnings alone still give a policy.
 */
struct policy *policy_load(const char *path, struct diags *diags);
/* Same from text (tests, fuzzing); name is used as the file name in diagnostics. */
struct policy *policy_load_string(const char *text, const char *name, struct diags *diags);
struct policy *policy_ref(struct policy *p);
void policy_unref(struct policy *p);

/*
 * The lookup. app is APP_PENDING before classification, an nDPI protocol name
 * after ("TLS", "HTTP", ...; matched case-insensitively), APP_UNKNOWN when
 * classification gave up. With APP_PENDING the verdict is final only if no
 * rule naming applications could still match; otherwise final=false and
 * action is what applies while the flow waits (accept, so nDPI can see data).
 * A name "MASTER.APP" as nDPI prints it ("TLS.YouTube") matches rules naming
 * either part. Thread-safe, no allocation.
 */
void policy_lookup(const struct policy *p, const struct policy_flow *flow, const char *app,
    struct policy_verdict *out);

/* Zone of an address (most specific network wins; interface zones first when ifname given). */
int policy_zone_of(const struct policy *p, const struct addr *a, const char *ifname);
const char *policy_zone_name(const struct policy *p, int zone);
int policy_zone_count(const struct policy *p);
int policy_zone_by_name(const struct policy *p, const char *name);

enum policy_model policy_model(const struct policy *p);
const char *policy_model_name(enum policy_model model);
const char *policy_action_name(enum policy_action action);
/* Verdict for packets that cannot be decoded (defaults.malformed). */
enum policy_action policy_malformed_action(const struct policy *p);
/* Path the policy was loaded from. */
const char *policy_source(const struct policy *p);
int policy_rule_count(const struct policy *p);
const char *policy_rule_name(const struct policy *p, int rule);
/* True when some rule names applications or server names (gw then runs nDPI at all). */
bool policy_uses_apps(const struct policy *p);
/* True when some rule binds names to DNS answers (gw then reads the DNS answers it forwards). */
bool policy_binds_names(const struct policy *p);
/* The name lists (conf/names/NAME.list) the rules use, by id. */
int policy_name_list_count(const struct policy *p);
const char *policy_name_list_name(const struct policy *p, int list);

/* Written exceptions (a rule's exception = { reason; approved_by; until; }), in rule order. */
struct policy_exception {
	const char *rule, *file, *reason, *approved_by, *until;
	int line;
	long days_left;          /* counted from the day the policy was loaded */
};
int policy_exception_count(const struct policy *p);
bool policy_exception_get(const struct policy *p, int index, struct policy_exception *out);
void policy_exceptions_print(const struct policy *p, FILE *out);

/*
 * LGWAN-ASP services (dst = [ "asp:passed" ]): the state file the bridge writes
 * (NULL when the site has none), whether it changed since p read it or a pass
 * p counted has run out (then load again), and the services that passed.
 */
const char *policy_asp_state_file(const struct policy *p);
enum { ASP_STALE_NO, ASP_STALE_FILE, ASP_STALE_EXPIRED };
int policy_asp_stale(const struct policy *p, time_t now);
int policy_asp_passed(const struct policy *p, const char **names, int max);

#endif

/* policy.c -- policy_load: read, check, compile; the refcount and the small accessors. */
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "policy/internal.h"

/* Checks and compiles a parsed file; NULL (and p freed) when d holds any error. */
static struct policy *
policy_finish(struct policy *p, struct diags *d)
{
	invariant_check(p, d);
	paths_check(p, d);
	cloud_check(p, d);
	invariant_shadowing(p, d);
	if (diags_count(d, DIAG_ERROR) > 0) {
		policy_free(p);
		return NULL;
	}
	zone_index_build(p);
	compile_index(p);
	return p;
}

struct policy *
policy_load(const char *path, struct diags *d)
{
	config_t cfg;
	struct policy *p = NULL;
	size_t errors = diags_count(d, DIAG_ERROR);

	config_init(&cfg);
	if (conf_load(&cfg, path, d) == 0) {
		p = policy_parse(&cfg, path, d);
		if (diags_count(d, DIAG_ERROR) > errors) {
			policy_free(p);
			p = NULL;
		} else {
			p = policy_finish(p, d);
		}
	}
	config_destroy(&cfg);
	return p;
}

struct policy *
policy_load_string(const char *text, const char *name, struct diags *d)
{
	config_t cfg;
	struct policy *p = NULL;
	size_t errors = diags_count(d, DIAG_ERROR);

	config_init(&cfg);
	if (conf_load_string(&cfg, text, NULL, d) == 0) {
		p = policy_parse(&cfg, name, d);
		if (diags_count(d, DIAG_ERROR) > errors) {
			policy_free(p);
			p = NULL;
		} else {
			p = policy_finish(p, d);
		}
	}
	config_destroy(&cfg);
	return p;
}

struct policy *
policy_ref(struct policy *p)
{
	if (p)
		atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
	return p;
}

void
policy_unref(struct policy *p)
{
	if (p && atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
		policy_free(p);
}

enum policy_model
policy_model(const struct policy *p)
{
	return p->model;
}

const char *
policy_model_name(enum policy_model model)
{
	switch (model) {
	case MODEL_ALPHA: return "alpha";
	case MODEL_BETA: return "beta";
	case MODEL_BETA_PRIME: return "beta-prime";
	case MODEL_ALPHA_PRIME: return "alpha-prime";
	}
	return "?";
}

const char *
policy_action_name(enum policy_action action)
{
	switch (action) {
	case ACT_ACCEPT: return "accept";
	case ACT_DROP: return "drop";
	case ACT_REJECT: return "reject";
	}
	return "?";
}

enum policy_action
policy_malformed_action(const struct policy *p)
{
	return p->malformed;
}

const char *
policy_source(const struct policy *p)
{
	return p->source;
}

int
policy_rule_count(const struct policy *p)
{
	return p->nrules;
}

const char *
policy_rule_name(const struct policy *p, int rule)
{
	if (rule < 0 || rule >= p->nrules)
		return NULL;
	return p->rules[rule].name;
}

bool
policy_uses_apps(const struct policy *p)
{
	for (int i = 0; i < p->nrules; i++)
		if (p->rules[i].napps > 0 || p->rules[i].names != NULL)
			return true;
	return false;
}

bool
policy_binds_names(const struct policy *p)
{
	for (int i = 0; i < p->nrules; i++)
		if (p->rules[i].names != NULL && p->rules[i].bind_dns)
			return true;
	return false;
}

int
policy_name_list_count(const struct policy *p)
{
	return p->nlists;
}

const char *
policy_name_list_name(const struct policy *p, int list)
{
	return list >= 0 && list < p->nlists ? p->lists[list].name : NULL;
}

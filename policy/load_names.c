/* load_names.c -- a rule's `names` (patterns and @list:NAME files under names/) and bind_names_to_dns. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "policy/internal.h"

#define LIST_PREFIX "@list:"
#define LIST_DIR "names"          /* beside the file that holds the rule */
#define LIST_SUFFIX ".list"
#define LIST_LINE_MAX 1024
#define NDPI_NAME_KEEP 79         /* nDPI 4.2 keeps this many bytes of a server name */

static bool
ln_list_name_ok(const char *name)
{
	if (name[0] == '\0' || name[0] == '.')
		return false;
	for (const char *c = name; *c; c++)
		if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') && !(*c >= '0' && *c <= '9') &&
		    *c != '-' && *c != '_' && *c != '.')
			return false;
	return true;
}

/* Checks a pattern where it was written; also what the model allows. 0 fine, -1 error. */
static int
ln_check(const struct policy *p, const char *pattern, const char *file, int line, const char *rule,
    struct diags *d)
{
	const char *why = names_pattern_error(pattern);
	const char *body = strncmp(pattern, "*.", 2) == 0 ? pattern + 2 : NULL;

	if (why != NULL) {
		diags_add_at(d, DIAG_ERROR, file, line, "rule '%s': server name '%s': %s", rule, pattern, why);
		return -1;
	}
	if (body != NULL && strchr(body, '.') == NULL) {
		diags_add_at(d, p->model == MODEL_ALPHA_PRIME ? DIAG_ERROR : DIAG_WARNING, file, line,
		    "rule '%s': '%s' matches every name under a top-level domain: name the service's domain",
		    rule, pattern);
		return p->model == MODEL_ALPHA_PRIME ? -1 : 0;
	}
	if (strlen(body ? body : pattern) > NDPI_NAME_KEEP)
		diags_add_at(d, DIAG_WARNING, file, line, "rule '%s': '%s' is longer than the %d bytes nDPI "
		    "keeps of a server name: it never matches", rule, pattern, NDPI_NAME_KEEP);
	return 0;
}

static char *
ln_path(const char *rule_file, const char *list)
{
	const char *slash = strrchr(rule_file, '/');
	int dirlen = slash ? (int)(slash - rule_file) : 1;

	return xstrfmt("%.*s/%s/%s%s", dirlen, slash ? rule_file : ".", LIST_DIR, list, LIST_SUFFIX);
}

static void
ln_trim(char *s)
{
	char *hash = strchr(s, '#');
	size_t n;

	if (hash)
		*hash = '\0';
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	n = strspn(s, " \t");
	memmove(s, s + n, strlen(s + n) + 1);
}

/* Reads one list file: a name per line, '#' comments. -1 with errors at FILE:LINE. */
static int
ln_read(const struct policy *p, struct plist *l, const char *rule, struct diags *d)
{
	FILE *f = fopen(l->file, "r");
	char line[LIST_LINE_MAX];
	int lineno = 0, bad = 0, cap = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			diags_add_at(d, DIAG_ERROR, l->file, lineno, "line longer than %d bytes", LIST_LINE_MAX - 1);
			bad = 1;
			break;
		}
		ln_trim(line);
		if (line[0] == '\0')
			continue;
		if (ln_check(p, line, l->file, lineno, rule, d) < 0) {
			bad = 1;
			continue;
		}
		if (l->npatterns == cap) {
			cap = cap ? cap * 2 : 16;
			l->patterns = xrealloc(l->patterns, (size_t)cap, sizeof *l->patterns);
		}
		l->patterns[l->npatterns++] = xstrdup(line);
	}
	fclose(f);
	if (l->npatterns == 0 && !bad)
		diags_add_at(d, DIAG_WARNING, l->file, 1, "name list '%s' is empty: it matches nothing", l->name);
	return bad ? -2 : 0;
}

/* The list's id, loading it the first time a rule names it; -1 on error. */
static int
ln_list(struct policy *p, const char *name, const char *rule_file, int rule_line, const char *rule,
    struct diags *d)
{
	struct plist *l;
	int rc;

	for (int i = 0; i < p->nlists; i++)
		if (strcmp(p->lists[i].name, name) == 0)
			return i;
	if (!ln_list_name_ok(name)) {
		diags_add_at(d, DIAG_ERROR, rule_file, rule_line, "rule '%s': name list '%s': use letters, "
		    "digits, '-', '_' and '.'", rule, name);
		return -1;
	}
	p->lists = xrealloc(p->lists, (size_t)p->nlists + 1, sizeof *p->lists);
	l = &p->lists[p->nlists];
	memset(l, 0, sizeof *l);
	l->name = xstrdup(name);
	l->file = ln_path(rule_file, name);
	rc = ln_read(p, l, rule, d);
	if (rc == -1)
		diags_add_at(d, DIAG_ERROR, rule_file, rule_line, "rule '%s': name list '%s': cannot read "
		    "%s: %s", rule, name, l->file, strerror(errno));
	p->nlists++;   /* kept even when broken: the load fails anyway, and it is freed with the policy */
	return rc < 0 ? -1 : p->nlists - 1;
}

static int
ln_entry(struct policy *p, struct prule *r, const char *entry, struct diags *d)
{
	int id;

	if (strncmp(entry, LIST_PREFIX, strlen(LIST_PREFIX)) != 0) {
		if (ln_check(p, entry, r->file, r->line, r->name, d) < 0)
			return -1;
		names_add(r->names, entry, NAMES_INLINE);
		return 0;
	}
	id = ln_list(p, entry + strlen(LIST_PREFIX), r->file, r->line, r->name, d);
	if (id < 0)
		return -1;
	for (int i = 0; i < p->lists[id].npatterns; i++)
		names_add(r->names, p->lists[id].patterns[i], id);
	return 0;
}

static int
ln_names_list(const config_setting_t *s, const struct prule *r, struct diags *d)
{
	int n;

	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return 1;
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		diags_add(d, DIAG_ERROR, s, "rule '%s': names must be a list of strings [ \"a.example\", "
		    "\"*.b.example\", \"@list:NAME\" ]", r->name);
		return -1;
	}
	n = config_setting_length(s);
	for (int i = 0; i < n; i++)
		if (config_setting_type(config_setting_get_elem(s, (unsigned)i)) != CONFIG_TYPE_STRING) {
			diags_add(d, DIAG_ERROR, s, "rule '%s': names must hold only strings", r->name);
			return -1;
		}
	if (n == 0)
		diags_add(d, DIAG_ERROR, s, "rule '%s': an empty names list would match nothing", r->name);
	return n == 0 ? -1 : n;
}

int
load_names_rule(struct policy *p, const config_setting_t *g, struct prule *r, struct diags *d)
{
	config_setting_t *s = config_setting_get_member(g, "names");
	int n, bad = 0;

	r->bind_dns = p->bind_default;
	if (conf_get_bool(g, "bind_names_to_dns", &r->bind_dns, d) < 0)
		return -1;
	if (s == NULL) {
		if (config_setting_get_member(g, "bind_names_to_dns") != NULL)
			diags_add(d, DIAG_WARNING, g, "rule '%s': bind_names_to_dns without names does nothing",
			    r->name);
		return 0;
	}
	if ((n = ln_names_list(s, r, d)) < 0)
		return -1;
	r->names = names_new();
	r->name_src = xcalloc((size_t)n, sizeof *r->name_src);
	for (int i = 0; i < n; i++) {
		const char *entry = config_setting_type(s) == CONFIG_TYPE_STRING ? config_setting_get_string(s) :
		    config_setting_get_string(config_setting_get_elem(s, (unsigned)i));
		r->name_src[r->nname_src++] = xstrdup(entry);
		bad |= ln_entry(p, r, entry, d) < 0;
	}
	return bad ? -1 : 0;
}

void
load_names_reasons(struct prule *r)
{
	static const char *const why[NAME_CAUSES] = {
		[NC_NO_NAME] = "the flow carried no server name (TLS without SNI, or no Host)",
		[NC_ENCRYPTED] = "the TLS ClientHello hides the server name (ESNI / Encrypted Client Hello)",
		[NC_CUT] = "the server name is longer than nDPI keeps (79 bytes), so it was cut",
		[NC_NOT_LISTED] = "the server name is not among its names",
		[NC_NOT_BOUND] = ("the site's DNS never returned this address for the server name "
		    "(bind_names_to_dns)"),
	};

	if (r->names == NULL)
		return;
	for (int c = 0; c < NAME_CAUSES; c++)
		r->name_reason[c] = xstrfmt("no rule matched: rule '%s' (%s:%d) did not, because %s",
		    r->name, r->file, r->line, why[c]);
}

void
load_names_free_rule(struct prule *r)
{
	names_free(r->names);
	r->names = NULL;
	for (int i = 0; i < r->nname_src; i++)
		free(r->name_src[i]);
	free(r->name_src);
	for (int c = 0; c < NAME_CAUSES; c++)
		free(r->name_reason[c]);
}

void
load_names_free_lists(struct policy *p)
{
	for (int i = 0; i < p->nlists; i++) {
		free(p->lists[i].name);
		free(p->lists[i].file);
		for (int k = 0; k < p->lists[i].npatterns; k++)
			free(p->lists[i].patterns[k]);
		free(p->lists[i].patterns);
	}
	free(p->lists);
}

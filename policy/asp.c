/* asp.c -- dst = [ "asp:passed" ]: the LGWAN-ASP services whose latest connection check passed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/util.h"
#include "policy/internal.h"

/*
 * The bridge's root side checks each ASP (vpn-bridge/asp.c) and writes the
 * results to asp.state_file, one JSON object per line:
 *   {"service":"kintai","passed":true,...,"checked_at_epoch":1790000000}
 * The gateway is more trusted than whatever may have written that file, so
 * it is read here strictly (asp_state_parse): a regular file, writable by its
 * owner only, small, every line a flat object of plain keys, strings, integers
 * and booleans. Anything else and no ASP counts as passed: fail closed.
 */

#define ASP_FILE_MAX (1u << 20)
#define ASP_LINE_MAX 2048
#define ASP_NAME_MAX 64
#define ASP_DEFAULT_MAX_AGE (2 * 86400L)   /* as vpn-bridge/config.c */

static const char *
asp_skip_string(const char *s, char *out, size_t size)
{
	size_t used = 0;

	if (*s != '"')
		return NULL;
	for (s++; *s != '"'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20)
			return NULL;
		if (c == '\\') {
			s++;
			if (*s == 'u') {
				for (int i = 1; i <= 4; i++)
					if (strchr("0123456789abcdefABCDEF", s[i]) == NULL || s[i] == '\0')
						return NULL;
				s += 4;
				c = '?';
			} else if (*s && strchr("\"\\/bfnrt", *s)) {
				c = (unsigned char)*s;
			} else {
				return NULL;
			}
		}
		if (out && used + 1 < size)
			out[used++] = (char)c;
	}
	if (out)
		out[used] = '\0';
	return s + 1;
}

/* Parses one line into r; 0 for a blank line, 1 for a result, -1 when malformed. */
int
asp_state_parse_line(const char *line, struct asp_result_line *r)
{
	const char *s = line;
	bool have_service = false, have_passed = false, have_time = false;

	memset(r, 0, sizeof *r);
	if (*s == '\0')
		return 0;
	if (strlen(line) > ASP_LINE_MAX || *s++ != '{')
		return -1;
	while (*s != '}') {
		char key[32], value[ASP_NAME_MAX];
		if ((s = asp_skip_string(s, key, sizeof key)) == NULL || *s++ != ':')
			return -1;
		if (*s == '"') {
			if ((s = asp_skip_string(s, value, sizeof value)) == NULL)
				return -1;
			if (strcmp(key, "service") == 0) {
				if (str_copy(r->service, value, sizeof r->service) >= sizeof r->service)
					return -1;
				have_service = r->service[0] != '\0';
			}
		} else if (strncmp(s, "null", 4) == 0) {
			s += 4;   /* the bridge's writer turns a missing string into null */
		} else if (strncmp(s, "true", 4) == 0 || strncmp(s, "false", 5) == 0) {
			bool v = *s == 't';
			s += v ? 4 : 5;
			if (strcmp(key, "passed") == 0) {
				r->passed = v;
				have_passed = true;
			}
		} else {
			char digits[24];
			size_t n = strspn(s + (*s == '-'), "0123456789") + (*s == '-');
			long long v;
			if (n == 0 || n >= sizeof digits || (n == 1 && *s == '-'))
				return -1;
			memcpy(digits, s, n);
			digits[n] = '\0';
			v = strtoll(digits, NULL, 10);
			s += n;
			if (strcmp(key, "checked_at_epoch") == 0) {
				if (v < 0)
					return -1;
				r->checked_at = v;
				have_time = true;
			}
		}
		if (*s == ',' && s[1] != '}')
			s++;
		else if (*s != '}')
			return -1;
	}
	if (s[1] != '\0' || !have_service || !have_passed || !have_time)
		return -1;
	return 1;
}

/* Reads the whole state file; -1 with *why when it cannot be trusted. Caller frees *out. */
int
asp_state_read(const char *path, struct asp_result_line **out, int *n, struct stat *st,
    const char **why)
{
	uint8_t *text = NULL;
	size_t len = 0, lines = 1;
	char *cursor, *line;
	int count = 0;

	*out = NULL;
	*n = 0;
	if (stat(path, st) < 0) {
		*why = errno == ENOENT ? "no state file yet (no ASP checked)" : "cannot stat the state file";
		return -1;
	}
	if (!S_ISREG(st->st_mode) || (st->st_mode & 022) != 0) {
		*why = "not a regular file writable by its owner only";
		return -1;
	}
	if (file_read_all(path, ASP_FILE_MAX, &text, &len) < 0) {
		*why = "cannot read the state file (or larger than 1 MiB)";
		return -1;
	}
	if (memchr(text, '\0', len) != NULL) {
		*why = "the state file holds a NUL byte";
		free(text);
		return -1;
	}
	text = xrealloc(text, len + 1, 1);
	text[len] = '\0';
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	*out = xcalloc(lines, sizeof **out);
	cursor = (char *)text;
	while ((line = strsep(&cursor, "\n")) != NULL) {
		int rc = asp_state_parse_line(line, &(*out)[count]);
		if (rc < 0) {
			*why = "a line is not a result the bridge writes";
			free(text);
			free(*out);
			*out = NULL;
			return -1;
		}
		count += rc;
	}
	free(text);
	*n = count;
	return 0;
}

/* ---- the site's ASP services and the rules' "asp:passed" ------------------ */

static size_t
asp_dirlen(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? (size_t)(slash - path) : 0;
}

/* value relative to the file that holds it, whose own name is relative to the main file (lib/conf.c). */
static char *
asp_path(const struct policy *p, const config_setting_t *where, const char *value)
{
	const char *file = conf_file(where);
	size_t mainlen = 0, dirlen = asp_dirlen(file), len;
	char *out;

	if (value[0] == '/')
		return xstrdup(value);
	if (file == NULL || file[0] != '/')
		mainlen = asp_dirlen(p->source);
	len = mainlen + dirlen + strlen(value) + 3;
	out = xmalloc(len);
	snprintf(out, len, "%.*s%s%.*s%s%s", (int)mainlen, p->source, mainlen ? "/" : "", (int)dirlen,
	    file ? file : "", dirlen ? "/" : "", value);
	return out;
}

static void
asp_load_services(struct policy *p, const config_setting_t *list, struct diags *d)
{
	int n = list && config_setting_is_list(list) ? config_setting_length(list) : 0;

	p->asps = xcalloc(n > 0 ? (size_t)n : 1, sizeof *p->asps);
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		const char *name = NULL, *address = NULL, *why = "missing";
		struct pasp *a = &p->asps[p->nasps];
		if (!config_setting_lookup_string(g, "name", &name) ||
		    !config_setting_lookup_string(g, "address", &address) ||
		    prefix_parse(address, &a->addr, &why) < 0) {
			diags_add(d, DIAG_ERROR, g, "asp service: needs a name and an address (%s)", why);
			continue;
		}
		a->name = xstrdup(name);
		p->nasps++;
	}
}

/* Marks each service passed or not from the state file; the earliest expiry of a pass is kept. */
static void
asp_apply_state(struct policy *p, const config_setting_t *where, time_t now, struct diags *d)
{
	struct asp_result_line *v;
	const char *why = NULL;
	int n;

	if (asp_state_read(p->asp_state, &v, &n, &p->asp_stat, &why) < 0) {
		p->asp_stat_ok = stat(p->asp_state, &p->asp_stat) == 0;   /* watched for changes all the same */
		if (p->nasps > 0 && p->asp_stat_ok)   /* a missing file is the normal "nothing checked yet" */
			diags_add(d, DIAG_WARNING, where, "asp.state_file %s: %s; no ASP counts as passed",
			    p->asp_state, why);
		return;
	}
	p->asp_stat_ok = true;
	for (int i = 0; i < p->nasps; i++) {
		struct pasp *a = &p->asps[i];
		for (int k = n - 1; k >= 0; k--) {   /* the latest line for a service wins */
			if (strcmp(v[k].service, a->name) != 0)
				continue;
			a->passed = v[k].passed && v[k].checked_at <= now + 300 &&
			    (p->asp_max_age == 0 || v[k].checked_at + p->asp_max_age > now);
			if (a->passed && p->asp_max_age > 0 &&
			    (p->asp_expiry == 0 || v[k].checked_at + p->asp_max_age < p->asp_expiry))
				p->asp_expiry = v[k].checked_at + p->asp_max_age;
			break;
		}
	}
	free(v);
}

void
asp_load(struct policy *p, config_t *cfg, struct diags *d)
{
	config_setting_t *g = config_lookup(cfg, "asp");
	const char *state = NULL;
	long long age = ASP_DEFAULT_MAX_AGE;

	if (g == NULL || !config_setting_is_group(g))
		return;
	asp_load_services(p, config_setting_get_member(g, "services"), d);
	conf_get_int(g, "max_result_age", 0, 30 * 86400, &age, d);
	p->asp_max_age = (time_t)age;
	if (config_setting_lookup_string(g, "state_file", &state) && state[0] != '\0') {
		p->asp_state = asp_path(p, config_setting_get_member(g, "state_file"), state);
		asp_apply_state(p, config_setting_get_member(g, "state_file"), time(NULL), d);
	}
}

/*
 * "asp:passed" in a rule's dst: one entry per ASP service, those not passing
 * marked off (lookups skip them; the checks see them all, so a file's
 * validity does not depend on today's results). Returns entries added, -1 on error.
 */
int
asp_expand(const struct policy *p, const config_setting_t *where, const char *text, const char *rule,
    struct paddr *out, struct diags *d)
{
	if (strcmp(text, "asp:passed") != 0) {
		diags_add(d, DIAG_ERROR, where, "rule '%s': '%s': the only ASP destination is \"asp:passed\"",
		    rule, text);
		return -1;
	}
	if (p->nasps == 0) {
		diags_add(d, DIAG_ERROR, where, "rule '%s': \"asp:passed\" but the site lists no "
		    "asp.services", rule);
		return -1;
	}
	for (int i = 0; i < p->nasps; i++) {
		out[i].net = p->asps[i].addr;
		out[i].host = -1;
		out[i].asp_off = !p->asps[i].passed;
	}
	return p->nasps;
}

void
asp_free(struct policy *p)
{
	for (int i = 0; i < p->nasps; i++)
		free(p->asps[i].name);
	free(p->asps);
	free(p->asp_state);
}

const char *
policy_asp_state_file(const struct policy *p)
{
	return p->asp_state;
}

/* Has the state file changed since p read it (ASP_STALE_FILE), or has a pass p counted run out? */
int
policy_asp_stale(const struct policy *p, time_t now)
{
	struct stat st;
	bool exists;

	if (p->asp_state == NULL)
		return ASP_STALE_NO;
	if (p->asp_expiry != 0 && now >= p->asp_expiry)
		return ASP_STALE_EXPIRED;
	exists = stat(p->asp_state, &st) == 0;
	if (exists != p->asp_stat_ok)
		return ASP_STALE_FILE;
	return exists && (st.st_ino != p->asp_stat.st_ino || st.st_size != p->asp_stat.st_size ||
	    st.st_mtim.tv_sec != p->asp_stat.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != p->asp_stat.st_mtim.tv_nsec ||
	    st.st_mode != p->asp_stat.st_mode) ? ASP_STALE_FILE : ASP_STALE_NO;
}

int
policy_asp_passed(const struct policy *p, const char **names, int max)
{
	int n = 0;

	for (int i = 0; i < p->nasps; i++)
		if (p->asps[i].passed && n < max)
			names[n++] = p->asps[i].name;
	return n;
}

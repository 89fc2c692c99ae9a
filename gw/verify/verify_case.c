/* verify_case.c -- reading case.conf (docs/cases.md) into checks, and writing it back for --update. */
#include "gw/verify/verify_case.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw/verify/verify_str.h"
#include "lib/util.h"

static const char *const vcase_top_known[] = { "description", "pcap", "policy", "checks", NULL };
static const char *const vcase_check_known[] = { "match", "expect", "count", "keep", "comment", NULL };
/* Every field a tiergate-gw event carries (docs/events.md, gw): a misspelt field in
 * "match" would select nothing, and a "count = 0" guard would then pass on any traffic. */
static const char *const vcase_field_known[] = {
	"event", "timestamp", "flow_id", "pcap_cnt", "proto", "src_ip", "src_port", "dst_ip",
	"dst_port", "src_zone", "dst_zone", "app", "rule", "verdict", "final", "reason",
	"previous_verdict", "previous_rule", "pkts_toserver", "pkts_toclient", "bytes_toserver",
	"bytes_toclient", "end_reason", "sent", "server_name", "server_name_hidden", "name_list", NULL
};

/* Like conf_check_members, but an error: a misspelt "expect" would silently weaken a check. */
static void
vcase_check_members(const config_setting_t *group, const char *const *known, const char *what,
    struct diags *d)
{
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		struct vs_buf names;
		char *list;
		int k;
		for (k = 0; name && known[k] && strcmp(known[k], name) != 0; k++)
			;
		if (name == NULL || known[k] != NULL)
			continue;
		vs_open(&names);
		for (k = 0; known[k]; k++)
			fprintf(names.f, "%s%s", k ? ", " : "", known[k]);
		list = vs_take(&names);
		diags_add(d, DIAG_ERROR, s, "unknown %s '%s' (known here: %s)", what, name, list);
		free(list);
	}
}

static struct vfield *
vfields_push(struct vfields *fs, const char *name)
{
	struct vfield *f;

	fs->v = xrealloc(fs->v, fs->n + 1, sizeof *fs->v);
	f = &fs->v[fs->n++];
	memset(f, 0, sizeof *f);
	f->name = xstrdup(name);
	return f;
}

void
vfields_add_str(struct vfields *fs, const char *name, const char *val)
{
	struct vfield *f = vfields_push(fs, name);

	f->kind = VFIELD_STRING;
	f->str = xstrdup(val ? val : "null");
}

void
vfields_add_int(struct vfields *fs, const char *name, int64_t val)
{
	struct vfield *f = vfields_push(fs, name);

	f->kind = VFIELD_INT;
	f->integer = val;
}

void
vfields_add_bool(struct vfields *fs, const char *name, bool val)
{
	struct vfield *f = vfields_push(fs, name);

	f->kind = VFIELD_BOOL;
	f->boolean = val;
}

const struct vfield *
vfields_find(const struct vfields *fs, const char *name)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].name, name) == 0)
			return &fs->v[i];
	return NULL;
}

void
vfields_free(struct vfields *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->v[i].name);
		free(fs->v[i].str);
	}
	free(fs->v);
	fs->v = NULL;
	fs->n = 0;
}

void
vcheck_free(struct vcheck *ck)
{
	vfields_free(&ck->match);
	vfields_free(&ck->expect);
	free(ck->comment);
	ck->comment = NULL;
}

void
vcase_free(struct vcase *vc)
{
	free(vc->dir);
	free(vc->conf_path);
	free(vc->description);
	for (size_t i = 0; i < vc->npcaps; i++)
		free(vc->pcaps[i]);
	free(vc->pcaps);
	free(vc->policy);
	for (size_t i = 0; i < vc->nchecks; i++)
		vcheck_free(&vc->checks[i]);
	free(vc->checks);
	free(vc->header);
	memset(vc, 0, sizeof *vc);
}

/*
 * "conf/verify/alpha/x/../../../alpha.conf" is hard to read in a report:
 * when the file exists, its real path, relative to the working directory
 * when it lies below it (realpath, so symlinked folders stay correct).
 */
static char *
vcase_tidy_path(char *joined)
{
	char *real = realpath(joined, NULL), cwd[PATH_MAX];
	size_t n;

	if (real == NULL)
		return joined;
	free(joined);
	if (getcwd(cwd, sizeof cwd) == NULL)
		return real;
	n = strlen(cwd);
	if (n > 1 && strncmp(real, cwd, n) == 0 && real[n] == '/') {
		char *rel = xstrdup(real + n + 1);
		free(real);
		return rel;
	}
	return real;
}

char *
vcase_path(const struct vcase *vc, const char *name)
{
	if (name[0] == '/')
		return xstrdup(name);
	return vcase_tidy_path(vs_printf("%s/%s", vc->dir, name));
}

/* A scalar setting becomes a field; groups and lists cannot be compared with an event value. */
static int
vcase_field(struct vfields *fs, const config_setting_t *s, struct diags *d)
{
	const char *name = config_setting_name(s);
	struct vfield *f;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		vfields_add_str(fs, name, config_setting_get_string(s));
		return 0;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		vfields_add_int(fs, name, config_setting_get_int64(s));
		return 0;
	case CONFIG_TYPE_BOOL:
		vfields_add_bool(fs, name, config_setting_get_bool(s));
		return 0;
	case CONFIG_TYPE_FLOAT:
		f = vfields_push(fs, name);
		f->kind = VFIELD_FLOAT;
		f->real = config_setting_get_float(s);
		return 0;
	default:
		diags_add(d, DIAG_ERROR, s, "'%s' must be a string, number or boolean "
		    "(event fields are compared one by one)", name);
		return -1;
	}
}

static int
vcase_fields(struct vfields *fs, const config_setting_t *check, const char *which, bool required,
    struct diags *d)
{
	const config_setting_t *group = config_setting_get_member(check, which);
	int rc = 0;

	if (group == NULL) {
		if (required)
			diags_add(d, DIAG_ERROR, check, "check has no '%s' group", which);
		return required ? -1 : 0;
	}
	if (config_setting_type(group) != CONFIG_TYPE_GROUP) {
		diags_add(d, DIAG_ERROR, group, "'%s' must be a group: { field = value; ... }", which);
		return -1;
	}
	if (!required && config_setting_length(group) == 0)
		diags_add(d, DIAG_ERROR, group, "'%s' is empty", which);
	vcase_check_members(group, vcase_field_known, "event field", d);
	for (int i = 0; i < config_setting_length(group); i++)
		if (vcase_field(fs, config_setting_get_elem(group, (unsigned)i), d) < 0)
			rc = -1;
	return rc;
}

static void
vcase_check(struct vcheck *ck, const config_setting_t *s, struct diags *d)
{
	const char *comment = NULL;

	ck->line = conf_line(s);
	ck->count = -1;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		diags_add(d, DIAG_ERROR, s, "a check must be a group: { match = {...}; expect = {...}; count = N; }");
		return;
	}
	vcase_check_members(s, vcase_check_known, "setting", d);
	vcase_fields(&ck->match, s, "match", true, d);
	vcase_fields(&ck->expect, s, "expect", false, d);
	conf_get_int(s, "count", 0, INT32_MAX, &ck->count, d);
	conf_get_bool(s, "keep", &ck->keep, d);
	if (conf_get_str(s, "comment", &comment, d) == 0 && comment)
		ck->comment = xstrdup(comment);
}

static void
vcase_checks(struct vcase *vc, const config_setting_t *root, struct diags *d)
{
	const config_setting_t *list = config_setting_get_member(root, "checks");
	int n;

	if (list == NULL) {
		diags_add(d, DIAG_ERROR, root, "no 'checks': a case must expect something");
		return;
	}
	if (!config_setting_is_aggregate(list) || config_setting_type(list) == CONFIG_TYPE_GROUP) {
		diags_add(d, DIAG_ERROR, list, "'checks' must be a list: ( { match = {...}; }, ... )");
		return;
	}
	n = config_setting_length(list);
	if (n == 0)
		diags_add(d, DIAG_ERROR, list, "'checks' is empty: a case must expect something");
	vc->checks = xcalloc((size_t)n, sizeof *vc->checks);
	for (int i = 0; i < n; i++)
		vcase_check(&vc->checks[vc->nchecks++], config_setting_get_elem(list, (unsigned)i), d);
}

static void
vcase_pcaps(struct vcase *vc, const config_setting_t *root, struct diags *d)
{
	const config_setting_t *s = config_setting_get_member(root, "pcap");
	int n;

	if (s == NULL) {
		diags_add(d, DIAG_ERROR, root, "no 'pcap': name the capture(s) to replay");
		return;
	}
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		vc->pcaps = xcalloc(1, sizeof *vc->pcaps);
		vc->pcaps[vc->npcaps++] = xstrdup(config_setting_get_string(s));
		return;
	}
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST) {
		diags_add(d, DIAG_ERROR, s, "'pcap' must be a string or a list of strings");
		return;
	}
	n = config_setting_length(s);
	if (n == 0)
		diags_add(d, DIAG_ERROR, s, "'pcap' is empty");
	vc->pcaps = xcalloc((size_t)n, sizeof *vc->pcaps);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			diags_add(d, DIAG_ERROR, e, "'pcap' entries must be strings");
		else
			vc->pcaps[vc->npcaps++] = xstrdup(config_setting_get_string(e));
	}
}

/* The comment block at the top of case.conf, so --update does not throw it away. */
static char *
vcase_read_header(const char *path)
{
	uint8_t *text;
	size_t len, keep = 0;

	if (file_read_all(path, 1 << 20, &text, &len) < 0)
		return NULL;
	while (keep < len && text[keep] == '#') {
		const uint8_t *nl = memchr(text + keep, '\n', len - keep);
		keep = nl ? (size_t)(nl - text) + 1 : len;
	}
	text[keep] = '\0';
	if (keep == 0) {
		free(text);
		return NULL;
	}
	return (char *)text;
}

static void
vcase_strings(struct vcase *vc, const config_setting_t *root, struct diags *d)
{
	const char *description = NULL, *policy = NULL;

	conf_get_str(root, "description", &description, d);
	conf_get_str(root, "policy", &policy, d);
	vc->description = description ? xstrdup(description) : NULL;
	vc->policy = policy ? xstrdup(policy) : NULL;
}

int
vcase_load(struct vcase *vc, const char *dir, struct diags *d)
{
	config_t cfg;
	const config_setting_t *root;

	memset(vc, 0, sizeof *vc);
	vc->dir = xstrdup(dir);
	vc->conf_path = vs_printf("%s/%s", dir, VCASE_FILE);
	config_init(&cfg);
	if (conf_load(&cfg, vc->conf_path, d) == 0) {
		root = config_root_setting(&cfg);
		vcase_check_members(root, vcase_top_known, "setting", d);
		vcase_strings(vc, root, d);
		vcase_pcaps(vc, root, d);
		vcase_checks(vc, root, d);
		vc->header = vcase_read_header(vc->conf_path);
	}
	config_destroy(&cfg);
	return diags_count(d, DIAG_ERROR) + diags_count(d, DIAG_WARNING) ? -1 : 0;
}

/* A libconfig string literal: libconfig knows \\ \" \f \n \r \t and \xNN, not JSON's \uNNNN. */
static void
vcase_write_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		const char *esc = NULL;
		switch (*p) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\f': esc = "\\f"; break;
		default: break;
		}
		if (esc)
			fputs(esc, out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void
vcase_write_fields(FILE *out, const char *which, const struct vfields *fs)
{
	fprintf(out, "%s = {", which);
	for (size_t i = 0; i < fs->n; i++) {
		const struct vfield *f = &fs->v[i];
		fprintf(out, " %s = ", f->name);
		if (f->kind == VFIELD_STRING)
			vcase_write_str(out, f->str);
		else if (f->kind == VFIELD_INT)
			fprintf(out, "%" PRId64, f->integer);
		else if (f->kind == VFIELD_FLOAT)
			fprintf(out, "%.17g", f->real);
		else
			fputs(f->boolean ? "true" : "false", out);
		fputc(';', out);
	}
	fputs(" };", out);
}

static void
vcase_write_check(FILE *out, const struct vcheck *ck, bool last)
{
	fputs("  { ", out);
	vcase_write_fields(out, "match", &ck->match);
	if (ck->expect.n) {
		fputs("\n    ", out);
		vcase_write_fields(out, "expect", &ck->expect);
	}
	if (ck->count >= 0)
		fprintf(out, " count = %lld;", ck->count);
	if (ck->keep)
		fputs(" keep = true;", out);
	if (ck->comment) {
		fputs(" comment = ", out);
		vcase_write_str(out, ck->comment);
		fputc(';', out);
	}
	fprintf(out, " }%s\n", last ? "" : ",");
}

void
vcase_write(const struct vcase *vc, FILE *out)
{
	if (vc->header)
		fputs(vc->header, out);
	if (vc->description) {
		fputs("description = ", out);
		vcase_write_str(out, vc->description);
		fputs(";\n", out);
	}
	fputs("pcap = [", out);
	for (size_t i = 0; i < vc->npcaps; i++) {
		fputs(i ? ", " : " ", out);
		vcase_write_str(out, vc->pcaps[i]);
	}
	fputs(" ];\n", out);
	if (vc->policy) {
		fputs("policy = ", out);
		vcase_write_str(out, vc->policy);
		fputs(";\n", out);
	}
	fputs("# checks recorded by tiergate-verify --update (keep = true marks hand-written ones it keeps)\n"
	    "checks = (\n", out);
	for (size_t i = 0; i < vc->nchecks; i++)
		vcase_write_check(out, &vc->checks[i], i + 1 == vc->nchecks);
	fputs(");\n", out);
}

char *
vfield_text(const struct vfield *f)
{
	switch (f->kind) {
	case VFIELD_STRING:
		return vs_printf("%s=%s", f->name, f->str);
	case VFIELD_INT:
		return vs_printf("%s=%" PRId64, f->name, f->integer);
	case VFIELD_FLOAT:
		return vs_printf("%s=%g", f->name, f->real);
	default:
		return vs_printf("%s=%s", f->name, f->boolean ? "true" : "false");
	}
}

static const char *
vfield_value(const struct vfields *fs, const char *name, char *buf, size_t size)
{
	const struct vfield *f = vfields_find(fs, name);

	if (f == NULL)
		return NULL;
	if (f->kind == VFIELD_STRING)
		return f->str;
	if (f->kind == VFIELD_INT)
		snprintf(buf, size, "%" PRId64, f->integer);
	else if (f->kind == VFIELD_FLOAT)
		snprintf(buf, size, "%g", f->real);
	else
		snprintf(buf, size, "%s", f->boolean ? "true" : "false");
	return buf;
}

/* "10.0.0.1:443" or "[fd00::1]:443" from a check's address and port fields. */
static void
vcheck_endpoint(FILE *out, const struct vfields *fs, const char *ip_name, const char *port_name)
{
	char ipbuf[64], portbuf[32];
	const char *ip = vfield_value(fs, ip_name, ipbuf, sizeof ipbuf);
	const char *port = vfield_value(fs, port_name, portbuf, sizeof portbuf);
	bool v6 = ip && strchr(ip, ':');

	fprintf(out, " %s%s%s", v6 && port ? "[" : "", ip ? ip : "*", v6 && port ? "]" : "");
	if (port)
		fprintf(out, ":%s", port);
}

static bool
vcheck_is_tuple_field(const char *name)
{
	static const char *const tuple[] = { "event", "proto", "src_ip", "src_port", "dst_ip", "dst_port", NULL };

	for (int i = 0; tuple[i]; i++)
		if (strcmp(tuple[i], name) == 0)
			return true;
	return false;
}

/* Fields not already shown: "event" always leads, the 5-tuple is shown as addresses. */
static void
vcheck_summary_fields(FILE *out, const struct vfields *fs, bool skip_shown, bool tuple)
{
	for (size_t i = 0; i < fs->n; i++) {
		char *text;
		if (skip_shown && (strcmp(fs->v[i].name, "event") == 0 ||
		    (tuple && vcheck_is_tuple_field(fs->v[i].name))))
			continue;
		text = vfield_text(&fs->v[i]);
		fprintf(out, " %s", text);
		free(text);
	}
}

char *
vcheck_summary(const struct vcheck *ck)
{
	struct vs_buf b;
	char buf[64];
	const char *event = vfield_value(&ck->match, "event", buf, sizeof buf);
	bool tuple = vfields_find(&ck->match, "src_ip") || vfields_find(&ck->match, "dst_ip");

	vs_open(&b);
	fputs(event ? event : "any-event", b.f);
	if (tuple) {
		const char *proto = vfield_value(&ck->match, "proto", buf, sizeof buf);
		fprintf(b.f, " %s", proto ? proto : "*");
		vcheck_endpoint(b.f, &ck->match, "src_ip", "src_port");
		fputs(" ->", b.f);
		vcheck_endpoint(b.f, &ck->match, "dst_ip", "dst_port");
	}
	vcheck_summary_fields(b.f, &ck->match, true, tuple);
	if (ck->expect.n) {
		fputs(" =>", b.f);
		vcheck_summary_fields(b.f, &ck->expect, false, false);
	}
	if (ck->count >= 0)
		fprintf(b.f, " (count %lld)", ck->count);
	else
		fputs(" (at least one)", b.f);
	if (ck->keep)
		fputs(" [kept]", b.f);
	return vs_take(&b);
}

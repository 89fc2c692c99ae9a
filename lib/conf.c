/* conf.c -- libconfig loading with @include beside the file and FILE:LINE diagnostics. */
#include "lib/conf.h"

#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

void
diags_init(struct diags *d, const char *default_file)
{
	memset(d, 0, sizeof *d);
	d->default_file = strdup(default_file ? default_file : "-");
}

void
diags_free(struct diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].text);
	}
	free(d->v);
	free(d->default_file);
	memset(d, 0, sizeof *d);
}

static void diags_vadd(struct diags *d, enum diag_severity sev, const char *file, int line,
    const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void
diags_vadd(struct diags *d, enum diag_severity sev, const char *file, int line,
    const char *fmt, va_list ap)
{
	char text[1024];
	struct diag *slot;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct diag *grown = realloc(d->v, cap * sizeof *grown);
		if (grown == NULL)
			fatal("diags");
		d->v = grown;
		d->cap = cap;
	}
	vsnprintf(text, sizeof text, fmt, ap);
	slot = &d->v[d->n++];
	slot->severity = sev;
	slot->file = strdup(file ? file : d->default_file ? d->default_file : "-");
	slot->line = line;
	slot->text = strdup(text);
	if (slot->file == NULL || slot->text == NULL)
		fatal("diags");
}

void
diags_add_at(struct diags *d, enum diag_severity sev, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diags_vadd(d, sev, file, line, fmt, ap);
	va_end(ap);
}

void
diags_add(struct diags *d, enum diag_severity sev, const config_setting_t *where,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diags_vadd(d, sev, where ? conf_file(where) : NULL, where ? conf_line(where) : 0, fmt, ap);
	va_end(ap);
}

size_t
diags_count(const struct diags *d, enum diag_severity sev)
{
	size_t count = 0;

	for (size_t i = 0; i < d->n; i++)
		count += d->v[i].severity == sev;
	return count;
}

static const char *
diag_word(enum diag_severity sev)
{
	return sev == DIAG_ERROR ? "error" : "warning";
}

void
diags_print(const struct diags *d, FILE *out)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(out, "%s:%d: %s: %s\n", d->v[i].file, d->v[i].line,
		    diag_word(d->v[i].severity), d->v[i].text);
}

void
diags_log(const struct diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		if (g->severity == DIAG_ERROR)
			log_warnx("%s:%d: error: %s", g->file, g->line, g->text);
		else
			log_warnx("%s:%d: warning: %s", g->file, g->line, g->text);
	}
}

static void
conf_add_parse_error(config_t *cfg, const char *fallback, struct diags *d)
{
	const char *file = config_error_file(cfg);
	const char *text = config_error_text(cfg);

	if (config_error_type(cfg) == CONFIG_ERR_FILE_IO && file == NULL)
		diags_add_at(d, DIAG_ERROR, fallback, 0, "cannot read file: %s",
		    errno ? strerror(errno) : "I/O error");
	else
		diags_add_at(d, DIAG_ERROR, file ? file : fallback, config_error_line(cfg),
		    "%s", text ? text : "syntax error");
}

int
conf_load(config_t *cfg, const char *path, struct diags *d)
{
	char *copy = strdup(path);

	if (copy == NULL)
		fatal("conf_load");
	config_set_include_dir(cfg, dirname(copy));
	free(copy);
	config_set_options(cfg, CONFIG_OPTION_AUTOCONVERT | CONFIG_OPTION_SEMICOLON_SEPARATORS);
	errno = 0;
	if (config_read_file(cfg, path) != CONFIG_TRUE) {
		conf_add_parse_error(cfg, path, d);
		return -1;
	}
	return 0;
}

int
conf_load_string(config_t *cfg, const char *text, const char *include_dir, struct diags *d)
{
	if (include_dir)
		config_set_include_dir(cfg, include_dir);
	config_set_options(cfg, CONFIG_OPTION_AUTOCONVERT | CONFIG_OPTION_SEMICOLON_SEPARATORS);
	if (config_read_string(cfg, text) != CONFIG_TRUE) {
		conf_add_parse_error(cfg, d->default_file, d);
		return -1;
	}
	return 0;
}

const char *
conf_file(const config_setting_t *s)
{
	return s ? config_setting_source_file(s) : NULL;
}

int
conf_line(const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) : 0;
}

int
conf_get_str(const config_setting_t *group, const char *name, const char **out, struct diags *d)
{
	config_setting_t *s = config_setting_get_member(group, name);

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		diags_add(d, DIAG_ERROR, s, "'%s' must be a string", name);
		return -1;
	}
	*out = config_setting_get_string(s);
	return 0;
}

int
conf_get_bool(const config_setting_t *group, const char *name, bool *out, struct diags *d)
{
	config_setting_t *s = config_setting_get_member(group, name);

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		diags_add(d, DIAG_ERROR, s, "'%s' must be true or false", name);
		return -1;
	}
	*out = config_setting_get_bool(s);
	return 0;
}

int
conf_get_int(const config_setting_t *group, const char *name, long long min, long long max,
    long long *out, struct diags *d)
{
	config_setting_t *s = config_setting_get_member(group, name);
	long long val;
	int type;

	if (s == NULL)
		return 0;
	type = config_setting_type(s);
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
		diags_add(d, DIAG_ERROR, s, "'%s' must be an integer", name);
		return -1;
	}
	val = config_setting_get_int64(s);
	if (val < min || val > max) {
		diags_add(d, DIAG_ERROR, s, "'%s' = %lld is out of range [%lld, %lld]",
		    name, val, min, max);
		return -1;
	}
	*out = val;
	return 0;
}

int
conf_get_uint(const config_setting_t *group, const char *name, unsigned max, unsigned *out,
    struct diags *d)
{
	long long val = *out;

	if (conf_get_int(group, name, 0, max, &val, d) < 0)
		return -1;
	*out = (unsigned)val;
	return 0;
}

int
conf_get_enum(const config_setting_t *group, const char *name, const char *const *choices,
    int *out, struct diags *d)
{
	const char *word = NULL;
	char list[256] = "";

	if (conf_get_str(group, name, &word, d) < 0 || word == NULL)
		return word == NULL ? 0 : -1;
	for (int i = 0; choices[i]; i++) {
		if (strcmp(word, choices[i]) == 0) {
			*out = i;
			return 0;
		}
		size_t used = strlen(list);
		snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", choices[i]);
	}
	diags_add(d, DIAG_ERROR, config_setting_get_member(group, name),
	    "'%s' = \"%s\" is not one of: %s", name, word, list);
	return -1;
}

void
conf_check_members(const config_setting_t *group, const char *const *known, struct diags *d)
{
	int count = config_setting_length(group);

	for (int i = 0; i < count; i++) {
		config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		int k;
		if (name == NULL)
			continue;
		for (k = 0; known[k] && strcmp(known[k], name) != 0; k++)
			;
		if (known[k] == NULL)
			diags_add(d, DIAG_WARNING, s, "unknown setting '%s' (ignored)", name);
	}
}

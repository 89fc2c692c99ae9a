/* conf.h -- loading the site's libconfig file and reporting problems as FILE:LINE. */
#ifndef TIERGATE_CONF_H
#define TIERGATE_CONF_H

#include <libconfig.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Every part reads its section of the one site file (see conf/README.md).
 * Problems are collected as diagnostics, each with file and line, so a tool
 * can print all of them and a daemon can refuse the file and keep its old one.
 */
enum diag_severity { DIAG_ERROR, DIAG_WARNING };

struct diag {
	enum diag_severity severity;
	char *file;
	int line;
	char *text;
};

struct diags {
	struct diag *v;
	size_t n, cap;
	char *default_file;   /* used when a setting carries no source file */
};

void diags_init(struct diags *d, const char *default_file);
void diags_free(struct diags *d);
/* where may be NULL (then default_file, line 0). */
void diags_add(struct diags *d, enum diag_severity sev, const config_setting_t *where,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void diags_add_at(struct diags *d, enum diag_severity sev, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
size_t diags_count(const struct diags *d, enum diag_severity sev);
/* Prints "FILE:LINE: error: text" lines, errors and warnings in file order. */
void diags_print(const struct diags *d, FILE *out);
/* Sends every diagnostic to the log (for daemons). */
void diags_log(const struct diags *d);

/*
 * Reads path with @include resolved relative to the file's own directory.
 * On a syntax error returns -1 with one diagnostic (file, line, libconfig's reason).
 */
int conf_load(config_t *cfg, const char *path, struct diags *d);
/* Same, from a string (fuzzing, tests); includes resolve against include_dir. */
int conf_load_string(config_t *cfg, const char *text, const char *include_dir, struct diags *d);

const char *conf_file(const config_setting_t *s);  /* source file of a setting, or NULL */
int conf_line(const config_setting_t *s);

/*
 * Typed getters on a group member. A missing member leaves *out untouched
 * (the caller's default) and returns 0; a member of the wrong type or out
 * of range adds an error and returns -1.
 */
int conf_get_str(const config_setting_t *group, const char *name, const char **out, struct diags *d);
int conf_get_bool(const config_setting_t *group, const char *name, bool *out, struct diags *d);
int conf_get_int(const config_setting_t *group, const char *name, long long min, long long max,
    long long *out, struct diags *d);
/* Like conf_get_int for a value that must fit the destination. */
int conf_get_uint(const config_setting_t *group, const char *name, unsigned max, unsigned *out,
    struct diags *d);
/* One of the words in choices (NULL-terminated); *out gets its index. */
int conf_get_enum(const config_setting_t *group, const char *name, const char *const *choices,
    int *out, struct diags *d);
/* Warns about members of group not in known (NULL-terminated): typos must not pass silently. */
void conf_check_members(const config_setting_t *group, const char *const *known, struct diags *d);

#endif

/* verify_case.h -- a pcap case (docs/cases.md): its case.conf read into checks tiergate-verify evaluates. */
#ifndef TIERGATE_VERIFY_CASE_H
#define TIERGATE_VERIFY_CASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/conf.h"

enum vfield_kind { VFIELD_STRING, VFIELD_INT, VFIELD_FLOAT, VFIELD_BOOL };

/* One "name = value" of a match or expect group. */
struct vfield {
	char *name;
	enum vfield_kind kind;
	char *str;            /* VFIELD_STRING ("null" also matches JSON null) */
	int64_t integer;      /* VFIELD_INT */
	double real;          /* VFIELD_FLOAT */
	bool boolean;         /* VFIELD_BOOL */
};

struct vfields {
	struct vfield *v;
	size_t n;
};

struct vcheck {
	int line;             /* line of the check in case.conf (0 when generated) */
	struct vfields match;
	struct vfields expect;
	long long count;      /* exact number of selected events, or -1: at least one */
	bool keep;            /* --update keeps this check instead of regenerating it */
	char *comment;        /* optional: shown in failure messages */
};

struct vcase {
	char *dir;            /* the case folder */
	char *conf_path;      /* dir/case.conf */
	char *description;
	char **pcaps;         /* as written (relative to dir, or absolute) */
	size_t npcaps;
	char *policy;         /* as written; NULL when the case names none */
	struct vcheck *checks;
	size_t nchecks;
	char *header;         /* leading comment lines of case.conf, kept by --update */
};

#define VCASE_FILE "case.conf"

/*
 * Reads dir/case.conf. Any problem (syntax, wrong type, unknown setting: a
 * typo must not silently weaken a check) is a diagnostic with FILE:LINE;
 * returns -1 when there is at least one.
 */
int vcase_load(struct vcase *vc, const char *dir, struct diags *d);
void vcase_free(struct vcase *vc);
void vcheck_free(struct vcheck *ck);

/* Path of a file the case names (pcap, policy): relative ones are resolved against dir. Caller frees. */
char *vcase_path(const struct vcase *vc, const char *name);

/* Writes the case back in case.conf syntax (what --update records). */
void vcase_write(const struct vcase *vc, FILE *out);
/* One readable line per check, the unit --update diffs in. Caller frees. */
char *vcheck_summary(const struct vcheck *ck);
/* "name=value" of a field as shown to people. Caller frees. */
char *vfield_text(const struct vfield *f);

void vfields_add_str(struct vfields *fs, const char *name, const char *val);
void vfields_add_int(struct vfields *fs, const char *name, int64_t val);
void vfields_add_bool(struct vfields *fs, const char *name, bool val);
const struct vfield *vfields_find(const struct vfields *fs, const char *name);
void vfields_free(struct vfields *fs);

#endif

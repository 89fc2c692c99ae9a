/* portal_form.h -- the portal's one parser of browser bytes: application/x-www-form-urlencoded bodies and query strings. */
#ifndef TIERGATE_PORTAL_FORM_H
#define TIERGATE_PORTAL_FORM_H

#include <stddef.h>

#define PORTAL_FORM_MAX_FIELDS 8
#define PORTAL_FORM_MAX_BYTES 8192
#define PORTAL_FORM_VALUE_MAX 2048

/*
 * Every field the portal reads is named in the caller's list with its own
 * length limit; unknown names, repeated names, a value over its limit,
 * invalid UTF-8 or control characters (other than CR/LF/TAB in a text field)
 * refuse the whole form. Values are decoded (%XX, '+') into owned strings.
 */
struct portal_field_spec {
	const char *name;
	size_t max;          /* bytes after decoding */
	int multiline;       /* 1: CR, LF, TAB allowed (textarea) */
};

struct portal_form {
	char *value[PORTAL_FORM_MAX_FIELDS];   /* by spec index; NULL when absent */
};

/* Returns 0, or -1 with *err set. On error nothing is left allocated. */
int portal_form_parse(const char *text, size_t len, const struct portal_field_spec *spec, size_t n_spec,
    struct portal_form *form, const char **err);
void portal_form_free(struct portal_form *form);

#endif

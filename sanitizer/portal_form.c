/* portal_form.c -- decoding and checking urlencoded forms and query strings against a list of named, bounded fields. */
#include "sanitizer/portal_form.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int
portal_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..len) into out (at least len+1 bytes). Returns the length or -1 for a bad escape. */
static long
portal_unescape(const char *s, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%') {
			int hi, lo;
			if (i + 2 >= len || (hi = portal_hex(s[i + 1])) < 0 || (lo = portal_hex(s[i + 2])) < 0)
				return -1;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return (long)o;
}

/* Valid UTF-8 (no overlongs, surrogates), no NUL, no controls but CR/LF/TAB in multiline fields. */
static bool
portal_text_ok(const unsigned char *p, size_t n, bool multiline)
{
	for (size_t i = 0; i < n; ) {
		unsigned c = p[i], cp, len;
		if (c < 0x80) {
			if ((c < 0x20 && !(multiline && (c == '\n' || c == '\r' || c == '\t'))) || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07;
		else
			return false;
		if (i + len > n)
			return false;
		for (unsigned k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
			return false;
		i += len;
	}
	return true;
}

void
portal_form_free(struct portal_form *form)
{
	for (size_t i = 0; i < PORTAL_FORM_MAX_FIELDS; i++) {
		free(form->value[i]);
		form->value[i] = NULL;
	}
}

static int
portal_form_field(const char *pair, size_t len, const struct portal_field_spec *spec, size_t n_spec,
    struct portal_form *form, const char **err)
{
	const char *eq = memchr(pair, '=', len);
	char name[64], *value;
	long nl, vl;
	size_t i;

	if (eq == NULL || (size_t)(eq - pair) >= sizeof name)
		return *err = "malformed field", -1;
	if ((nl = portal_unescape(pair, (size_t)(eq - pair), name)) < 0)
		return *err = "malformed field name", -1;
	for (i = 0; i < n_spec && strcmp(spec[i].name, name) != 0; i++)
		;
	if (i == n_spec || (size_t)nl != strlen(name))
		return *err = "unknown field", -1;
	if (form->value[i] != NULL)
		return *err = "repeated field", -1;
	value = malloc(len - (size_t)(eq - pair));
	if (value == NULL)
		return *err = "out of memory", -1;
	vl = portal_unescape(eq + 1, len - (size_t)(eq - pair) - 1, value);
	if (vl < 0 || (size_t)vl > spec[i].max ||
	    !portal_text_ok((const unsigned char *)value, (size_t)vl, spec[i].multiline)) {
		free(value);
		return *err = vl < 0 ? "malformed escape" : (size_t)vl > spec[i].max ? "field too long" :
		    "invalid characters", -1;
	}
	form->value[i] = value;
	return 0;
}

int
portal_form_parse(const char *text, size_t len, const struct portal_field_spec *spec, size_t n_spec,
    struct portal_form *form, const char **err)
{
	size_t at = 0;

	memset(form, 0, sizeof *form);
	if (n_spec > PORTAL_FORM_MAX_FIELDS || len > PORTAL_FORM_MAX_BYTES)
		return *err = "form too large", -1;
	while (at < len) {
		const char *amp = memchr(text + at, '&', len - at);
		size_t plen = amp ? (size_t)(amp - (text + at)) : len - at;
		if (plen > 0 && portal_form_field(text + at, plen, spec, n_spec, form, err) < 0) {
			portal_form_free(form);
			return -1;
		}
		at += plen + 1;
	}
	return 0;
}

/* result.c -- building and freeing a san_result: findings, the verdict, the output and its name. */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "sanitizer/internal.h"

#define MAX_FINDINGS 256

void
res_set_str(char **field, const char *value)
{
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

bool
res_has_finding(const struct san_result *res, const char *finding)
{
	for (size_t i = 0; i < res->n_findings; i++)
		if (strcmp(res->findings[i], finding) == 0)
			return true;
	return false;
}

void
res_finding(struct san_result *res, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (res_has_finding(res, text) || res->n_findings >= MAX_FINDINGS)
		return;
	res->findings = xrealloc(res->findings, res->n_findings + 1, sizeof *res->findings);
	res->findings[res->n_findings++] = xstrdup(text);
}

void
res_block(struct san_result *res, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	res->action = SAN_BLOCKED;
	res_set_str(&res->reason, text);
	free(res->out);
	res->out = NULL;
	res->out_len = 0;
	res_set_str(&res->out_name, NULL);
	res_set_str(&res->out_mime, NULL);
	res->payload = SAN_PAY_NONE;
	free(res->px);
	res->px = NULL;
	res->n_px = 0;
}

void
res_output(struct san_result *res, enum san_action action, uint8_t *out, size_t out_len,
    const char *out_name, const char *out_mime)
{
	free(res->out);
	res->action = action;
	res->out = out;
	res->out_len = out_len;
	res_set_str(&res->out_name, out_name);
	res_set_str(&res->out_mime, out_mime);
}

void
res_text(struct san_result *res, char *text, size_t len, bool csv)
{
	free(res->out);
	res->action = SAN_TEXT;
	res->payload = csv ? SAN_PAY_CSV : SAN_PAY_TEXT;
	res->out = (uint8_t *)text;
	res->out_len = len;
}

/* The base name without directories; the extension after its last dot. */
static const char *
name_ext(const char *base)
{
	const char *dot = strrchr(base, '.');

	return dot && dot != base && dot[1] ? dot : NULL;
}

char *
res_name_with_ext(const char *name, const char *ext, bool append)
{
	const char *base = name && *name ? name : "file";
	const char *slash = strrchr(base, '/'), *old;
	size_t keep;
	char *out;

	if (slash && slash[1])
		base = slash + 1;
	old = name_ext(base);
	if (old && strcasecmp(old, ext) == 0)
		return xstrdup(base);
	keep = old && !append ? (size_t)(old - base) : strlen(base);
	out = xmalloc(keep + strlen(ext) + 1);
	memcpy(out, base, keep);
	memcpy(out + keep, ext, strlen(ext) + 1);
	return out;
}

char *
res_safe_name(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	char *out = xmalloc(strlen(base) + 5);
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)base; *p; p++)
		if (*p >= 0x20 && *p != 0x7F && *p != '\\')
			out[o++] = (char)*p;
	out[o] = '\0';
	if (o == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0 || out[0] == '.')
		memcpy(out + (o = 0), "file", 5);
	return out;
}

void
san_result_free(struct san_result *res)
{
	if (res == NULL)
		return;
	free(res->name);
	free(res->detected_mime);
	free(res->declared_mime);
	free(res->reason);
	for (size_t i = 0; i < res->n_findings; i++)
		free(res->findings[i]);
	free(res->findings);
	free(res->out);
	free(res->out_name);
	free(res->out_mime);
	free(res->px);
	for (size_t i = 0; i < res->n_members; i++)
		san_result_free(&res->members[i]);
	free(res->members);
	memset(res, 0, sizeof *res);
}

const char *
san_action_name(enum san_action action)
{
	static const char *const names[] = { "flattened", "text", "reencoded", "archive", "blocked" };

	return (unsigned)action < ARRAY_LEN(names) ? names[action] : "blocked";
}

void
san_sha256_hex(const uint8_t *data, size_t len, char out[SAN_SHA256_HEX])
{
	uint8_t md[32];
	unsigned md_len = 0;

	if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32) {
		out[0] = '\0';
		return;
	}
	hex_encode(md, 32, out);
}

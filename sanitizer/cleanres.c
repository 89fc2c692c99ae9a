/* cleanres.c -- every name and text of a san_result through the one cleaner (lib/textclean.c), removals as findings. */
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/charset.h"
#include "sanitizer/cleanres.h"
#include "sanitizer/csvsafe.h"
#include "sanitizer/internal.h"

char *
cleanres_name(const char *in, struct textclean_counts *found)
{
	char *out;

	if (in == NULL)
		return NULL;
	out = textclean_name_dup(in, strlen(in), found);
	if (out == NULL)
		fatal("out of memory cleaning a name");
	return out;
}

static void
cleanres_emit(void *arg, const char *line)
{
	res_finding(arg, "%s", line);
}

void
cleanres_findings(struct san_result *res, const struct textclean_counts *c, const char *what)
{
	textclean_report(c, what, cleanres_emit, res);
}

static bool
cleanres_is_csv(const struct san_result *res)
{
	return res->out_mime && strncmp(res->out_mime, "text/csv", 8) == 0;
}

/* The CSV rules on clean text: formula cells quoted, the BOM in front. */
static void
cleanres_csv(struct san_result *res)
{
	size_t len = 0, neutralised = 0;
	char *csv = csvsafe_rewrite((const char *)res->out, res->out_len, csvsafe_separator(res->out_name),
	    &len, &neutralised);

	if (neutralised)
		res_finding(res, "CSV: %zu cell%s starting with = + - @ neutralised (quoted, prefixed with ')",
		    neutralised, neutralised == 1 ? "" : "s");
	free(res->out);
	res->out = (uint8_t *)csv;
	res->out_len = len;
}

char *
cleanres_utf8_input(const uint8_t *data, size_t len, size_t *clean_len, struct textclean_counts *found)
{
	struct textclean_counts c = { 0 };
	const char *charset = charset_detect(data, len);
	char *clean;

	/* ISO-2022-JP is 7-bit and would pass for UTF-8: its escapes are the decoder's to read */
	if (strcmp(charset, "UTF-8") != 0 && strcmp(charset, "US-ASCII") != 0)
		return NULL;
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {   /* a leading BOM is the encoding's mark */
		data += 3;
		len -= 3;
	}
	clean = textclean_text_dup((const char *)data, len, clean_len, &c);
	if (clean == NULL)
		fatal("out of memory cleaning text");
	if (c.n[TEXTCLEAN_INVALID]) {   /* not UTF-8: the charset decoder's turn */
		free(clean);
		return NULL;
	}
	for (int k = 0; k < TEXTCLEAN_KINDS; k++)
		found->n[k] += c.n[k];
	return clean;
}

void
cleanres_output(struct san_result *res)
{
	struct textclean_counts c = { 0 };
	const char *text = (const char *)res->out;
	size_t len = res->out_len, clean_len = 0;
	char *clean;

	if (res->out == NULL || res->out_mime == NULL || strncmp(res->out_mime, "text/", 5) != 0)
		return;
	if (cleanres_is_csv(res) && len >= 3 && memcmp(text, CSVSAFE_BOM, 3) == 0) {
		text += 3;   /* our own BOM from an earlier pass: not a finding */
		len -= 3;
	}
	clean = textclean_text_dup(text, len, &clean_len, &c);
	if (clean == NULL)
		fatal("out of memory cleaning text");
	free(res->out);
	res->out = (uint8_t *)clean;
	res->out_len = clean_len;
	cleanres_findings(res, &c, "text");
	if (cleanres_is_csv(res))
		cleanres_csv(res);
}

/* Replaces *field by its cleaned form; counts go to found (NULL: cleaned without a finding). */
static void
cleanres_field(char **field, struct textclean_counts *found)
{
	char *clean;

	if (*field == NULL)
		return;
	clean = cleanres_name(*field, found);
	free(*field);
	*field = clean;
}

static void
cleanres_one(struct san_result *res, bool top)
{
	struct textclean_counts name = { 0 }, out_name = { 0 };

	cleanres_field(&res->name, &name);
	cleanres_field(&res->out_name, &out_name);
	for (int k = 0; k < TEXTCLEAN_KINDS; k++)   /* out_name mostly repeats name: not counted twice */
		name.n[k] = name.n[k] > out_name.n[k] ? name.n[k] : out_name.n[k];
	/* reasons and findings quote names and link targets: cleaned, already counted where they came from */
	cleanres_field(&res->reason, NULL);
	cleanres_field(&res->detected_mime, NULL);
	cleanres_field(&res->declared_mime, NULL);
	for (size_t i = 0; i < res->n_findings; i++)
		cleanres_field(&res->findings[i], NULL);
	cleanres_findings(res, &name, "name");
	if (top)
		cleanres_output(res);
	for (size_t i = 0; i < res->n_members; i++)
		cleanres_one(&res->members[i], false);
}

void
cleanres_result(struct san_result *res)
{
	cleanres_one(res, true);
}

/* office.c -- OOXML (docx/xlsx/pptx) and ODF (odt/ods/odp) to plain text: libzip + libxml2, no entities, size caps. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "lib/util.h"
#include "sanitizer/internal.h"
#include "sanitizer/textbuf.h"

#define OFFICE_MAX_PARTS 4096

/* The text being built, with its cap. */
struct otext {
	struct textbuf b;
	unsigned vanished;   /* Word runs left out as hidden (w:vanish) */
};

static void
otext_put(struct otext *t, const char *s, size_t n)
{
	textbuf_put(&t->b, s, n);
}

static void
otext_str(struct otext *t, const char *s)
{
	otext_put(t, s, strlen(s));
}

/* The open document: the zip and what has been read so far. */
struct odoc {
	zip_t *za;
	const struct san_config *cfg;
	uint64_t total;
	char *why;
	size_t why_size;
	unsigned hidden_sheets, hidden_slides;
};

static int
odoc_fail(struct odoc *od, const char *msg)
{
	snprintf(od->why, od->why_size, "%s", msg);
	return -1;
}

/* Reads member idx whole, within the member, total and ratio limits. */
static int
odoc_read(struct odoc *od, zip_int64_t idx, char **buf, size_t *len)
{
	zip_stat_t st;
	zip_file_t *zf;
	zip_int64_t got;

	if (zip_stat_index(od->za, (zip_uint64_t)idx, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE))
		return odoc_fail(od, "damaged office document");
	if (st.encryption_method != ZIP_EM_NONE)
		return odoc_fail(od, "encrypted");
	if (st.size > od->cfg->office_max_member || od->total + st.size > od->cfg->office_max_total)
		return odoc_fail(od, "office document part larger than the limit");
	if ((st.valid & ZIP_STAT_COMP_SIZE) && st.size > 1024 * 1024 &&
	    st.size / (st.comp_size ? st.comp_size : 1) > od->cfg->archive_max_ratio)
		return odoc_fail(od, "compression ratio over the limit (zip bomb?)");
	zf = zip_fopen_index(od->za, (zip_uint64_t)idx, 0);
	if (zf == NULL)
		return odoc_fail(od, "damaged office document");
	*buf = xmalloc(st.size + 1);
	got = zip_fread(zf, *buf, st.size);
	zip_fclose(zf);
	if (got < 0 || (zip_uint64_t)got != st.size) {
		free(*buf);
		return odoc_fail(od, "damaged office document");
	}
	(*buf)[st.size] = '\0';
	*len = st.size;
	od->total += st.size;
	return 0;
}

/* Parses an XML part: no network, no DTD, no entity substitution; DTDs refused outright. */
static xmlDocPtr
odoc_xml(struct odoc *od, zip_int64_t idx)
{
	char *buf = NULL;
	size_t len = 0;
	xmlDocPtr doc;

	if (odoc_read(od, idx, &buf, &len) < 0)
		return NULL;
	if (memmem(buf, len, "<!DOCTYPE", 9) || memmem(buf, len, "<!ENTITY", 8)) {
		free(buf);
		odoc_fail(od, "XML part with a DTD or entity declarations (entity bomb?)");
		return NULL;
	}
	doc = xmlReadMemory(buf, (int)len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	free(buf);
	if (doc == NULL)
		odoc_fail(od, "office document XML could not be parsed");
	return doc;
}

static bool
name_is(const xmlNode *n, const char *local)
{
	return n->name && strcmp((const char *)n->name, local) == 0;
}

/* Generic text walk: OOXML text lives only in <t>; ODF text is every text node. */
static void
xml_walk_cell(const xmlNode *node, struct otext *t, bool t_only, bool in_t, bool in_cell, int depth);

static void
xml_walk(const xmlNode *node, struct otext *t, bool t_only, bool in_t, int depth)
{
	xml_walk_cell(node, t, t_only, in_t, false, depth);
}

/* A w:val of false/0/off switches a toggle property off; no w:val means on. */
static bool
ooxml_toggle_on(const xmlNode *prop)
{
	xmlChar *val = xmlGetProp(prop, (const xmlChar *)"val");
	bool on = val == NULL || !(xmlStrcmp(val, (const xmlChar *)"false") == 0 ||
	    xmlStrcmp(val, (const xmlChar *)"0") == 0 || xmlStrcmp(val, (const xmlChar *)"off") == 0);

	xmlFree(val);
	return on;
}

/* A Word run whose own properties hide it (<w:rPr><w:vanish/> or <w:specVanish/>). */
static bool
ooxml_run_hidden(const xmlNode *run)
{
	for (const xmlNode *p = run->children; p; p = p->next) {
		if (p->type != XML_ELEMENT_NODE || !name_is(p, "rPr"))
			continue;
		for (const xmlNode *q = p->children; q; q = q->next)
			if (q->type == XML_ELEMENT_NODE && (name_is(q, "vanish") || name_is(q, "specVanish")) &&
			    ooxml_toggle_on(q))
				return true;
	}
	return false;
}

/* in_cell: paragraphs inside a table cell end with a space, so a row stays one line */
static void
xml_walk_cell(const xmlNode *node, struct otext *t, bool t_only, bool in_t, bool in_cell, int depth)
{
	static const char *const skip[] = { "instrText", "delText", "rPh", "script", "annotation", NULL };

	for (const xmlNode *c = node; c && depth < 256; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			if ((!t_only || in_t) && c->content)
				otext_str(t, (const char *)c->content);
			continue;
		}
		if (c->type != XML_ELEMENT_NODE)
			continue;
		bool skipped = false;
		for (int i = 0; skip[i]; i++)
			skipped |= name_is(c, skip[i]);
		if (skipped)
			continue;
		if (t_only && name_is(c, "r") && ooxml_run_hidden(c)) {
			t->vanished++;
			continue;
		}
		if (name_is(c, "tab"))
			otext_str(t, "\t");
		else if (name_is(c, "br") || name_is(c, "cr") || name_is(c, "line-break"))
			otext_str(t, "\n");
		else if (name_is(c, "s") && !t_only)
			otext_str(t, " ");
		bool cell = name_is(c, "tc") || name_is(c, "table-cell");
		xml_walk_cell(c->children, t, t_only, in_t || name_is(c, "t"), in_cell || cell, depth + 1);
		if ((name_is(c, "p") || name_is(c, "h")) && in_cell)
			otext_str(t, " ");
		else if (name_is(c, "p") || name_is(c, "h") || name_is(c, "tr") || name_is(c, "table-row"))
			otext_str(t, "\n");
		else if (name_is(c, "tc") || name_is(c, "table-cell"))
			otext_str(t, "\t");
	}
}

static int
odoc_part_text(struct odoc *od, const char *part, bool t_only, struct otext *t)
{
	zip_int64_t idx = zip_name_locate(od->za, part, 0);
	xmlDocPtr doc;

	if (idx < 0)
		return 0;
	doc = odoc_xml(od, idx);
	if (doc == NULL)
		return -1;
	xml_walk(xmlDocGetRootElement(doc), t, t_only, false, 0);
	xmlFreeDoc(doc);
	return 0;
}

/* Members "prefix<N>.xml", sorted by N (slide10 after slide9). */
struct numbered {
	unsigned long n;
	zip_int64_t idx;
};

static int
numbered_cmp(const void *a, const void *b)
{
	const struct numbered *x = a, *y = b;

	return x->n < y->n ? -1 : x->n > y->n;
}

static size_t
odoc_numbered(struct odoc *od, const char *prefix, struct numbered *out, size_t max)
{
	zip_int64_t count = zip_get_num_entries(od->za, 0);
	size_t n = 0, plen = strlen(prefix);

	for (zip_int64_t i = 0; i < count && n < max; i++) {
		const char *name = zip_get_name(od->za, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
		char *end;
		unsigned long num;
		if (name == NULL || strncmp(name, prefix, plen) != 0)
			continue;
		num = strtoul(name + plen, &end, 10);
		if (end == name + plen || strcmp(end, ".xml") != 0)
			continue;
		out[n].n = num;
		out[n++].idx = i;
	}
	qsort(out, n, sizeof *out, numbered_cmp);
	return n;
}

static bool
pptx_slide_hidden(const xmlNode *root)
{
	xmlChar *show = root ? xmlGetProp(root, (const xmlChar *)"show") : NULL;
	bool hidden = show && (xmlStrcmp(show, (const xmlChar *)"0") == 0 ||
	    xmlStrcmp(show, (const xmlChar *)"false") == 0);

	xmlFree(show);
	return hidden;
}

static int
odoc_numbered_text(struct odoc *od, const char *prefix, const char *label, struct otext *t)
{
	struct numbered *parts = xcalloc(OFFICE_MAX_PARTS, sizeof *parts);
	size_t n = odoc_numbered(od, prefix, parts, OFFICE_MAX_PARTS);
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		xmlDocPtr doc = odoc_xml(od, parts[i].idx);
		char head[64];
		if (doc == NULL) {
			rc = -1;
			break;
		}
		if (label && strcmp(label, "slide") == 0 && pptx_slide_hidden(xmlDocGetRootElement(doc))) {
			od->hidden_slides++;   /* show="0": skipped in the slide show, left out here */
			xmlFreeDoc(doc);
			continue;
		}
		if (label) {
			snprintf(head, sizeof head, "%s=== %s %lu ===\n", t->b.len ? "\n" : "", label, parts[i].n);
			otext_str(t, head);
		}
		xml_walk(xmlDocGetRootElement(doc), t, true, false, 0);
		xmlFreeDoc(doc);
	}
	free(parts);
	return rc;
}

/* xlsx: the shared strings table, each <si> as one string (phonetic runs left out). */
struct sst {
	char **s;
	size_t n;
};

static int
xlsx_shared_strings(struct odoc *od, struct sst *sst)
{
	zip_int64_t idx = zip_name_locate(od->za, "xl/sharedStrings.xml", 0);
	xmlDocPtr doc;

	if (idx < 0)
		return 0;
	doc = odoc_xml(od, idx);
	if (doc == NULL)
		return -1;
	for (xmlNode *si = xmlDocGetRootElement(doc)->children; si; si = si->next) {
		struct otext one = { .b = { .max = od->cfg->max_text_bytes } };
		if (si->type != XML_ELEMENT_NODE || !name_is(si, "si"))
			continue;
		xml_walk(si->children, &one, true, false, 0);
		if (sst->n % 1024 == 0)
			sst->s = xrealloc(sst->s, sst->n + 1024, sizeof *sst->s);
		sst->s[sst->n++] = one.b.p ? one.b.p : xstrdup("");
	}
	xmlFreeDoc(doc);
	return 0;
}

static const xmlNode *
child_named(const xmlNode *n, const char *local)
{
	for (const xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && name_is(c, local))
			return c;
	return NULL;
}

static void
xlsx_cell(const xmlNode *c, const struct sst *sst, struct otext *t)
{
	xmlChar *type = xmlGetProp(c, (const xmlChar *)"t");
	const xmlNode *v = child_named(c, "v");
	const xmlNode *is = child_named(c, "is");
	xmlChar *val = v ? xmlNodeGetContent(v) : NULL;

	if (type && xmlStrcmp(type, (const xmlChar *)"s") == 0 && val) {
		unsigned long i = strtoul((const char *)val, NULL, 10);
		if (i < sst->n)
			otext_str(t, sst->s[i]);
	} else if (is) {
		xml_walk(is->children, t, true, false, 0);
	} else if (val) {
		otext_str(t, (const char *)val);
	}
	xmlFree(val);
	xmlFree(type);
}

static void
xlsx_sheet(const xmlNode *root, const struct sst *sst, struct otext *t)
{
	const xmlNode *data = child_named(root, "sheetData");

	for (const xmlNode *row = data ? data->children : NULL; row; row = row->next) {
		bool first = true;
		if (row->type != XML_ELEMENT_NODE || !name_is(row, "row"))
			continue;
		for (const xmlNode *c = row->children; c; c = c->next) {
			if (c->type != XML_ELEMENT_NODE || !name_is(c, "c"))
				continue;
			if (!first)
				otext_str(t, "\t");
			first = false;
			xlsx_cell(c, sst, t);
		}
		otext_str(t, "\n");
	}
}

/* The workbook's hidden sheets: their relationship ids (r:id of <sheet state="hidden|veryHidden">). */
static int
xlsx_hidden_ids(struct odoc *od, struct sst *ids, unsigned *hidden)
{
	zip_int64_t idx = zip_name_locate(od->za, "xl/workbook.xml", 0);
	xmlDocPtr doc = idx >= 0 ? odoc_xml(od, idx) : NULL;
	const xmlNode *sheets;

	if (doc == NULL)
		return idx >= 0 ? -1 : 0;
	sheets = child_named(xmlDocGetRootElement(doc), "sheets");
	for (const xmlNode *c = sheets ? sheets->children : NULL; c; c = c->next) {
		xmlChar *state, *id;
		if (c->type != XML_ELEMENT_NODE || !name_is(c, "sheet"))
			continue;
		state = xmlGetProp(c, (const xmlChar *)"state");
		id = xmlGetProp(c, (const xmlChar *)"id");   /* r:id: libxml2 matches the local name */
		if (state && (xmlStrcmp(state, (const xmlChar *)"hidden") == 0 ||
		    xmlStrcmp(state, (const xmlChar *)"veryHidden") == 0)) {
			(*hidden)++;
			if (id && ids->n < OFFICE_MAX_PARTS) {
				ids->s = xrealloc(ids->s, ids->n + 1, sizeof *ids->s);
				ids->s[ids->n++] = xstrdup((const char *)id);
			}
		}
		xmlFree(state);
		xmlFree(id);
	}
	xmlFreeDoc(doc);
	return 0;
}

/* The part a workbook relationship id points to ("xl/worksheets/sheet3.xml"), into parts. */
static int
xlsx_hidden_parts(struct odoc *od, const struct sst *ids, struct sst *parts)
{
	zip_int64_t idx = ids->n ? zip_name_locate(od->za, "xl/_rels/workbook.xml.rels", 0) : -1;
	xmlDocPtr doc = idx >= 0 ? odoc_xml(od, idx) : NULL;

	if (doc == NULL)
		return idx >= 0 ? -1 : 0;
	for (const xmlNode *c = xmlDocGetRootElement(doc)->children; c; c = c->next) {
		xmlChar *id = c->type == XML_ELEMENT_NODE ? xmlGetProp(c, (const xmlChar *)"Id") : NULL;
		xmlChar *target = id ? xmlGetProp(c, (const xmlChar *)"Target") : NULL;
		for (size_t i = 0; target && i < ids->n; i++) {
			if (strcmp((const char *)id, ids->s[i]) != 0)
				continue;
			char part[512];
			const char *tg = (const char *)target;
			snprintf(part, sizeof part, "%s%s", tg[0] == '/' ? "" : "xl/", tg[0] == '/' ? tg + 1 : tg);
			parts->s = xrealloc(parts->s, parts->n + 1, sizeof *parts->s);
			parts->s[parts->n++] = xstrdup(part);
		}
		xmlFree(id);
		xmlFree(target);
	}
	xmlFreeDoc(doc);
	return 0;
}

static bool
sst_has(const struct sst *set, const char *s)
{
	for (size_t i = 0; s && i < set->n; i++)
		if (strcmp(set->s[i], s) == 0)
			return true;
	return false;
}

static void
sst_free(struct sst *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->s[i]);
	free(set->s);
	set->s = NULL;
	set->n = 0;
}

static int
xlsx_text(struct odoc *od, struct otext *t)
{
	struct sst sst = { NULL, 0 }, hidden_ids = { NULL, 0 }, hidden_parts = { NULL, 0 };
	struct numbered *parts;
	size_t n;
	int rc = xlsx_shared_strings(od, &sst);

	/* hidden and veryHidden sheets are not what the sender showed: left out, counted */
	if (rc == 0)
		rc = xlsx_hidden_ids(od, &hidden_ids, &od->hidden_sheets);
	if (rc == 0)
		rc = xlsx_hidden_parts(od, &hidden_ids, &hidden_parts);
	parts = xcalloc(OFFICE_MAX_PARTS, sizeof *parts);
	n = rc == 0 ? odoc_numbered(od, "xl/worksheets/sheet", parts, OFFICE_MAX_PARTS) : 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (sst_has(&hidden_parts, zip_get_name(od->za, (zip_uint64_t)parts[i].idx, ZIP_FL_ENC_RAW)))
			continue;
		xmlDocPtr doc = odoc_xml(od, parts[i].idx);
		char head[64];
		if (doc == NULL) {
			rc = -1;
			break;
		}
		snprintf(head, sizeof head, "%s=== sheet %lu ===\n", t->b.len ? "\n" : "", parts[i].n);
		otext_str(t, head);
		xlsx_sheet(xmlDocGetRootElement(doc), &sst, t);
		xmlFreeDoc(doc);
	}
	sst_free(&sst);
	sst_free(&hidden_ids);
	sst_free(&hidden_parts);
	free(parts);
	return rc;
}

static int
docx_text(struct odoc *od, struct otext *t)
{
	if (odoc_part_text(od, "word/document.xml", true, t) < 0)
		return -1;
	if (odoc_numbered_text(od, "word/header", "header", t) < 0 ||
	    odoc_numbered_text(od, "word/footer", "footer", t) < 0)
		return -1;
	return odoc_part_text(od, "word/footnotes.xml", true, t);
}

static int
office_dispatch(struct odoc *od, enum san_kind kind, struct otext *t)
{
	if (kind == KIND_ODF)
		return odoc_part_text(od, "content.xml", false, t);
	if (zip_name_locate(od->za, "word/document.xml", 0) >= 0)
		return docx_text(od, t);
	if (zip_name_locate(od->za, "xl/workbook.xml", 0) >= 0)
		return xlsx_text(od, t);
	if (zip_name_locate(od->za, "ppt/presentation.xml", 0) >= 0)
		return odoc_numbered_text(od, "ppt/slides/slide", "slide", t);
	return odoc_fail(od, "office document without a known main part");
}

int
office_to_text(const uint8_t *data, size_t len, enum san_kind kind, const struct san_config *cfg,
    char **text, size_t *text_len, char *why, size_t why_size, struct text_hidden *hidden)
{
	zip_error_t err;
	zip_source_t *src;
	struct odoc od = { NULL, cfg, 0, why, why_size, 0, 0 };
	struct otext t = { .b = { .max = cfg->max_text_bytes } };
	int rc;

	zip_error_init(&err);
	src = zip_source_buffer_create(data, len, 0, &err);
	od.za = src ? zip_open_from_source(src, ZIP_RDONLY, &err) : NULL;
	if (od.za == NULL) {
		zip_source_free(src);
		zip_error_fini(&err);
		return odoc_fail(&od, "damaged office document (not a readable zip)");
	}
	rc = office_dispatch(&od, kind, &t);
	zip_discard(od.za);
	zip_error_fini(&err);
	if (rc == 0 && t.b.over)
		rc = odoc_fail(&od, "extracted text larger than the limit");
	if (rc < 0) {
		free(t.b.p);
		return -1;
	}
	otext_put(&t, "", 0);
	if (hidden) {
		hidden->word_runs += t.vanished;
		hidden->sheets += od.hidden_sheets;
		hidden->slides += od.hidden_slides;
	}
	*text = t.b.p ? t.b.p : xstrdup("");
	*text_len = t.b.len;
	return 0;
}

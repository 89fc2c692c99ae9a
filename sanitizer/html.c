/* html.c -- HTML to readable plain text: scripts, styles and hidden elements gone, links written out as "text <URL>", never clickable. */
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"
#include "sanitizer/charset.h"
#include "sanitizer/internal.h"
#include "sanitizer/textbuf.h"

struct htext {
	struct textbuf b;
	bool space_pending;   /* collapse runs of white space to one */
	int pre;              /* inside <pre>: keep white space */
	unsigned hidden;      /* elements left out as invisible */
};

static void
htext_raw(struct htext *t, const char *s, size_t n)
{
	textbuf_put(&t->b, s, n);
}

static bool
htext_at_line_start(const struct htext *t)
{
	return t->b.len == 0 || t->b.p[t->b.len - 1] == '\n';
}

static void
htext_newline(struct htext *t)
{
	t->space_pending = false;
	if (!htext_at_line_start(t))
		htext_raw(t, "\n", 1);
}

/* Appends text, collapsing white space outside <pre>. */
static void
htext_words(struct htext *t, const char *s)
{
	for (; *s; s++) {
		bool ws = *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f';
		if (t->pre) {
			htext_raw(t, s, 1);
		} else if (ws) {
			t->space_pending = !htext_at_line_start(t);
		} else {
			if (t->space_pending)
				htext_raw(t, " ", 1);
			t->space_pending = false;
			htext_raw(t, s, 1);
		}
	}
}

static bool
tag_in(const xmlNode *n, const char *const *names)
{
	for (; *names; names++)
		if (strcasecmp((const char *)n->name, *names) == 0)
			return true;
	return false;
}

static const char *const html_skip[] = { "script", "style", "head", "noscript", "template",
	"iframe", "object", "embed", "applet", "svg", "math", "button", "select", NULL };
static const char *const html_block[] = { "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4",
	"h5", "h6", "table", "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "section", "article",
	"header", "footer", "hr", "address", "form", "fieldset", "nav", "aside", "main", "figure", "title", NULL };

/* Only web and mail links are worth writing out; javascript: and data: are dropped. */
static bool
html_url_shown(const char *href)
{
	return strncasecmp(href, "http://", 7) == 0 || strncasecmp(href, "https://", 8) == 0 ||
	    strncasecmp(href, "mailto:", 7) == 0 || strncasecmp(href, "ftp://", 6) == 0;
}

static void html_walk(const xmlNode *node, struct htext *t, int depth);

static void
html_link(const xmlNode *a, struct htext *t, int depth)
{
	xmlChar *href = xmlGetProp(a, (const xmlChar *)"href");
	size_t before = t->b.len;

	html_walk(a->children, t, depth + 1);
	if (href && html_url_shown((const char *)href)) {
		/* "text <URL>"; the URL alone when it is the text */
		bool same = t->b.len > before && strstr(t->b.p + before, (const char *)href) != NULL;
		if (!same) {
			htext_words(t, t->b.len > before ? " <" : "<");
			htext_words(t, (const char *)href);
			htext_words(t, ">");
		}
	}
	xmlFree(href);
}

static void
html_element(const xmlNode *c, struct htext *t, int depth)
{
	if (strcasecmp((const char *)c->name, "a") == 0) {
		html_link(c, t, depth);
		return;
	}
	if (strcasecmp((const char *)c->name, "img") == 0) {
		xmlChar *alt = xmlGetProp(c, (const xmlChar *)"alt");
		if (alt && *alt) {
			htext_words(t, " [image: ");
			htext_words(t, (const char *)alt);
			htext_words(t, "] ");
		}
		xmlFree(alt);
		return;
	}
	bool block = tag_in(c, html_block), pre = strcasecmp((const char *)c->name, "pre") == 0;
	if (block)
		htext_newline(t);
	if (strcasecmp((const char *)c->name, "li") == 0)
		htext_raw(t, "- ", 2);
	t->pre += pre;
	html_walk(c->children, t, depth + 1);
	t->pre -= pre;
	if (strcasecmp((const char *)c->name, "td") == 0 || strcasecmp((const char *)c->name, "th") == 0)
		htext_raw(t, "\t", 1);
	if (block)
		htext_newline(t);
}

/* "font-size:0", "0px", "0.0em", "0%": a size of nothing (any unit). */
static bool
html_zero_size(const char *v)
{
	char *end;
	double size = strtod(v, &end);

	return end != v && size == 0.0;
}

/*
 * The inline style hides the element: display:none, visibility:hidden or
 * collapse, a zero font size. Declarations are looked at one by one, without
 * white space and case (stylesheets and classes are not computed).
 */
static bool
html_style_hides(const char *style)
{
	char decl[256];
	size_t n = 0;

	for (const char *p = style;; p++) {
		if (*p == ';' || *p == '\0') {
			decl[n] = '\0';
			char *colon = strchr(decl, ':');
			if (colon) {
				*colon = '\0';
				const char *v = colon + 1;
				if ((strcmp(decl, "display") == 0 && strncmp(v, "none", 4) == 0) ||
				    (strcmp(decl, "visibility") == 0 && (strncmp(v, "hidden", 6) == 0 ||
				    strncmp(v, "collapse", 8) == 0)) ||
				    (strcmp(decl, "font-size") == 0 && html_zero_size(v)))
					return true;
			}
			n = 0;
			if (*p == '\0')
				return false;
		} else if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && n + 1 < sizeof decl) {
			decl[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		}
	}
}

/* What a browser would not show: the hidden attribute, or an inline style that hides. */
static bool
html_invisible(const xmlNode *c)
{
	xmlChar *style;
	bool hides;

	if (xmlHasProp(c, (const xmlChar *)"hidden"))
		return true;
	style = xmlGetProp(c, (const xmlChar *)"style");
	hides = style && html_style_hides((const char *)style);
	xmlFree(style);
	if (!hides && strcasecmp((const char *)c->name, "font") == 0) {   /* <font size="0"> */
		xmlChar *size = xmlGetProp(c, (const xmlChar *)"size");
		hides = size && html_zero_size((const char *)size);
		xmlFree(size);
	}
	return hides;
}

static void
html_walk(const xmlNode *node, struct htext *t, int depth)
{
	for (const xmlNode *c = node; c && depth < 256 && !t->b.over; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			if (c->content)
				htext_words(t, (const char *)c->content);
		} else if (c->type == XML_ELEMENT_NODE && c->name && !tag_in(c, html_skip)) {
			if (html_invisible(c))
				t->hidden++;
			else
				html_element(c, t, depth);
		}
	}
}

/* The charset an HTML file declares in <meta>, if any (first 4 KB). */
static const char *
html_meta_charset(const uint8_t *data, size_t len, char *label, size_t size)
{
	size_t n = len < 4096 ? len : 4096;
	const char *p = memmem(data, n, "charset=", 8);
	size_t i = 0;

	if (p == NULL)
		return NULL;
	p += 8;
	while ((size_t)(p - (const char *)data) < n && (*p == '"' || *p == '\''))
		p++;
	while ((size_t)(p - (const char *)data) < n && i + 1 < size &&
	    (p[0] == '-' || p[0] == '_' || (p[0] >= '0' && p[0] <= '9') ||
	    ((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z')))
		label[i++] = *p++;
	label[i] = '\0';
	return i ? label : NULL;
}

int
html_to_text(const uint8_t *data, size_t len, size_t max_text, char **text, size_t *text_len,
    struct text_hidden *hidden)
{
	char label[64], *utf8 = NULL;
	size_t utf8_len = 0;
	struct htext t = { .b = { .max = max_text } };
	htmlDocPtr doc;

	/* decoded by us first (CP932, ISO-2022-JP...): libxml2's own charset switch would need iconv modules */
	if (charset_to_utf8(html_meta_charset(data, len, label, sizeof label), data, len, &utf8, &utf8_len, NULL) < 0)
		return -1;
	doc = htmlReadMemory(utf8, (int)utf8_len, NULL, "UTF-8", HTML_PARSE_NONET | HTML_PARSE_NOERROR |
	    HTML_PARSE_NOWARNING | HTML_PARSE_RECOVER | HTML_PARSE_IGNORE_ENC);
	free(utf8);
	if (doc == NULL)
		return -1;
	html_walk(xmlDocGetRootElement(doc), &t, 0);
	xmlFreeDoc(doc);
	if (t.b.over) {
		free(t.b.p);
		return -1;
	}
	htext_raw(&t, "\n", htext_at_line_start(&t) ? 0 : 1);
	if (hidden)
		hidden->html_elements += t.hidden;
	*text = t.b.p ? t.b.p : xstrdup("");
	*text_len = t.b.len;
	return 0;
}

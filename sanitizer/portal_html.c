/* portal_html.c -- HTML escaping in one place, and the frame every portal page shares. */
#include "sanitizer/portal_html.h"

#include <string.h>

void
html_text(struct evbuffer *out, const char *s)
{
	const char *run = s;

	if (s == NULL)
		return;
	for (; *s; s++) {
		const char *rep = NULL;
		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		evbuffer_add(out, run, (size_t)(s - run));
		evbuffer_add(out, rep, strlen(rep));
		run = s + 1;
	}
	evbuffer_add(out, run, (size_t)(s - run));
}

void
html_raw(struct evbuffer *out, const char *markup)
{
	evbuffer_add(out, markup, strlen(markup));
}

void
html_begin(struct evbuffer *out, const char *title_ja, const char *title_en)
{
	html_raw(out, "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width\">"
	    "<link rel=\"stylesheet\" href=\"/style.css\"><title>");
	html_text(out, title_ja);
	html_raw(out, " / ");
	html_text(out, title_en);
	html_raw(out, "</title></head><body><header>原本申請ポータル <span class=\"en\">Original release portal</span>"
	    "</header><main><h1>");
	html_text(out, title_ja);
	html_raw(out, " <span class=\"en\">");
	html_text(out, title_en);
	html_raw(out, "</span></h1>\n");
}

void
html_end(struct evbuffer *out)
{
	html_raw(out, "</main></body></html>\n");
}

void
html_row(struct evbuffer *out, const char *ja, const char *en, const char *value)
{
	html_raw(out, "<tr><th>");
	html_text(out, ja);
	html_raw(out, "<br><span class=\"en\">");
	html_text(out, en);
	html_raw(out, "</span></th><td>");
	html_text(out, value ? value : "-");
	html_raw(out, "</td></tr>\n");
}

void
html_hidden(struct evbuffer *out, const char *name, const char *value)
{
	html_raw(out, "<input type=\"hidden\" name=\"");
	html_text(out, name);
	html_raw(out, "\" value=\"");
	html_text(out, value);
	html_raw(out, "\">");
}

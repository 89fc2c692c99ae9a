/* portal_html.h -- the portal's pages are written only through these: every text goes through one escaper. */
#ifndef TIERGATE_PORTAL_HTML_H
#define TIERGATE_PORTAL_HTML_H

#include <event2/buffer.h>

/* Appends s with & < > " ' escaped (the only way text reaches a page). */
void html_text(struct evbuffer *out, const char *s);
/* Appends fixed markup written in this program (never data). */
void html_raw(struct evbuffer *out, const char *markup);
/* The page head (lang="ja", title in Japanese / English, the stylesheet) and the end. */
void html_begin(struct evbuffer *out, const char *title_ja, const char *title_en);
void html_end(struct evbuffer *out);
/* <tr><th>ja<br><span class=en>en</span></th><td>value</td></tr> */
void html_row(struct evbuffer *out, const char *ja, const char *en, const char *value);
/* A hidden input with an escaped value. */
void html_hidden(struct evbuffer *out, const char *name, const char *value);

#endif

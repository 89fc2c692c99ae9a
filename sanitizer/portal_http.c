/* portal_http.c -- tiergate-portal's HTTPS front: libevent's evhttp over bufferevent_openssl, headers every page gets, routing. */
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/portal.h"
#include "sanitizer/portal_html.h"

/* No script at all, nothing from elsewhere, never in a frame, forms only to us. */
static const char portal_csp[] = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";

static const char portal_css[] =
    "body{font-family:\"IPAGothic\",\"IPAPGothic\",\"Noto Sans CJK JP\",sans-serif;margin:0;color:#222}"
    "header{background:#1d3b5a;color:#fff;padding:.6em 1em;font-weight:bold}"
    "main{padding:1em 1.5em;max-width:60em}.en{color:#666;font-size:.85em;font-weight:normal}"
    "table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #bbb;padding:.3em .6em;"
    "text-align:left;vertical-align:top}th{background:#eef2f6}textarea{width:100%;min-height:5em}"
    ".ok{color:#1a6a1a}.err{color:#a01010;font-weight:bold}button{padding:.4em 1em;margin:.3em 0}";

void
portal_send(struct portal_req *r, int code, struct evbuffer *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->http);

	evhttp_add_header(h, "Content-Security-Policy", portal_csp);
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");   /* the token is in the URL */
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "Strict-Transport-Security", "max-age=31536000");
	if (evhttp_find_header(h, "Content-Type") == NULL)
		evhttp_add_header(h, "Content-Type", "text/html; charset=utf-8");
	evhttp_send_reply(r->http, code, code == 200 ? "OK" : code == 303 ? "See Other" : "Error", body);
}

void
portal_redirect(struct portal_req *r, const char *location)
{
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(r->http), "Location", location);
	portal_send(r, 303, b);
	evbuffer_free(b);
}

void
portal_error_page(struct portal_req *r, int code, const char *ja, const char *en)
{
	struct evbuffer *b = evbuffer_new();

	html_begin(b, "エラー", "Error");
	html_raw(b, "<p class=\"err\">");
	html_text(b, ja);
	html_raw(b, "<br><span class=\"en\">");
	html_text(b, en);
	html_raw(b, "</span></p>");
	html_end(b);
	portal_send(r, code, b);
	evbuffer_free(b);
}

void
portal_set_cookie(struct portal_req *r, const char *name, const char *value, unsigned max_age)
{
	char line[256];

	snprintf(line, sizeof line, "%s=%s; Path=/; Max-Age=%u; Secure; HttpOnly; SameSite=Strict", name, value,
	    max_age);
	evhttp_add_header(evhttp_request_get_output_headers(r->http), "Set-Cookie", line);
}

/* The value of cookie name (64 hex at most), or NULL. */
const char *
portal_cookie(struct portal_req *r, const char *name, char *out, size_t cap)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(r->http), "Cookie");
	size_t nl = strlen(name);

	for (const char *p = h; p && *p; ) {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t vl = strspn(p + nl + 1, "0123456789abcdef");
			if (vl == 0 || vl >= cap)
				return NULL;
			memcpy(out, p + nl + 1, vl);
			out[vl] = '\0';
			return out;
		}
		p = strchr(p, ';');
	}
	return NULL;
}

void
portal_event(struct portal *p, const char *event, struct portal_req *r, const char *user,
    const char *what, bool ok, const char *error)
{
	struct jbuf jb = JBUF_INIT;

	ev_begin(&jb, event, 0);
	if (user)
		jb_str(&jb, "user", user);
	if (r)
		jb_str(&jb, "src_ip", r->addr);
	if (what)
		jb_str(&jb, "what", what);
	jb_bool(&jb, "ok", ok);
	if (!ok && error)
		jb_str(&jb, "error", error);
	ev_end(&jb);
	ev_emit(p->events, &jb);
	jb_free(&jb);
}

static void
portal_page_css(struct portal_req *r)
{
	struct evbuffer *b = evbuffer_new();

	evbuffer_add(b, portal_css, sizeof portal_css - 1);
	evhttp_add_header(evhttp_request_get_output_headers(r->http), "Content-Type", "text/css; charset=utf-8");
	portal_send(r, 200, b);
	evbuffer_free(b);
}

static void
portal_page_home(struct portal_req *r)
{
	struct evbuffer *b = evbuffer_new();

	html_begin(b, "原本申請ポータル", "Original release portal");
	html_raw(b, "<p>無害化されたメールの原本が必要な方は、お知らせに記載されたリンクから申請してください。<br>"
	    "<span class=\"en\">If you need the original of a sanitized mail, follow the link in its notice.</span></p>"
	    "<p><a href=\"/login\">承認者ログイン <span class=\"en\">Approver login</span></a></p>");
	html_end(b);
	portal_send(r, 200, b);
	evbuffer_free(b);
}

/* Reads the body (evhttp already bounded it) and the peer; finds the session. */
static int
portal_req_init(struct portal *p, struct evhttp_request *req, struct portal_req *r, const struct evhttp_uri *uri)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	char *host = NULL, sid[80];
	uint16_t port = 0;

	memset(r, 0, sizeof *r);
	r->p = p;
	r->http = req;
	r->path = evhttp_uri_get_path(uri);
	r->query = evhttp_uri_get_query(uri);
	r->post = evhttp_request_get_command(req) == EVHTTP_REQ_POST;
	evhttp_connection_get_peer(evhttp_request_get_connection(req), &host, &port);
	str_copy(r->addr, host ? host : "?", sizeof r->addr);
	if (evbuffer_get_length(in) > PORTAL_FORM_MAX_BYTES)
		return -1;
	r->body_len = evbuffer_copyout(in, r->body, PORTAL_FORM_MAX_BYTES);
	r->body[r->body_len] = '\0';
	r->session = portal_session_find(p, portal_cookie(r, "tgp_s", sid, sizeof sid));
	return 0;
}

struct portal_route {
	const char *path;
	void (*fn)(struct portal_req *);
	bool post_ok;
};

static const struct portal_route portal_routes[] = {
	{ "/", portal_page_home, false },
	{ "/style.css", portal_page_css, false },
	{ "/r", portal_page_request, true },
	{ "/login", portal_page_login, true },
	{ "/queue", portal_page_queue, false },
	{ "/decide", portal_page_decide, true },
	{ "/status", portal_page_status, false },
	{ "/logout", portal_page_logout, true },
};

static void
portal_handle(struct evhttp_request *req, void *arg)
{
	struct portal *p = arg;
	struct portal_req *r = calloc(1, sizeof *r);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);

	if (r == NULL || uri == NULL || portal_req_init(p, req, r, uri) < 0 || r->path == NULL) {
		evhttp_send_error(req, 400, "Bad Request");
		free(r);
		return;
	}
	for (size_t i = 0; i < ARRAY_LEN(portal_routes); i++) {
		if (strcmp(r->path, portal_routes[i].path) != 0)
			continue;
		if (r->post && !portal_routes[i].post_ok)
			portal_error_page(r, 405, "この操作はできません。", "Method not allowed.");
		else if (r->post && !portal_rate_ok(p, r->addr)) {
			portal_event(p, "portal_rate_limited", r, NULL, r->path, false, "too many requests");
			portal_error_page(r, 429, "操作が多すぎます。しばらくしてからお試しください。",
			    "Too many requests; try again in a minute.");
		} else
			portal_routes[i].fn(r);
		free(r);
		return;
	}
	portal_error_page(r, 404, "ページが見つかりません。", "Not found.");
	free(r);
}

static struct bufferevent *
portal_bev(struct event_base *base, void *arg)
{
	struct portal *p = arg;
	SSL *ssl = SSL_new(p->ssl);

	return ssl ? bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)
		   : NULL;
}

SSL_CTX *portal_tls_new(const struct portal_conf *c);
SSL_CTX *
portal_tls_new(const struct portal_conf *c)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		unsigned long e = ERR_get_error();
		log_warnx("TLS %s / %s: %s", c->cert, c->key, e ? ERR_reason_error_string(e) : "?");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	return ctx;
}

struct evhttp *portal_http_new(struct event_base *base, struct portal *p);
struct evhttp *
portal_http_new(struct event_base *base, struct portal *p)
{
	struct evhttp *http = evhttp_new(base);
	char host[128];
	const char *colon = strrchr(p->conf.listen, ':');
	unsigned long port;

	if (http == NULL || colon == NULL || (size_t)(colon - p->conf.listen) >= sizeof host ||
	    parse_ulong(colon + 1, 65535, &port) < 0) {
		log_warnx("listen %s: expected ADDRESS:PORT", p->conf.listen);
		return NULL;
	}
	memcpy(host, p->conf.listen, (size_t)(colon - p->conf.listen));
	host[colon - p->conf.listen] = '\0';
	evhttp_set_bevcb(http, portal_bev, p);
	evhttp_set_gencb(http, portal_handle, p);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_max_body_size(http, PORTAL_FORM_MAX_BYTES);
	evhttp_set_max_headers_size(http, 8192);
	evhttp_set_timeout(http, 30);
	if (evhttp_bind_socket(http, host, (uint16_t)port) < 0) {
		log_warn("listen %s", p->conf.listen);
		evhttp_free(http);
		return NULL;
	}
	return http;
}

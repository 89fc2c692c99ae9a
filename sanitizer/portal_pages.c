/* portal_pages.c -- the recipient's pages: what arrived, what was delivered instead and why, the request and its state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"
#include "sanitizer/portal.h"
#include "sanitizer/portal_client.h"
#include "sanitizer/portal_html.h"
#include "sanitizer/relsock_proto.h"

struct portal_state_label {
	const char *state, *ja, *en;
};

static const struct portal_state_label portal_states[] = {
	{ "pending", "審査中", "waiting for an approver" },
	{ "released", "承認され、原本をお送りしました", "approved; the original was delivered" },
	{ "refused", "却下されました", "refused" },
	{ "failed", "承認されましたが送付に失敗しました（担当者が確認します）", "approved, but delivery failed" },
};

void portal_state_html(struct evbuffer *b, const char *state);
void
portal_state_html(struct evbuffer *b, const char *state)
{
	for (size_t i = 0; i < ARRAY_LEN(portal_states); i++)
		if (state && strcmp(state, portal_states[i].state) == 0) {
			html_text(b, portal_states[i].ja);
			html_raw(b, " <span class=\"en\">");
			html_text(b, portal_states[i].en);
			html_raw(b, "</span>");
			return;
		}
	html_text(b, state ? state : "-");
}

void portal_time_text(const char *unix_text, char out[32]);
void
portal_time_text(const char *unix_text, char out[32])
{
	long v = 0;
	time_t t;
	struct tm tm;

	str_copy(out, "-", 32);
	if (unix_text == NULL || parse_long(unix_text, 1, 0x7fffffffL, &v) < 0)
		return;
	t = (time_t)v;
	if (localtime_r(&t, &tm))
		strftime(out, 32, "%Y-%m-%d %H:%M", &tm);
}

/* What arrived and what the recipient got instead; never a byte of the original. */
static void
portal_item_html(struct evbuffer *b, const struct portal_rec *item)
{
	char when[32];
	const char *kind = portal_rec_get(item, "kind");

	portal_time_text(portal_rec_get(item, "time"), when);
	if (kind && strcmp(kind, "file") == 0) {   /* a file from the spool: approved, it goes to your release folder */
		html_raw(b, "<h2>届いたファイル <span class=\"en\">What arrived</span></h2><table>");
		html_row(b, "ファイル名", "File name", portal_rec_get(item, "subject"));
		html_row(b, "持ち主（あなた）", "Owner (you)", portal_rec_get(item, "recipient"));
		html_row(b, "受信日時", "Received", when);
		html_row(b, "保管した理由", "Why the original is kept", portal_rec_get(item, "reason"));
		html_row(b, "承認後の置き場所", "Once approved, it goes to", "あなたの原本受け取りフォルダー / your release folder");
		html_raw(b, "</table>\n");
		return;
	}
	html_raw(b, "<h2>届いたメール <span class=\"en\">What arrived</span></h2><table>");
	html_row(b, "件名", "Subject", portal_rec_get(item, "subject"));
	html_row(b, "差出人", "Sender", portal_rec_get(item, "sender"));
	html_row(b, "宛先（あなた）", "Recipient (you)", portal_rec_get(item, "recipient"));
	html_row(b, "受信日時", "Received", when);
	html_row(b, "保管した理由", "Why the original is kept", portal_rec_get(item, "reason"));
	html_raw(b, "</table><h2>お届けした内容と理由 <span class=\"en\">What was delivered instead, and why</span></h2><ul>");
	for (size_t i = 0; i < item->n; i++)
		if (strcmp(item->key[i], "part") == 0) {
			html_raw(b, "<li>");
			html_text(b, item->val[i]);
			html_raw(b, "</li>");
		}
	html_raw(b, "</ul>\n");
}

/* This recipient's requests for this mail; true when one is still pending. */
static bool
portal_mine_html(struct evbuffer *b, const struct portal_answer *mine)
{
	bool pending = false;

	if (mine->n_recs == 0)
		return false;
	html_raw(b, "<h2>あなたの申請 <span class=\"en\">Your requests</span></h2><table>"
	    "<tr><th>申請日時<br><span class=\"en\">Asked</span></th><th>状態<br><span class=\"en\">State</span></th>"
	    "<th>理由<br><span class=\"en\">Reason</span></th><th>承認者のコメント<br><span class=\"en\">Comment</span></th></tr>");
	for (size_t i = 0; i < mine->n_recs; i++) {
		const struct portal_rec *rq = &mine->recs[i];
		char when[32];
		portal_time_text(portal_rec_get(rq, "created"), when);
		pending |= portal_rec_get(rq, "state") && strcmp(portal_rec_get(rq, "state"), "pending") == 0;
		html_raw(b, "<tr><td>");
		html_text(b, when);
		html_raw(b, "</td><td class=\"state\">");
		portal_state_html(b, portal_rec_get(rq, "state"));
		html_raw(b, "</td><td>");
		html_text(b, portal_rec_get(rq, "reason"));
		html_raw(b, "</td><td>");
		html_text(b, portal_rec_get(rq, "comment"));
		html_raw(b, "</td></tr>");
	}
	html_raw(b, "</table>\n");
	return pending;
}

static void
portal_ask_form(struct portal_req *r, struct evbuffer *b, const char *token)
{
	char csrf[65];

	portal_csrf_bound(r->p, "ask", token, csrf);
	html_raw(b, "<h2>原本を申請する <span class=\"en\">Ask for the original</span></h2>"
	    "<form method=\"post\" action=\"/r\">");
	html_hidden(b, "t", token);
	html_hidden(b, "csrf", csrf);
	html_raw(b, "<p><label for=\"reason\">必要な理由（承認者が読みます） <span class=\"en\">Why you need it "
	    "(an approver reads this)</span></label><br><textarea id=\"reason\" name=\"reason\" maxlength=\"1000\" "
	    "required></textarea></p><p><button type=\"submit\" id=\"ask\">申請する <span class=\"en\">Ask</span>"
	    "</button></p></form>\n");
}

/* Link tokens are base64url, digits, hex and dots: anything else is refused before it is echoed. */
static bool
portal_token_ok(const char *t)
{
	return strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") == strlen(t);
}

static const struct portal_field_spec portal_token_spec[] = { { "t", RELSOCK_TOKEN_MAX, 0 } };

static void
portal_request_view(struct portal_req *r)
{
	struct portal_form q;
	struct portal_answer info, mine;
	struct evbuffer *b;
	const char *err = NULL, *f[2] = { "INFO", NULL };

	if (r->query == NULL || portal_form_parse(r->query, strlen(r->query), portal_token_spec, 1, &q, &err) < 0 ||
	    q.value[0] == NULL || !portal_token_ok(q.value[0])) {
		portal_form_free(&q);
		portal_error_page(r, 400, "リンクが正しくありません。", err ? err : "missing link token");
		return;
	}
	f[1] = q.value[0];
	if (portal_call(r->p->conf.socket, f, 2, &info) < 0 || !info.ok || info.n_recs == 0) {
		portal_event(r->p, "portal_view", r, NULL, "request page", false, info.status ? info.status : "no answer");
		portal_error_page(r, 403, "このリンクは無効か、期限が切れています。",
		    info.status ? info.status : "the release service does not answer");
		portal_answer_free(&info);
		portal_form_free(&q);
		return;
	}
	f[0] = "MINE";
	portal_call(r->p->conf.socket, f, 2, &mine);
	b = evbuffer_new();
	html_begin(b, "原本の申請", "Asking for an original");
	portal_item_html(b, &info.recs[0]);
	if (!portal_mine_html(b, &mine))
		portal_ask_form(r, b, q.value[0]);
	html_end(b);
	portal_send(r, 200, b);
	evbuffer_free(b);
	portal_answer_free(&info);
	portal_answer_free(&mine);
	portal_form_free(&q);
}

static const struct portal_field_spec portal_ask_spec[] = {
	{ "t", RELSOCK_TOKEN_MAX, 0 }, { "csrf", 64, 0 }, { "reason", RELSOCK_TEXT_MAX, 1 },
};

static void
portal_request_post(struct portal_req *r)
{
	struct portal_form form;
	struct portal_answer a;
	const char *err = NULL, *f[3];
	char csrf[65], *location;
	size_t n;

	if (portal_form_parse(r->body, r->body_len, portal_ask_spec, 3, &form, &err) < 0 ||
	    !form.value[0] || !form.value[2] || !portal_token_ok(form.value[0])) {
		portal_form_free(&form);
		portal_error_page(r, 400, "入力が正しくありません。", err ? err : "missing or malformed field");
		return;
	}
	portal_csrf_bound(r->p, "ask", form.value[0], csrf);
	if (form.value[1] == NULL || !portal_csrf_equal(csrf, form.value[1])) {
		portal_event(r->p, "portal_request", r, NULL, "ask", false, "CSRF token missing or wrong");
		portal_error_page(r, 403, "フォームの有効期限が切れています。ページを開き直してください。", "CSRF check failed.");
		portal_form_free(&form);
		return;
	}
	for (char *c = form.value[2]; *c; c++)   /* the socket's text is one line */
		if (*c == '\n' || *c == '\r' || *c == '\t')
			*c = ' ';
	f[0] = "ASK", f[1] = form.value[0], f[2] = form.value[2];
	if (portal_call(r->p->conf.socket, f, 3, &a) < 0 || !a.ok) {
		portal_event(r->p, "portal_request", r, NULL, "ask", false, a.status ? a.status : "no answer");
		portal_error_page(r, 403, "申請できませんでした。", a.status ? a.status : "the release service does not answer");
	} else {
		portal_event(r->p, "portal_request", r, NULL, a.status, true, NULL);
		n = strlen(form.value[0]) + 8;
		location = xmalloc(n);
		snprintf(location, n, "/r?t=%s", form.value[0]);
		portal_redirect(r, location);
		free(location);
	}
	portal_answer_free(&a);
	portal_form_free(&form);
}

void
portal_page_request(struct portal_req *r)
{
	if (r->post)
		portal_request_post(r);
	else
		portal_request_view(r);
}

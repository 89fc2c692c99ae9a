/* portal_admin.c -- the approvers' pages: password + TOTP login, the request queue, approve/refuse, the status page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "sanitizer/portal.h"
#include "sanitizer/portal_client.h"
#include "sanitizer/portal_html.h"
#include "sanitizer/relsock_proto.h"

void portal_state_html(struct evbuffer *b, const char *state);
void portal_time_text(const char *unix_text, char out[32]);

static void
portal_login_form(struct portal_req *r, const char *pre, const char *message)
{
	struct evbuffer *b = evbuffer_new();
	char csrf[65];

	portal_csrf_bound(r->p, "login", pre, csrf);
	html_begin(b, "承認者ログイン", "Approver login");
	if (message) {
		html_raw(b, "<p class=\"err\">");
		html_text(b, message);
		html_raw(b, "</p>");
	}
	html_raw(b, "<form method=\"post\" action=\"/login\"><table>"
	    "<tr><th><label for=\"user\">ユーザー名</label><br><span class=\"en\">User</span></th>"
	    "<td><input id=\"user\" name=\"user\" maxlength=\"63\" autocomplete=\"username\" required></td></tr>"
	    "<tr><th><label for=\"password\">パスワード</label><br><span class=\"en\">Password</span></th>"
	    "<td><input id=\"password\" name=\"password\" type=\"password\" maxlength=\"256\" required></td></tr>"
	    "<tr><th><label for=\"otp\">ワンタイムコード</label><br><span class=\"en\">TOTP code</span></th>"
	    "<td><input id=\"otp\" name=\"otp\" inputmode=\"numeric\" maxlength=\"8\" autocomplete=\"one-time-code\" "
	    "required></td></tr></table>");
	html_hidden(b, "csrf", csrf);
	html_raw(b, "<p><button type=\"submit\" id=\"login\">ログイン <span class=\"en\">Log in</span></button></p></form>");
	html_end(b);
	portal_send(r, message ? 403 : 200, b);
	evbuffer_free(b);
}

static const struct portal_field_spec portal_login_spec[] = {
	{ "user", PORTAL_NAME_MAX - 1, 0 }, { "password", 256, 0 }, { "otp", 8, 0 }, { "csrf", 64, 0 },
};

static void
portal_login_post(struct portal_req *r, const char *pre)
{
	struct portal_form form;
	struct portal_session *s;
	const char *err = NULL;
	char csrf[65], why[300];

	if (portal_form_parse(r->body, r->body_len, portal_login_spec, 4, &form, &err) < 0 ||
	    !form.value[0] || !form.value[1] || !form.value[2] || !form.value[3]) {
		portal_form_free(&form);
		portal_error_page(r, 400, "入力が正しくありません。", err ? err : "missing field");
		return;
	}
	portal_csrf_bound(r->p, "login", pre ? pre : "", csrf);
	if (pre == NULL || !portal_csrf_equal(csrf, form.value[3])) {
		portal_event(r->p, "portal_login", r, form.value[0], NULL, false, "CSRF token missing or wrong");
		portal_error_page(r, 403, "フォームの有効期限が切れています。ページを開き直してください。", "CSRF check failed.");
	} else if ((s = portal_login(r->p, form.value[0], form.value[1], form.value[2], r->addr, why, sizeof why)) == NULL) {
		portal_event(r->p, "portal_login", r, form.value[0], NULL, false, why);
		portal_login_form(r, pre, strstr(why, "locked") ? "ロックされています。しばらくしてからお試しください。"
		    "/ Locked out; try again later." : "ログインできませんでした。/ Login failed.");
	} else {
		portal_event(r->p, "portal_login", r, s->user, NULL, true, NULL);
		portal_set_cookie(r, "tgp_s", s->id, r->p->conf.max_seconds);
		portal_set_cookie(r, "tgp_pre", "0", 0);
		portal_redirect(r, "/queue");
	}
	portal_form_free(&form);
}

void
portal_page_login(struct portal_req *r)
{
	char pre[80], fresh[65];
	const char *have = portal_cookie(r, "tgp_pre", pre, sizeof pre);

	if (r->post) {
		portal_login_post(r, have && strlen(have) == 64 ? have : NULL);
		return;
	}
	if (have == NULL || strlen(have) != 64) {
		portal_random_hex(fresh);
		portal_set_cookie(r, "tgp_pre", fresh, 600);
		have = fresh;
	}
	portal_login_form(r, have, NULL);
}

/* Pages behind the login: a session, else to the login page. */
static bool
portal_need_session(struct portal_req *r)
{
	if (r->session)
		return true;
	portal_redirect(r, "/login");
	return false;
}

/* The queue and the status page: the daemon answers only with this session's ticket. */
static int
portal_status_call(struct portal_req *r, struct portal_answer *a)
{
	const char *f[3] = { "STATUS", r->session->ticket, r->session->bind };

	return portal_call(r->p->conf.socket, f, 3, a) < 0 || !a->ok ? -1 : 0;
}

static void
portal_request_row(struct portal_req *r, struct evbuffer *b, const struct portal_rec *rq)
{
	char when[32];

	portal_time_text(portal_rec_get(rq, "created"), when);
	html_raw(b, "<section class=\"request\"><h3>申請 <span class=\"en\">Request</span> ");
	html_text(b, portal_rec_get(rq, "request"));
	html_raw(b, "</h3><table>");
	html_row(b, "申請者", "Asked by", portal_rec_get(rq, "asked_by"));
	html_row(b, "申請日時", "Asked at", when);
	html_row(b, "申請理由", "Reason", portal_rec_get(rq, "reason"));
	html_row(b, "件名", "Subject", portal_rec_get(rq, "subject"));
	html_row(b, "差出人", "Sender", portal_rec_get(rq, "sender"));
	html_row(b, "宛先", "Recipients", portal_rec_get(rq, "recipients"));
	html_row(b, "保管した理由", "Why kept", portal_rec_get(rq, "item_reason"));
	for (size_t i = 0; i < rq->n; i++)
		if (strcmp(rq->key[i], "part") == 0)
			html_row(b, "添付と処理", "Attachment", rq->val[i]);
	for (size_t i = 0; i < rq->n; i++)
		if (strcmp(rq->key[i], "approver") == 0)
			html_row(b, "承認済み", "Approved by", rq->val[i]);
	html_raw(b, "</table><form method=\"post\" action=\"/decide\">");
	html_hidden(b, "req", portal_rec_get(rq, "request"));
	html_hidden(b, "csrf", r->session->csrf);
	html_raw(b, "<p><label>コメント <span class=\"en\">Comment</span><br><textarea name=\"comment\" "
	    "maxlength=\"1000\"></textarea></label></p><p><button type=\"submit\" name=\"action\" value=\"approve\" "
	    "class=\"approve\">承認 <span class=\"en\">Approve</span></button> <button type=\"submit\" name=\"action\" "
	    "value=\"refuse\" class=\"refuse\">却下 <span class=\"en\">Refuse</span></button></p></form></section>\n");
}

static void
portal_nav(struct portal_req *r, struct evbuffer *b)
{
	html_raw(b, "<p>");
	html_text(b, r->session->user);
	html_raw(b, " | <a href=\"/queue\">申請一覧 <span class=\"en\">Queue</span></a> | <a href=\"/status\">状況 "
	    "<span class=\"en\">Status</span></a></p><form method=\"post\" action=\"/logout\">");
	html_hidden(b, "csrf", r->session->csrf);
	html_raw(b, "<button type=\"submit\">ログアウト <span class=\"en\">Log out</span></button></form>\n");
}

void
portal_page_queue(struct portal_req *r)
{
	struct portal_answer a;
	struct evbuffer *b;
	size_t shown = 0;

	if (!portal_need_session(r))
		return;
	if (portal_status_call(r, &a) < 0) {
		portal_error_page(r, 503, "隔離サービスが応答しません。", a.status ? a.status : "no answer");
		portal_answer_free(&a);
		return;
	}
	b = evbuffer_new();
	html_begin(b, "原本申請の一覧", "Requests for originals");
	portal_nav(r, b);
	for (size_t i = 0; i < a.n_recs; i++) {
		const char *st = portal_rec_get(&a.recs[i], "state");
		if (portal_rec_get(&a.recs[i], "request") && st && strcmp(st, "pending") == 0 &&
		    portal_rec_get(&a.recs[i], "rcpt")) {
			portal_request_row(r, b, &a.recs[i]);
			shown++;
		}
	}
	if (shown == 0)
		html_raw(b, "<p>審査待ちの申請はありません。<span class=\"en\">No pending requests.</span></p>");
	html_end(b);
	portal_send(r, 200, b);
	evbuffer_free(b);
	portal_answer_free(&a);
}

static const struct portal_field_spec portal_decide_spec[] = {
	{ "req", RELSOCK_REQID_LEN, 0 }, { "csrf", 64, 0 }, { "comment", RELSOCK_TEXT_MAX, 1 }, { "action", 8, 0 },
};

static void
portal_decided_page(struct portal_req *r, const struct portal_answer *a, bool approve)
{
	struct evbuffer *b = evbuffer_new();

	html_begin(b, approve ? "承認" : "却下", approve ? "Approve" : "Refuse");
	portal_nav(r, b);
	html_raw(b, a->ok ? "<p class=\"ok\" id=\"result\">" : "<p class=\"err\" id=\"result\">");
	html_text(b, a->ok ? (approve ? "承認しました。" : "却下しました。") : "できませんでした。");
	html_raw(b, "<br><span class=\"en\">");
	html_text(b, a->status ? a->status : "the release service does not answer");
	html_raw(b, "</span></p>");
	html_end(b);
	portal_send(r, a->ok ? 200 : 409, b);
	evbuffer_free(b);
}

void
portal_page_decide(struct portal_req *r)
{
	struct portal_form form;
	struct portal_answer a;
	const char *err = NULL, *f[5];
	bool approve;

	if (!portal_need_session(r))
		return;
	if (portal_form_parse(r->body, r->body_len, portal_decide_spec, 4, &form, &err) < 0 ||
	    !form.value[0] || !form.value[3]) {
		portal_form_free(&form);
		portal_error_page(r, 400, "入力が正しくありません。", err ? err : "missing field");
		return;
	}
	if (!form.value[1] || !portal_csrf_equal(r->session->csrf, form.value[1])) {
		portal_event(r->p, "portal_decision", r, r->session->user, form.value[0], false, "CSRF token missing or wrong");
		portal_error_page(r, 403, "フォームの有効期限が切れています。", "CSRF check failed.");
		portal_form_free(&form);
		return;
	}
	for (char *c = form.value[2]; c && *c; c++)
		if (*c == '\n' || *c == '\r' || *c == '\t')
			*c = ' ';
	approve = strcmp(form.value[3], "approve") == 0;
	f[0] = approve ? "PAPPROVE" : "PREFUSE", f[1] = r->session->ticket, f[2] = r->session->bind;
	f[3] = form.value[0];
	f[4] = form.value[2] && *form.value[2] ? form.value[2] : (approve ? NULL : "-");
	if (portal_call(r->p->conf.socket, f, f[4] ? 5 : 4, &a) < 0)
		a.ok = false;
	portal_event(r->p, "portal_decision", r, r->session->user, form.value[0], a.ok, a.status);
	portal_decided_page(r, &a, approve);
	portal_answer_free(&a);
	portal_form_free(&form);
}

/* Counts by (day, reason), pending requests, the last releases. */
static void
portal_status_counts(struct evbuffer *b, const struct portal_answer *a)
{
	html_raw(b, "<h2>隔離件数（日別・理由別） <span class=\"en\">Quarantined, by day and reason</span></h2><table>"
	    "<tr><th>日付<br><span class=\"en\">Day</span></th><th>理由<br><span class=\"en\">Reason</span></th>"
	    "<th>件数<br><span class=\"en\">Count</span></th></tr>");
	for (size_t i = 0; i < a->n_recs; i++) {
		const char *day = portal_rec_get(&a->recs[i], "item_day"), *why = portal_rec_get(&a->recs[i], "item_reason");
		size_t count = 0;
		bool first = true;
		if (day == NULL)
			continue;
		for (size_t k = 0; k < a->n_recs; k++) {
			const char *d2 = portal_rec_get(&a->recs[k], "item_day"), *w2 = portal_rec_get(&a->recs[k], "item_reason");
			if (d2 && strcmp(d2, day) == 0 && strcmp(w2 ? w2 : "", why ? why : "") == 0) {
				first &= k >= i;
				count++;
			}
		}
		if (!first)
			continue;
		char num[24];
		snprintf(num, sizeof num, "%zu", count);
		html_raw(b, "<tr><td>");
		html_text(b, day);
		html_raw(b, "</td><td>");
		html_text(b, why ? why : "-");
		html_raw(b, "</td><td class=\"count\">");
		html_text(b, num);
		html_raw(b, "</td></tr>");
	}
	html_raw(b, "</table>\n");
}

static void
portal_status_requests(struct evbuffer *b, const struct portal_answer *a, const char *state, const char *ja,
    const char *en)
{
	html_raw(b, "<h2>");
	html_text(b, ja);
	html_raw(b, " <span class=\"en\">");
	html_text(b, en);
	html_raw(b, "</span></h2><table><tr><th>申請<br><span class=\"en\">Request</span></th><th>宛先<br>"
	    "<span class=\"en\">Recipient</span></th><th>状態<br><span class=\"en\">State</span></th><th>決定者<br>"
	    "<span class=\"en\">Decided by</span></th></tr>");
	for (size_t i = a->n_recs; i-- > 0; ) {
		const struct portal_rec *rq = &a->recs[i];
		const char *st = portal_rec_get(rq, "state");
		if (portal_rec_get(rq, "request") == NULL || st == NULL || strcmp(st, state) != 0)
			continue;
		html_raw(b, "<tr><td>");
		html_text(b, portal_rec_get(rq, "request"));
		html_raw(b, "</td><td>");
		html_text(b, portal_rec_get(rq, "rcpt"));
		html_raw(b, "</td><td>");
		portal_state_html(b, st);
		html_raw(b, "</td><td>");
		html_text(b, portal_rec_get(rq, "decided_by"));
		html_raw(b, "</td></tr>");
	}
	html_raw(b, "</table>\n");
}

void
portal_page_status(struct portal_req *r)
{
	struct portal_answer a;
	struct evbuffer *b;

	if (!portal_need_session(r))
		return;
	if (portal_status_call(r, &a) < 0) {
		portal_error_page(r, 503, "隔離サービスが応答しません。", a.status ? a.status : "no answer");
		portal_answer_free(&a);
		return;
	}
	b = evbuffer_new();
	html_begin(b, "隔離と申請の状況", "Quarantine and request status");
	portal_nav(r, b);
	portal_status_counts(b, &a);
	portal_status_requests(b, &a, "pending", "審査待ち", "Pending requests");
	portal_status_requests(b, &a, "released", "最近の送付", "Last releases");
	html_end(b);
	portal_send(r, 200, b);
	evbuffer_free(b);
	portal_answer_free(&a);
}

static const struct portal_field_spec portal_logout_spec[] = { { "csrf", 64, 0 } };

/*
 * The daemon ends the approver's tickets (PLOGOUT): forgetting the session here alone
 * would leave the ticket good until it expires for whoever holds this process later.
 * The session ends here whatever the daemon says; its refusal is in the event.
 */
static void
portal_logout_ticket(struct portal_req *r)
{
	const char *f[3] = { "PLOGOUT", r->session->ticket, r->session->bind };
	struct portal_answer a = { 0 };
	bool ok = portal_call(r->p->conf.socket, f, 3, &a) == 0 && a.ok;

	portal_event(r->p, "portal_logout", r, r->session->user, NULL, ok,
	    ok ? NULL : a.status ? a.status : "release daemon unreachable: its ticket lasts until it expires");
	portal_answer_free(&a);
}

void
portal_page_logout(struct portal_req *r)
{
	struct portal_form form;
	const char *err = NULL;

	if (!portal_need_session(r))
		return;
	if (portal_form_parse(r->body, r->body_len, portal_logout_spec, 1, &form, &err) < 0 || !form.value[0] ||
	    !portal_csrf_equal(r->session->csrf, form.value[0])) {
		portal_form_free(&form);
		portal_error_page(r, 403, "フォームの有効期限が切れています。", "CSRF check failed.");
		return;
	}
	portal_logout_ticket(r);
	portal_session_end(r->p, r->session);
	portal_set_cookie(r, "tgp_s", "0", 0);
	portal_form_free(&form);
	portal_redirect(r, "/");
}

/* qrel_portal.c -- the portal's requests: a recipient's view and request (by token), approvers' decisions, the status page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/json.h"
#include "lib/util.h"
#include "sanitizer/qrel_int.h"
#include "sanitizer/quarantine.h"

/*
 * Answers to the portal are "key TAB value" lines, records separated by an
 * empty line: the portal reads them without a JSON parser, and no value holds
 * a control character (they become spaces here).
 */
static void
qrel_kv(struct qrel_reply *rp, const char *key, const char *value)
{
	size_t kl = strlen(key), vl = value ? strlen(value) : 0;
	char *p;

	rp->raw = xrealloc(rp->raw, rp->raw_len + kl + vl + 3, 1);
	p = rp->raw + rp->raw_len;
	memcpy(p, key, kl);
	p[kl] = '\t';
	for (size_t i = 0; i < vl; i++)
		p[kl + 1 + i] = (unsigned char)value[i] < 0x20 || value[i] == 0x7f ? ' ' : value[i];
	p[kl + 1 + vl] = '\n';
	rp->raw_len += kl + vl + 2;
}

static void
qrel_kv_num(struct qrel_reply *rp, const char *key, long long v)
{
	char num[24];

	snprintf(num, sizeof num, "%lld", v);
	qrel_kv(rp, key, num);
}

static void
qrel_kv_end(struct qrel_reply *rp)
{
	rp->raw = xrealloc(rp->raw, rp->raw_len + 2, 1);
	rp->raw[rp->raw_len++] = '\n';
}

/* The metadata's per-attachment lines ("findings"), read with lib/json; the count, *out malloc'd. */
static size_t
qrel_findings(const struct quarantine_item *it, char ***out)
{
	struct json_value meta;
	struct json_error err;
	size_t n = 0;

	*out = NULL;
	if (json_parse(it->meta_json, strlen(it->meta_json), &meta, &err) == 0) {
		n = json_get_strings(&meta, "findings", out);
		json_free(&meta);
	}
	return n;
}

/* A mail's envelope recipient, or the user a file is for (its owner in the spool's inbox). */
static bool
qrel_is_recipient(const struct quarantine_item *it, const char *rcpt)
{
	if (it->kind && strcmp(it->kind, "file") == 0)
		return it->owner != NULL && strcmp(it->owner, rcpt) == 0;
	for (size_t i = 0; i < it->n_recipients; i++)
		if (strcasecmp(it->recipients[i], rcpt) == 0)
			return true;
	return false;
}

/* The token names an item and one of its recipients, and is neither forged nor expired. */
static int
qrel_token(struct qrel_daemon *d, const char *token, char qid[65], char rcpt[RELTOKEN_RCPT_MAX + 1],
    struct quarantine_item *it, const char **err)
{
	int64_t expiry;
	enum reltoken_result r;

	memset(it, 0, sizeof *it);
	if (!d->have_key)
		return *err = "no token_key configured", -1;
	r = reltoken_verify(d->key, token, (int64_t)time(NULL), qid, rcpt, &expiry);
	if (r != RELTOKEN_OK)
		return *err = reltoken_result_text(r), -1;
	if (quarantine_get(d->sc->quarantine_dir, qid, it) < 0)
		return *err = "the original is no longer in the quarantine", -1;
	if (!qrel_is_recipient(it, rcpt)) {
		quarantine_item_free(it);
		return *err = "not a recipient of this mail", -1;
	}
	return 0;
}

static void
qrel_portal_event(struct qrel_daemon *d, const char *event, const struct qrel_caller *who,
    const char *qid, const char *rcpt, const char *req, const char *err)
{
	struct jbuf ev = JBUF_INIT;

	qrel_event_begin(&ev, event, who);
	if (qid && qid[0])
		jb_str(&ev, "id", qid);
	if (rcpt && rcpt[0])
		jb_str(&ev, "recipient", rcpt);
	if (req)
		jb_str(&ev, "request", req);
	qrel_event_end(d, &ev, err == NULL, err);
}

/* What arrived and what was delivered instead: the metadata and the per-part lines, never the bytes. */
static void
qrel_info(struct qrel_daemon *d, const struct qrel_caller *who, const char *token, struct qrel_reply *rp)
{
	struct quarantine_item it;
	char qid[65] = "", rcpt[RELTOKEN_RCPT_MAX + 1] = "", **findings = NULL;
	const char *err = NULL;
	size_t n;

	if (qrel_token(d, token, qid, rcpt, &it, &err) < 0) {
		qrel_portal_event(d, "quarantine_view", who, qid, rcpt, NULL, err);
		qrel_reply_err(rp, "%s", err);
		return;
	}
	qrel_kv(rp, "id", it.id);
	qrel_kv(rp, "kind", it.kind);
	qrel_kv(rp, "recipient", rcpt);
	qrel_kv(rp, "subject", it.name);
	qrel_kv(rp, "sender", it.sender);
	qrel_kv(rp, "reason", it.reason);
	qrel_kv_num(rp, "time", it.time);
	qrel_kv_num(rp, "size", (long long)it.size);
	n = qrel_findings(&it, &findings);
	for (size_t i = 0; i < n; i++) {
		qrel_kv(rp, "part", findings[i]);
		free(findings[i]);
	}
	free(findings);
	qrel_kv_end(rp);
	qrel_portal_event(d, "quarantine_view", who, qid, rcpt, NULL, NULL);
	qrel_reply_ok(rp, "%s", it.id);
	quarantine_item_free(&it);
}

struct qrel_mine {
	const char *qid, *rcpt;
	struct qrel_reply *rp;
	int n, pending;
};

static void
qrel_request_kv(struct qrel_reply *rp, const struct qrel_request *r)
{
	qrel_kv(rp, "request", r->req);
	qrel_kv(rp, "id", r->qid);
	qrel_kv(rp, "state", r->state);
	qrel_kv(rp, "asked_by", r->asked_by);
	qrel_kv(rp, "rcpt", r->rcpt ? r->rcpt : r->dest_arg);
	qrel_kv(rp, "reason", r->reason);
	for (int i = 0; i < r->n_approvals; i++)
		qrel_kv(rp, "approver", r->approver_name[i]);
	qrel_kv(rp, "comment", r->comment);
	qrel_kv(rp, "decided_by", r->decided_by);
	qrel_kv_num(rp, "created", r->created);
	qrel_kv_num(rp, "decided", r->decided);
	qrel_kv_end(rp);
}

static void
qrel_mine_row(const struct qrel_request *r, void *arg)
{
	struct qrel_mine *m = arg;

	if (r->rcpt == NULL || strcmp(r->qid, m->qid) != 0 || strcasecmp(r->rcpt, m->rcpt) != 0)
		return;
	m->n++;
	m->pending += strcmp(r->state, "pending") == 0;
	if (m->rp)
		qrel_request_kv(m->rp, r);
}

static void
qrel_mine(struct qrel_daemon *d, const struct qrel_caller *who, const char *token, struct qrel_reply *rp)
{
	struct quarantine_item it;
	char qid[65] = "", rcpt[RELTOKEN_RCPT_MAX + 1] = "";
	const char *err = NULL;
	struct qrel_mine m = { qid, rcpt, rp, 0, 0 };

	if (qrel_token(d, token, qid, rcpt, &it, &err) < 0) {
		qrel_portal_event(d, "quarantine_view", who, qid, rcpt, NULL, err);
		qrel_reply_err(rp, "%s", err);
		return;
	}
	quarantine_item_free(&it);
	qrel_store_each(d->sc->requests_dir, qrel_mine_row, &m);
	qrel_reply_ok(rp, "%d request(s)", m.n);
}

static void
qrel_ask(struct qrel_daemon *d, const struct qrel_caller *who, const struct relsock_req *req,
    struct qrel_reply *rp)
{
	struct quarantine_item it;
	struct qrel_request r;
	char qid[65] = "", rcpt[RELTOKEN_RCPT_MAX + 1] = "", asked[300];
	const char *err = NULL;
	struct qrel_mine m = { qid, rcpt, NULL, 0, 0 };
	bool file;

	if (qrel_token(d, req->field[0], qid, rcpt, &it, &err) < 0) {
		qrel_portal_event(d, "quarantine_request", who, qid, rcpt, NULL, err);
		qrel_reply_err(rp, "%s", err);
		return;
	}
	file = it.kind && strcmp(it.kind, "file") == 0;
	quarantine_item_free(&it);
	if (file && d->sc->user_release_root == NULL) {
		err = "files are not released to users' directories here (no user_release_root): ask an admin";
		qrel_portal_event(d, "quarantine_request", who, qid, rcpt, NULL, err);
		qrel_reply_err(rp, "%s", err);
		return;
	}
	qrel_store_each(d->sc->requests_dir, qrel_mine_row, &m);
	if (m.pending > 0) {
		err = "a request of this recipient for this mail is already pending";
		qrel_portal_event(d, "quarantine_request", who, qid, rcpt, NULL, err);
		qrel_reply_err(rp, "%s", err);
		return;
	}
	snprintf(asked, sizeof asked, "%s %s", file ? "owner" : "recipient", rcpt);
	qrel_request_init(&r, qid, file ? QREL_DEST_USER : QREL_DEST_RCPT, rcpt, asked);
	qrel_set(&r.rcpt, rcpt);
	qrel_set(&r.reason, req->field[1]);
	err = qrel_store_save(d->sc->requests_dir, &r) < 0 ? "cannot save the request" : NULL;
	qrel_portal_event(d, "quarantine_request", who, qid, rcpt, r.req, err);
	if (err)
		qrel_reply_err(rp, "%s", err);
	else
		qrel_reply_ok(rp, "%s", r.req);
	qrel_request_free(&r);
}

/*
 * An approver's decision: the name is the one in the daemon's own ticket (qrel_login.c),
 * never one the portal states; the event has both the portal's uid and that name.
 */
static void
qrel_pdecide(struct qrel_daemon *d, const struct qrel_caller *who, const struct relsock_req *req,
    struct qrel_reply *rp)
{
	const char *event = req->verb == RELSOCK_PAPPROVE ? "quarantine_approve" : "quarantine_refuse";
	const char *comment = req->n_fields > 3 ? req->field[3] : NULL;
	char approver[RELTICKET_NAME_MAX + 1], key[RELTICKET_NAME_MAX + 16], name[RELTICKET_NAME_MAX + 16];
	struct qrel_request r;

	if (qrel_login_ticket(d, who, event, req->field[0], req->field[1], approver, rp) < 0)
		return;
	if (qrel_store_load(d->sc->requests_dir, req->field[2], &r) < 0) {
		qrel_reply_err(rp, "%s: no such request", req->field[2]);
		return;
	}
	if (r.rcpt == NULL) {   /* an admin's own release waits for an admin, never for a portal login */
		qrel_portal_event(d, event, who, r.qid, NULL, r.req, "the portal decides only recipients' requests");
		qrel_reply_err(rp, "request %s: the portal decides only recipients' requests", r.req);
		qrel_request_free(&r);
		return;
	}
	snprintf(key, sizeof key, "portal:%s", approver);
	snprintf(name, sizeof name, "%s (portal)", approver);
	if (req->verb == RELSOCK_PAPPROVE)
		qrel_admin_approve(d, &r, key, name, comment, who, rp);
	else
		qrel_admin_refuse(d, &r, name, comment, who, rp);
	jb_reset(&rp->body);
	qrel_request_free(&r);
}

static void
qrel_status_item(const struct quarantine_item *it, void *arg)
{
	struct qrel_reply *rp = arg;
	char day[16] = "-";
	time_t t = (time_t)it->time;
	struct tm tm;

	if (gmtime_r(&t, &tm))
		strftime(day, sizeof day, "%Y-%m-%d", &tm);
	qrel_kv(rp, "item_day", day);
	qrel_kv(rp, "item_reason", it->reason);
	qrel_kv_end(rp);
}

struct qrel_status {
	struct qrel_daemon *d;
	struct qrel_reply *rp;
};

/* For the approvers' queue: the item's subject, sender, recipients, reason and parts beside the request. */
static void
qrel_status_request(const struct qrel_request *r, void *arg)
{
	struct qrel_status *st = arg;
	struct quarantine_item it;
	char **findings = NULL, *all = NULL;
	size_t n, len = 0;
	FILE *f;

	qrel_request_kv(st->rp, r);
	st->rp->raw_len--;   /* the record goes on: drop its empty line */
	if (quarantine_get(st->d->sc->quarantine_dir, r->qid, &it) == 0) {
		qrel_kv(st->rp, "subject", it.name);
		qrel_kv(st->rp, "sender", it.sender);
		qrel_kv(st->rp, "item_reason", it.reason);
		if ((f = open_memstream(&all, &len)) != NULL) {
			for (size_t i = 0; i < it.n_recipients; i++)
				fprintf(f, "%s%s", i ? ", " : "", it.recipients[i]);
			fclose(f);
			qrel_kv(st->rp, "recipients", all);
			free(all);
		}
		n = qrel_findings(&it, &findings);
		for (size_t i = 0; i < n; i++) {
			qrel_kv(st->rp, "part", findings[i]);
			free(findings[i]);
		}
		free(findings);
		quarantine_item_free(&it);
	}
	qrel_kv_end(st->rp);
}

/* The status page's raw material: one record per item (day, reason) and per request. */
static void
qrel_status(struct qrel_daemon *d, const struct qrel_caller *who, const struct relsock_req *req,
    struct qrel_reply *rp)
{
	struct qrel_status st = { d, rp };
	char approver[RELTICKET_NAME_MAX + 1];
	int items, reqs;

	if (qrel_login_ticket(d, who, "quarantine_status", req->field[0], req->field[1], approver, rp) < 0)
		return;
	items = quarantine_list(d->sc->quarantine_dir, qrel_status_item, rp);
	reqs = qrel_store_each(d->sc->requests_dir, qrel_status_request, &st);

	{
		struct jbuf ev = JBUF_INIT;
		qrel_event_begin(&ev, "quarantine_status", who);
		jb_str(&ev, "approver", approver);
		qrel_event_end(d, &ev, true, NULL);
	}
	qrel_reply_ok(rp, "%d item(s) %d request(s)", items, reqs);
}

void
qrel_portal_handle(struct qrel_daemon *d, const struct qrel_caller *who,
    const struct relsock_req *req, struct qrel_reply *rp)
{
	switch (req->verb) {
	case RELSOCK_INFO: qrel_info(d, who, req->field[0], rp); break;
	case RELSOCK_MINE: qrel_mine(d, who, req->field[0], rp); break;
	case RELSOCK_ASK: qrel_ask(d, who, req, rp); break;
	case RELSOCK_PAPPROVE:
	case RELSOCK_PREFUSE: qrel_pdecide(d, who, req, rp); break;
	case RELSOCK_STATUS: qrel_status(d, who, req, rp); break;
	case RELSOCK_PLOGIN: qrel_login_handle(d, who, req, rp); break;
	case RELSOCK_PLOGOUT: qrel_login_plogout(d, who, req, rp); break;
	default: qrel_reply_err(rp, "not a portal request"); break;
	}
}

/* qrel_admin.c -- the release admins' requests: list, show, release (or ask for a second approval), approve, refuse. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/qrel_file.h"
#include "sanitizer/qrel_int.h"
#include "sanitizer/quarantine.h"

/* The list as the admin reads it: one row per item, oldest first. */
static void
qrel_item_row(const struct quarantine_item *it, void *arg)
{
	FILE *f = arg;
	char when[32] = "-";
	time_t t = (time_t)it->time;
	struct tm tm;

	if (it->time > 0 && localtime_r(&t, &tm))
		strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
	fprintf(f, "%-16.16s  %-16s  %-4s  %9llu  %-28.28s  %s\n", it->id, when, it->kind,
	    (unsigned long long)it->size, it->name ? it->name : "-", it->reason ? it->reason : "-");
}

static void
qrel_list(struct qrel_daemon *d, const struct qrel_caller *who, struct qrel_reply *rp)
{
	struct jbuf ev = JBUF_INIT;
	FILE *f = open_memstream(&rp->raw, &rp->raw_len);
	int n = -1;

	if (f != NULL) {
		fprintf(f, "%-16s  %-16s  %-4s  %9s  %-28s  %s\n", "ID", "TIME", "KIND", "SIZE", "NAME", "REASON");
		n = quarantine_list(d->sc->quarantine_dir, qrel_item_row, f);
		fclose(f);
	}
	qrel_event_begin(&ev, "quarantine_list", who);
	jb_int(&ev, "items", n);
	qrel_event_end(d, &ev, n >= 0, "cannot read the quarantine");
	if (n < 0)
		qrel_reply_err(rp, "cannot read the quarantine");
	else
		qrel_reply_ok(rp, "%d item(s)", n);
}

struct qrel_prefix {
	const char *prefix;
	char id[QUARANTINE_ID_LEN];
	int hits;
};

static void
qrel_match_prefix(const struct quarantine_item *it, void *arg)
{
	struct qrel_prefix *m = arg;

	if (strncmp(it->id, m->prefix, strlen(m->prefix)) == 0) {
		memcpy(m->id, it->id, QUARANTINE_ID_LEN);
		m->hits++;
	}
}

/* A whole ID, or a unique prefix of at least 8 digits (the parser checked the digits). */
static int
qrel_resolve(struct qrel_daemon *d, const char *arg, char id[QUARANTINE_ID_LEN], const char **err)
{
	struct qrel_prefix m = { arg, "", 0 };

	quarantine_list(d->sc->quarantine_dir, qrel_match_prefix, &m);
	if (m.hits != 1)
		return *err = m.hits ? "ambiguous ID" : "no such item", -1;
	memcpy(id, m.id, QUARANTINE_ID_LEN);
	return 0;
}

static void
qrel_show(struct qrel_daemon *d, const struct qrel_caller *who, const char *arg, struct qrel_reply *rp)
{
	struct quarantine_item it;
	struct jbuf ev = JBUF_INIT;
	char id[QUARANTINE_ID_LEN], path[4096];
	const char *err = NULL;
	uint8_t *report = NULL;
	size_t len = 0;

	if (qrel_resolve(d, arg, id, &err) == 0 && quarantine_get(d->sc->quarantine_dir, id, &it) < 0)
		err = "no such item";
	qrel_event_begin(&ev, "quarantine_show", who);
	jb_str(&ev, "id", err ? arg : id);
	qrel_event_end(d, &ev, err == NULL, err);
	if (err) {
		qrel_reply_err(rp, "%s: %s", arg, err);
		return;
	}
	snprintf(path, sizeof path, "%s/%s.report.json", d->sc->quarantine_dir, id);
	if (file_read_all(path, 16u << 20, &report, &len) < 0)
		report = NULL, len = 0;
	{
		FILE *f = open_memstream(&rp->raw, &rp->raw_len);
		if (f != NULL) {
			fprintf(f, "%s\n", it.meta_json);
			if (report)
				fprintf(f, "report: %.*s", (int)len, (const char *)report);
			fclose(f);
		}
	}
	free(report);
	qrel_reply_ok(rp, "%s", id);
	quarantine_item_free(&it);
}

/* The event and list key of dest_arg: a path, a mail recipient, or the user a file goes to. */
static const char *
qrel_dest_arg_key(enum qrel_dest dest)
{
	return dest == QREL_DEST_FILE ? "to" : dest == QREL_DEST_USER ? "user" : "rcpt";
}

void
qrel_request_json(struct jbuf *jb, const struct qrel_request *r)
{
	jb_obj_open(jb);
	jb_str(jb, "request", r->req);
	jb_str(jb, "id", r->qid);
	jb_str(jb, "dest", qrel_dest_name(r->dest));
	if (r->dest_arg)
		jb_str(jb, qrel_dest_arg_key(r->dest), r->dest_arg);
	if (r->written)
		jb_str(jb, "to", r->written);
	jb_str(jb, "asked_by", r->asked_by);
	if (r->reason)
		jb_str(jb, "reason", r->reason);
	jb_str(jb, "state", r->state);
	jb_arr_begin(jb, "approvers");
	for (int i = 0; i < r->n_approvals; i++)
		jb_str(jb, NULL, r->approver_name[i]);
	jb_arr_end(jb);
	if (r->comment)
		jb_str(jb, "comment", r->comment);
	if (r->decided_by)
		jb_str(jb, "decided_by", r->decided_by);
	jb_int(jb, "created", r->created);
	jb_int(jb, "decided", r->decided);
	jb_obj_end(jb);
}

/* A file item to its owner's own directory; the path it got is kept in the request. */
static int
qrel_execute_user(struct qrel_daemon *d, struct qrel_request *r, const char **err)
{
	struct quarantine_item it;
	uint8_t *data = NULL;
	size_t len = 0;
	char *written = NULL;
	int rc;

	if (quarantine_get(d->sc->quarantine_dir, r->qid, &it) < 0)
		return *err = "the original is no longer in the quarantine", -1;
	if (quarantine_read(d->sc->quarantine_dir, r->qid, &data, &len) < 0) {
		quarantine_item_free(&it);
		return *err = "cannot read the original", -1;
	}
	rc = qrel_file_to_user(d->sc->user_release_root, r->dest_arg, it.name, data, len, &written, err);
	free(data);
	quarantine_item_free(&it);
	if (rc == 0)
		qrel_set(&r->written, written);
	free(written);
	return rc;
}

/* Carries out an approved request. Returns 0, or -1 with *err. */
static int
qrel_execute(struct qrel_daemon *d, struct qrel_request *r, const char **err)
{
	const struct san_config *sc = d->sc;
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	switch (r->dest) {
	case QREL_DEST_RECIPIENTS:
		rc = quarantine_release_mail(sc->quarantine_dir, r->qid, sc->sendmail);
		break;
	case QREL_DEST_RCPT:
		rc = quarantine_release_mail_to(sc->quarantine_dir, r->qid, sc->sendmail, r->dest_arg);
		break;
	case QREL_DEST_USER:
		return qrel_execute_user(d, r, err);
	default:
		if (quarantine_read(sc->quarantine_dir, r->qid, &data, &len) < 0)
			return *err = "cannot read the original", -1;
		rc = qrel_file_write(sc->release_dir, r->dest_arg, data, len, err);
		free(data);
		return rc;
	}
	if (rc < 0)
		*err = "sendmail failed";
	return rc;
}

/* The release event: what, where, who asked, who approved, what became of it. */
static void
qrel_release_event(struct qrel_daemon *d, const char *event, const struct qrel_caller *who,
    const struct qrel_request *r, const char *error)
{
	struct jbuf ev = JBUF_INIT;
	struct quarantine_item it;

	qrel_event_begin(&ev, event, who);
	jb_str(&ev, "id", r->qid);
	jb_str(&ev, "request", r->req);
	if (quarantine_get(d->sc->quarantine_dir, r->qid, &it) == 0) {
		jb_str(&ev, "kind", it.kind);
		jb_str(&ev, "name", it.name);
		jb_str(&ev, "reason", it.reason);
		if (r->dest == QREL_DEST_RECIPIENTS && it.n_recipients) {
			jb_str(&ev, "sender", it.sender);
			jb_arr_begin(&ev, "recipients");
			for (size_t i = 0; i < it.n_recipients; i++)
				jb_str(&ev, NULL, it.recipients[i]);
			jb_arr_end(&ev);
		}
		quarantine_item_free(&it);
	}
	if (r->dest_arg)
		jb_str(&ev, qrel_dest_arg_key(r->dest), r->dest_arg);
	if (r->written)
		jb_str(&ev, "to", r->written);
	jb_str(&ev, "asked_by", r->asked_by);
	jb_arr_begin(&ev, "approvers");
	for (int i = 0; i < r->n_approvals; i++)
		jb_str(&ev, NULL, r->approver_name[i]);
	jb_arr_end(&ev);
	jb_uint(&ev, "approvals_needed", d->sc->release_approvals);
	jb_str(&ev, "state", r->state);
	if (r->comment)
		jb_str(&ev, "comment", r->comment);
	qrel_event_end(d, &ev, error == NULL, error);
}

void
qrel_admin_approve(struct qrel_daemon *d, struct qrel_request *r, const char *key,
    const char *name, const char *comment, const struct qrel_caller *who, struct qrel_reply *rp)
{
	const char *err = NULL;
	const char *event = r->n_approvals == 0 && r->rcpt == NULL ? "quarantine_release" : "quarantine_approve";

	if (strcmp(r->state, "pending") != 0)
		err = "the request is not pending";
	for (int i = 0; err == NULL && i < r->n_approvals; i++)
		if (strcmp(r->approver_key[i], key) == 0)
			err = "the same person cannot approve twice (two-person rule)";
	if (err) {
		qrel_release_event(d, event, who, r, err);
		qrel_reply_err(rp, "%s", err);
		return;
	}
	qrel_set(&r->approver_key[r->n_approvals], key);
	qrel_set(&r->approver_name[r->n_approvals++], name);
	if (comment)
		qrel_set(&r->comment, comment);
	if (r->n_approvals >= (int)d->sc->release_approvals) {
		qrel_set(&r->state, qrel_execute(d, r, &err) < 0 ? "failed" : "released");
		qrel_set(&r->decided_by, name);
		r->decided = (int64_t)time(NULL);
	}
	if (qrel_store_save(d->sc->requests_dir, r) < 0 && err == NULL)
		err = "cannot save the request";
	qrel_release_event(d, event, who, r, err);
	if (err)
		qrel_reply_err(rp, "request %s: %s", r->req, err);
	else if (strcmp(r->state, "released") == 0)
		qrel_reply_ok(rp, "released %s (request %s)", r->qid, r->req);
	else
		qrel_reply_ok(rp, "pending %s: request %s needs %u more approval(s) by another admin",
		    r->qid, r->req, d->sc->release_approvals - (unsigned)r->n_approvals);
	qrel_request_json(&rp->body, r);
	jb_cstr(&rp->body);
}

void
qrel_admin_refuse(struct qrel_daemon *d, struct qrel_request *r, const char *name,
    const char *comment, const struct qrel_caller *who, struct qrel_reply *rp)
{
	const char *err = strcmp(r->state, "pending") != 0 ? "the request is not pending" : NULL;

	if (err == NULL) {
		qrel_set(&r->state, "refused");
		qrel_set(&r->comment, comment);
		qrel_set(&r->decided_by, name);
		r->decided = (int64_t)time(NULL);
		if (qrel_store_save(d->sc->requests_dir, r) < 0)
			err = "cannot save the request";
		else if (r->rcpt && qrel_notify_refused(d, r) < 0)
			log_warnx("request %s: could not mail the refusal to %s", r->req, r->rcpt);
	}
	qrel_release_event(d, "quarantine_refuse", who, r, err);
	if (err)
		qrel_reply_err(rp, "request %s: %s", r->req, err);
	else
		qrel_reply_ok(rp, "refused request %s", r->req);
}

static void
qrel_release(struct qrel_daemon *d, const struct qrel_caller *who, const struct relsock_req *req,
    struct qrel_reply *rp)
{
	struct quarantine_item it;
	struct qrel_request r;
	char id[QUARANTINE_ID_LEN], key[32], name[128];
	const char *to = req->n_fields > 1 ? req->field[1] : NULL, *err = NULL;

	if (qrel_resolve(d, req->field[0], id, &err) < 0 || quarantine_get(d->sc->quarantine_dir, id, &it) < 0) {
		qrel_reply_err(rp, "%s: %s", req->field[0], err ? err : "no such item");
		return;
	}
	if (to == NULL && strcmp(it.kind, "mail") != 0)
		err = "release of a file needs --to PATH inside the release directory";
	else if (to && d->sc->release_dir == NULL)
		err = "no release_dir configured: --to is refused";
	else if (to)
		qrel_file_path_ok(d->sc->release_dir, to, &err);
	quarantine_item_free(&it);
	qrel_request_init(&r, id, to ? QREL_DEST_FILE : QREL_DEST_RECIPIENTS, to, NULL);
	snprintf(name, sizeof name, "%s (uid %u)", who->name, (unsigned)who->uid);
	snprintf(key, sizeof key, "uid:%u", (unsigned)who->uid);
	qrel_set(&r.asked_by, name);
	if (err) {
		qrel_set(&r.state, "refused");
		qrel_release_event(d, "quarantine_release", who, &r, err);
		qrel_reply_err(rp, "%s", err);
	} else {
		qrel_admin_approve(d, &r, key, name, NULL, who, rp);
	}
	qrel_request_free(&r);
}

static void
qrel_decide(struct qrel_daemon *d, const struct qrel_caller *who, const struct relsock_req *req,
    struct qrel_reply *rp)
{
	struct qrel_request r;
	char key[32], name[128];

	if (qrel_store_load(d->sc->requests_dir, req->field[0], &r) < 0) {
		qrel_reply_err(rp, "%s: no such request", req->field[0]);
		return;
	}
	snprintf(name, sizeof name, "%s (uid %u)", who->name, (unsigned)who->uid);
	snprintf(key, sizeof key, "uid:%u", (unsigned)who->uid);
	if (req->verb == RELSOCK_APPROVE)
		qrel_admin_approve(d, &r, key, name, req->n_fields > 1 ? req->field[1] : NULL, who, rp);
	else
		qrel_admin_refuse(d, &r, name, req->field[1], who, rp);
	qrel_request_free(&r);
}

static void
qrel_request_row(const struct qrel_request *r, void *arg)
{
	qrel_request_json(arg, r);
}

static void
qrel_requests(struct qrel_daemon *d, const struct qrel_caller *who, struct qrel_reply *rp)
{
	struct jbuf ev = JBUF_INIT;
	int n;

	jb_arr_begin(&rp->body, NULL);
	n = qrel_store_each(d->sc->requests_dir, qrel_request_row, &rp->body);
	jb_arr_end(&rp->body);
	jb_cstr(&rp->body);
	qrel_event_begin(&ev, "quarantine_requests", who);
	jb_int(&ev, "requests", n);
	qrel_event_end(d, &ev, n >= 0, "cannot read the requests");
	if (n < 0)
		qrel_reply_err(rp, "cannot read the requests");
	else
		qrel_reply_ok(rp, "%d request(s)", n);
}

void
qrel_admin_handle(struct qrel_daemon *d, const struct qrel_caller *who,
    const struct relsock_req *req, struct qrel_reply *rp)
{
	switch (req->verb) {
	case RELSOCK_LIST: qrel_list(d, who, rp); break;
	case RELSOCK_SHOW: qrel_show(d, who, req->field[0], rp); break;
	case RELSOCK_RELEASE: qrel_release(d, who, req, rp); break;
	case RELSOCK_APPROVE:
	case RELSOCK_REFUSE: qrel_decide(d, who, req, rp); break;
	case RELSOCK_REQUESTS: qrel_requests(d, who, rp); break;
	case RELSOCK_UNLOCK: qrel_login_unlock(d, who, req->field[0], rp); break;
	case RELSOCK_LOGOUT: qrel_login_logout(d, who, req->field[0], rp); break;
	default: qrel_reply_err(rp, "not an admin request"); break;
	}
}

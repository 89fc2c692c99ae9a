/* qrel_store.c -- release requests as small key=value files, one per request, in the daemon's own directory. */
#include "sanitizer/qrel_store.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "lib/log.h"
#include "lib/util.h"

#define QREL_FILE_MAX (64u << 10)

static const char *const qrel_dest_names[] = { "recipients", "rcpt", "file", "user" };

const char *
qrel_dest_name(enum qrel_dest dest)
{
	return qrel_dest_names[dest];
}

void
qrel_set(char **field, const char *value)
{
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

void
qrel_request_init(struct qrel_request *r, const char *qid, enum qrel_dest dest,
    const char *dest_arg, const char *asked_by)
{
	uint8_t rnd[8];

	memset(r, 0, sizeof *r);
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		fatal("getrandom");
	hex_encode(rnd, sizeof rnd, r->req);
	str_copy(r->qid, qid, sizeof r->qid);
	r->dest = dest;
	qrel_set(&r->dest_arg, dest_arg);
	qrel_set(&r->asked_by, asked_by);
	qrel_set(&r->state, "pending");
	r->created = (int64_t)time(NULL);
}

void
qrel_request_free(struct qrel_request *r)
{
	free(r->dest_arg);
	free(r->asked_by);
	free(r->rcpt);
	free(r->reason);
	free(r->state);
	for (int i = 0; i < QREL_APPROVERS_MAX; i++) {
		free(r->approver_key[i]);
		free(r->approver_name[i]);
	}
	free(r->comment);
	free(r->decided_by);
	free(r->written);
	memset(r, 0, sizeof *r);
}

static void
qrel_line(FILE *f, const char *key, const char *value)
{
	if (value)
		fprintf(f, "%s=%s\n", key, value);
}

int
qrel_store_save(const char *dir, const struct qrel_request *r)
{
	char path[4096], *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc;

	if (f == NULL)
		return -1;
	qrel_line(f, "req", r->req);
	qrel_line(f, "qid", r->qid);
	qrel_line(f, "dest", qrel_dest_name(r->dest));
	qrel_line(f, "dest_arg", r->dest_arg);
	qrel_line(f, "asked_by", r->asked_by);
	qrel_line(f, "rcpt", r->rcpt);
	qrel_line(f, "reason", r->reason);
	qrel_line(f, "state", r->state);
	for (int i = 0; i < r->n_approvals; i++) {
		qrel_line(f, "approver_key", r->approver_key[i]);
		qrel_line(f, "approver_name", r->approver_name[i]);
	}
	qrel_line(f, "comment", r->comment);
	qrel_line(f, "decided_by", r->decided_by);
	qrel_line(f, "written", r->written);
	fprintf(f, "created=%lld\ndecided=%lld\n", (long long)r->created, (long long)r->decided);
	if (fclose(f) != 0) {
		free(text);
		return -1;
	}
	snprintf(path, sizeof path, "%s/%s", dir, r->req);
	rc = dir_make_all(dir, 0700) < 0 ? -1 : file_write_atomic(path, text, len, 0600);
	free(text);
	return rc;
}

static void
qrel_assign(struct qrel_request *r, const char *key, const char *v)
{
	long val;

	if (strcmp(key, "dest") == 0)
		r->dest = strcmp(v, "rcpt") == 0 ? QREL_DEST_RCPT : strcmp(v, "file") == 0 ?
		    QREL_DEST_FILE : strcmp(v, "user") == 0 ? QREL_DEST_USER : QREL_DEST_RECIPIENTS;
	else if (strcmp(key, "written") == 0)
		qrel_set(&r->written, v);
	else if (strcmp(key, "qid") == 0)
		str_copy(r->qid, v, sizeof r->qid);
	else if (strcmp(key, "dest_arg") == 0)
		qrel_set(&r->dest_arg, v);
	else if (strcmp(key, "asked_by") == 0)
		qrel_set(&r->asked_by, v);
	else if (strcmp(key, "rcpt") == 0)
		qrel_set(&r->rcpt, v);
	else if (strcmp(key, "reason") == 0)
		qrel_set(&r->reason, v);
	else if (strcmp(key, "state") == 0)
		qrel_set(&r->state, v);
	else if (strcmp(key, "approver_key") == 0 && r->n_approvals < QREL_APPROVERS_MAX)
		qrel_set(&r->approver_key[r->n_approvals], v);
	else if (strcmp(key, "approver_name") == 0 && r->n_approvals < QREL_APPROVERS_MAX)
		qrel_set(&r->approver_name[r->n_approvals++], v);
	else if (strcmp(key, "comment") == 0)
		qrel_set(&r->comment, v);
	else if (strcmp(key, "decided_by") == 0)
		qrel_set(&r->decided_by, v);
	else if (strcmp(key, "created") == 0 && parse_long(v, 0, LONG_MAX, &val) == 0)
		r->created = val;
	else if (strcmp(key, "decided") == 0 && parse_long(v, 0, LONG_MAX, &val) == 0)
		r->decided = val;
}

static bool
qrel_req_valid(const char *req)
{
	return strlen(req) == QREL_REQ_LEN - 1 && strspn(req, "0123456789abcdef") == QREL_REQ_LEN - 1;
}

int
qrel_store_load(const char *dir, const char *req, struct qrel_request *r)
{
	char path[4096];
	uint8_t *text = NULL;
	size_t len = 0;

	memset(r, 0, sizeof *r);
	if (!qrel_req_valid(req)) {
		errno = ENOENT;
		return -1;
	}
	snprintf(path, sizeof path, "%s/%s", dir, req);
	if (file_read_all(path, QREL_FILE_MAX, &text, &len) < 0)
		return -1;
	str_copy(r->req, req, sizeof r->req);
	for (char *line = (char *)text, *end = line + len; line < end; ) {
		char *nl = memchr(line, '\n', (size_t)(end - line)), *eq;
		if (nl == NULL)
			break;
		*nl = '\0';
		if ((eq = strchr(line, '=')) != NULL) {
			*eq = '\0';
			qrel_assign(r, line, eq + 1);
		}
		line = nl + 1;
	}
	free(text);
	if (r->state == NULL)
		qrel_set(&r->state, "pending");
	return 0;
}

static int
qrel_created_cmp(const void *a, const void *b)
{
	const struct qrel_request *x = a, *y = b;

	return x->created < y->created ? -1 : x->created > y->created;
}

int
qrel_store_each(const char *dir, void (*fn)(const struct qrel_request *, void *), void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct qrel_request *all = NULL;
	size_t n = 0;

	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)) != NULL) {
		if (!qrel_req_valid(e->d_name))
			continue;
		all = xrealloc(all, n + 1, sizeof *all);
		if (qrel_store_load(dir, e->d_name, &all[n]) == 0)
			n++;
	}
	closedir(d);
	if (n > 1)
		qsort(all, n, sizeof *all, qrel_created_cmp);
	for (size_t i = 0; i < n; i++) {
		fn(&all[i], arg);
		qrel_request_free(&all[i]);
	}
	free(all);
	return (int)n;
}

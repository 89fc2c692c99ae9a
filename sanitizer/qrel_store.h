/* qrel_store.h -- release requests kept by tiergate-quarantined: who asked, for what, who approved, what became of it. */
#ifndef TIERGATE_QREL_STORE_H
#define TIERGATE_QREL_STORE_H

#include <stdint.h>

#define QREL_REQ_LEN 17      /* 16 hex + NUL */
#define QREL_APPROVERS_MAX 2

/* QREL_DEST_USER: a file item to its owner's directory below user_release_root (dest_arg: the login name). */
enum qrel_dest { QREL_DEST_RECIPIENTS, QREL_DEST_RCPT, QREL_DEST_FILE, QREL_DEST_USER };

/*
 * One file per request in requests_dir (root only), "key=value" lines; every
 * value was checked by relsock_proto.c or comes from the kernel, so none holds
 * a newline. A request is "pending" until it has enough approvals (then
 * "released" or "failed") or is "refused".
 */
struct qrel_request {
	char req[QREL_REQ_LEN];
	char qid[65];
	enum qrel_dest dest;
	char *dest_arg;              /* recipient address or path; NULL for QREL_DEST_RECIPIENTS */
	char *asked_by;              /* "alice (uid 1000)" or "recipient taro@city.example" */
	char *rcpt;                  /* recipient who asked through the portal, or NULL */
	char *reason;                /* why they ask (portal), or NULL */
	char *state;                 /* pending, released, failed, refused */
	char *approver_key[QREL_APPROVERS_MAX];   /* "uid:1000" / "portal:hanako": who is distinct */
	char *approver_name[QREL_APPROVERS_MAX];  /* as shown in events and pages */
	int n_approvals;
	char *comment;               /* the approver's or refuser's comment, or NULL */
	char *decided_by;            /* who refused or gave the last approval, or NULL */
	char *written;               /* QREL_DEST_USER: the path the original was written to, or NULL */
	int64_t created, decided;
};

/* A fresh request with a random ID. Strings are copied. */
void qrel_request_init(struct qrel_request *r, const char *qid, enum qrel_dest dest,
    const char *dest_arg, const char *asked_by);
void qrel_request_free(struct qrel_request *r);
void qrel_set(char **field, const char *value);
/* Writes (atomically, 0600). Returns 0 or -1. */
int qrel_store_save(const char *dir, const struct qrel_request *r);
/* Loads request req (16 hex). Returns 0, or -1 (errno ENOENT when unknown). */
int qrel_store_load(const char *dir, const char *req, struct qrel_request *r);
/* Calls fn for every request, oldest first. Returns the count or -1. */
int qrel_store_each(const char *dir, void (*fn)(const struct qrel_request *, void *), void *arg);
const char *qrel_dest_name(enum qrel_dest dest);

#endif

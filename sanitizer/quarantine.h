/* quarantine.h -- content-addressed store of originals (SHA-256), with metadata, retention and release. */
#ifndef TIERGATE_QUARANTINE_H
#define TIERGATE_QUARANTINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Layout: DIR/<id> holds the original bytes, DIR/<id>.json its metadata
 * (written last, atomically: an item without .json is incomplete and is
 * ignored and later expired). id = lower-case hex SHA-256 of the original,
 * so the same bytes quarantined twice are stored once (the metadata of the
 * latest put wins; "count" says how often it was seen).
 */
#define QUARANTINE_ID_LEN 65   /* 64 hex + NUL */

struct quarantine_meta {
	const char *kind;            /* "file" or "mail" */
	const char *name;            /* original file name or mail subject; may be NULL */
	const char *declared_mime;   /* may be NULL */
	const char *detected_mime;   /* may be NULL */
	const char *reason;          /* why it is here */
	const char *source;          /* "spool", "cli", "milter", a host, ...; may be NULL */
	const char *const *findings; /* may be NULL */
	size_t n_findings;
	/* mail: envelope sender ("" for the null sender) and recipients; file: recipients[0], when
	 * given, is the login name of the user it is for (the inbox file's owner), stored as "owner" */
	const char *sender;
	const char *const *recipients;
	size_t n_recipients;
	/* Optional JSON object text (e.g. the sanitizer report) stored as "report". */
	const char *report_json;
};

/* A loaded item (quarantine_get). Strings are owned by the struct. */
struct quarantine_item {
	char id[QUARANTINE_ID_LEN];
	char *kind, *name, *declared_mime, *detected_mime, *reason, *source, *sender;
	char *owner;          /* file items: the user it is for (may be NULL) */
	char **recipients;
	size_t n_recipients;
	uint64_t size;
	int64_t time;         /* unix seconds of the last put */
	char *meta_json;      /* the whole metadata file, for `show` */
};

/* Creates dir (0700) when missing. Returns 0 or -1 (errno). */
int quarantine_open(const char *dir);
/* Stores data and meta. id receives the ID. Returns 0 or -1 (logged). */
int quarantine_put(const char *dir, const uint8_t *data, size_t len,
    const struct quarantine_meta *meta, char id[QUARANTINE_ID_LEN]);
/* True for 64 lower-case hex digits: IDs from the command line are checked before use. */
bool quarantine_id_valid(const char *id);
/* Loads the metadata of id. Returns 0, or -1 (errno ENOENT when unknown). */
int quarantine_get(const char *dir, const char *id, struct quarantine_item *item);
void quarantine_item_free(struct quarantine_item *item);
/* Reads the original bytes (caller frees). */
int quarantine_read(const char *dir, const char *id, uint8_t **data, size_t *len);
/* Calls fn for every complete item, oldest first. Returns the count or -1. */
int quarantine_list(const char *dir, void (*fn)(const struct quarantine_item *, void *), void *arg);
/* Removes items older than days (by put time) and stale incomplete files. Returns count removed. */
int quarantine_expire(const char *dir, unsigned days, int64_t now);
/* Release of a file item: writes the original to path atomically (0600). */
int quarantine_release_file(const char *dir, const char *id, const char *path);
/*
 * Release of a mail item: runs `sendmail -i -f SENDER -- RECIPIENTS < original`
 * (no shell). Returns 0 when sendmail exited 0.
 */
int quarantine_release_mail(const char *dir, const char *id, const char *sendmail);
/* The same to one recipient, who must be among the item's recipients (EINVAL otherwise). */
int quarantine_release_mail_to(const char *dir, const char *id, const char *sendmail, const char *rcpt);
/* Deletes an item (after release, or by the admin). */
int quarantine_remove(const char *dir, const char *id);

#endif

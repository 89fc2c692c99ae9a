/* mail_int.h -- what the mail files share inside the mail part (not for other parts). */
#ifndef TIERGATE_MAIL_INT_H
#define TIERGATE_MAIL_INT_H

#include <gmime/gmime.h>

#include "sanitizer/mail/mail.h"
#include "sanitizer/mail/mime_buf.h"

struct mail_ctx {
	struct san_ctx *san;
	struct mail_config config;
	bool have_link_key;          /* token_key and portal_url set: notices carry request links */
	uint8_t link_key[32];
	struct mail_hooks hooks;
};

/* One message (or attached message) being rebuilt. */
struct mail_build {
	struct mail_ctx *mc;
	struct mail_report *rep;     /* shared by the message and the messages inside it */
	unsigned depth;
	unsigned *parts_seen;        /* shared count against max_parts */
	char boundary[48];
	struct mbuf body;            /* the text the recipient reads, UTF-8 */
	struct mbuf parts;           /* rendered attachment parts, each starting "--boundary\n" */
	bool have_body;
	bool internal_error;         /* -> the whole message is retried later */
	char *never_reason;          /* set -> quarantined, notice only (encrypted, ...) */
};

/* mime_walk.c: visits the GMime tree of a message. */
void mime_walk(struct mail_build *b, GMimeObject *obj);
/* Raw value of the first header `name` of obj (as written, may be folded), or NULL. */
const char *mime_header_raw(GMimeObject *obj, const char *name);

/* mail_part.c: leaves. */
void mail_part_text(struct mail_build *b, GMimeObject *obj, const char *media);
void mail_part_html(struct mail_build *b, GMimeObject *obj, bool as_body);
void mail_part_attachment(struct mail_build *b, GMimeObject *obj, const char *media);
/* Records a part that is left out on purpose (a signature), with its name and size. */
void mail_part_removed(struct mail_build *b, GMimeObject *obj, const char *media, const char *reason);
/* Decodes the content of a leaf per its Content-Transfer-Encoding; false if the encoding was broken. */
bool mail_part_content(GMimeObject *obj, struct mbuf *out);
/* Best-effort text of bytes that were meant to be MIME but are not (no boundary found). */
void mail_part_broken_text(struct mail_build *b, const char *bytes, size_t len);
/* Sanitizes bytes as one attachment and appends the result (or records the removal). */
void mail_part_sanitize(struct mail_build *b, const uint8_t *data, size_t len, const char *name,
    const char *media, const char *note);
struct mail_part_report *mail_part_record(struct mail_build *b, const char *name, const char *media,
    const char *action, const char *reason, size_t size_in);

/* mail_part.c: san_buffer, or the broker's when the rebuild is sandboxed. */
int mail_part_san(struct mail_build *b, const uint8_t *data, size_t len, const char *name,
    const char *media, struct san_result *r);

/* mail.c: an attached message, rebuilt the same way one level deeper. */
void mail_nested(struct mail_build *b, const uint8_t *msg, size_t len, const char *name);

/* notice.c: the notice part's text (UTF-8) for the report. */
void notice_write(struct mbuf *out, const struct mail_report *rep, enum mail_notice_lang lang);
/* The whole text when nothing could be delivered (encrypted, unparsable). */
void notice_write_quarantined(struct mbuf *out, const struct mail_report *rep,
    enum mail_notice_lang lang);

#endif

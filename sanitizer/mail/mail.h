/* mail.h -- mail 無害化: one hostile RFC 5322 message in, a rebuilt safe message and a report out. */
#ifndef TIERGATE_MAIL_H
#define TIERGATE_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/event.h"
#include "sanitizer/mail/mime_buf.h"
#include "sanitizer/sanitize.h"

/*
 * The mail part, file by file:
 *   mail.c          this API: header split, quarantine, assembly of the rebuilt message
 *   mime_walk.c     which MIME part is the text, an attachment, a signature, sealed
 *   mail_part.c     one leaf: transfer decoding, charset, uuencode, san_buffer, notes
 *   mime_codec.c    base64 (tolerant: GMime 3.2.13 stops at '='), QP, uuencode
 *   mime_words.c    RFC 2047 words and RFC 2231 parameters, read and written
 *   notice.c        the notice part (日本語 / English)
 *   mail_cli.c      tiergate-sanitize --mail
 *   milter*.c       tiergate-milter: Postfix glue, message holding, per-message worker
 * GMime parses the structure only; every header value, parameter and
 * transfer encoding is decoded by our code from GMime's raw bytes.
 *
 * The rebuilt message keeps every header byte for byte except the
 * top-level Content-* and MIME-Version lines (which describe the old body)
 * and any X-Tiergate-Sanitized a sender forged; it adds new content
 * headers and X-Tiergate-Sanitized. The body is multipart/mixed: the text
 * (UTF-8, base64), a notice part (Japanese and English), then the
 * sanitized attachments. The original always goes to the quarantine.
 *
 *	struct mail_ctx *mc = mail_ctx_new(san_ctx, &mail_config);
 *	struct mail_result r;
 *	if (mail_sanitize(mc, bytes, len, &envelope, &r) < 0) -> tempfail, try later
 *	... r.out (r.body_at: where the body starts), r.content_headers, r.report ...
 *	mail_result_free(&r);
 */

enum mail_notice_lang { MAIL_NOTICE_JA_EN, MAIL_NOTICE_JA, MAIL_NOTICE_EN };

struct mail_config {
	unsigned max_depth;           /* message/rfc822 nesting that is still opened (3) */
	unsigned max_parts;           /* MIME parts looked at per message (500) */
	size_t max_message_bytes;     /* larger: quarantined, notice only (50 MB) */
	size_t max_output_bytes;      /* rebuilt message cap (100 MB) */
	enum mail_notice_lang notice_lang;
	bool quarantine_originals;    /* keep every original (true); false only for benches */
};
void mail_config_defaults(struct mail_config *mc);

/* What became of one part of the original (attachments, bodies, signatures). */
struct mail_part_report {
	char *name;            /* decoded file name (UTF-8) or NULL */
	char *declared_mime;   /* Content-Type media type */
	char *detected_mime;   /* libmagic's, when the sanitizer saw it */
	const char *action;    /* flattened|text|reencoded|archive|blocked|removed|body|message */
	char *reason;          /* why (blocked/removed), or a note */
	char *out_name;        /* name of the delivered replacement, NULL when none */
	size_t size_in, size_out;
	unsigned depth;        /* 0 = the message itself, 1 = inside an attached message, ... */
};

enum mail_verdict {
	MAIL_SANITIZED,      /* rebuilt: text, notice, sanitized attachments */
	MAIL_QUARANTINED,    /* never sanitizable (encrypted, too big, unparsable): notice only */
};

struct mail_report {
	enum mail_verdict verdict;
	char *reason;              /* for MAIL_QUARANTINED, or NULL */
	char *subject;             /* decoded, UTF-8 */
	char *message_id;          /* as in the header, trimmed */
	char quarantine_id[SAN_SHA256_HEX];   /* "" when not quarantined */
	bool html_converted, signed_mail, encrypted, broken_mime;
	struct mail_part_report *parts;
	size_t n_parts, cap_parts;
	size_t size_in, size_out;
	uint64_t usec;
	/* request links of the release portal, one per envelope recipient ("rcpt", "url" pairs) */
	char **link_rcpt, **link_url;
	size_t n_links;
};

struct mail_result {
	char *out;                 /* whole rebuilt message */
	size_t out_len;
	size_t body_at;            /* offset of the body in out */
	/* the headers tiergate added at the top, "Name: value" with '\n' folding, in order */
	char **added_headers;
	size_t n_added;
	struct mail_report report;
};

/* Envelope of a message (milter) or NULLs (offline). */
struct mail_envelope {
	const char *sender;
	const char *const *recipients;
	size_t n_recipients;
	const char *source;        /* "milter", "cli" */
};

struct mail_ctx;
/* Calls g_mime_init once per process. san is borrowed, not owned. */
struct mail_ctx *mail_ctx_new(struct san_ctx *san, const struct mail_config *config);

/*
 * Where the rebuild's two side effects go when it runs in the sandboxed
 * parser (milter_parse.c), which can neither fork a file worker nor write
 * the quarantine: each is asked of the broker. Unset: done in this process.
 */
struct mail_hooks {
	int (*sanitize)(void *arg, const uint8_t *data, size_t len, const char *name,
	    const char *media, struct san_result *res);
	/* also fills rep's request links: the link key stays with the broker, never in the parser */
	int (*quarantine)(void *arg, struct mail_report *rep, char id[SAN_SHA256_HEX]);
	void *arg;
};
void mail_ctx_set_hooks(struct mail_ctx *mc, const struct mail_hooks *hooks);
/* The parser forgets the link key before its sandbox: links are the broker's to make. */
void mail_ctx_drop_link_key(struct mail_ctx *mc);
/* One line per attachment for the quarantine's metadata (the portal shows them); *n lines, caller frees. */
char **mail_part_lines(const struct mail_report *rep, size_t *n);
/* "RCPT\tURL\n" per envelope recipient for quarantine id qid; NULL without a key. Caller frees. */
char *mail_links_text(const struct mail_ctx *mc, const char *const *rcpts, size_t n, const char *qid);
/* Sets rep's links from such text (each URL must start with the configured portal_url). */
void mail_links_from_text(const struct mail_ctx *mc, const char *text, struct mail_report *rep);
void mail_ctx_free(struct mail_ctx *mc);

/*
 * Rebuilds msg. Returns 0 with a result (sanitized or quarantined-with-notice),
 * or -1 on an internal error (memory, sanitizer worker could not start,
 * quarantine not writable): nothing is to be delivered, try again later.
 */
int mail_sanitize(struct mail_ctx *mc, const uint8_t *msg, size_t len,
    const struct mail_envelope *env, struct mail_result *res);
/*
 * The fallback for a message whose rebuild keeps failing (worker crash,
 * timeout): no MIME parsing at all; the original is quarantined with reason
 * and the recipient gets the kept headers and the notice.
 */
int mail_quarantine_notice(struct mail_ctx *mc, const uint8_t *msg, size_t len,
    const struct mail_envelope *env, const char *reason, struct mail_result *res);
void mail_result_free(struct mail_result *res);

/* Appends the report as JSON members of the object being built (for events and the CLI). */
void mail_report_json(const struct mail_report *rep, struct jbuf *jb);
/* Converts a message's line ends to CRLF (for SMTP / milter bodies). */
void mail_crlf(const char *in, size_t len, struct mbuf *out);

#endif

/* milter_msg.h -- one message in flight in tiergate-milter: envelope, headers to replace, bytes (memory, then a temp file). */
#ifndef TIERGATE_MILTER_MSG_H
#define TIERGATE_MILTER_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "sanitizer/mail/mime_buf.h"

/* A top-level header tiergate replaces: its name and which occurrence (1-based) it is. */
struct milter_hdr_ref {
	char *name;
	int index;
};

struct milter_msg {
	char *sender;
	char **recipients;
	size_t n_recipients;
	bool selected;               /* this message is sanitized */
	bool too_big;
	struct mbuf mem;             /* the message as received, while small */
	int spill_fd;                /* -1, or an unlinked temp file holding everything */
	size_t size;
	struct milter_hdr_ref *replace;  /* Content-*, MIME-Version, X-Tiergate-Sanitized */
	size_t n_replace;
};

void milter_msg_init(struct milter_msg *m);
void milter_msg_free(struct milter_msg *m);
int milter_msg_add_rcpt(struct milter_msg *m, const char *rcpt);
/* Appends a header line as received; notes it when tiergate replaces it. */
int milter_msg_header(struct milter_msg *m, const char *name, const char *value,
    size_t max_bytes, size_t spill_bytes, const char *spool_dir);
/* Appends message bytes (end of headers, body chunks); past max_bytes sets too_big. */
int milter_msg_append(struct milter_msg *m, const void *data, size_t len, size_t max_bytes,
    size_t spill_bytes, const char *spool_dir);
/* A readable fd positioned at the start of the whole message (caller closes). */
int milter_msg_fd(struct milter_msg *m);

#endif

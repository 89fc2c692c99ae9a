/* milter_check.h -- the daemon's own check of a rebuilt message before it replaces a body (milter_check.c). */
#ifndef TIERGATE_MILTER_CHECK_H
#define TIERGATE_MILTER_CHECK_H

#include <stddef.h>

#define MILTER_CHECK_LINE_MAX 998   /* RFC 5322 2.1.1, without the CRLF */
#define MILTER_CHECK_DEPTH_MAX 24   /* attached messages inside attached messages */

/*
 * 0 when msg has exactly the shape the rebuild emits: the last n_added header
 * fields are MIME-Version, Content-Type, Content-Transfer-Encoding and
 * X-Tiergate-Sanitized; the body is base64 text, or multipart/mixed with
 * exactly the declared boundary, each part only Content-Type (text/plain,
 * text/csv, application/pdf, image/png, image/jpeg, application/zip,
 * message/rfc822 -- checked the same way, one level down),
 * Content-Disposition and Content-Transfer-Encoding, base64 content;
 * every line of it at most 998 bytes. Else -1 with the reason in why.
 */
int milter_check_rebuilt(const char *msg, size_t len, size_t body_at, size_t n_added, char *why,
    size_t why_size);

#endif

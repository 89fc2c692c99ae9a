/* mime_words.h -- header text done by hand: RFC 2047 encoded-words, RFC 2231 parameters, and writing both. */
#ifndef TIERGATE_MIME_WORDS_H
#define TIERGATE_MIME_WORDS_H

#include <stdbool.h>
#include <stddef.h>

#include "sanitizer/mail/mime_buf.h"

/*
 * Decodes a raw (possibly folded) header value to one line of UTF-8.
 * Adjacent encoded-words in one charset are joined as bytes before the
 * charset conversion: a multi-byte character (or an ISO-2022-JP escape)
 * may be split across words, and each word's base64 ends its own padding
 * (GMime 3.2.13 drops the second word after a padded first one). Unencoded
 * 8-bit text is detected (raw Shift_JIS or UTF-8 from careless clients).
 * Returns a malloc'd string (never NULL except on allocation failure).
 */
char *mime_words_decode(const char *raw, size_t len);

/*
 * Finds parameter name (case-insensitive) in a raw Content-Type or
 * Content-Disposition value and returns it decoded to UTF-8 (malloc'd), or
 * NULL when absent. Handles quoted strings, RFC 2231 (name*=charset'lang'%XX,
 * continuations name*0*= name*1= ..., whose raw bytes are joined before
 * decoding so ISO-2022-JP escapes split between sections survive), and
 * RFC 2047 words inside the value (Outlook's filename="=?ISO-2022-JP?B?...?=").
 */
char *mime_param_get(const char *raw, size_t len, const char *name);

/* The media type of a raw Content-Type value, lower-cased ("text/plain"), malloc'd, or NULL. */
char *mime_media_type(const char *raw, size_t len);

/*
 * Writes `; name*=UTF-8''%E5...` (split into name*0*, name*1* ... sections
 * when long) followed by `; name="=?UTF-8?B?...?="` for clients that only read
 * RFC 2047 in parameters (older Outlook, Becky!). Lines are folded.
 */
void mime_param_write(struct mbuf *out, const char *name, const char *utf8);
/* Writes utf8 as RFC 2047 B-words of at most 75 bytes, split on character boundaries, folded. */
void mime_words_encode(struct mbuf *out, const char *utf8);

/* Charset label as iconv knows it (IANA/WHATWG aliases glibc lacks, e.g. UNICODE-1-1-UTF-7). */
const char *mail_charset_alias(const char *label);

#endif

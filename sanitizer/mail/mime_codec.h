/* mime_codec.h -- transfer encodings done by hand: base64 (tolerant), quoted-printable, uuencode. */
#ifndef TIERGATE_MIME_CODEC_H
#define TIERGATE_MIME_CODEC_H

#include <stdbool.h>
#include <stddef.h>

#include "sanitizer/mail/mime_buf.h"

/*
 * Base64 as mail really carries it. GMime 3.2.13 stops at the first '='
 * ("Vkk=UlVTISE=" gives "VI"), so an attacker could hide bytes from a
 * scanner that trusts it; here '=' ends a quantum and decoding goes on.
 * Whitespace is skipped; other stray bytes are skipped and counted so the
 * caller can call the part broken.
 */
struct mime_b64_stats {
	size_t invalid;      /* bytes outside the alphabet, whitespace and '=' */
	size_t dangling;     /* a quantum of one sextet (cannot make a byte) */
};
void mime_b64_decode(const char *in, size_t len, struct mbuf *out, struct mime_b64_stats *stats);
/* Encodes with CRLF-free '\n' line breaks every 76 columns (0 = no breaks). */
void mime_b64_encode(const void *in, size_t len, size_t line_len, struct mbuf *out);

/* Quoted-printable; Q-encoding of RFC 2047 when header_q ('_' is a space). */
void mime_qp_decode(const char *in, size_t len, bool header_q, struct mbuf *out);

/*
 * uuencoded files inside a text body ("begin 644 name" ... "end").
 * mime_uu_find returns the offset of the next "begin" line at or after from,
 * or -1; mime_uu_decode decodes the block there, sets *name (malloc'd, raw
 * bytes of the name) and *end to the offset after the "end" line.
 * Returns 0, or -1 when the block is not well formed.
 */
long mime_uu_find(const char *text, size_t len, size_t from);
int mime_uu_decode(const char *text, size_t len, size_t at, struct mbuf *out, char **name,
    size_t *end);

#endif

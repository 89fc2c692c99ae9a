/* mime_codec.c -- transfer encodings done by hand: base64 (tolerant), quoted-printable, uuencode. */
#include "sanitizer/mail/mime_codec.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static const char mime_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Emits the bytes of a partial quantum (2 or 3 sextets) and starts a new one. */
static void
mime_b64_flush(uint32_t acc, int count, struct mbuf *out, struct mime_b64_stats *stats)
{
	uint8_t bytes[2];

	if (count == 1)
		stats->dangling++;
	if (count < 2)
		return;
	acc <<= 6 * (4 - count);
	bytes[0] = (uint8_t)(acc >> 16);
	bytes[1] = (uint8_t)(acc >> 8);
	mbuf_add(out, bytes, (size_t)count - 1);
}

void
mime_b64_decode(const char *in, size_t len, struct mbuf *out, struct mime_b64_stats *stats)
{
	struct mime_b64_stats local = { 0, 0 };
	uint32_t acc = 0;
	int count = 0;

	if (stats == NULL)
		stats = &local;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int v = base64_value(c);
		if (v < 0) {
			if (c == '=') {
				mime_b64_flush(acc, count, out, stats);
				acc = 0;
				count = 0;
			} else if (!isspace(c)) {
				stats->invalid++;
			}
			continue;
		}
		acc = (acc << 6) | (uint32_t)v;
		if (++count == 4) {
			uint8_t bytes[3] = { (uint8_t)(acc >> 16), (uint8_t)(acc >> 8), (uint8_t)acc };
			mbuf_add(out, bytes, 3);
			acc = 0;
			count = 0;
		}
	}
	mime_b64_flush(acc, count, out, stats);
}

void
mime_b64_encode(const void *in, size_t len, size_t line_len, struct mbuf *out)
{
	const uint8_t *p = in;
	size_t col = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t acc = (uint32_t)p[i] << 16;
		char quad[4];
		if (i + 1 < len)
			acc |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			acc |= p[i + 2];
		quad[0] = mime_b64_alphabet[(acc >> 18) & 63];
		quad[1] = mime_b64_alphabet[(acc >> 12) & 63];
		quad[2] = i + 1 < len ? mime_b64_alphabet[(acc >> 6) & 63] : '=';
		quad[3] = i + 2 < len ? mime_b64_alphabet[acc & 63] : '=';
		if (line_len && col + 4 > line_len) {
			mbuf_addc(out, '\n');
			col = 0;
		}
		mbuf_add(out, quad, 4);
		col += 4;
	}
	if (line_len && col)
		mbuf_addc(out, '\n');
}

static int
mime_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Length of a soft line break ("=" + optional spaces + LF or CRLF) at in[i], or 0. */
static size_t
mime_qp_soft_break(const char *in, size_t len, size_t i)
{
	size_t j = i + 1;

	while (j < len && (in[j] == ' ' || in[j] == '\t'))
		j++;
	if (j < len && in[j] == '\r')
		j++;
	if (j < len && in[j] == '\n')
		return j + 1 - i;
	return j >= len ? j - i : 0;
}

void
mime_qp_decode(const char *in, size_t len, bool header_q, struct mbuf *out)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '_' && header_q) {
			mbuf_addc(out, ' ');
		} else if (c == '=' && i + 2 < len && mime_hex_value((unsigned char)in[i + 1]) >= 0 &&
		    mime_hex_value((unsigned char)in[i + 2]) >= 0) {
			mbuf_addc(out, (char)(mime_hex_value((unsigned char)in[i + 1]) * 16 +
			    mime_hex_value((unsigned char)in[i + 2])));
			i += 2;
		} else if (c == '=' && !header_q && mime_qp_soft_break(in, len, i) > 0) {
			i += mime_qp_soft_break(in, len, i) - 1;
		} else {
			mbuf_addc(out, (char)c);
		}
	}
}

static bool
mime_uu_is_begin(const char *line, size_t len)
{
	size_t i = 6;

	if (len < 10 || memcmp(line, "begin ", 6) != 0)
		return false;
	while (i < len && line[i] >= '0' && line[i] <= '7')
		i++;
	return i > 6 && i < len && line[i] == ' ';
}

long
mime_uu_find(const char *text, size_t len, size_t from)
{
	size_t i = from;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;
		if ((i == 0 || text[i - 1] == '\n') && mime_uu_is_begin(text + i, end - i))
			return (long)i;
		i = end + 1;
	}
	return -1;
}

/* Decodes one uuencoded line; returns -1 when it is not one. */
static int
mime_uu_line(const char *line, size_t len, struct mbuf *out)
{
	size_t count, i = 1;

	if (len == 0)
		return -1;
	count = (size_t)((line[0] - ' ') & 63);
	while (count > 0) {
		uint8_t v[4] = { 0, 0, 0, 0 };
		uint8_t bytes[3];
		for (int k = 0; k < 4; k++, i++)
			v[k] = i < len ? (uint8_t)((line[i] - ' ') & 63) : 0;
		bytes[0] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		bytes[1] = (uint8_t)(v[1] << 4 | v[2] >> 2);
		bytes[2] = (uint8_t)(v[2] << 6 | v[3]);
		mbuf_add(out, bytes, count < 3 ? count : 3);
		count = count < 3 ? 0 : count - 3;
	}
	return 0;
}

int
mime_uu_decode(const char *text, size_t len, size_t at, struct mbuf *out, char **name,
    size_t *end)
{
	const char *nl = at < len ? memchr(text + at, '\n', len - at) : NULL;
	const char *space;
	size_t i, name_at;

	if (nl == NULL || !mime_uu_is_begin(text + at, (size_t)(nl - text) - at))
		return -1;
	space = memchr(text + at + 6, ' ', (size_t)(nl - text) - at - 6);
	name_at = (size_t)(space - text) + 1;
	*name = strndup(text + name_at, (size_t)(nl - text) - name_at);
	if (*name && (*name)[0] && (*name)[strlen(*name) - 1] == '\r')
		(*name)[strlen(*name) - 1] = '\0';
	for (i = (size_t)(nl - text) + 1; i < len;) {
		const char *lnl = memchr(text + i, '\n', len - i);
		size_t lend = lnl ? (size_t)(lnl - text) : len, llen = lend - i;
		if (llen && text[lend - 1] == '\r')
			llen--;
		if (llen == 3 && memcmp(text + i, "end", 3) == 0) {
			*end = lnl ? lend + 1 : len;
			return 0;
		}
		mime_uu_line(text + i, llen, out);
		i = lend + 1;
	}
	free(*name);
	*name = NULL;
	return -1;
}

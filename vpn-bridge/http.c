/* http.c -- the CONNECT request parser; the only code that reads the client's HTTP bytes. */
#include "vpn-bridge/http.h"

#include <string.h>
#include <strings.h>

#include "lib/util.h"

long
http_base64_decode(const char *in, size_t len, uint8_t *out, size_t outsize)
{
	size_t used = 0;
	uint32_t acc = 0;
	int bits = 0, pad = 0;

	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = base64_value((unsigned char)in[i]);
		if (in[i] == '=' && i >= len - 2) {
			pad++;
			continue;
		}
		if (v < 0 || pad > 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (used == outsize)
				return -1;
			out[used++] = (uint8_t)(acc >> bits);
		}
	}
	return (long)used;
}

/* Finds the end of the head ("\r\n\r\n"); 0 when not there yet. */
static size_t
http_head_end(const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);

	return end ? (size_t)(end - buf) + 4 : 0;
}

static bool
http_host_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '-';
}

/* "host:port" or "[v6]:port" from the request target. */
static int
http_parse_target(const char *t, size_t len, struct http_connect *out)
{
	const char *colon = NULL, *host = t;
	size_t hostlen;
	char port[8];
	unsigned long value;

	for (size_t i = len; i > 0; i--)
		if (t[i - 1] == ':') {
			colon = t + i - 1;
			break;
		}
	if (colon == NULL || (size_t)(t + len - colon - 1) >= sizeof port || colon == t)
		return -1;
	memcpy(port, colon + 1, (size_t)(t + len - colon - 1));
	port[t + len - colon - 1] = '\0';
	if (parse_ulong(port, 65535, &value) < 0 || value == 0 || port[0] == '+')
		return -1;
	out->port = (uint16_t)value;
	hostlen = (size_t)(colon - t);
	if (t[0] == '[') {
		if (hostlen < 3 || colon[-1] != ']')
			return -1;
		host++;
		hostlen -= 2;
	}
	if (hostlen == 0 || hostlen >= sizeof out->host)
		return -1;
	memcpy(out->host, host, hostlen);
	out->host[hostlen] = '\0';
	out->host_is_ip = addr_parse(out->host, &out->addr) == 0;
	if (t[0] == '[' && !out->host_is_ip)
		return -1;
	for (size_t i = 0; !out->host_is_ip && i < hostlen; i++)
		if (!http_host_char_ok(out->host[i]))
			return -1;
	return 0;
}

static enum http_result
http_parse_request_line(const char *line, size_t len, struct http_connect *out)
{
	static const char method[] = "CONNECT ";
	static const char v11[] = " HTTP/1.1", v10[] = " HTTP/1.0";
	size_t vlen = sizeof v11 - 1;

	if (len < sizeof method - 1 || memcmp(line, method, sizeof method - 1) != 0) {
		out->why = "method is not CONNECT";
		return HTTP_NOT_CONNECT;
	}
	if (len < sizeof method - 1 + vlen + 1 ||
	    (memcmp(line + len - vlen, v11, vlen) != 0 && memcmp(line + len - vlen, v10, vlen) != 0)) {
		out->why = "bad HTTP version";
		return HTTP_BAD_REQUEST;
	}
	line += sizeof method - 1;
	len -= sizeof method - 1 + vlen;
	if (memchr(line, ' ', len) != NULL || http_parse_target(line, len, out) < 0) {
		out->why = "bad CONNECT target (want HOST:PORT)";
		return HTTP_BAD_REQUEST;
	}
	return HTTP_OK;
}

/* "Basic BASE64(user:secret)" */
static int
http_parse_basic(const char *value, size_t len, struct http_connect *out)
{
	uint8_t decoded[HTTP_USER_MAX + HTTP_SECRET_MAX + 1];
	const uint8_t *colon;
	long n;
	size_t ulen, slen;

	if (len < 6 || strncasecmp(value, "Basic ", 6) != 0)
		return -1;
	value += 6;
	len -= 6;
	while (len > 0 && *value == ' ') {
		value++;
		len--;
	}
	n = http_base64_decode(value, len, decoded, sizeof decoded);
	if (n <= 0 || memchr(decoded, '\0', (size_t)n) != NULL)
		return -1;
	colon = memchr(decoded, ':', (size_t)n);
	if (colon == NULL)
		return -1;
	ulen = (size_t)(colon - decoded);
	slen = (size_t)n - ulen - 1;
	if (ulen == 0 || ulen >= sizeof out->user || slen >= sizeof out->secret)
		return -1;
	memcpy(out->user, decoded, ulen);
	out->user[ulen] = '\0';
	memcpy(out->secret, colon + 1, slen);
	out->secret[slen] = '\0';
	out->has_auth = true;
	return 0;
}

static enum http_result
http_parse_header(const char *line, size_t len, struct http_connect *out)
{
	static const char auth[] = "Proxy-Authorization";
	const char *colon = memchr(line, ':', len);
	const char *value;
	size_t namelen, vlen;

	if (colon == NULL || colon == line || line[0] == ' ' || line[0] == '\t') {
		out->why = "malformed header line";
		return HTTP_BAD_REQUEST;
	}
	namelen = (size_t)(colon - line);
	for (size_t i = 0; i < namelen; i++)
		if (line[i] <= ' ' || line[i] > '~') {
			out->why = "bad header name";
			return HTTP_BAD_REQUEST;
		}
	value = colon + 1;
	vlen = len - namelen - 1;
	while (vlen > 0 && (*value == ' ' || *value == '\t')) {
		value++;
		vlen--;
	}
	while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
		vlen--;
	if (namelen == sizeof auth - 1 && strncasecmp(line, auth, namelen) == 0) {
		if (out->has_auth) {
			out->why = "more than one Proxy-Authorization";
			return HTTP_BAD_REQUEST;
		}
		if (http_parse_basic(value, vlen, out) < 0)
			out->has_auth = false;   /* unreadable credentials are treated as none: 407 */
	}
	return HTTP_OK;
}

enum http_result
http_parse_connect(const char *buf, size_t len, struct http_connect *out)
{
	size_t head, pos = 0, lines = 0;
	enum http_result r;

	memset(out, 0, sizeof *out);
	head = http_head_end(buf, len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD);
	if (head == 0) {
		out->why = len >= HTTP_MAX_HEAD ? "request head too large" : "incomplete";
		return len >= HTTP_MAX_HEAD ? HTTP_TOO_LARGE : HTTP_INCOMPLETE;
	}
	if (memchr(buf, '\0', head) != NULL) {
		out->why = "NUL byte in request head";
		return HTTP_BAD_REQUEST;
	}
	out->head_len = head;
	while (pos < head - 2) {
		const char *line = buf + pos;
		const char *crlf = memmem(line, head - pos, "\r\n", 2);
		size_t linelen = (size_t)(crlf - line);
		if (memchr(line, '\n', linelen) != NULL || memchr(line, '\r', linelen) != NULL) {
			out->why = "bare CR or LF";
			return HTTP_BAD_REQUEST;
		}
		if (lines == 0)
			r = http_parse_request_line(line, linelen, out);
		else if (lines > HTTP_MAX_HEADERS) {
			out->why = "too many headers";
			r = HTTP_TOO_LARGE;
		} else
			r = http_parse_header(line, linelen, out);
		if (r != HTTP_OK)
			return r;
		lines++;
		pos += linelen + 2;
	}
	return HTTP_OK;
}

const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "Connection established";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 405: return "Method Not Allowed";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}

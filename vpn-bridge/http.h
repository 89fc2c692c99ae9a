/* http.h -- the CONNECT request parser: request line, headers, Proxy-Authorization (hostile bytes). */
#ifndef TIERGATE_BRIDGE_HTTP_H
#define TIERGATE_BRIDGE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

#define HTTP_MAX_HEAD 8192       /* request line + headers; larger is refused */
#define HTTP_MAX_HEADERS 64
#define HTTP_HOST_MAX 256
#define HTTP_USER_MAX 64
#define HTTP_SECRET_MAX 256

enum http_result {
	HTTP_OK = 0,
	HTTP_INCOMPLETE,         /* no blank line yet: read more */
	HTTP_BAD_REQUEST,        /* 400 */
	HTTP_NOT_CONNECT,        /* 405: only CONNECT is served */
	HTTP_TOO_LARGE,          /* 431 */
};

struct http_connect {
	char host[HTTP_HOST_MAX];    /* as the client wrote it, brackets removed */
	uint16_t port;
	bool host_is_ip;
	struct addr addr;            /* when host_is_ip */
	bool has_auth;               /* a Basic Proxy-Authorization was present and decoded */
	char user[HTTP_USER_MAX];
	char secret[HTTP_SECRET_MAX];   /* password+OTP, or "token:HEX" */
	size_t head_len;             /* bytes of the request head, blank line included */
	const char *why;             /* reason for a non-OK result */
};

/*
 * Parses the head of a CONNECT request in buf[0..len). Only CRLF line ends,
 * no obsolete line folding, no NUL bytes, at most HTTP_MAX_HEADERS headers.
 * Does not allocate. Bytes after the head belong to the tunnel.
 */
enum http_result http_parse_connect(const char *buf, size_t len, struct http_connect *out);
/* Standard base64 (with padding) into out; returns the decoded length or -1. */
long http_base64_decode(const char *in, size_t len, uint8_t *out, size_t outsize);
/* The status line text for a code ("Proxy Authentication Required"). */
const char *http_reason(int status);

#endif

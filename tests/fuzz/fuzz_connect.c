/* fuzz_connect.c -- libFuzzer target for the bridge's CONNECT request and header parser. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vpn-bridge/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_connect req;
	uint8_t b64[64];
	enum http_result r = http_parse_connect((const char *)data, size, &req);

	/* What the relay relies on after HTTP_OK: terminated strings, a head inside the input. */
	if (r == HTTP_OK) {
		if (req.head_len > size || strlen(req.host) >= sizeof req.host || req.port == 0 ||
		    strlen(req.user) >= sizeof req.user || strlen(req.secret) >= sizeof req.secret)
			__builtin_trap();
		if (req.has_auth && req.user[0] == '\0')
			__builtin_trap();
	}
	http_base64_decode((const char *)data, size, b64, sizeof b64);
	return 0;
}

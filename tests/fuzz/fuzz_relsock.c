/* fuzz_relsock.c -- libFuzzer target for the release socket's request parser and approver tickets (relsock_proto.c, relticket.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sanitizer/relsock_proto.h"
#include "sanitizer/relticket.h"

/* A ticket field is checked as the daemon checks it: a key nobody knows never yields OK. */
static void
fuzz_relsock_ticket(const struct relsock_req *req)
{
	static const uint8_t key[RELTICKET_KEY_LEN] = { 1, 2, 3 };
	char name[RELTICKET_NAME_MAX + 1];
	enum relticket_result r;
	int64_t expiry = -1;

	if (req->verb != RELSOCK_PAPPROVE && req->verb != RELSOCK_PREFUSE && req->verb != RELSOCK_STATUS &&
	    req->verb != RELSOCK_PLOGOUT)
		return;
	r = relticket_verify(key, req->field[0], req->field[1], 0, name);
	if (r == RELTICKET_OK || strlen(name) > RELTICKET_NAME_MAX || (r == RELTICKET_MALFORMED && name[0]))
		abort();
	/* the expiry the revocation check reads: only from a well-formed ticket, never negative */
	if (relticket_expiry(req->field[0], &expiry) == 0 ? expiry < 0 : r != RELTICKET_MALFORMED)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct relsock_req req;
	const char *err = NULL;
	char *buf = malloc(size ? size : 1);
	size_t sum = 0;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	if (relsock_parse(buf, size, &req, &err) == 0) {
		/* every field is a NUL-terminated string inside buf, without tab or control bytes */
		for (int i = 0; i < req.n_fields; i++) {
			size_t n = strlen(req.field[i]);
			if (req.field[i] < buf || req.field[i] + n >= buf + size || n == 0)
				abort();
			for (size_t j = 0; j < n; j++)
				if ((unsigned char)req.field[i][j] < 0x20 || req.field[i][j] == 0x7f)
					abort();
			sum += n;
		}
		if (strlen(relsock_verb_name(req.verb)) == 0 || req.n_fields > RELSOCK_FIELDS_MAX)
			abort();
		fuzz_relsock_ticket(&req);
	} else if (err == NULL) {
		abort();
	}
	free(buf);
	return (int)(sum & 0);
}

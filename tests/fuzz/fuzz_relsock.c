/* fuzz_relsock.c -- libFuzzer target for the release socket's request parser (sanitizer/relsock_proto.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sanitizer/relsock_proto.h"

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
	} else if (err == NULL) {
		abort();
	}
	free(buf);
	return (int)(sum & 0);
}

/* fuzz_lo_chan.c -- libFuzzer target: both readers of the conversion channel (lo_chan.c): a hostile worker's requests, the converter's answer. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/util.h"
#include "sanitizer/lo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The bytes as they would arrive on a socket whose other end then closed. */
static void
fuzz_lo_chan_socket(const uint8_t *data, size_t size, int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	if (fd_write_all(sv[1], data, size) < 0)
		abort();
	shutdown(sv[1], SHUT_WR);
}

static void
fuzz_lo_chan_requests(const uint8_t *data, size_t size)
{
	const struct lo_chan_limits lim = { 4096, 8192, 3, 6000 };
	struct lo_chan_count count = { 0, 0 };
	int sv[2], fd;
	const char *ext;
	uint8_t *req;
	uint32_t len;
	int got;

	fuzz_lo_chan_socket(data, size, sv);
	fd = sv[0];
	while ((got = lo_chan_next(fd, &lim, &count, &ext, &req, &len)) == 1) {
		if (ext == NULL || len > lim.max_input || count.served > lim.max_requests || count.bytes > lim.max_bytes)
			abort();   /* an accepted request stays within every limit */
		free(req);
	}
	if (got == 0 && req != NULL)
		abort();
	close(fd);
	close(sv[1]);
}

static void
fuzz_lo_chan_reply(const uint8_t *data, size_t size)
{
	struct lo_output out;
	char why[64];
	int sv[2], fd, rc;

	fuzz_lo_chan_socket(data, size, sv);
	fd = sv[0];
	rc = lo_chan_request(fd, "docx", (const uint8_t *)"x", 1, 4096, &out, why, sizeof why);

	if (rc == 0 && (out.pdf == NULL || out.text == NULL || out.pdf_len + out.text_len > 4096))
		abort();   /* an accepted answer holds both parts, within the bound */
	if (rc != 0 && (out.pdf != NULL || out.text != NULL))
		abort();
	for (const char *p = why; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			abort();   /* the reason shown to people is printable */
	lo_output_free(&out);
	close(fd);
	close(sv[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;   /* more than a socket buffer would block the writer: the format is small */
	fuzz_lo_chan_requests(data, size);
	fuzz_lo_chan_reply(data, size);
	return 0;
}

/* ev_append.c -- test helper: appends N events to an event file through lib's sink, one to three lines per write. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/event.h"
#include "lib/util.h"

#define EV_APPEND_BATCH 4096

int
main(int argc, char **argv)
{
	struct jbuf one = JBUF_INIT;
	char batch[EV_APPEND_BATCH];
	struct ev_sink *sink;
	unsigned long n, i = 0;

	if (argc != 3 || parse_ulong(argv[1], 1000000, &n) < 0) {
		fprintf(stderr, "usage: ev_append N FILE\n");
		return 2;
	}
	if ((sink = ev_sink_open(argv[2])) == NULL) {
		perror(argv[2]);
		return 1;
	}
	while (i < n) {
		size_t len = 0;
		/* as the gateway does: several lines in one write */
		for (unsigned k = 0; k <= i % 3 && i < n; k++, i++) {
			ev_begin(&one, "test", 0);
			jb_uint(&one, "pid", (uint64_t)getpid());
			jb_uint(&one, "seq", i);
			ev_end(&one);
			memcpy(batch + len, one.buf, one.len);
			len += one.len;
		}
		struct jbuf view = { batch, len, len, 0, 0, false };
		if (ev_emit(sink, &view) < 0) {
			perror("ev_emit");
			return 1;
		}
	}
	ev_sink_close(sink);
	jb_free(&one);
	return 0;
}

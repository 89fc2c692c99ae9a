/* milter_worker.h -- daemon side: each message is rebuilt in a fresh process; a crash or hang there costs a tempfail, never the daemon. */
#ifndef TIERGATE_MILTER_WORKER_H
#define TIERGATE_MILTER_WORKER_H

#include <stddef.h>

struct milter_worker_job {
	const char *self;            /* path of the tiergate-milter binary */
	const char *config;          /* site file, or NULL */
	const char *sender;
	char *const *recipients;
	size_t n_recipients;
	unsigned timeout;            /* seconds; the worker is killed past it */
	int in_fd;                   /* the message */
	const char *quarantine_only; /* non-NULL: do not parse, quarantine with this reason + notice */
	unsigned slot;               /* rebuild slot (< max_workers): the parser's uid is base + slot */
};

struct milter_worker_out {
	char *msg;                   /* rebuilt message (CRLF) */
	size_t len;
	size_t body_at;
	size_t n_added;              /* the last n_added header fields are the new ones */
};

/*
 * Runs the job: 0 with *out filled; MILTER_WORKER_CRASHED when the worker died
 * by a signal or ran past the timeout (the message itself may be the cause);
 * -1 for other failures (could not start, internal error such as a full disk).
 */
#define MILTER_ZYGOTE_UNAVAILABLE (-1)   /* milter_zygote_run only: spawn instead */
#define MILTER_WORKER_CRASHED (-2)
#define MILTER_WORKER_FAILED (-3)        /* milter_zygote_run only: an internal error, tempfail */
int milter_worker_run(const struct milter_worker_job *job, struct milter_worker_out *out);
void milter_worker_out_free(struct milter_worker_out *out);

#endif

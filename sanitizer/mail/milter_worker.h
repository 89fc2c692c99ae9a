/* milter_worker.h -- each message is rebuilt in a fresh process: a crash or hang there costs a tempfail, never the daemon. */
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

/* `tiergate-milter --worker ...`: stdin the message, fd 1 the rebuilt one, fd 3 "BODY_AT N_ADDED\n". */
int milter_worker_main(int argc, char **argv);

/* Shared with milter_zygote.c. */
struct mail_ctx;
struct ev_sink;
struct mail_envelope;
int milter_worker_read_fd(int fd, char **data, size_t *len);
/* Rebuilds the message on in_fd: the result to out_fd, "BODY_AT N_ADDED\n" to rep_fd. */
int milter_worker_sanitize(struct mail_ctx *mail, struct ev_sink *sink,
    const struct mail_envelope *env, const char *quarantine_only, int in_fd, int out_fd, int rep_fd);

/*
 * milter_zygote.c: a warm, single-threaded process (config read, libmagic and
 * GMime loaded) that forks one child per message, so each message still gets
 * a fresh process without paying exec and start-up each time.
 */
int milter_zygote_start(const char *self, const char *config);
/* 0 done, MILTER_WORKER_CRASHED, MILTER_WORKER_FAILED, or MILTER_ZYGOTE_UNAVAILABLE. */
int milter_zygote_run(const struct milter_worker_job *job, int out_fd, int rep_fd);
int milter_zygote_main(int argc, char **argv);

#endif

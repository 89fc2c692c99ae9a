/* milter_zygote.h -- the warm process that forks one child per message (milter_zygote.c). */
#ifndef TIERGATE_MILTER_ZYGOTE_H
#define TIERGATE_MILTER_ZYGOTE_H

#include "sanitizer/mail/milter_worker.h"

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

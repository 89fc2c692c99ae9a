/* milter_child.h -- the message process: one message rebuilt in a process of its own (see milter_worker.h). */
#ifndef TIERGATE_MILTER_CHILD_H
#define TIERGATE_MILTER_CHILD_H

struct mail_ctx;
struct ev_sink;
struct mail_envelope;

/* `tiergate-milter --worker ...`: stdin the message, fd 1 the rebuilt one, fd 3 "BODY_AT N_ADDED\n". */
int milter_child_main(int argc, char **argv);
/* Rebuilds the message on in_fd: the result to out_fd, "BODY_AT N_ADDED\n" to rep_fd. */
int milter_child_sanitize(struct mail_ctx *mail, struct ev_sink *sink,
    const struct mail_envelope *env, const char *quarantine_only, int in_fd, int out_fd, int rep_fd);

#endif

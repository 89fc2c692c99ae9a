/* milter_child.h -- the message process: one message rebuilt in a process of its own (see milter_worker.h). */
#ifndef TIERGATE_MILTER_CHILD_H
#define TIERGATE_MILTER_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mail_ctx;
struct mail_config;
struct ev_sink;
struct mail_envelope;
struct san_ctx;
struct san_config;

/* What the message process holds: the rebuild's context, the file sanitizer, the event sink. */
struct milter_child_ctx {
	struct mail_ctx *mail;
	struct san_ctx *san;
	const struct san_config *sc;
	const struct mail_config *mail_cfg;
	struct ev_sink *sink;
	unsigned uid_base;           /* the parser runs as uid_base + slot (root only; 0: no change) */
	char **report_json;          /* non-NULL: gets the parser's report, a checked JSON object (the CLI) */
};

#define MILTER_CHILD_CRASHED (-2)       /* the parser died by a signal (seccomp: SIGSYS) */
#define MILTER_CHILD_EXIT_CRASHED 76    /* --worker's exit status for it */

/* `tiergate-milter --worker ...`: stdin the message, fd 1 the rebuilt one, fd 3 "BODY_AT N_ADDED\n". */
int milter_child_main(int argc, char **argv);
/*
 * Rebuilds the message on in_fd in a forked, sandboxed parser (milter_parse.c),
 * this process serving as its broker: the result to out_fd, "BODY_AT N_ADDED\n"
 * to rep_fd. 0, -1, or MILTER_CHILD_CRASHED.
 */
int milter_child_sanitize(const struct milter_child_ctx *cx, const struct mail_envelope *env,
    const char *quarantine_only, unsigned slot, int in_fd, int out_fd, int rep_fd);
/*
 * Office attachments as page images: forks the converter service (sanitizer/lo_service.c) and
 * gives san its socket, before any parser is forked (the parser closes it in its sandbox).
 * warm: LibreOffice starts now (the zygote), else at the first office document (a spawned
 * --worker, tiergate-sanitize --mail). Nothing when office.output is "text".
 */
void milter_child_office(struct san_ctx *san, const struct san_config *sc, bool warm);
/* The same for a message in memory (the CLI). */
int milter_child_rebuild(const struct milter_child_ctx *cx, const struct mail_envelope *env,
    const char *quarantine_only, unsigned slot, const uint8_t *msg, size_t len, int out_fd, int rep_fd);

#endif

/* spool.h -- the spool transfer: inbox (internet side) -> sanitize -> outbox (LGWAN side) or quarantine. */
#ifndef TIERGATE_SPOOL_H
#define TIERGATE_SPOOL_H

#include <libconfig.h>
#include <sys/types.h>

#include "lib/conf.h"
#include "sanitizer/sanitize.h"

struct spool_config {
	char *inbox, *outbox, *state_dir, *events;
	unsigned workers;          /* files sanitized in parallel */
	unsigned stable_seconds;   /* a file nobody closed on our watch is taken after this quiet time */
	unsigned outbox_mode;      /* permissions of outbox files (0640: never world-readable) */
	char *outbox_group;        /* group of outbox files and dir (NULL: the daemon's) */
	gid_t outbox_gid;          /* outbox_group resolved at load, (gid_t)-1 when none */
};

void spool_config_defaults(struct spool_config *sp);
int spool_config_load(struct spool_config *sp, const config_setting_t *root, struct diags *d);
void spool_config_free(struct spool_config *sp);

struct spool;
/* Creates the directories, re-queues work a previous run left unfinished, starts the workers. */
struct spool *spool_start(const struct spool_config *sp, struct san_ctx *ctx);
/* Called when a name in the inbox was closed after writing or moved in: take it now. */
void spool_offer(struct spool *s, const char *name);
/* Takes the inbox files that have been quiet for stable_seconds (start-up and periodic scan). */
void spool_scan(struct spool *s);
/* Lets the files being sanitized finish, stops the workers; queued files stay for the next run. */
void spool_stop(struct spool *s);
/* The spool's event sink (NULL without one): ev_sink_reopen after log rotation. */
struct ev_sink *spool_events(struct spool *s);
/* True when nothing is queued or in progress (tests, shutdown). */
int spool_idle(struct spool *s);

#endif

/* asp.h -- LGWAN-ASP connection checks (asp-check) and the state file that makes services routable. */
#ifndef TIERGATE_BRIDGE_ASP_H
#define TIERGATE_BRIDGE_ASP_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "lib/event.h"
#include "vpn-bridge/config.h"

struct asp_result {
	char name[BRIDGE_NAME_MAX];
	bool passed;
	time_t checked_at;
	char reason[160];           /* first failed check, "" when passed */
	char tls_version[16];
	char cipher[64];
	long days_left;             /* leaf certificate, -1 when unknown */
};

/* The results as last written (by asp-check or the bridge's scheduled check). */
struct asp_state {
	char *path;
	struct asp_result *v;
	size_t n;
	struct timespec mtime;
	ino_t ino;
};

void asp_state_init(struct asp_state *s, const char *path);
void asp_state_free(struct asp_state *s);
/* Re-reads the file when it changed; a missing file is "nothing checked". */
int asp_state_refresh(struct asp_state *s);
const struct asp_result *asp_state_find(const struct asp_state *s, const char *name);
/* Routable: passed, and not older than max_age seconds (0 = no limit). *why when not. */
bool asp_state_routable(struct asp_state *s, const char *name, unsigned max_age, const char **why);

/* Checks one service now (network I/O, blocking with conf->asp_timeout). */
void asp_check_one(const struct bridge_conf *conf, const struct bconf_asp *svc, struct asp_result *out);
/*
 * Checks every service (or only `only`), prints a table to out (NULL: none),
 * emits one bridge_asp_check event each, merges the results into the state
 * file. Returns the number of services that failed, or -1 on error.
 */
int asp_check_run(const struct bridge_conf *conf, const char *only, FILE *out, struct ev_sink *events);

#endif

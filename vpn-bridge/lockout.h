/* lockout.h -- failure counters per account and per source address, with exponential back-off. */
#ifndef TIERGATE_BRIDGE_LOCKOUT_H
#define TIERGATE_BRIDGE_LOCKOUT_H

#include <stdbool.h>
#include <time.h>

#define LOCKOUT_KEY_MAX 80      /* "user:NAME" or "addr:ADDRESS" */

struct lockout;

/* threshold failures lock for base seconds, each further failure doubles it, up to max. */
struct lockout *lockout_new(unsigned threshold, unsigned base, unsigned max);
void lockout_free(struct lockout *lk);
/* True (and the seconds left) while key is locked. */
bool lockout_is_locked(struct lockout *lk, const char *key, time_t now, unsigned *left);
/* Counts a failure; returns the lock seconds it starts, or 0 when not (yet) locked. */
unsigned lockout_fail(struct lockout *lk, const char *key, time_t now);
/* Forgets key (success, or an admin's unlock). Returns true if something was cleared. */
bool lockout_clear(struct lockout *lk, const char *key);

#endif

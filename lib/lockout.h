/* lockout.h -- failure counters per account and per source address, with exponential back-off. */
#ifndef TIERGATE_LIB_LOCKOUT_H
#define TIERGATE_LIB_LOCKOUT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define LOCKOUT_KEY_MAX 80      /* "user:NAME" or "addr:ADDRESS" */

struct lockout;

/*
 * threshold failures lock for base seconds, each further failure doubles it, up to max.
 * Keys are placed by SipHash under a key drawn at random here, so nobody outside can
 * aim names at one slot; an entry that is counting failures is never given up for a new
 * one (a new key that finds no room is refused instead: LOCKOUT_FULL).
 */
struct lockout *lockout_new(unsigned threshold, unsigned base, unsigned max);
/* The same with a given SipHash key (tests: names that do collide). */
struct lockout *lockout_new_keyed(unsigned threshold, unsigned base, unsigned max, const uint8_t key[16]);
void lockout_free(struct lockout *lk);

enum lockout_state { LOCKOUT_OPEN, LOCKOUT_LOCKED, LOCKOUT_FULL };
/* LOCKED (and the seconds left) while key is locked; FULL when key is new and has no room. */
enum lockout_state lockout_check(struct lockout *lk, const char *key, time_t now, unsigned *left);
/* True (and the seconds left) while key is locked or cannot be counted (table full). */
bool lockout_is_locked(struct lockout *lk, const char *key, time_t now, unsigned *left);
/* Counts a failure; returns the lock seconds it starts, or 0 when not (yet) locked. */
unsigned lockout_fail(struct lockout *lk, const char *key, time_t now);
/* Forgets key (success, or an admin's unlock). Returns true if something was cleared. */
bool lockout_clear(struct lockout *lk, const char *key);
/*
 * Keeps the table's locks in path across restarts: loads what is there now (entries
 * still counting at now), and rewrites it atomically (a temporary file renamed over it,
 * mode 0600) whenever a lock starts or is cleared. Returns 0, or -1 when path exists and
 * does not load (why in *why).
 */
int lockout_persist(struct lockout *lk, const char *path, time_t now, const char **why);

#endif

/* lockout.c -- a bounded table of failure counters under a keyed hash; counting entries are never evicted, and locks survive a restart. */
#include "lib/lockout.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

/* Bounded so a flood of source addresses costs fixed memory; a full window refuses new keys. */
#define LOCKOUT_SLOTS 8192
/* Linear probing over a small window; entries are never tombstoned (cleared = zeroed key). */
#define LOCKOUT_PROBE 16
/* Failures older than max + this are forgiven: such an entry counts nothing any more. */
#define LOCKOUT_FORGIVE 900

struct lockout_entry {
	char key[LOCKOUT_KEY_MAX];
	unsigned failures;
	time_t last_failure, locked_until;
};

struct lockout {
	unsigned threshold, base, max;
	EVP_MAC_CTX *mac;
	uint8_t hash_key[16];
	char *path;               /* lockout_persist's file, or NULL */
	struct lockout_entry slots[LOCKOUT_SLOTS];
};

struct lockout *
lockout_new_keyed(unsigned threshold, unsigned base, unsigned max, const uint8_t key[16])
{
	struct lockout *lk = xcalloc(1, sizeof *lk);
	EVP_MAC *siphash = EVP_MAC_fetch(NULL, "SIPHASH", NULL);

	lk->threshold = threshold ? threshold : 1;
	lk->base = base;
	lk->max = max < base ? base : max;
	memcpy(lk->hash_key, key, sizeof lk->hash_key);
	lk->mac = siphash ? EVP_MAC_CTX_new(siphash) : NULL;
	EVP_MAC_free(siphash);
	if (lk->mac == NULL)
		fatalx("lockout: OpenSSL has no SipHash");
	return lk;
}

struct lockout *
lockout_new(unsigned threshold, unsigned base, unsigned max)
{
	uint8_t key[16];

	if (RAND_bytes(key, sizeof key) != 1)
		fatalx("lockout: no random key");
	return lockout_new_keyed(threshold, base, max, key);
}

void
lockout_free(struct lockout *lk)
{
	if (lk == NULL)
		return;
	EVP_MAC_CTX_free(lk->mac);
	free(lk->path);
	free(lk);
}

static uint32_t
lockout_hash(struct lockout *lk, const char *key)
{
	size_t out_size = 8, got = 0;
	OSSL_PARAM params[] = { OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &out_size), OSSL_PARAM_END };
	uint8_t out[8] = { 0 };

	if (EVP_MAC_init(lk->mac, lk->hash_key, sizeof lk->hash_key, params) != 1 ||
	    EVP_MAC_update(lk->mac, (const uint8_t *)key, strlen(key)) != 1 ||
	    EVP_MAC_final(lk->mac, out, &got, sizeof out) != 1)
		fatalx("lockout: SipHash failed");
	return (uint32_t)out[0] | (uint32_t)out[1] << 8 | (uint32_t)out[2] << 16 | (uint32_t)out[3] << 24;
}

/* Still counts (or holds a lock): such an entry is never given up for another key. */
static bool
lockout_counting(const struct lockout *lk, const struct lockout_entry *e, time_t now)
{
	return e->key[0] != '\0' && (e->locked_until > now ||
	    now - e->last_failure <= (time_t)lk->max + LOCKOUT_FORGIVE);
}

/* key's entry, or (create) a free one of its window for it; NULL when none (*full set then). */
static struct lockout_entry *
lockout_find(struct lockout *lk, const char *key, bool create, time_t now, bool *full)
{
	uint32_t h = lockout_hash(lk, key);
	struct lockout_entry *room = NULL;

	*full = false;
	for (unsigned i = 0; i < LOCKOUT_PROBE; i++) {
		struct lockout_entry *e = &lk->slots[(h + i) % LOCKOUT_SLOTS];
		if (e->key[0] != '\0' && strcmp(e->key, key) == 0)
			return e;
		if (room == NULL && !lockout_counting(lk, e, now))
			room = e;
	}
	*full = room == NULL;
	if (!create || room == NULL)
		return NULL;
	memset(room, 0, sizeof *room);
	str_copy(room->key, key, sizeof room->key);
	return room;
}

enum lockout_state
lockout_check(struct lockout *lk, const char *key, time_t now, unsigned *left)
{
	bool full;
	struct lockout_entry *e = lockout_find(lk, key, false, now, &full);

	*left = 0;
	if (e == NULL)
		return full ? LOCKOUT_FULL : LOCKOUT_OPEN;
	if (e->locked_until <= now)
		return LOCKOUT_OPEN;
	*left = (unsigned)(e->locked_until - now);
	return LOCKOUT_LOCKED;
}

bool
lockout_is_locked(struct lockout *lk, const char *key, time_t now, unsigned *left)
{
	return lockout_check(lk, key, now, left) != LOCKOUT_OPEN;
}

static void lockout_save(const struct lockout *lk, time_t now);

unsigned
lockout_fail(struct lockout *lk, const char *key, time_t now)
{
	bool full;
	struct lockout_entry *e = lockout_find(lk, key, true, now, &full);
	unsigned over, secs;

	if (e == NULL)
		return 0;   /* no room: lockout_check refuses this key meanwhile */
	/* Old failures are forgiven: a typo last week does not count towards today's lock. */
	if (e->last_failure != 0 && now - e->last_failure > (time_t)lk->max + LOCKOUT_FORGIVE)
		e->failures = 0;
	e->failures++;
	e->last_failure = now;
	if (e->failures < lk->threshold)
		return 0;
	over = e->failures - lk->threshold;
	secs = over >= 20 ? lk->max : lk->base << over;
	if (secs > lk->max || secs < lk->base)
		secs = lk->max;
	e->locked_until = now + secs;
	lockout_save(lk, now);
	return secs;
}

bool
lockout_clear(struct lockout *lk, const char *key)
{
	bool full;
	struct lockout_entry *e = lockout_find(lk, key, false, 0, &full);
	bool locked;

	if (e == NULL)
		return false;
	locked = e->locked_until != 0;
	memset(e, 0, sizeof *e);
	if (locked)
		lockout_save(lk, time(NULL));
	return true;
}

/* ---- persistence: "KEY FAILURES LAST_FAILURE LOCKED_UNTIL" per line ------------------ */

static int
lockout_write_entries(const struct lockout *lk, FILE *f, time_t now)
{
	for (size_t i = 0; i < LOCKOUT_SLOTS; i++) {
		const struct lockout_entry *e = &lk->slots[i];
		if (lockout_counting(lk, e, now) && e->failures >= lk->threshold &&
		    fprintf(f, "%s %u %" PRId64 " %" PRId64 "\n", e->key, e->failures,
		    (int64_t)e->last_failure, (int64_t)e->locked_until) < 0)
			return -1;
	}
	return 0;
}

/* Written beside path and renamed over it: a crash leaves the old file or the new, never half. */
static void
lockout_save(const struct lockout *lk, time_t now)
{
	char tmp[4096];
	int fd;
	FILE *f;

	if (lk->path == NULL)
		return;
	snprintf(tmp, sizeof tmp, "%s.new", lk->path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f == NULL) {
		if (fd >= 0)
			close(fd);
		log_warnx("lockout: cannot write %s: %s", tmp, strerror(errno));
		return;
	}
	if (lockout_write_entries(lk, f, now) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		log_warnx("lockout: cannot write %s: %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		return;
	}
	fclose(f);
	if (rename(tmp, lk->path) < 0)
		log_warnx("lockout: cannot replace %s: %s", lk->path, strerror(errno));
}

/* One line into the table; -1 when it is not a well-formed entry. */
static int
lockout_load_line(struct lockout *lk, char *line, time_t now)
{
	char key[LOCKOUT_KEY_MAX];
	unsigned failures;
	int64_t last, until;
	int used = 0;
	bool full;
	struct lockout_entry *e;

	if (sscanf(line, "%79s %u %" SCNd64 " %" SCNd64 "%n", key, &failures, &last, &until, &used) != 4 ||
	    (line[used] != '\n' && line[used] != '\0') ||
	    (!str_has_prefix(key, "user:") && !str_has_prefix(key, "addr:")) || failures == 0)
		return -1;
	e = lockout_find(lk, key, true, now, &full);
	if (e == NULL)
		return 0;   /* no room: the oldest locks were kept */
	e->failures = failures;
	e->last_failure = (time_t)last;
	e->locked_until = (time_t)until;
	return 0;
}

int
lockout_persist(struct lockout *lk, const char *path, time_t now, const char **why)
{
	char line[256];
	FILE *f;
	int rc = 0;

	*why = NULL;
	free(lk->path);
	lk->path = xstrdup(path);
	f = fopen(path, "re");
	if (f == NULL)
		return errno == ENOENT ? 0 : (*why = "cannot be read", -1);
	while (rc == 0 && fgets(line, sizeof line, f) != NULL)
		if (lockout_load_line(lk, line, now) < 0) {
			*why = "a line is not \"KEY FAILURES LAST LOCKED_UNTIL\"";
			rc = -1;
		}
	fclose(f);
	return rc;
}

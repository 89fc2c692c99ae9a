/* userdb.h -- the user database file: password hash, TOTP secret and last used TOTP step per user. */
#ifndef TIERGATE_BRIDGE_USERDB_H
#define TIERGATE_BRIDGE_USERDB_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "vpn-bridge/config.h"
#include "lib/pwhash.h"
#include "lib/totp.h"

/*
 * One line per user, fields separated by ':' (mode 0600, owned by root):
 *	NAME:PASSWORD_HASH:TOTP_SECRET_BASE32:LAST_STEP
 * Empty fields mean "not set". Written atomically (temp file + rename) under
 * an flock of PATH.lock, so the daemon and the admin tools can share it.
 */
struct userdb_user {
	char name[BRIDGE_NAME_MAX];
	char hash[PWHASH_MAX];
	char totp[TOTP_SECRET_B32_MAX];
	uint64_t last_step;
};

struct userdb {
	char *path;
	struct userdb_user *v;
	size_t n, cap;
	struct timespec mtime;
	ino_t ino;
};

int userdb_open(struct userdb *db, const char *path);   /* missing file = empty db */
void userdb_close(struct userdb *db);
/* The file on disk is not the one loaded (written by an admin tool, removed). */
bool userdb_changed(const struct userdb *db);
/*
 * Reloads when the file changed on disk, into a new table swapped in only when the file
 * parsed: pointers from userdb_find are invalid after a refresh.
 */
int userdb_refresh(struct userdb *db);
struct userdb_user *userdb_find(struct userdb *db, const char *name);
struct userdb_user *userdb_add(struct userdb *db, const char *name);
/* Drops the user name; false when there is none. */
bool userdb_remove(struct userdb *db, const char *name);
int userdb_save(struct userdb *db);
/* Exclusive lock of PATH.lock for a read-modify-write; returns an fd for userdb_unlock. */
int userdb_lock(const char *path);
void userdb_unlock(int fd);
/* Names are [A-Za-z0-9._-]{1,63}: they go into files, events and URIs. */
bool userdb_name_ok(const char *name);

#endif

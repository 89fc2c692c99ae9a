/* userdb.c -- reads and writes the user database (secrets: only the auth process and admin tools). */
#include "vpn-bridge/userdb.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

#define USERDB_MAX_BYTES (16u << 20)

bool
userdb_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= BRIDGE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static void
userdb_clear(struct userdb *db)
{
	if (db->v)
		OPENSSL_cleanse(db->v, db->cap * sizeof *db->v);
	free(db->v);
	db->v = NULL;
	db->n = db->cap = 0;
}

/* Splits a line into its four fields in place. */
static int
userdb_parse_line(struct userdb *db, char *line, size_t lineno)
{
	char *fields[4];
	struct userdb_user *u;
	unsigned long long step;
	char *end;

	for (int i = 0; i < 4; i++) {
		fields[i] = strsep(&line, ":");
		if (fields[i] == NULL) {
			log_warnx("%s:%zu: expected NAME:HASH:TOTP:STEP", db->path, lineno);
			return -1;
		}
	}
	if (!userdb_name_ok(fields[0]) || userdb_find(db, fields[0]) != NULL) {
		log_warnx("%s:%zu: bad or repeated user name", db->path, lineno);
		return -1;
	}
	errno = 0;
	step = strtoull(fields[3], &end, 10);
	if (errno != 0 || *end != '\0') {
		log_warnx("%s:%zu: bad step", db->path, lineno);
		return -1;
	}
	if (strlen(fields[1]) >= sizeof u->hash || strlen(fields[2]) >= sizeof u->totp) {
		log_warnx("%s:%zu: hash or TOTP secret too long", db->path, lineno);
		return -1;
	}
	u = userdb_add(db, fields[0]);
	str_copy(u->hash, fields[1], sizeof u->hash);
	str_copy(u->totp, fields[2], sizeof u->totp);
	u->last_step = step;
	return 0;
}

static int
userdb_parse(struct userdb *db, char *text)
{
	size_t lineno = 0;
	char *line;

	while ((line = strsep(&text, "\n")) != NULL) {
		lineno++;
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (userdb_parse_line(db, line, lineno) < 0)
			return -1;
	}
	return 0;
}

/*
 * Parses the file into a new copy and swaps it in only when it parsed: a login never sees a
 * half-read table, and a broken file keeps the last good one (and says so).
 */
static int
userdb_load(struct userdb *db)
{
	struct userdb fresh = { .path = db->path };
	uint8_t *text = NULL;
	size_t len = 0;
	struct stat st;
	int rc;

	if (stat(db->path, &st) < 0) {
		if (errno != ENOENT)
			return -1;
		userdb_clear(db);   /* no file: no users */
		memset(&db->mtime, 0, sizeof db->mtime);
		db->ino = 0;
		return 0;
	}
	if (file_read_all(db->path, USERDB_MAX_BYTES, &text, &len) < 0)
		return -1;
	text = xrealloc(text, len + 1, 1);
	text[len] = '\0';
	rc = userdb_parse(&fresh, (char *)text);
	OPENSSL_cleanse(text, len);
	free(text);
	db->mtime = st.st_mtim;   /* a broken file is reported once, not at every login */
	db->ino = st.st_ino;
	if (rc < 0) {
		log_warnx("%s: not loaded, keeping the previous %zu users", db->path, db->n);
		userdb_clear(&fresh);
		return -1;
	}
	userdb_clear(db);
	db->v = fresh.v;
	db->n = fresh.n;
	db->cap = fresh.cap;
	return 0;
}

int
userdb_open(struct userdb *db, const char *path)
{
	memset(db, 0, sizeof *db);
	db->path = xstrdup(path);
	return userdb_load(db);
}

void
userdb_close(struct userdb *db)
{
	userdb_clear(db);
	free(db->path);
	db->path = NULL;
}

bool
userdb_changed(const struct userdb *db)
{
	struct stat st;

	if (stat(db->path, &st) < 0)
		return errno == ENOENT && db->ino != 0;
	return st.st_ino != db->ino || st.st_mtim.tv_sec != db->mtime.tv_sec ||
	    st.st_mtim.tv_nsec != db->mtime.tv_nsec;
}

int
userdb_refresh(struct userdb *db)
{
	return userdb_changed(db) ? userdb_load(db) : 0;
}

struct userdb_user *
userdb_find(struct userdb *db, const char *name)
{
	for (size_t i = 0; i < db->n; i++)
		if (strcmp(db->v[i].name, name) == 0)
			return &db->v[i];
	return NULL;
}

struct userdb_user *
userdb_add(struct userdb *db, const char *name)
{
	struct userdb_user *u;

	if (db->n == db->cap) {
		size_t cap = db->cap ? db->cap * 2 : 16, used = db->n;
		struct userdb_user *v = xcalloc(cap, sizeof *v);
		if (used)
			memcpy(v, db->v, used * sizeof *v);
		userdb_clear(db);   /* wipes the old copy of the secrets */
		db->v = v;
		db->cap = cap;
		db->n = used;
	}
	u = &db->v[db->n++];
	memset(u, 0, sizeof *u);
	str_copy(u->name, name, sizeof u->name);
	return u;
}

bool
userdb_remove(struct userdb *db, const char *name)
{
	struct userdb_user *u = userdb_find(db, name);
	size_t i;

	if (u == NULL)
		return false;
	i = (size_t)(u - db->v);
	memmove(&db->v[i], &db->v[i + 1], (db->n - i - 1) * sizeof *db->v);
	db->n--;
	OPENSSL_cleanse(&db->v[db->n], sizeof *db->v);
	return true;
}

int
userdb_save(struct userdb *db)
{
	size_t cap = 128 + db->n * (sizeof(struct userdb_user) + 32), len = 0;
	char *text = xmalloc(cap);
	struct stat st;
	int rc;

	len += (size_t)snprintf(text, cap, "# tiergate-bridge users: NAME:HASH:TOTP:LAST_STEP\n");
	for (size_t i = 0; i < db->n; i++) {
		const struct userdb_user *u = &db->v[i];
		len += (size_t)snprintf(text + len, cap - len, "%s:%s:%s:%" PRIu64 "\n",
		    u->name, u->hash, u->totp, u->last_step);
	}
	rc = file_write_atomic(db->path, text, len, 0600);
	OPENSSL_cleanse(text, cap);
	free(text);
	if (rc == 0 && stat(db->path, &st) == 0) {
		db->mtime = st.st_mtim;
		db->ino = st.st_ino;
	}
	return rc;
}

int
userdb_lock(const char *path)
{
	char lockpath[4096];
	int fd;

	snprintf(lockpath, sizeof lockpath, "%s.lock", path);
	fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void
userdb_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

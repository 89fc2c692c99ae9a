/* evsink.c -- where event lines go: a file whose lines form a SHA-256 hash chain, a plain fd, and a copy to syslog. */
#include "lib/event.h"
#include "lib/evforward.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/evchain.h"

/*
 * A regular file is an audit trail: every line carries "prev", the SHA-256 of
 * the line before it (tiergate-audit verify checks them). Several processes of
 * one part append to one file (the bridge's relays and its auth process, the
 * milter's children), so the chain is kept under flock(2): a writer that finds
 * the file longer than it left it reads the last line and hashes that. Threads
 * of one process share the descriptor, which flock does not tell apart, hence
 * the mutex. Pipes and stdout get the plain lines.
 *
 * Rotation (rename, a new file, SIGHUP): a process that changes to the new file
 * keeps the old one open until the new one has its first line. Whoever writes that
 * first line, under both locks, ends the old file with a "log_rotated" line and
 * chains the new file's first line to it, so tiergate-audit verify --after OLD NEW
 * holds whichever process writes first. A writer that later finds "log_rotated" at
 * the end of its file has not changed yet: it opens the path again when it may
 * (follow), or keeps its lines in memory until it is handed the new file
 * (ev_sink_swap), so that no line lands behind the seal. A file opened empty
 * continues PATH.1 (logrotate's name for the file before) the same way.
 */
#define EV_ROTATED "log_rotated"
#define EV_HELD_MAX (1u << 20)   /* lines kept while waiting for the new file; beyond, written late */

struct ev_sink {
	int fd;
	char *path;              /* NULL for a plain fd */
	bool chain;              /* regular file: lines carry "prev" */
	bool follow;             /* may open path again itself on finding its file rotated */
	off_t end;               /* file size after our last line, -1 unknown */
	char last[EVCHAIN_HEX];  /* hash of the file's last line */
	int old_fd;              /* the file before a rotation, until the new one has a line; or -1 */
	char *held;              /* lines waiting for the new file (ours was rotated) */
	size_t held_len;
	pthread_mutex_t lock;
	struct ev_forward *forward;   /* a copy of each line to syslog, or NULL */
};

static int
ev_open_path(const char *path)
{
	if (strcmp(path, "-") == 0)
		return dup(STDOUT_FILENO);
	return open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

/* An empty file just made by logrotate: the file before it is PATH.1, if there is one. */
static int
ev_open_before(const struct ev_sink *sink)
{
	char before[4096];
	struct stat st;
	int fd;

	if (!sink->chain || sink->path == NULL || fstat(sink->fd, &st) < 0 || st.st_size != 0 ||
	    (size_t)snprintf(before, sizeof before, "%s.1", sink->path) >= sizeof before)
		return -1;
	fd = open(before, O_RDWR | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void
ev_sink_setup(struct ev_sink *sink)
{
	struct stat st;

	sink->chain = sink->path && fstat(sink->fd, &st) == 0 && S_ISREG(st.st_mode);
	sink->end = -1;
	sink->old_fd = -1;
	sink->forward = ev_forward_global();
}

struct ev_sink *
ev_sink_open(const char *path)
{
	struct ev_sink *sink = calloc(1, sizeof *sink);

	if (sink == NULL)
		return NULL;
	sink->path = strdup(path);
	sink->fd = sink->path ? ev_open_path(path) : -1;
	if (sink->fd < 0) {
		int saved = errno;
		free(sink->path);
		free(sink);
		errno = saved;
		return NULL;
	}
	pthread_mutex_init(&sink->lock, NULL);
	ev_sink_setup(sink);
	sink->old_fd = ev_open_before(sink);
	return sink;
}

struct ev_sink *
ev_sink_fd(int fd)
{
	struct ev_sink *sink = calloc(1, sizeof *sink);

	if (sink) {
		sink->fd = fd;
		pthread_mutex_init(&sink->lock, NULL);
		ev_sink_setup(sink);
	}
	return sink;
}

void
ev_sink_follow(struct ev_sink *sink, bool follow)
{
	if (sink)
		sink->follow = follow;
}

static int ev_emit_locked(struct ev_sink *sink, const char *buf, size_t len, bool may_hold);

/* Another process wrote the new file's first line (and sealed the old one): let go of the old file. */
static void
ev_drop_old_if_continued(struct ev_sink *sink)
{
	struct stat st;

	if (sink->old_fd >= 0 && fstat(sink->fd, &st) == 0 && st.st_size > 0) {
		close(sink->old_fd);
		sink->old_fd = -1;
	}
}

/* Under the mutex: fd (a regular file) becomes the sink's file; the one before is kept as old_fd. */
static int
ev_sink_change(struct ev_sink *sink, int fd)
{
	struct stat now, next;
	int rc = 0;

	if (fstat(sink->fd, &now) == 0 && fstat(fd, &next) == 0 && now.st_dev == next.st_dev &&
	    now.st_ino == next.st_ino) {
		close(fd);   /* not rotated: the same file */
	} else {
		if (sink->old_fd >= 0)
			close(sink->old_fd);
		sink->old_fd = sink->chain ? sink->fd : -1;
		if (!sink->chain)
			close(sink->fd);
		sink->fd = fd;
		sink->chain = fstat(fd, &next) == 0 && S_ISREG(next.st_mode);
		sink->end = -1;
	}
	ev_drop_old_if_continued(sink);
	if (sink->held_len) {   /* lines kept while our file was rotated and no new one was known */
		char *held = sink->held;
		size_t len = sink->held_len;
		sink->held = NULL;
		sink->held_len = 0;
		rc = ev_emit_locked(sink, held, len, true);
		free(held);
	}
	return rc;
}

int
ev_sink_reopen(struct ev_sink *sink)
{
	int fd, rc;

	if (sink == NULL || sink->path == NULL || strcmp(sink->path, "-") == 0)
		return 0;
	fd = ev_open_path(sink->path);
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&sink->lock);
	rc = ev_sink_change(sink, fd);
	pthread_mutex_unlock(&sink->lock);
	return rc;
}

/* Under the mutex: the path names another file than ours (renamed by logrotate): open it. */
static int
ev_sink_refresh_locked(struct ev_sink *sink)
{
	struct stat at_path, ours;
	int fd;

	if (sink->path == NULL || strcmp(sink->path, "-") == 0 || stat(sink->path, &at_path) < 0 ||
	    fstat(sink->fd, &ours) < 0)
		return 0;
	if (at_path.st_dev == ours.st_dev && at_path.st_ino == ours.st_ino) {
		ev_drop_old_if_continued(sink);
		return 0;
	}
	if ((fd = ev_open_path(sink->path)) < 0)
		return -1;
	return ev_sink_change(sink, fd);
}

int
ev_sink_refresh(struct ev_sink *sink)
{
	int rc;

	if (sink == NULL)
		return 0;
	pthread_mutex_lock(&sink->lock);
	rc = ev_sink_refresh_locked(sink);
	pthread_mutex_unlock(&sink->lock);
	return rc;
}

int
ev_sink_new_fd(const struct ev_sink *sink)
{
	if (sink == NULL || sink->path == NULL || strcmp(sink->path, "-") == 0) {
		errno = EINVAL;
		return -1;
	}
	return ev_open_path(sink->path);
}

int
ev_sink_swap(struct ev_sink *sink, int fd)
{
	struct stat st;
	int rc;

	if (sink == NULL || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&sink->lock);
	rc = ev_sink_change(sink, fd);
	pthread_mutex_unlock(&sink->lock);
	return rc;
}

static int
ev_write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t done = writev(fd, iov, n);
		if (done < 0 && errno == EINTR)
			continue;
		if (done < 0)
			return -1;
		while (n > 0 && (size_t)done >= iov->iov_len) {
			done -= (ssize_t)iov->iov_len;
			iov++, n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + done;
			iov->iov_len -= (size_t)done;
		}
	}
	return 0;
}

#define EV_CHAIN_BATCH 256   /* lines per writev (IOV_MAX is 1024) */

/*
 * Each line of buf (one or more, each ending "}\n") is written with
 * ,"prev":"..." before its closing brace, in batches of one writev.
 */
static int
ev_write_chained(int fd, char last[EVCHAIN_HEX], const char *buf, size_t len, off_t *written)
{
	static __thread char tails[EV_CHAIN_BATCH][EVCHAIN_TAIL_MAX];
	struct iovec iov[2 * EV_CHAIN_BATCH];
	size_t off = 0;
	int n = 0;

	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t line_len = (size_t)(nl - (buf + off)) + 1;
		if (nl == NULL || line_len < 3 || nl[-1] != '}') {
			errno = EINVAL;
			return -1;
		}
		evchain_tail(last, tails[n]);
		iov[2 * n] = (struct iovec){ (void *)(buf + off), line_len - 2 };
		iov[2 * n + 1] = (struct iovec){ tails[n], strlen(tails[n]) };
		evchain_hash_line(buf + off, line_len - 2, tails[n], last);
		*written += (off_t)(line_len - 2 + strlen(tails[n]));
		off += line_len;
		if (++n == EV_CHAIN_BATCH || off == len) {
			if (ev_write_all(fd, iov, 2 * n) < 0)
				return -1;
			n = 0;
		}
	}
	return 0;
}

/*
 * The new file is empty and we write its first line: under the old file's lock, end
 * the old file with "log_rotated" (unless another process did) and continue from
 * that line. The old file is let go either way.
 */
static void
ev_chain_from_old(struct ev_sink *sink)
{
	struct stat st;
	struct jbuf jb = JBUF_INIT;
	off_t written = 0;
	int old = sink->old_fd;

	sink->old_fd = -1;
	if (flock(old, LOCK_EX) < 0 || fstat(old, &st) < 0) {
		close(old);
		return;
	}
	if (!evchain_last_line(old, st.st_size, sink->last, EV_ROTATED)) {
		ev_begin(&jb, EV_ROTATED, 0);
		jb_str(&jb, "continued_in", sink->path);
		jb_int(&jb, "pid", (int64_t)getpid());
		ev_end(&jb);
		if ((jb.oom || ev_write_chained(old, sink->last, jb.buf, jb.len, &written) < 0) &&
		    fstat(old, &st) == 0)   /* not sealed: the new file continues whatever the old one ends with */
			evchain_last_line(old, st.st_size, sink->last, NULL);
		jb_free(&jb);
	}
	flock(old, LOCK_UN);
	close(old);
}

/*
 * A "log_rotated" line counts only if the path no longer names our file (renamed): any
 * writer of the file could append one (a relay is hostile by assumption), and the others
 * must not then keep their lines back.
 */
static bool
ev_path_moved(const struct ev_sink *sink, const struct stat *ours)
{
	struct stat at_path;

	if (sink->path == NULL || strcmp(sink->path, "-") == 0)
		return false;
	if (stat(sink->path, &at_path) < 0)
		return errno == ENOENT;
	return at_path.st_dev != ours->st_dev || at_path.st_ino != ours->st_ino;
}

/* Lines that must wait for the new file: kept in memory, up to EV_HELD_MAX. */
static bool
ev_hold(struct ev_sink *sink, const char *buf, size_t len)
{
	char *more;

	if (sink->held_len + len > EV_HELD_MAX || (more = realloc(sink->held, sink->held_len + len)) == NULL)
		return false;
	memcpy(more + sink->held_len, buf, len);
	sink->held = more;
	sink->held_len += len;
	return true;
}

/*
 * Under the file lock: find what the chain continues from, then write. Returns 1
 * when the file turned out rotated and the lines were not written (may_hold).
 */
static int
ev_emit_chained(struct ev_sink *sink, const char *buf, size_t len, bool may_hold)
{
	struct stat st;
	off_t written = 0;
	int rc;

	if (flock(sink->fd, LOCK_EX) < 0)
		return -1;
	if (fstat(sink->fd, &st) < 0) {
		flock(sink->fd, LOCK_UN);
		return -1;
	}
	/*
	 * Someone else wrote since our last line, or we just opened: chain to the
	 * file's last line. An empty file is new (zeros) or just rotated (the old
	 * file's last line, still in last).
	 */
	if (st.st_size > 0 && st.st_size != sink->end &&
	    evchain_last_line(sink->fd, st.st_size, sink->last, EV_ROTATED) && may_hold &&
	    ev_path_moved(sink, &st)) {
		flock(sink->fd, LOCK_UN);
		return 1;
	}
	if (st.st_size == 0 && sink->old_fd >= 0)
		ev_chain_from_old(sink);
	else if (st.st_size == 0 && sink->last[0] == '\0')
		memcpy(sink->last, EVCHAIN_GENESIS, EVCHAIN_HEX);
	if (st.st_size > 0 && sink->old_fd >= 0) {   /* another process wrote the new file's first line */
		close(sink->old_fd);
		sink->old_fd = -1;
	}
	rc = ev_write_chained(sink->fd, sink->last, buf, len, &written);
	sink->end = rc == 0 ? st.st_size + written : -1;
	flock(sink->fd, LOCK_UN);
	return rc;
}

/* Under the mutex. A rotated file: opened again by path (follow) or the lines held for ev_sink_swap. */
static int
ev_emit_locked(struct ev_sink *sink, const char *buf, size_t len, bool may_hold)
{
	struct iovec iov = { (void *)buf, len };
	int rc, fd;

	if (!sink->chain)
		return ev_write_all(sink->fd, &iov, 1);
	if (sink->follow && may_hold)
		ev_sink_refresh_locked(sink);   /* a stat(2) a line: follow is for the few, slow writers */
	if (sink->held_len && may_hold)
		return ev_hold(sink, buf, len) ? 0 : ev_emit_chained(sink, buf, len, false);
	rc = ev_emit_chained(sink, buf, len, may_hold);
	if (rc != 1)
		return rc;
	if (sink->follow && (fd = ev_open_path(sink->path)) >= 0) {
		struct stat now, next;
		bool same = fstat(sink->fd, &now) == 0 && fstat(fd, &next) == 0 &&
		    now.st_dev == next.st_dev && now.st_ino == next.st_ino;
		if (!same) {
			ev_sink_change(sink, fd);
			return ev_emit_chained(sink, buf, len, false);
		}
		close(fd);
	}
	if (ev_hold(sink, buf, len))
		return 0;
	return ev_emit_chained(sink, buf, len, false);   /* too much waiting: late, but not lost */
}

int
ev_emit(struct ev_sink *sink, struct jbuf *jb)
{
	int rc;

	if (sink == NULL)
		return 0;
	if (jb->oom) {
		errno = ENOMEM;
		return -1;
	}
	if (jb->len == 0)
		return 0;
	pthread_mutex_lock(&sink->lock);
	rc = ev_emit_locked(sink, jb->buf, jb->len, true);
	pthread_mutex_unlock(&sink->lock);
	for (size_t off = 0; sink->forward && off < jb->len;) {   /* one syslog message per line */
		const char *nl = memchr(jb->buf + off, '\n', jb->len - off);
		size_t line_len = nl ? (size_t)(nl - (jb->buf + off)) : jb->len - off;
		ev_forward_send(sink->forward, jb->buf + off, line_len);
		off += line_len + 1;
	}
	return rc;
}

void
ev_sink_close(struct ev_sink *sink)
{
	if (sink == NULL)
		return;
	if (sink->held_len)   /* never handed the new file: written late rather than lost */
		ev_emit_locked(sink, sink->held, sink->held_len, false);
	free(sink->held);
	if (sink->old_fd >= 0)
		close(sink->old_fd);
	if (sink->path)
		close(sink->fd);
	pthread_mutex_destroy(&sink->lock);
	free(sink->path);
	free(sink);
}

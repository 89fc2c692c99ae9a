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
 */
struct ev_sink {
	int fd;
	char *path;              /* NULL for a plain fd */
	bool chain;              /* regular file: lines carry "prev" */
	off_t end;               /* file size after our last line, -1 unknown */
	char last[EVCHAIN_HEX];  /* hash of the file's last line */
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

static void
ev_sink_setup(struct ev_sink *sink)
{
	struct stat st;

	sink->chain = sink->path && fstat(sink->fd, &st) == 0 && S_ISREG(st.st_mode);
	sink->end = -1;
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

int
ev_sink_reopen(struct ev_sink *sink)
{
	int fd;

	if (sink == NULL || sink->path == NULL)
		return 0;
	fd = ev_open_path(sink->path);
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&sink->lock);
	close(sink->fd);
	sink->fd = fd;
	/* a rotated file starts empty: its first line chains to the old file's last (kept in last) */
	sink->end = -1;
	pthread_mutex_unlock(&sink->lock);
	return 0;
}

void
ev_sink_close(struct ev_sink *sink)
{
	if (sink == NULL)
		return;
	if (sink->path)
		close(sink->fd);
	pthread_mutex_destroy(&sink->lock);
	free(sink->path);
	free(sink);
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
ev_write_chained(struct ev_sink *sink, const char *buf, size_t len, off_t *written)
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
		evchain_tail(sink->last, tails[n]);
		iov[2 * n] = (struct iovec){ (void *)(buf + off), line_len - 2 };
		iov[2 * n + 1] = (struct iovec){ tails[n], strlen(tails[n]) };
		evchain_hash_line(buf + off, line_len - 2, tails[n], sink->last);
		*written += (off_t)(line_len - 2 + strlen(tails[n]));
		off += line_len;
		if (++n == EV_CHAIN_BATCH || off == len) {
			if (ev_write_all(sink->fd, iov, 2 * n) < 0)
				return -1;
			n = 0;
		}
	}
	return 0;
}

/* Under the file lock: find what the chain continues from, then write. */
static int
ev_emit_chained(struct ev_sink *sink, const char *buf, size_t len)
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
	if (st.st_size > 0 && st.st_size != sink->end)
		evchain_last_line_hash(sink->fd, st.st_size, sink->last);
	else if (st.st_size == 0 && sink->last[0] == '\0')
		memcpy(sink->last, EVCHAIN_GENESIS, EVCHAIN_HEX);
	rc = ev_write_chained(sink, buf, len, &written);
	sink->end = rc == 0 ? st.st_size + written : -1;
	flock(sink->fd, LOCK_UN);
	return rc;
}

int
ev_emit(struct ev_sink *sink, struct jbuf *jb)
{
	struct iovec iov;
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
	if (sink->chain) {
		rc = ev_emit_chained(sink, jb->buf, jb->len);
	} else {
		iov = (struct iovec){ jb->buf, jb->len };
		rc = ev_write_all(sink->fd, &iov, 1);
	}
	pthread_mutex_unlock(&sink->lock);
	for (size_t off = 0; sink->forward && off < jb->len;) {   /* one syslog message per line */
		const char *nl = memchr(jb->buf + off, '\n', jb->len - off);
		size_t line_len = nl ? (size_t)(nl - (jb->buf + off)) : jb->len - off;
		ev_forward_send(sink->forward, jb->buf + off, line_len);
		off += line_len + 1;
	}
	return rc;
}

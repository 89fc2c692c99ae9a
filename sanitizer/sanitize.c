/* sanitize.c -- the caller's side of san_buffer: fork a sandboxed worker, bound its time and its answer. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/charset.h"
#include "sanitizer/cleanres.h"
#include "sanitizer/internal.h"
#include "sanitizer/lo.h"
#include "sanitizer/pool.h"

/* Set only by unit tests (never by production code): runs in the worker after the sandbox is up. */
void (*san_test_worker_hook)(struct pool *pool);
#ifdef TIERGATE_TEST_FORGE
/* Test build only (never in the production binaries): a worker that answers with a forged result. */
int (*san_test_forge)(int fd, const uint8_t *data, size_t len);
#endif

/* Descriptors waiting for their PIXELS record; more are received only to be refused. */
#define SAN_MAX_FDS 8
/* Pixels per batch: the parent encodes one batch while the worker fills the next. */
#define SAN_BATCH_BYTES (24u << 20)

struct san_ctx {
	struct san_config cfg;
	magic_t magic;
	pthread_mutex_t magic_lock;   /* warming changes magic: no fork meanwhile */
	bool magic_warm;
	bool forked;                  /* a worker was started: the next ones may find libmagic warm */
	struct sandbox_ids ids;
	struct ev_sink *events;
	struct lo_pool *lo;           /* the office converter, NULL: office files become text */
};

/*
 * libmagic compiles its regular expressions on first use and keeps them: run
 * it once on our own harmless samples so every worker forked afterwards
 * inherits them compiled (a text file otherwise costs each worker ~6 ms of
 * regcomp). The parent does it while its second worker runs, off the path of
 * that file: not during the first, whose render threads it would slow down
 * (4-6 ms of CPU on a two-core machine) for a run that may have no second
 * file (the CLI on one document), nor at exit freeing them (0.7 ms).
 */
static void
san_ctx_warm_magic(struct san_ctx *ctx)
{
	static const char *const samples[] = {
		"plain text\nsecond line\n", "<html><body>x</body></html>\n",
		"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "#!/bin/sh\necho x\n", "a,b,c\n1,2,3\n",
		"\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd\n",
	};

	pthread_mutex_lock(&ctx->magic_lock);
	if (!ctx->magic_warm)
		for (size_t i = 0; i < ARRAY_LEN(samples); i++)
			magic_buffer(ctx->magic, samples[i], strlen(samples[i]));
	ctx->magic_warm = true;
	pthread_mutex_unlock(&ctx->magic_lock);
}

/*
 * Daemons, at start: libmagic warm and libheif loaded (heifload.c), so no
 * worker or message process forked later pays for either. A one-file CLI
 * run loads libheif only for an input that may hold a HEIF image (run_worker).
 */
void
san_ctx_warm(struct san_ctx *ctx)
{
	san_ctx_warm_magic(ctx);
	pthread_mutex_lock(&ctx->magic_lock);   /* no fork of ours while the loader works */
	imgdecode_prepare();
	pthread_mutex_unlock(&ctx->magic_lock);
}

struct san_ctx *
san_ctx_new(const struct san_config *sc)
{
	struct san_ctx *ctx = xcalloc(1, sizeof *ctx);

	san_config_copy(&ctx->cfg, sc);
	pthread_mutex_init(&ctx->magic_lock, NULL);
	/* libmagic reads its database now, once: workers inherit it and open nothing */
	ctx->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
	if (ctx->magic == NULL || magic_load(ctx->magic, NULL) != 0) {
		log_warnx("sanitizer: libmagic: %s", ctx->magic ? magic_error(ctx->magic) : "magic_open failed");
		san_ctx_free(ctx);
		return NULL;
	}
	/* every type we tell apart shows in its first bytes; reading 7 MB of a PDF to say so cost 2 ms */
	size_t magic_bytes = 1u << 20;
	magic_setparam(ctx->magic, MAGIC_PARAM_BYTES_MAX, &magic_bytes);
	charset_preload();
	xmlInitParser();   /* libxml2's global tables, set up once before any worker forks */
	if (sandbox_resolve_user(ctx->cfg.worker_user, &ctx->ids) < 0 || sandbox_compile(&ctx->ids) < 0) {
		san_ctx_free(ctx);
		return NULL;
	}
	if (ctx->cfg.events) {
		ctx->events = ev_sink_open(ctx->cfg.events);
		if (ctx->events == NULL)
			log_warn("sanitizer: cannot open event log %s", ctx->cfg.events);
	}
	return ctx;
}

void
san_ctx_free(struct san_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->magic)
		magic_close(ctx->magic);
	pthread_mutex_destroy(&ctx->magic_lock);
	ev_sink_close(ctx->events);
	lo_pool_free(ctx->lo);
	sandbox_free(&ctx->ids);
	san_config_free(&ctx->cfg);
	free(ctx);
}

void
san_ctx_office_remote(struct san_ctx *ctx, int svc_fd)
{
	if (ctx->cfg.office_output == SAN_OFFICE_TEXT || svc_fd < 0 || ctx->lo != NULL)
		return;
	ctx->lo = lo_pool_remote(&ctx->cfg, svc_fd);
}

void
san_ctx_office_start(struct san_ctx *ctx, bool warm)
{
	if (ctx->cfg.office_output == SAN_OFFICE_TEXT)
		return;
	if (ctx->lo == NULL)
		ctx->lo = lo_pool_new(&ctx->cfg);
	if (warm)
		lo_pool_warm(ctx->lo);
}

const struct san_config *
san_ctx_config(const struct san_ctx *ctx)
{
	return &ctx->cfg;
}

struct ev_sink *
san_ctx_events(struct san_ctx *ctx)
{
	return ctx->events;
}

/* The worker: never returns. Exit 0 after a complete answer, 3 when the sandbox failed. */
static void __attribute__((noreturn))
worker_main(struct san_ctx *ctx, const int fd_pair[2], const uint8_t *data, size_t len, const char *name,
    const char *declared_mime, const struct lo_output *office, const char *office_why, bool office_refused)
{
	struct san_result res;
	struct wbuf w = { 0 };
	uint64_t budget = ctx->cfg.archive_max_total;
	int fd = fd_pair[0];
	struct san_job job = { &ctx->cfg, ctx->magic, 0, &budget, NULL, NULL, office, office_why, office_refused, data,
		fd_pair[1] };
	unsigned threads = ctx->cfg.worker_threads ? ctx->cfg.worker_threads : pool_auto_threads();
	uint64_t start;

	log_procname("sanitizer[worker]");
	/*
	 * A page's pixmap and a scan's decoded image are megabytes: keep freed
	 * memory for the next page instead of faulting it in anew. 32 MB is the
	 * most glibc accepts (half its 64 MB thread heaps); the 64 MB asked for
	 * before was refused, and the trim setting then froze the threshold at
	 * 128 KB: every pixmap was a fresh mmap, a third of a scan's kernel time.
	 */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	/* the threads start between the two halves: after the uid changed (one thread: no signal to
	 * each), before the rlimits and the filter (inside them no thread can start) */
	if (sandbox_enter_ids(&ctx->ids, fd, fd_pair[1]) < 0)
		_exit(3);
	job.pool = pool_new(threads - 1);
	if (sandbox_enter_filter(&ctx->cfg, &ctx->ids) < 0)
		_exit(3);
	if (san_test_worker_hook)
		san_test_worker_hook(job.pool);
#ifdef TIERGATE_TEST_FORGE
	if (san_test_forge && san_test_forge(fd, data, len))
		_exit(0);
#endif
	/* pages of few colours cross indexed when the parent would index them anyway (codec auto) */
	job.arena = arena_new(fd, SAN_BATCH_BYTES, ctx->cfg.worker_memory, ctx->cfg.codec == SAN_CODEC_AUTO ? SAN_FLAT_COLOURS : 0);
	start = clock_mono_us();
	memset(&res, 0, sizeof res);
	if (fd_write_all(fd, (const uint8_t *)"TGW2", 4) < 0)
		_exit(4);
	dispatch_sanitize(&job, data, len, name, declared_mime, &res);
	res.usec_worker = clock_mono_us() - start;
	if (arena_finish(job.arena) < 0)
		_exit(5);
	if (wire_encode(&res, false, &w) < 0 || fd_write_all(fd, w.p, w.len) < 0)
		_exit(4);
	close(fd);   /* EOF now: the parent builds while this process's memory is torn down */
	_exit(0);
}

/* What the parent got from its worker: the record stream and the descriptors that came with it. */
struct answer {
	struct wbuf w;
	int fds[SAN_MAX_FDS];
	unsigned n_fds;
	bool fds_dropped;   /* more than SAN_MAX_FDS, or a truncated control message */
	bool fd_not_memfd;  /* a descriptor that is not a memfd (closed at once: it could be our own socket) */
	size_t scan;        /* where the next PIXELS record may start; 0 once the result tree began */
	struct pixstore *ps;
	char refused[256];  /* a batch was refused: why */
};

static void
answer_fds(struct answer *a, struct msghdr *msg)
{
	if (msg->msg_flags & MSG_CTRUNC)
		a->fds_dropped = true;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
			if (fcntl(fd, F_GET_SEALS) < 0) {
				close(fd);
				a->fd_not_memfd = true;
			} else if (a->n_fds < SAN_MAX_FDS)
				a->fds[a->n_fds++] = fd;
			else {
				close(fd);
				a->fds_dropped = true;
			}
		}
	}
}

static void
answer_free(struct answer *a)
{
	free(a->w.p);
	for (unsigned i = 0; i < a->n_fds; i++)
		close(a->fds[i]);
	pixstore_free(a->ps);
	memset(a, 0, sizeof *a);
}

/* One batch: its memfd (the oldest descriptor received) checked, mapped, its pages encoded, then closed. */
static int
answer_batch(struct answer *a, const struct san_config *cfg, uint32_t batch, const uint8_t *desc, size_t n)
{
	const uint8_t *map = NULL;
	size_t map_len = 0;
	int fd, rc;

	if (a->n_fds == 0) {
		snprintf(a->refused, sizeof a->refused, "pixel batch %u without its memfd", batch);
		return -1;
	}
	fd = a->fds[0];
	memmove(a->fds, a->fds + 1, --a->n_fds * sizeof *a->fds);
	rc = arena_map_received(fd, cfg->worker_memory, &map, &map_len, a->refused, sizeof a->refused);
	if (rc == 0) {
		rc = pixstore_add_batch(a->ps, cfg, batch, desc, n, map, fd, map_len, a->refused, sizeof a->refused);
		if (map)
			munmap((void *)(uintptr_t)map, map_len);
	}
	close(fd);
	return rc;
}

/* The batches complete so far, each answered with one byte so the worker may send the next. */
static int
answer_batches(struct answer *a, const struct san_config *cfg, int sock)
{
	uint32_t batch;
	const uint8_t *desc;
	size_t n;
	int got;

	if (a->scan == 0 && a->w.len >= 4)
		a->scan = memcmp(a->w.p, "TGW2", 4) == 0 ? 4 : SIZE_MAX;   /* a bad header: wire_decode says so */
	while (a->scan && a->scan != SIZE_MAX && (got = wire_next_pixels(a->w.p, a->w.len, &a->scan, &batch, &desc, &n))) {
		if (got < 0) {
			snprintf(a->refused, sizeof a->refused, "malformed pixel record");
			return -1;
		}
		if (answer_batch(a, cfg, batch, desc, n) < 0)
			return -1;
		/* the worker may be done already (its last batch needs no answer): no SIGPIPE, no error */
		(void)!send(sock, "A", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	return 0;
}

/* One recvmsg into the answer: bytes read, 0 at EOF, -1 on error. */
static ssize_t
collect_one(int fd, struct answer *a)
{
	union { struct cmsghdr hdr; char buf[CMSG_SPACE(sizeof(int) * SAN_MAX_FDS)]; } ctl;
	struct wbuf *w = &a->w;

	if (w->len + 65536 > w->cap) {
		size_t want = w->cap ? w->cap * 2 : 65536 * 2;
		uint8_t *grown = realloc(w->p, want);
		if (grown == NULL)
			return -1;
		w->p = grown;
		w->cap = want;
	}
	struct iovec iov = { w->p + w->len, w->cap - w->len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
	ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0 && errno == ECONNRESET)
		return 0;   /* the worker closed with our answer unread: what it sent was read first */
	if (n < 0)
		return errno == EINTR ? -2 : -1;
	answer_fds(a, &msg);
	w->len += (size_t)n;
	return n;
}

/* Reads the worker's answer until EOF, the deadline, or the size bound. */
static int
collect(int fd, pid_t pid, const struct san_config *cfg, uint64_t deadline_us, size_t max_bytes, struct answer *a,
    bool *timed_out)
{
	for (;;) {
		uint64_t now = clock_mono_us();
		struct pollfd pfd = { fd, POLLIN, 0 };
		int ms = now >= deadline_us ? 0 : (int)((deadline_us - now + 999) / 1000);
		int r = poll(&pfd, 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			*timed_out = true;
			kill(pid, SIGKILL);
			return -1;
		}
		ssize_t n = collect_one(fd, a);
		if (n == -2)
			continue;
		if (a->fd_not_memfd || a->fds_dropped || answer_batches(a, cfg, fd) < 0) {
			/* e.g. the worker's own end of this socket: EOF would never come */
			if (a->refused[0] == '\0')
				snprintf(a->refused, sizeof a->refused, "%s", a->fd_not_memfd ?
				    "a descriptor that is not a memfd was passed" : "more descriptors than pixel batches");
			kill(pid, SIGKILL);
			return 0;
		}
		if (n <= 0)
			return n == 0 ? 0 : -1;
		if (a->w.len > max_bytes) {
			kill(pid, SIGKILL);
			return -2;
		}
	}
}

/*
 * The worker closed its socket (or was killed): its exit is still bounded by
 * the deadline. A worker that closes the socket and sleeps is killed then --
 * never an unbounded waitpid. pidfd_open lets poll wait for the exit itself.
 */
static void
reap(pid_t pid, uint64_t deadline_us, int *status, bool *timed_out)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	for (;;) {
		pid_t got = waitpid(pid, status, WNOHANG);
		if (got == pid || (got < 0 && errno != EINTR))
			break;
		if (got < 0)
			continue;
		uint64_t now = clock_mono_us();
		if (now >= deadline_us) {
			*timed_out = true;
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			break;
		}
		int ms = (int)((deadline_us - now + 999) / 1000);
		if (pidfd >= 0) {
			struct pollfd pfd = { pidfd, POLLIN, 0 };
			poll(&pfd, 1, ms);
		} else {   /* no pidfd (old kernel): look again every 5 ms */
			poll(NULL, 0, ms < 5 ? ms : 5);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
}

static void
worker_failure(const struct san_config *cfg, int status, int collected, bool timed_out,
    struct san_result *res)
{
	if (timed_out) {
		res_block(res, "timed out after %us", cfg->worker_timeout);
	} else if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGXCPU ||
	    (WTERMSIG(status) == SIGKILL && collected != -2))) {
		res_block(res, "worker exceeded its CPU limit (%us)", cfg->worker_cpu_seconds);
	} else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
		res_block(res, "worker killed by the sandbox (SIGSYS: forbidden system call)");
	} else if (WIFSIGNALED(status)) {
		const char *abbrev = sigabbrev_np(WTERMSIG(status));
		res_block(res, "worker crashed: SIG%s", abbrev ? abbrev : "?");
	} else if (collected == -2) {
		res_block(res, "result larger than the output limit");
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
		res_block(res, "worker sandbox could not be set up");
	} else {
		res_block(res, "worker failed (exit %d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
}

/*
 * A worker's answer as the parent accepts it: its pixel batches already
 * checked and encoded as they came (answer_batches), then a well-formed
 * record stream that names exactly those batches, no descriptor left over,
 * and everything built here (build.c). Anything else blocks with why.
 */
static void
accept_answer(struct san_ctx *ctx, struct answer *a, const char *name, struct san_result *res)
{
	char why[256];
	uint32_t batches = 0;

	memset(res, 0, sizeof *res);
	if (a->refused[0]) {
		res_block(res, "worker answer refused: %s", a->refused);
		return;
	}
	if (wire_decode(a->w.p, a->w.len, &ctx->cfg, res, &batches, why, sizeof why) < 0) {
		memset(res, 0, sizeof *res);
		res_block(res, "worker answer refused: %s", why);
		return;
	}
	if (a->n_fds != 0 || batches != pixstore_batches(a->ps)) {
		san_result_free(res);
		res_block(res, "worker answer refused: %u descriptors passed without a pixel batch", a->n_fds);
		return;
	}
	build_result(&ctx->cfg, a->ps, name, res);
}

/*
 * The worker's channel to the converter (lo_chan.c): an office document inside
 * an archive is found only by the worker, which asks the parent to convert it,
 * as the parent does for a file itself before the fork. A thread answers while
 * the main thread collects pixels; the worker is as hostile as its input, so
 * requests are bounded by the archive limits (members, bytes) and one bad
 * request ends the channel.
 */
struct conv_chan {
	int fds[2];                   /* [0] the parent's end, [1] the worker's */
	struct san_ctx *ctx;
	pthread_t thread;
	bool running;
};

static void *
conv_chan_main(void *arg)
{
	struct conv_chan *c = arg;
	const struct san_config *cfg = &c->ctx->cfg;
	struct lo_chan_limits lim = { cfg->max_input_bytes, cfg->max_output_bytes, cfg->archive_max_members,
		cfg->archive_max_total };

	lo_chan_serve(c->fds[0], c->ctx->lo, &lim);
	shutdown(c->fds[0], SHUT_RDWR);   /* a worker waiting for an answer gets EOF, never a hang */
	return NULL;
}

static void
conv_chan_start(struct conv_chan *c)
{
	if (c->fds[1] < 0)
		return;
	close(c->fds[1]);
	c->fds[1] = -1;
	c->running = pthread_create(&c->thread, NULL, conv_chan_main, c) == 0;
}

static void
conv_chan_close(struct conv_chan *c)
{
	if (c->running)
		pthread_join(c->thread, NULL);
	c->running = false;
	for (int i = 0; i < 2; i++)
		if (c->fds[i] >= 0)
			close(c->fds[i]);
	c->fds[0] = c->fds[1] = -1;
}

/* Forks the worker; while it works the parent hashes the input (sha_in) and warms libmagic. */
static int
run_worker(struct san_ctx *ctx, const uint8_t *data, size_t len, const char *name,
    const char *declared_mime, const struct lo_output *office, const char *office_why, bool office_refused,
    char sha_in[SAN_SHA256_HEX], struct san_result *res)
{
	uint64_t deadline = clock_mono_us() + (uint64_t)ctx->cfg.worker_timeout * 1000000;
	int fds[2], status = 0, collected;
	bool timed_out = false;
	struct answer a;
	pid_t pid;

	memset(&a, 0, sizeof a);
	a.ps = pixstore_new();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
		return -1;
	struct conv_chan conv = { { -1, -1 }, ctx, 0, false };
	if (ctx->lo && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, conv.fds) < 0)
		conv.fds[0] = conv.fds[1] = -1;   /* no converter for members: they become text */
	pthread_mutex_lock(&ctx->magic_lock);   /* not while another thread warms it */
	if (imgdecode_may_need_heif(data, len))
		imgdecode_prepare();   /* libheif, now and in this process: the worker could not open it */
	pid = fork();
	bool warm_now = ctx->forked && !ctx->magic_warm;
	ctx->forked = true;
	pthread_mutex_unlock(&ctx->magic_lock);
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		conv_chan_close(&conv);
		pixstore_free(a.ps);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		if (conv.fds[0] >= 0)
			close(conv.fds[0]);
		worker_main(ctx, (const int[2]){ fds[1], conv.fds[1] }, data, len, name, declared_mime, office,
		    office_why, office_refused);
	}
	close(fds[1]);
	conv_chan_start(&conv);
	san_sha256_hex(data, len, sha_in);
	if (warm_now)
		san_ctx_warm_magic(ctx);
	collected = collect(fds[0], pid, &ctx->cfg, deadline, ctx->cfg.max_output_bytes + (16u << 20), &a, &timed_out);
	close(fds[0]);
	memset(res, 0, sizeof *res);
	/* built while the worker exits, kept only if it exits well (or its answer was refused anyway) */
	if (collected == 0 && !timed_out)
		accept_answer(ctx, &a, name, res);
	reap(pid, deadline, &status, &timed_out);
	conv_chan_close(&conv);   /* the worker is gone: its end closed, the serving thread sees EOF */
	if (collected == 0 && !timed_out && ((WIFEXITED(status) && WEXITSTATUS(status) == 0) || a.refused[0])) {
		answer_free(&a);
		return 0;
	}
	san_result_free(res);
	memset(res, 0, sizeof *res);
	answer_free(&a);
	if (collected == -1 && !timed_out && !WIFSIGNALED(status) && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0)
		return -1;   /* our own read failed */
	worker_failure(&ctx->cfg, status, collected, timed_out, res);
	return 0;
}

/*
 * The parent built every output itself (build.c); what is left to trust are
 * the types it set and one more pass over the top-level name, so a caller
 * never writes outside its directory whatever the caller's name was.
 */
static void
trust_result(struct san_result *r)
{
	static const char *const mimes[] = { "application/pdf", "text/plain; charset=utf-8",
		"text/csv; charset=utf-8", "image/png", "image/jpeg", "application/zip", NULL };
	bool known = false;

	for (int i = 0; mimes[i] && r->out_mime; i++)
		known |= strcmp(r->out_mime, mimes[i]) == 0;
	if (r->action != SAN_BLOCKED && (r->out == NULL || !known)) {
		res_block(r, "worker answer refused (inconsistent output)");
		return;
	}
	if (r->out_name) {
		char *safe = res_safe_name(r->out_name);
		free(r->out_name);
		r->out_name = safe;
	}
}

int
san_buffer(struct san_ctx *ctx, const uint8_t *data, size_t len, const char *name,
    const char *declared_mime, struct san_result *res)
{
	uint64_t start = clock_mono_us();
	char sha_in[SAN_SHA256_HEX] = "", office_why[256] = "";
	struct lo_output office = { 0 };
	const char *ext = NULL;
	int converted = -1;

	memset(res, 0, sizeof *res);
	if (ctx->lo && len <= ctx->cfg.max_input_bytes && (ext = lo_sniff(data, len, name)) != NULL)
		converted = lo_pool_convert(ctx->lo, data, len, ext, &office, office_why, sizeof office_why);
	if (len > ctx->cfg.max_input_bytes) {   /* beyond the limit the bytes are not even read */
		res_block(res, "larger than the input limit (%zu bytes)", ctx->cfg.max_input_bytes);
	} else if (run_worker(ctx, data, len, name, declared_mime, converted == 0 ? &office : NULL,
	    ext && converted < 0 ? office_why : NULL, converted == -2, sha_in, res) < 0) {
		lo_output_free(&office);
		log_warn("sanitizer: cannot run a worker for %s", name ? name : "(unnamed)");
		return -1;
	}
	lo_output_free(&office);
	if (converted == 0 && res->action == SAN_FLATTENED && res->n_members == 0 && name) {
		/* office pages without the text (office.output = "image"): still report.docx.pdf, never report.pdf */
		char *safe = res_safe_name(name);
		free(res->out_name);
		res->out_name = res_name_with_ext(safe, ".pdf", true);
		free(safe);
	}
	res_set_str(&res->name, name);
	res_set_str(&res->declared_mime, declared_mime);
	cleanres_result(res);   /* names and text as shown and delivered: before trust_result's name rules */
	if (res->action == SAN_FLATTENED && res->n_members == 1)
		cleanres_output(&res->members[0]);   /* an office document's text beside its pages: delivered too */
	trust_result(res);
	memcpy(res->sha256_in, sha_in, sizeof sha_in);
	if (res->out)
		san_sha256_hex(res->out, res->out_len, res->sha256_out);
	for (size_t i = 0; i < res->n_members; i++)
		if (res->members[i].out)
			san_sha256_hex(res->members[i].out, res->members[i].out_len, res->members[i].sha256_out);
	res->usec_total = clock_mono_us() - start;
	return 0;
}

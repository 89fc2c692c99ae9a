/* spool.c -- inbox to outbox: claim by rename into a work dir, sanitize with a bounded pool, finish atomically. */
#include "sanitizer/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

/*
 * A file's life: inbox/NAME --rename--> state/work/SEQ-NAME (claimed: the
 * inbox writer can no longer touch it, and a crash leaves it to be redone)
 * --sanitize--> outbox/OUTNAME written atomically, or quarantine --> the
 * work file is removed. Redoing a file after a crash rewrites the same
 * output name with the same bytes, so nothing is lost and nothing doubled.
 */
struct job {
	char *work_name;   /* SEQ-NAME in the work dir */
	struct job *next;
};

struct spool {
	struct spool_config cfg;
	struct san_ctx *ctx;
	char work_dir[4096], report_dir[4096], rejected_dir[4096];
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct job *head, *tail;
	unsigned busy;
	bool stopping;
	uint64_t seq;
	pthread_t *threads;
	struct ev_sink *events;
};

void
spool_config_defaults(struct spool_config *sp)
{
	memset(sp, 0, sizeof *sp);
	sp->inbox = xstrdup("/var/spool/tiergate/inbox");
	sp->outbox = xstrdup("/var/spool/tiergate/outbox");
	sp->state_dir = xstrdup("/var/spool/tiergate/state");
	sp->workers = 2;
	sp->stable_seconds = 5;
}

void
spool_config_free(struct spool_config *sp)
{
	free(sp->inbox);
	free(sp->outbox);
	free(sp->state_dir);
	free(sp->events);
	memset(sp, 0, sizeof *sp);
}

static void
spool_conf_str(const config_setting_t *g, const char *name, char **field, struct diags *d)
{
	const char *v = NULL;

	if (conf_get_str(g, name, &v, d) == 0 && v) {
		free(*field);
		*field = *v ? xstrdup(v) : NULL;
	}
}

int
spool_config_load(struct spool_config *sp, const config_setting_t *root, struct diags *d)
{
	static const char *const known[] = { "inbox", "outbox", "state_dir", "workers",
		"stable_seconds", "events", NULL };
	const config_setting_t *g = root ? config_setting_get_member(root, "spool") : NULL;
	size_t before = diags_count(d, DIAG_ERROR);

	if (g == NULL)
		return 0;
	conf_check_members(g, known, d);
	spool_conf_str(g, "inbox", &sp->inbox, d);
	spool_conf_str(g, "outbox", &sp->outbox, d);
	spool_conf_str(g, "state_dir", &sp->state_dir, d);
	spool_conf_str(g, "events", &sp->events, d);
	conf_get_uint(g, "workers", 64, &sp->workers, d);
	conf_get_uint(g, "stable_seconds", 3600, &sp->stable_seconds, d);
	if (sp->workers == 0)
		sp->workers = 1;
	if (!sp->inbox || !sp->outbox || !sp->state_dir)
		diags_add(d, DIAG_ERROR, g, "spool needs inbox, outbox and state_dir");
	return diags_count(d, DIAG_ERROR) > before ? -1 : 0;
}

/* Names the inbox writer is still busy with by convention, or that are not ours. */
static bool
spool_name_ignored(const char *name)
{
	return name[0] == '.' || str_has_suffix(name, ".part") || str_has_suffix(name, ".tmp") ||
	    str_has_suffix(name, "~") || strchr(name, '/') != NULL;
}

static void
spool_enqueue(struct spool *s, const char *work_name)
{
	struct job *j = xcalloc(1, sizeof *j);

	j->work_name = xstrdup(work_name);
	pthread_mutex_lock(&s->lock);
	if (s->tail)
		s->tail->next = j;
	else
		s->head = j;
	s->tail = j;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

/*
 * Is anybody still writing the file? A close-write event only says that one
 * descriptor closed (a writer's forked child closing its copy is enough); a
 * read lease is granted only when no process has the file open for writing.
 * Returns 1 busy, 0 free (lease held in *fd, released by the caller), -1 unknown.
 */
static int
spool_writer_busy(const char *path, int *fd)
{
	*fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0)
		return -1;
	if (fcntl(*fd, F_SETLEASE, F_RDLCK) == 0)
		return 0;
	int busy = errno == EAGAIN || errno == EBUSY;
	close(*fd);
	*fd = -1;
	return busy ? 1 : -1;
}

/* Moves inbox/name into the work dir and queues it, unless a writer still has it open. */
static void
spool_claim(struct spool *s, const char *name, bool quiet_long_enough)
{
	char from[4096], work_name[4096], to[8192];
	struct stat st;
	int fd, busy;

	if (spool_name_ignored(name))
		return;
	snprintf(from, sizeof from, "%s/%s", s->cfg.inbox, name);
	if (lstat(from, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	busy = spool_writer_busy(from, &fd);
	/* without a lease (not the owner, no CAP_LEASE) only a long quiet time tells */
	if (busy == 1 || (busy < 0 && !quiet_long_enough))
		return;
	pthread_mutex_lock(&s->lock);
	uint64_t seq = ++s->seq;
	pthread_mutex_unlock(&s->lock);
	snprintf(work_name, sizeof work_name, "%016llx-%s", (unsigned long long)seq, name);
	snprintf(to, sizeof to, "%s/%s", s->work_dir, work_name);
	int moved = rename(from, to);
	if (fd >= 0) {
		fcntl(fd, F_SETLEASE, F_UNLCK);
		close(fd);
	}
	if (moved < 0) {
		if (errno != ENOENT)
			log_warn("spool: cannot claim %s", from);
		return;
	}
	log_debug("spool: claimed %s", name);
	spool_enqueue(s, work_name);
}

void
spool_offer(struct spool *s, const char *name)
{
	spool_claim(s, name, false);
}

void
spool_scan(struct spool *s)
{
	DIR *d = opendir(s->cfg.inbox);
	struct dirent *e;
	time_t now = time(NULL);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		if (spool_name_ignored(e->d_name))
			continue;
		snprintf(path, sizeof path, "%s/%s", s->cfg.inbox, e->d_name);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    now - st.st_mtime >= (time_t)s->cfg.stable_seconds)
			spool_claim(s, e->d_name, true);
	}
	closedir(d);
}

static void
spool_event(struct spool *s, const char *name, const struct san_result *res, const char *out,
    const char *qid)
{
	struct jbuf jb = JBUF_INIT;

	if (s->events == NULL)
		return;
	ev_begin(&jb, "spool", 0);
	jb_str(&jb, "name", name);
	jb_str(&jb, "action", san_action_name(res->action));
	jb_str(&jb, "reason", res->reason);
	jb_str(&jb, "detected_type", res->detected_mime);
	jb_arr_begin(&jb, "findings");
	for (size_t i = 0; i < res->n_findings; i++)
		jb_str(&jb, NULL, res->findings[i]);
	jb_arr_end(&jb);
	jb_str(&jb, "sha256_in", res->sha256_in);
	jb_str(&jb, "output", out);
	jb_str(&jb, "quarantine_id", qid);
	jb_double(&jb, "duration_ms", (double)res->usec_total / 1000.0);
	ev_end(&jb);
	ev_emit(s->events, &jb);
	jb_free(&jb);
}

/* True when path holds exactly these bytes (a redo after a crash finds its own earlier output). */
static bool
spool_same_file(const char *path, const uint8_t *data, size_t len)
{
	uint8_t *have = NULL;
	size_t have_len = 0;
	bool same;

	if (file_read_all(path, len + 1, &have, &have_len) < 0)
		return false;
	same = have_len == len && memcmp(have, data, len) == 0;
	free(have);
	return same;
}

/*
 * outbox/NAME, or NAME-2.ext, NAME-3.ext ... when another file of that name
 * is still waiting there: a later file must not overwrite one not yet picked up.
 */
static void
spool_out_path(struct spool *s, const struct san_result *res, char *out, size_t size)
{
	const char *name = res->out_name, *dot = strrchr(name, '.');
	int stem = dot && dot != name ? (int)(dot - name) : (int)strlen(name);

	snprintf(out, size, "%s/%s", s->cfg.outbox, name);
	for (int n = 2; n < 1000 && access(out, F_OK) == 0 && !spool_same_file(out, res->out, res->out_len); n++)
		snprintf(out, size, "%s/%.*s-%d%s", s->cfg.outbox, stem, name, n, stem < (int)strlen(name) ? dot : "");
}

/* Delivers a result: output to the outbox, or the original to quarantine; the report to the state dir. */
static int
spool_deliver(struct spool *s, const char *name, const uint8_t *data, size_t len, struct san_result *res)
{
	char out[8192] = "", report[8192], qid[SAN_SHA256_HEX] = "";

	if (res->action != SAN_BLOCKED && res->out) {
		spool_out_path(s, res, out, sizeof out);
		if (file_write_atomic(out, res->out, res->out_len, 0644) < 0) {
			log_warn("spool: cannot write %s", out);
			return -1;
		}
	} else if (san_quarantine_original(s->ctx, data, len, res, "file", "spool", NULL, NULL, 0, qid) < 0) {
		return -1;
	}
	snprintf(report, sizeof report, "%s/%s.report.json", s->report_dir, name);
	san_report_write(res, report);
	spool_event(s, name, res, out[0] ? out : NULL, qid[0] ? qid : NULL);
	log_info("spool: %s: %s%s%s", name, san_action_name(res->action), res->reason ? ": " : "",
	    res->reason ? res->reason : "");
	return 0;
}

static void
spool_process(struct spool *s, const char *work_name)
{
	const char *name = strchr(work_name, '-') + 1;
	char path[8192];
	uint8_t *data = NULL;
	size_t len = 0;
	struct san_result res;

	snprintf(path, sizeof path, "%s/%s", s->work_dir, work_name);
	if (file_read_all(path, san_ctx_config(s->ctx)->max_input_bytes, &data, &len) < 0) {
		if (errno == EFBIG) {   /* a verdict without reading it all: set aside, never redone */
			char rejected[8192];
			snprintf(rejected, sizeof rejected, "%s/rejected/%s", s->cfg.state_dir, work_name);
			if (rename(path, rejected) == 0)
				log_warnx("spool: %s larger than the input limit: moved to %s", name, rejected);
		} else {
			log_warn("spool: cannot read %s", path);
		}
		return;
	}
	if (san_buffer(s->ctx, data, len, name, NULL, &res) < 0) {
		free(data);   /* internal error: the file stays in work/ and is redone next start */
		return;
	}
	if (spool_deliver(s, name, data, len, &res) == 0)
		unlink(path);
	san_result_free(&res);
	free(data);
}

static void *
spool_worker(void *arg)
{
	struct spool *s = arg;

	for (;;) {
		struct job *j;
		pthread_mutex_lock(&s->lock);
		while (s->head == NULL && !s->stopping)
			pthread_cond_wait(&s->wake, &s->lock);
		if (s->stopping) {
			pthread_mutex_unlock(&s->lock);
			return NULL;
		}
		j = s->head;
		s->head = j->next;
		if (s->head == NULL)
			s->tail = NULL;
		s->busy++;
		pthread_mutex_unlock(&s->lock);
		spool_process(s, j->work_name);
		free(j->work_name);
		free(j);
		pthread_mutex_lock(&s->lock);
		s->busy--;
		pthread_mutex_unlock(&s->lock);
	}
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Work a previous run claimed but did not finish: redo it, in claim order. */
static void
spool_recover(struct spool *s)
{
	DIR *d = opendir(s->work_dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strchr(e->d_name, '-') == NULL)
			continue;
		names = xrealloc(names, n + 1, sizeof *names);
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, name_cmp);
	for (size_t i = 0; i < n; i++) {
		unsigned long long seq = strtoull(names[i], NULL, 16);
		if (seq > s->seq)
			s->seq = seq;
		log_info("spool: resuming %s", names[i]);
		spool_enqueue(s, names[i]);
		free(names[i]);
	}
	free(names);
}

struct spool *
spool_start(const struct spool_config *sp, struct san_ctx *ctx)
{
	struct spool *s = xcalloc(1, sizeof *s);

	s->cfg = *sp;
	s->cfg.inbox = xstrdup(sp->inbox);
	s->cfg.outbox = xstrdup(sp->outbox);
	s->cfg.state_dir = xstrdup(sp->state_dir);
	s->cfg.events = sp->events ? xstrdup(sp->events) : NULL;
	s->ctx = ctx;
	snprintf(s->work_dir, sizeof s->work_dir, "%s/work", sp->state_dir);
	snprintf(s->report_dir, sizeof s->report_dir, "%s/reports", sp->state_dir);
	snprintf(s->rejected_dir, sizeof s->rejected_dir, "%s/rejected", sp->state_dir);
	if (dir_make_all(sp->inbox, 0750) < 0 || dir_make_all(sp->outbox, 0755) < 0 ||
	    dir_make_all(s->work_dir, 0700) < 0 || dir_make_all(s->report_dir, 0750) < 0 ||
	    dir_make_all(s->rejected_dir, 0700) < 0)
		fatal("spool: cannot create the spool directories under %s", sp->state_dir);
	if (sp->events && (s->events = ev_sink_open(sp->events)) == NULL)
		log_warn("spool: cannot open event log %s", sp->events);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	spool_recover(s);
	s->threads = xcalloc(sp->workers, sizeof *s->threads);
	for (unsigned i = 0; i < sp->workers; i++)
		if (pthread_create(&s->threads[i], NULL, spool_worker, s) != 0)
			fatal("spool: cannot start worker thread");
	return s;
}

int
spool_idle(struct spool *s)
{
	int idle;

	pthread_mutex_lock(&s->lock);
	idle = s->head == NULL && s->busy == 0;
	pthread_mutex_unlock(&s->lock);
	return idle;
}

void
spool_stop(struct spool *s)
{
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < s->cfg.workers; i++)
		pthread_join(s->threads[i], NULL);
	while (s->head) {   /* still in work/: the next start takes them */
		struct job *j = s->head;
		s->head = j->next;
		free(j->work_name);
		free(j);
	}
	ev_sink_close(s->events);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	free(s->threads);
	spool_config_free(&s->cfg);
	free(s);
}

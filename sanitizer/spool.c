/* spool.c -- inbox to outbox: claim by rename into a work dir, sanitize with a bounded pool, finish atomically. */
#include "sanitizer/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/textclean.h"
#include "lib/util.h"
#include "sanitizer/reltoken.h"
#include "sanitizer/uniqname.h"

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
	sp->outbox_mode = 0640;
	sp->outbox_gid = (gid_t)-1;
}

void
spool_config_free(struct spool_config *sp)
{
	free(sp->inbox);
	free(sp->outbox);
	free(sp->state_dir);
	free(sp->events);
	free(sp->outbox_group);
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

/* outbox_mode = "0640" (octal, as chmod takes it); no bit for others to write, nor setuid/setgid/sticky. */
static void
spool_conf_mode(const config_setting_t *g, struct spool_config *sp, struct diags *d)
{
	const config_setting_t *m = config_setting_get_member(g, "outbox_mode");
	const char *v = NULL;
	char *end = NULL;
	unsigned long mode;

	if (m == NULL || conf_get_str(g, "outbox_mode", &v, d) < 0 || v == NULL)
		return;
	mode = strtoul(v, &end, 8);
	if (*v == '\0' || *end != '\0' || mode > 0777 || (mode & 0002) || (mode & 0600) != 0600) {
		diags_add(d, DIAG_ERROR, m, "outbox_mode must be an octal mode like \"0640\" "
		    "(owner read+write, never writable by others)");
		return;
	}
	sp->outbox_mode = (unsigned)mode;
}

static void
spool_conf_group(const config_setting_t *g, struct spool_config *sp, struct diags *d)
{
	const config_setting_t *m = config_setting_get_member(g, "outbox_group");
	const char *v = NULL;
	struct group *gr;

	if (m == NULL || conf_get_str(g, "outbox_group", &v, d) < 0 || v == NULL || *v == '\0')
		return;
	gr = getgrnam(v);
	if (gr == NULL) {
		diags_add(d, DIAG_ERROR, m, "outbox_group: no such group");
		return;
	}
	free(sp->outbox_group);
	sp->outbox_group = xstrdup(v);
	sp->outbox_gid = gr->gr_gid;
}

int
spool_config_load(struct spool_config *sp, const config_setting_t *root, struct diags *d)
{
	static const char *const known[] = { "inbox", "outbox", "state_dir", "workers",
		"stable_seconds", "events", "outbox_mode", "outbox_group", NULL };
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
	spool_conf_mode(g, sp, d);
	spool_conf_group(g, sp, d);
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
 * A spool file is one regular file with one name: not a symlink (O_NOFOLLOW),
 * not a FIFO or device (O_NONBLOCK: opening a FIFO must not hang the daemon),
 * not a hard link to a file that lives elsewhere (st_nlink == 1). Whatever
 * the name pointed to when it was looked at, only what this descriptor holds
 * is judged -- and, in spool_process, read.
 */
static int
spool_open_checked(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || st->st_nlink != 1) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* The whole file from fd (at most max bytes: EFBIG beyond). */
static int
spool_read_fd(int fd, const struct stat *st, size_t max, uint8_t **out, size_t *out_len)
{
	size_t cap = (size_t)st->st_size + 1, len = 0;
	uint8_t *buf;

	if ((uint64_t)st->st_size > max) {
		errno = EFBIG;
		return -1;
	}
	buf = xmalloc(cap);
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {   /* grew since fstat */
			free(buf);
			errno = EFBIG;
			return -1;
		}
		if (len == cap)
			buf = xrealloc(buf, cap *= 2, 1);
	}
	*out = buf;
	*out_len = len;
	return 0;
}

/*
 * Is anybody still writing the file? A close-write event only says that one
 * descriptor closed (a writer's forked child closing its copy is enough); a
 * read lease is granted only when no process has the file open for writing.
 * Returns 1 busy, 0 free, -1 unknown (no lease for us); -2 not a spool file.
 * *fd is the checked descriptor (the caller closes it) unless -2.
 */
static int
spool_writer_busy(const char *path, int *fd, struct stat *st)
{
	*fd = spool_open_checked(path, st);
	if (*fd < 0)
		return -2;
	if (fcntl(*fd, F_SETLEASE, F_RDLCK) == 0)
		return 0;
	return errno == EAGAIN || errno == EBUSY ? 1 : -1;
}

static void
spool_release(int fd)
{
	fcntl(fd, F_SETLEASE, F_UNLCK);
	close(fd);
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
	busy = spool_writer_busy(from, &fd, &st);
	if (busy == -2)
		return;   /* gone, or a symlink/FIFO/hard link: never claimed (spool_process checks again) */
	/* without a lease (not the owner, no CAP_LEASE) only a long quiet time tells */
	if (busy == 1 || (busy < 0 && !quiet_long_enough)) {
		spool_release(fd);
		return;
	}
	pthread_mutex_lock(&s->lock);
	uint64_t seq = ++s->seq;
	pthread_mutex_unlock(&s->lock);
	snprintf(work_name, sizeof work_name, "%016llx-%s", (unsigned long long)seq, name);
	snprintf(to, sizeof to, "%s/%s", s->work_dir, work_name);
	int moved = rename(from, to);
	spool_release(fd);
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
    const char *qid, const char *owner, const char *link)
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
	if (owner)
		jb_str(&jb, "owner", owner);
	if (link)
		jb_str(&jb, "request_link", link);
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
	struct stat st;
	bool same;
	int fd = spool_open_checked(path, &st), rc;

	if (fd < 0)
		return false;
	rc = spool_read_fd(fd, &st, len, &have, &have_len);
	close(fd);
	if (rc < 0)
		return false;
	same = have_len == len && memcmp(have, data, len) == 0;
	free(have);
	return same;
}

/* The output in a hidden temp file of the outbox, already with its final mode and group. */
static int
spool_temp_file(struct spool *s, const uint8_t *data, size_t len, uid_t uid, gid_t gid, mode_t mode,
    char *tmp, size_t size)
{
	int fd;

	snprintf(tmp, size, "%s/.tiergate-XXXXXX", s->cfg.outbox);
	fd = mkstemp(tmp);
	if (fd < 0)
		return -1;
	if (((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0) || fchmod(fd, mode) < 0 ||
	    fd_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	return close(fd);
}

static int
spool_out_temp(struct spool *s, const struct san_result *res, char *tmp, size_t size)
{
	return spool_temp_file(s, res->out, res->out_len, (uid_t)-1, s->cfg.outbox_gid,
	    (mode_t)s->cfg.outbox_mode, tmp, size);
}

/*
 * outbox/NAME, or "NAME (2).ext", "NAME (3).ext" ... when another file of
 * that name is still waiting there. link() never replaces, so two workers
 * finishing files of the same name at once cannot overwrite each other.
 */
static int
spool_out_publish(struct spool *s, const struct san_result *res, const char *tmp, char *out, size_t size)
{
	for (unsigned n = 1; n < 1000; n++) {
		char *name = uniqname_nth(res->out_name, n);
		snprintf(out, size, "%s/%s", s->cfg.outbox, name);
		free(name);
		if (link(tmp, out) == 0)
			return unlink(tmp);
		if (errno != EEXIST)
			break;
		if (spool_same_file(out, res->out, res->out_len))
			return unlink(tmp);
	}
	unlink(tmp);
	return -1;
}

static int
spool_out_write(struct spool *s, const struct san_result *res, char *out, size_t size)
{
	char tmp[8192];

	if (spool_out_temp(s, res, tmp, sizeof tmp) < 0 || spool_out_publish(s, res, tmp, out, size) < 0) {
		log_warn("spool: cannot write %s to %s", res->out_name, s->cfg.outbox);
		return -1;
	}
	return 0;
}

/*
 * The user a blocked file is for: the owner of the file dropped in the inbox, when that is
 * a real user (not root, not the spool's own account). NULL otherwise: then only an admin
 * releases it.
 */
static const char *
spool_owner(uid_t uid, char *buf, size_t size)
{
	struct passwd pw, *found = NULL;
	char tmp[4096];

	if (uid == (uid_t)-1 || uid == 0 || uid == geteuid() || getpwuid_r(uid, &pw, tmp, sizeof tmp, &found) != 0 ||
	    found == NULL || str_copy(buf, pw.pw_name, size) >= size)
		return NULL;
	return buf;
}

/* The portal link for the owner (token_key and portal_url set), as the milter makes one per recipient. */
static char *
spool_request_link(const struct san_config *sc, const char *qid, const char *owner)
{
	uint8_t key[RELTOKEN_KEY_LEN];
	char *link;

	if (owner == NULL || sc->token_key == NULL || sc->portal_url == NULL || reltoken_key_load(sc->token_key, key) < 0)
		return NULL;
	link = reltoken_link(key, sc->portal_url, qid, owner, (int64_t)time(NULL) + (int64_t)sc->request_days * 86400);
	OPENSSL_cleanse(key, sizeof key);
	return link;
}

/*
 * What the person who dropped a blocked file finds in the outbox instead of it:
 * "NAME.blocked.txt" (日本語 / English) with the reason, the quarantine id and, when the
 * portal is set up, their link to ask for the original. Given to the owner alone (0600)
 * when the owner is known -- the link is theirs; otherwise with the outbox's mode and group.
 */
static int
spool_notice_text(const char *name, const struct san_result *res, const char *qid, const char *link,
    char *buf, size_t size)
{
	char reason[1024];
	int n;

	textclean_name(res->reason ? res->reason : "blocked", strlen(res->reason ? res->reason : "blocked"),
	    reason, sizeof reason, NULL);
	n = snprintf(buf, size,
	    "tiergate: このファイルは無害化できなかったため、届けられませんでした。\n"
	    "tiergate: this file could not be sanitized and was not delivered.\n\n"
	    "ファイル / File: %s\n理由 / Reason: %s\n隔離 ID / Quarantine ID: %s\n\n%s%s\n",
	    name, reason, qid,
	    link ? "原本の受け取りを申請する（承認者が判断します） / Ask for the original (approvers decide):\n" :
	    "原本が必要な場合は、管理者に隔離 ID をお伝えください。\n"
	    "If you need the original, give your administrator the quarantine ID.",
	    link ? link : "");
	return n > 0 && (size_t)n < size ? n : -1;
}

static int
spool_notice_write(struct spool *s, const char *name, const struct san_result *res, const char *qid,
    const char *link, uid_t owner_uid)
{
	char text[4096], tmp[8192], out[8192];
	struct san_result notice = { 0 };
	int len = spool_notice_text(name, res, qid, link, text, sizeof text), rc = -1;
	bool own = owner_uid != (uid_t)-1;

	notice.out = (uint8_t *)text;
	notice.out_len = len > 0 ? (size_t)len : 0;
	notice.out_name = xstrfmt("%s.blocked.txt", name);
	if (len > 0 && spool_temp_file(s, notice.out, notice.out_len, own ? owner_uid : (uid_t)-1,
	    own ? (gid_t)-1 : s->cfg.outbox_gid, own ? 0600 : (mode_t)s->cfg.outbox_mode, tmp, sizeof tmp) == 0)
		rc = spool_out_publish(s, &notice, tmp, out, sizeof out);
	if (rc < 0)
		log_warn("spool: cannot write the notice for %s to %s", name, s->cfg.outbox);
	free(notice.out_name);
	return rc;
}

/* Delivers a result: output to the outbox, or the original to quarantine; the report to the state dir. */
static int
spool_deliver(struct spool *s, const char *name, const uint8_t *data, size_t len, struct san_result *res,
    uid_t from_uid)
{
	char out[8192] = "", report[8192], qid[SAN_SHA256_HEX] = "", who[256], *link = NULL;
	const char *owner = NULL;

	/* the name as san_buffer cleaned it (lib/textclean.c): what reports, events and logs show */
	name = res->name && *res->name && *res->name != '.' ? res->name : "file";
	if (res->action != SAN_BLOCKED && res->out) {
		/* an office document's text beside its pages (office.output = "both"), written first:
		 * whoever picks up the PDF finds its text already there */
		for (size_t i = 0; res->action == SAN_FLATTENED && i < res->n_members; i++) {
			char side[8192];
			if (res->members[i].out && res->members[i].out_name &&
			    spool_out_write(s, &res->members[i], side, sizeof side) < 0)
				return -1;
		}
		if (spool_out_write(s, res, out, sizeof out) < 0)
			return -1;
	} else {
		owner = spool_owner(from_uid, who, sizeof who);
		if (san_quarantine_original(s->ctx, data, len, res, "file", "spool", NULL, owner ? &owner : NULL,
		    owner ? 1 : 0, qid) < 0)
			return -1;
		link = spool_request_link(san_ctx_config(s->ctx), qid, owner);
		/* the original is safe in quarantine: a notice that cannot be written is only logged */
		(void)spool_notice_write(s, name, res, qid, link, owner ? from_uid : (uid_t)-1);
	}
	snprintf(report, sizeof report, "%s/%s.report.json", s->report_dir, name);
	san_report_write(res, report);
	spool_event(s, name, res, out[0] ? out : NULL, qid[0] ? qid : NULL, owner, link);
	free(link);
	log_info("spool: %s: %s%s%s", name, san_action_name(res->action), res->reason ? ": " : "",
	    res->reason ? res->reason : "");
	return 0;
}

/* Sets a work entry aside in state/rejected: never redone, never lost. */
static void
spool_reject(struct spool *s, const char *work_name, const char *why)
{
	char from[8192], to[8192], shown[1024];

	snprintf(from, sizeof from, "%s/%s", s->work_dir, work_name);
	snprintf(to, sizeof to, "%s/%s", s->rejected_dir, work_name);
	textclean_name(work_name, strlen(work_name), shown, sizeof shown, NULL);
	if (rename(from, to) == 0)
		log_warnx("spool: %s %s: moved to %s/", shown, why, s->rejected_dir);
	else
		log_warn("spool: %s %s, and cannot be moved to %s/", shown, why, s->rejected_dir);
}

/* Reads the claimed file through one checked descriptor (spool_open_checked). */
static int
spool_read_work(struct spool *s, const char *work_name, uint8_t **data, size_t *len, uid_t *owner)
{
	char path[8192];
	struct stat st;
	int fd, rc;

	snprintf(path, sizeof path, "%s/%s", s->work_dir, work_name);
	fd = spool_open_checked(path, &st);
	if (fd < 0) {
		if (errno == ELOOP || errno == EINVAL || errno == ENXIO)
			spool_reject(s, work_name, "is not one regular file (symlink, FIFO or hard link)");
		else
			log_warn("spool: cannot open %s", path);
		return -1;
	}
	rc = spool_read_fd(fd, &st, san_ctx_config(s->ctx)->max_input_bytes, data, len);
	close(fd);
	*owner = st.st_uid;
	if (rc < 0 && errno == EFBIG)   /* a verdict without reading it all: set aside, never redone */
		spool_reject(s, work_name, "is larger than the input limit");
	else if (rc < 0)
		log_warn("spool: cannot read %s", path);
	return rc;
}

static void
spool_process(struct spool *s, const char *work_name)
{
	const char *name = strchr(work_name, '-') + 1;
	char path[8192];
	uint8_t *data = NULL;
	size_t len = 0;
	struct san_result res;
	uid_t owner = (uid_t)-1;

	if (spool_read_work(s, work_name, &data, &len, &owner) < 0)
		return;
	if (san_buffer(s->ctx, data, len, name, NULL, &res) < 0) {
		free(data);   /* internal error: the file stays in work/ and is redone next start */
		return;
	}
	snprintf(path, sizeof path, "%s/%s", s->work_dir, work_name);
	if (spool_deliver(s, name, data, len, &res, owner) == 0)
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
	if (n > 1)
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

/* The outbox dir: searchable by whom may read its files (0640 -> 0750), in their group. */
static int
spool_outbox_dir(const struct spool_config *sp)
{
	mode_t mode = (mode_t)(sp->outbox_mode | 0700 | ((sp->outbox_mode & 0040) ? 0010 : 0) | ((sp->outbox_mode & 0004) ? 0001 : 0));
	if (dir_make_all(sp->outbox, mode) < 0)
		return -1;
	if (sp->outbox_gid != (gid_t)-1 && chown(sp->outbox, (uid_t)-1, sp->outbox_gid) < 0) {
		log_warn("spool: cannot give %s to group %s", sp->outbox, sp->outbox_group);
		return -1;
	}
	return 0;
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
	s->cfg.outbox_group = sp->outbox_group ? xstrdup(sp->outbox_group) : NULL;
	s->ctx = ctx;
	snprintf(s->work_dir, sizeof s->work_dir, "%s/work", sp->state_dir);
	snprintf(s->report_dir, sizeof s->report_dir, "%s/reports", sp->state_dir);
	snprintf(s->rejected_dir, sizeof s->rejected_dir, "%s/rejected", sp->state_dir);
	if (dir_make_all(sp->inbox, 0750) < 0 || spool_outbox_dir(sp) < 0 ||
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

struct ev_sink *
spool_events(struct spool *s)
{
	return s->events;
}

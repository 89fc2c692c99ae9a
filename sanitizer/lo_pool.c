/* lo_pool.c -- the converter slots of one process: a free slot per document, restarts after a failure or N documents. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/internal.h"
#include "sanitizer/lo.h"

struct lo_pool {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	struct lo_limits lim;
	char *soffice;
	unsigned max_pages, max_docs, n;
	struct lo_slot *slots;
	bool *busy;
	bool as_root;             /* root without a user to drop to: never start a converter */
	int remote;               /* >= 0: no slots here, the converter service behind it converts (lo_service.c) */
	/* slots are started by one thread that lives as long as the pool (lo_pool_starter), made at the first start */
	pthread_t starter;
	bool has_starter, stopping, start_done;
	int start_slot;           /* the slot asked for, -1: none */
	int start_rc;
	char start_why[256];
	pthread_cond_t start_cv;
};

/*
 * Why a thread of its own: bwrap's --die-with-parent is PR_SET_PDEATHSIG, and
 * the kernel sends it when the *thread* that forked bwrap exits, not the
 * process. A slot started by a short-lived thread (a worker's conversion
 * channel, a service connection) would be killed when that thread ends.
 */
static void *
lo_pool_starter(void *arg)
{
	struct lo_pool *lp = arg;

	pthread_mutex_lock(&lp->lock);
	for (;;) {
		while (!lp->stopping && lp->start_slot < 0)
			pthread_cond_wait(&lp->start_cv, &lp->lock);
		if (lp->stopping)
			break;
		unsigned i = (unsigned)lp->start_slot;
		pthread_mutex_unlock(&lp->lock);
		char why[256] = "";
		int rc = lo_slot_start(&lp->slots[i], &lp->lim, why, sizeof why);
		pthread_mutex_lock(&lp->lock);
		lp->start_rc = rc;
		snprintf(lp->start_why, sizeof lp->start_why, "%s", why);
		lp->start_slot = -1;
		lp->start_done = true;
		pthread_cond_broadcast(&lp->start_cv);
	}
	pthread_mutex_unlock(&lp->lock);
	return NULL;
}

/*
 * Starts slot i (held busy by the caller) on the starter thread and waits for
 * it. The thread is made here, the first time: a run that converts no office
 * document (a PDF through the CLI) never starts one, nor waits at the end
 * for it to stop (0.8 ms of each tiergate-sanitize run).
 */
static int
lo_pool_start_slot(struct lo_pool *lp, unsigned i, char *why, size_t why_size)
{
	int rc;

	pthread_mutex_lock(&lp->lock);
	if (!lp->has_starter)
		lp->has_starter = pthread_create(&lp->starter, NULL, lo_pool_starter, lp) == 0;
	if (!lp->has_starter) {
		pthread_mutex_unlock(&lp->lock);
		return lo_slot_start(&lp->slots[i], &lp->lim, why, why_size);
	}
	while (lp->start_slot >= 0 || lp->start_done)   /* one start at a time */
		pthread_cond_wait(&lp->start_cv, &lp->lock);
	lp->start_slot = (int)i;
	pthread_cond_broadcast(&lp->start_cv);
	while (!lp->start_done)
		pthread_cond_wait(&lp->start_cv, &lp->lock);
	rc = lp->start_rc;
	snprintf(why, why_size, "%s", lp->start_why);
	lp->start_done = false;
	pthread_cond_broadcast(&lp->start_cv);
	pthread_mutex_unlock(&lp->lock);
	return rc;
}

struct lo_pool *
lo_pool_new(const struct san_config *cfg)
{
	struct lo_pool *lp = xcalloc(1, sizeof *lp);
	struct sandbox_ids ids;

	signal(SIGPIPE, SIG_IGN);   /* a converter that died must not take us with it on write */
	pthread_mutex_init(&lp->lock, NULL);
	pthread_cond_init(&lp->freed, NULL);
	lp->soffice = xstrdup(cfg->libreoffice ? cfg->libreoffice : "/usr/lib/libreoffice/program/soffice.bin");
	lp->lim.soffice = lp->soffice;
	lp->lim.memory = cfg->office_memory;
	lp->lim.timeout = cfg->office_timeout;
	lp->lim.max_input = cfg->max_input_bytes;
	lp->lim.max_output = cfg->max_output_bytes;
	memset(&ids, 0, sizeof ids);
	if (sandbox_resolve_user(cfg->worker_user, &ids) == 0) {
		lp->lim.drop = ids.drop;
		lp->lim.uid = ids.uid;
		lp->lim.gid = ids.gid;
	}
	lp->as_root = geteuid() == 0 && !lp->lim.drop;
	lp->max_pages = cfg->max_pages;
	lp->max_docs = cfg->office_max_documents ? cfg->office_max_documents : 1;
	lp->n = cfg->office_slots ? cfg->office_slots : 1;
	lp->slots = xcalloc(lp->n, sizeof *lp->slots);
	lp->busy = xcalloc(lp->n, sizeof *lp->busy);
	lp->remote = -1;
	lp->start_slot = -1;
	pthread_cond_init(&lp->start_cv, NULL);
	return lp;
}

struct lo_pool *
lo_pool_remote(const struct san_config *cfg, int svc_fd)
{
	struct lo_pool *lp = xcalloc(1, sizeof *lp);

	pthread_mutex_init(&lp->lock, NULL);
	pthread_cond_init(&lp->freed, NULL);
	pthread_cond_init(&lp->start_cv, NULL);
	lp->start_slot = -1;
	lp->lim.max_output = cfg->max_output_bytes;
	lp->remote = svc_fd;
	return lp;
}

void
lo_pool_warm(struct lo_pool *lp)
{
	char why[256];

	for (unsigned i = 0; i < lp->n; i++) {
		pthread_mutex_lock(&lp->lock);
		bool take = !lp->busy[i] && lp->slots[i].pid == 0;
		lp->busy[i] |= take;
		pthread_mutex_unlock(&lp->lock);
		if (!take)
			continue;
		if (lo_pool_start_slot(lp, i, why, sizeof why) < 0)
			log_warnx("sanitizer: office converter slot %u: %s", i, why);
		pthread_mutex_lock(&lp->lock);
		lp->busy[i] = false;
		pthread_cond_signal(&lp->freed);
		pthread_mutex_unlock(&lp->lock);
	}
}

static unsigned
lo_pool_acquire(struct lo_pool *lp)
{
	pthread_mutex_lock(&lp->lock);
	for (;;) {
		unsigned pick = lp->n;
		for (unsigned i = 0; i < lp->n; i++)   /* a warm slot first, then a cold one */
			if (!lp->busy[i] && (pick == lp->n || (lp->slots[i].pid && !lp->slots[pick].pid)))
				pick = i;
		if (pick < lp->n) {
			lp->busy[pick] = true;
			pthread_mutex_unlock(&lp->lock);
			return pick;
		}
		pthread_cond_wait(&lp->freed, &lp->lock);
	}
}

static void
lo_pool_release(struct lo_pool *lp, unsigned i)
{
	pthread_mutex_lock(&lp->lock);
	lp->busy[i] = false;
	pthread_cond_signal(&lp->freed);
	pthread_mutex_unlock(&lp->lock);
}

int
lo_pool_convert(struct lo_pool *lp, const uint8_t *data, size_t len, const char *ext,
    struct lo_output *out, char *why, size_t why_size)
{
	if (lp->remote >= 0)
		return lo_service_ask(lp->remote, ext, data, len, lp->lim.max_output, out, why, why_size);

	unsigned i = lo_pool_acquire(lp);
	struct lo_slot *s = &lp->slots[i];
	bool slot_ok = false;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (lp->as_root) {
		snprintf(why, why_size, "office converter refused: it would run as root (worker.user)");
		lo_pool_release(lp, i);
		return -1;
	}
	if (s->pid == 0 && lo_pool_start_slot(lp, i, why, why_size) < 0) {
		log_warnx("sanitizer: office converter slot %u: %s", i, why);
		lo_pool_release(lp, i);
		return -1;
	}
	rc = lo_slot_convert(s, &lp->lim, ext, lp->max_pages, data, len, out, &slot_ok, why, why_size);
	if (!slot_ok)
		log_warnx("sanitizer: office converter slot %u stopped: %s", i, why);
	else if (rc < 0)
		rc = -2;   /* the document was refused, the converter is fine */
	else if (s->docs >= lp->max_docs)
		lo_slot_stop(s);   /* a fresh process every max_documents: nothing one document left lasts */
	lo_pool_release(lp, i);
	return rc;
}

void
lo_pool_free(struct lo_pool *lp)
{
	if (lp == NULL)
		return;
	if (lp->has_starter) {
		pthread_mutex_lock(&lp->lock);
		lp->stopping = true;
		pthread_cond_broadcast(&lp->start_cv);
		pthread_mutex_unlock(&lp->lock);
		pthread_join(lp->starter, NULL);
	}
	for (unsigned i = 0; i < lp->n; i++)
		lo_slot_stop(&lp->slots[i]);
	if (lp->remote >= 0)
		close(lp->remote);
	pthread_mutex_destroy(&lp->lock);
	pthread_cond_destroy(&lp->freed);
	pthread_cond_destroy(&lp->start_cv);
	free(lp->slots);
	free(lp->busy);
	free(lp->soffice);
	free(lp);
}

static const char *
lo_name_ext(const char *name, const char *const *allowed)
{
	const char *dot = name ? strrchr(name, '.') : NULL;

	for (size_t i = 0; dot && allowed[i]; i++)
		if (strcasecmp(dot + 1, allowed[i]) == 0)
			return allowed[i];
	return NULL;
}

/* UTF-16LE ASCII name (an OLE stream's directory entry) somewhere in the first part of the file. */
static bool
lo_has_utf16(const uint8_t *data, size_t len, const char *ascii)
{
	uint8_t pat[64];
	size_t n = strlen(ascii);

	for (size_t i = 0; i < n && i < 32; i++) {
		pat[2 * i] = (uint8_t)ascii[i];
		pat[2 * i + 1] = 0;
	}
	return memmem(data, len, pat, 2 * (n < 32 ? n : 32)) != NULL;
}

static const char *
lo_sniff_ole(const uint8_t *data, size_t len, const char *name)
{
	(void)name;
	if (lo_has_utf16(data, len, "EncryptedPackage"))
		return NULL;   /* password-protected OOXML: the worker blocks it as encrypted */
	if (lo_has_utf16(data, len, "WordDocument"))
		return "doc";
	if (lo_has_utf16(data, len, "Workbook") || lo_has_utf16(data, len, "Book"))
		return "xls";
	if (lo_has_utf16(data, len, "PowerPoint Document"))
		return "ppt";
	return NULL;   /* an OLE file without a known stream (一太郎 too): not ours */
}

static const char *
lo_sniff_zip(const uint8_t *data, size_t len, const char *name)
{
	static const char *const exts[] = { "docx", "docm", "xlsx", "xlsm", "pptx", "pptm",
		"odt", "ods", "odp", NULL };
	static const char *const odf[][2] = {
		{ "application/vnd.oasis.opendocument.text", "odt" },
		{ "application/vnd.oasis.opendocument.spreadsheet", "ods" },
		{ "application/vnd.oasis.opendocument.presentation", "odp" },
	};
	const char *by_name = lo_name_ext(name, exts);

	if (len > 38 + 8 && memcmp(data + 30, "mimetype", 8) == 0)
		for (size_t i = 0; i < sizeof odf / sizeof odf[0]; i++)
			if (memmem(data + 38, len - 38 < 128 ? len - 38 : 128, odf[i][0], strlen(odf[i][0])))
				return odf[i][1];
	if (memmem(data, len, "[Content_Types].xml", 19) == NULL)
		return NULL;
	if (by_name && by_name[0] != 'o')
		return by_name;
	if (memmem(data, len, "word/", 5))
		return "docx";
	if (memmem(data, len, "xl/", 3))
		return "xlsx";
	if (memmem(data, len, "ppt/", 4))
		return "pptx";
	return NULL;
}

const char *
lo_sniff(const uint8_t *data, size_t len, const char *name)
{
	if (len >= 5 && memcmp(data, "{\\rtf", 5) == 0)
		return "rtf";
	if (len >= 8 && memcmp(data, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) == 0)
		return lo_sniff_ole(data, len, name);
	if (len >= 4 && memcmp(data, "PK\3\4", 4) == 0)
		return lo_sniff_zip(data, len, name);
	return NULL;
}

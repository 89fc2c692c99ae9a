/* pages.c -- a document's pages rendered on every render thread, shipped to the parent as pixels in page order. */
#include "sanitizer/pages.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "sanitizer/pool.h"

/* Display lists waiting or being rendered, per render thread: bounds memory on long documents. */
#define PAGES_WINDOW_PER_THREAD 2

static pthread_mutex_t pages_mutex[FZ_LOCK_MAX] = { [0 ... FZ_LOCK_MAX - 1] = PTHREAD_MUTEX_INITIALIZER };

static void
pages_lock(void *user, int lock)
{
	(void)user;
	pthread_mutex_lock(&pages_mutex[lock]);
}

static void
pages_unlock(void *user, int lock)
{
	(void)user;
	pthread_mutex_unlock(&pages_mutex[lock]);
}

const fz_locks_context *
pages_locks(void)
{
	static const fz_locks_context locks = { NULL, pages_lock, pages_unlock };

	return &locks;
}

static void
pages_quiet(void *user, const char *message)
{
	(void)user;
	(void)message;
}

/*
 * Smooth (filtered) image scaling only where nearest-neighbour would lose
 * detail: shrinking to less than half. MuPDF has already decoded a JPEG at
 * 1/2, 1/4 or 1/8 when that is closer, so a scan is shrunk by at most 2
 * here; filtering that (a 200 dpi scan drawn at 150) cost more than
 * decoding it, and gs draws without filtering too.
 */
static int
pages_image_scale(void *arg, int dst_w, int dst_h, int src_w, int src_h)
{
	(void)arg;
	return dst_w * 2 < src_w && dst_h * 2 < src_h;
}

void
pages_tune(fz_context *ctx, const struct san_config *cfg)
{
	fz_tune_image_scale(ctx, pages_image_scale, NULL);
	fz_set_warning_callback(ctx, pages_quiet, NULL);
	fz_set_error_callback(ctx, pages_quiet, NULL);
	fz_try(ctx) {
		fz_disable_icc(ctx);
		/* anti-aliasing makes Flate pages ~4x larger; JPEG pages look better with it */
		fz_set_aa_level(ctx, cfg->codec == SAN_CODEC_JPEG ? 8 : 0);
	}
	fz_catch(ctx) {
		/* colour management stays as it was: still a rendering, only slower */
	}
}

/* The zoom for a page: the configured DPI, less when the page would exceed the pixel limit. */
static float
pages_zoom(const struct san_config *cfg, fz_rect bounds, int pageno, struct san_result *res)
{
	float zoom = (float)cfg->dpi / 72.0f;
	double w = (bounds.x1 - bounds.x0) * zoom, h = (bounds.y1 - bounds.y0) * zoom;

	if (w * h > (double)cfg->max_page_pixels) {
		/* a little under: rounding the page box out must not cross the limit the parent checks */
		zoom *= (float)sqrt((double)cfg->max_page_pixels / (w * h)) * 0.995f;
		res_finding(res, "page %d rendered at reduced resolution (pixel limit)", pageno + 1);
	}
	return zoom;
}

/* ---- the pipeline -------------------------------------------------------------------- */

enum slot_state { SLOT_FREE, SLOT_QUEUED, SLOT_RUNNING, SLOT_DONE };

/* One page on its way: display list (main thread) -> page image (any thread) -> pdfwrite (main). */
struct page_slot {
	enum slot_state state;   /* under run->lock */
	int pageno;
	fz_display_list *list;
	float zoom;
	struct san_pixels px;     /* the page's size, then where its samples went */
	fz_pixmap *pix;           /* drawn, until shipped */
	bool failed;
	char why[200];
};

struct render_run {
	const struct san_config *cfg;
	struct arena *arena;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct page_slot *slots;
	unsigned n_slots;
	fz_context **helper_ctx;   /* one clone per pool thread */
	unsigned n_helpers, n_running, helpers_started;
	bool stop;
	bool helpers_wait;         /* until the first page is drawn (a document of no more pages than threads) */
};

/* The queued page that comes first (lock held), or NULL. */
static struct page_slot *
pages_pick(struct render_run *run)
{
	struct page_slot *best = NULL;

	for (unsigned i = 0; i < run->n_slots; i++)
		if (run->slots[i].state == SLOT_QUEUED && (best == NULL || run->slots[i].pageno < best->pageno))
			best = &run->slots[i];
	return best;
}

/* Display list -> pixmap, on whichever thread ctx belongs to (the main thread ships it in page order). */
static void
pages_draw(const struct render_run *run, fz_context *ctx, struct page_slot *s)
{
	fz_pixmap *pix = NULL;

	fz_var(pix);
	fz_try(ctx) {
		pix = fz_new_pixmap_from_display_list(ctx, s->list, fz_scale(s->zoom, s->zoom),
		    run->cfg->gray ? fz_device_gray(ctx) : fz_device_rgb(ctx), 0);
		if ((uint64_t)fz_pixmap_width(ctx, pix) * (uint64_t)fz_pixmap_height(ctx, pix) > run->cfg->max_page_pixels)
			fz_throw(ctx, FZ_ERROR_GENERIC, "page over the pixel limit");
		s->pix = pix;
		pix = NULL;
	}
	fz_always(ctx)
		fz_drop_pixmap(ctx, pix);
	fz_catch(ctx) {
		s->failed = true;
		snprintf(s->why, sizeof s->why, "%s", fz_caught_message(ctx));
	}
}

/* Takes the next queued page and draws it (lock held on entry and exit). False when none was queued. */
static bool
pages_draw_one(struct render_run *run, fz_context *ctx)
{
	struct page_slot *s = pages_pick(run);

	if (s == NULL)
		return false;
	s->state = SLOT_RUNNING;
	pthread_mutex_unlock(&run->lock);
	pages_draw(run, ctx, s);
	pthread_mutex_lock(&run->lock);
	s->state = SLOT_DONE;
	run->helpers_wait = false;
	pthread_cond_broadcast(&run->changed);
	return true;
}

/* A pool thread: draws queued pages until the run stops. */
static void
pages_helper(void *v)
{
	struct render_run *run = v;
	fz_context *ctx;

	pthread_mutex_lock(&run->lock);
	ctx = run->helper_ctx[run->helpers_started++];
	while (!run->stop)
		if (run->helpers_wait || !pages_draw_one(run, ctx))
			pthread_cond_wait(&run->changed, &run->lock);
	pthread_mutex_unlock(&run->lock);
}

/* Page i into a display list in s (main thread: only it touches the document). */
static int
pages_build(const struct san_config *cfg, fz_context *ctx, fz_document *doc, int i, struct page_slot *s,
    struct san_result *res)
{
	fz_page *page = NULL;
	int rc = 0;

	s->pageno = i;
	s->list = NULL;
	s->pix = NULL;
	s->failed = false;
	s->why[0] = '\0';
	memset(&s->px, 0, sizeof s->px);
	fz_var(page);
	fz_try(ctx) {
		page = fz_load_page(ctx, doc, i);
		fz_rect b = fz_bound_page(ctx, page);
		if (b.x1 - b.x0 < 1 || b.y1 - b.y0 < 1 || b.x1 - b.x0 > 14400 * 4 || b.y1 - b.y0 > 14400 * 4)
			fz_throw(ctx, FZ_ERROR_GENERIC, "page size out of range");
		s->zoom = pages_zoom(cfg, b, i, res);
		s->px.page_w = b.x1 - b.x0;
		s->px.page_h = b.y1 - b.y0;
		s->list = fz_new_display_list_from_page(ctx, page);
	}
	fz_always(ctx)
		fz_drop_page(ctx, page);
	fz_catch(ctx) {
		res_block(res, "page %d could not be rendered: %s", i + 1, fz_caught_message(ctx));
		rc = -1;
	}
	return rc;
}

/* Waits for s to be drawn, drawing queued pages meanwhile; then lists it in res, in page order. */
static int
pages_write(struct render_run *run, fz_context *ctx, struct page_slot *s, struct san_result *res)
{
	pthread_mutex_lock(&run->lock);
	while (s->state != SLOT_DONE)
		if (!pages_draw_one(run, ctx))
			pthread_cond_wait(&run->changed, &run->lock);
	pthread_mutex_unlock(&run->lock);
	if (!s->failed) {
		s->px.w = (uint32_t)fz_pixmap_width(ctx, s->pix);
		s->px.h = (uint32_t)fz_pixmap_height(ctx, s->pix);
		s->px.ncomp = (uint8_t)fz_pixmap_components(ctx, s->pix);
		if (arena_ship(run->arena, fz_pixmap_samples(ctx, s->pix), (size_t)fz_pixmap_stride(ctx, s->pix), &s->px) < 0) {
			s->failed = true;
			snprintf(s->why, sizeof s->why, "pixels could not be passed on");
		}
	}
	if (s->failed) {
		res_block(res, "page %d could not be rendered: %s", s->pageno + 1, s->why);
		return -1;
	}
	res->px = xrealloc(res->px, res->n_px + 1, sizeof *res->px);
	res->px[res->n_px++] = s->px;
	return 0;
}

static void
pages_clear(struct render_run *run, fz_context *ctx, struct page_slot *s)
{
	fz_drop_display_list(ctx, s->list);
	s->list = NULL;
	fz_drop_pixmap(ctx, s->pix);
	s->pix = NULL;
	pthread_mutex_lock(&run->lock);
	s->state = SLOT_FREE;
	pthread_mutex_unlock(&run->lock);
}

static void
pages_set_state(struct render_run *run, struct page_slot *s, enum slot_state state)
{
	pthread_mutex_lock(&run->lock);
	s->state = state;
	pthread_cond_broadcast(&run->changed);
	pthread_mutex_unlock(&run->lock);
}

/* Clones of ctx for the pool threads that will help, the slots, then the helpers themselves. */
static void
pages_start_helpers(struct render_run *run, const struct san_job *job, fz_context *ctx, int pages)
{
	unsigned want = pool_size(job->pool);

	if (want > (unsigned)pages - 1)
		want = (unsigned)pages - 1;
	run->helper_ctx = xcalloc(want ? want : 1, sizeof *run->helper_ctx);
	for (run->n_helpers = 0; run->n_helpers < want; run->n_helpers++) {
		fz_context *clone = fz_clone_context(ctx);
		if (clone == NULL)
			break;
		pages_tune(clone, job->cfg);
		run->helper_ctx[run->n_helpers] = clone;
	}
	run->n_slots = PAGES_WINDOW_PER_THREAD * (run->n_helpers + 1);
	/*
	 * A document of no more pages than threads would have every page start
	 * at once, each thread rasterising the same glyphs into the cache they
	 * share (a 2-page Japanese document took longer on two threads than on
	 * one): the main thread draws the first page alone, the helpers then
	 * draw the rest from a warm cache. A longer one keeps every thread busy
	 * from the start (its first pages fill the pipeline).
	 */
	run->helpers_wait = (unsigned)pages <= run->n_helpers + 1;
	run->slots = xcalloc(run->n_slots, sizeof *run->slots);
	run->n_running = pool_run(job->pool, run->n_helpers, pages_helper, run);
}

static void
pages_stop_helpers(struct render_run *run, const struct san_job *job)
{
	pthread_mutex_lock(&run->lock);
	run->stop = true;
	pthread_cond_broadcast(&run->changed);
	pthread_mutex_unlock(&run->lock);
	if (run->n_running)
		pool_wait(job->pool);
	for (unsigned i = 0; i < run->n_helpers; i++)
		fz_drop_context(run->helper_ctx[i]);
	free(run->helper_ctx);
}

int
pages_render(const struct san_job *job, fz_context *ctx, fz_document *doc, int pages, struct san_result *res)
{
	struct render_run run;
	int next_build = 0, next_write = 0, rc = 0;

	memset(&run, 0, sizeof run);
	run.cfg = job->cfg;
	run.arena = job->arena;
	pthread_mutex_init(&run.lock, NULL);
	pthread_cond_init(&run.changed, NULL);
	pages_start_helpers(&run, job, ctx, pages);
	while (rc == 0 && next_write < pages) {
		while (rc == 0 && next_build < pages && next_build - next_write < (int)run.n_slots) {
			struct page_slot *s = &run.slots[next_build % run.n_slots];
			rc = pages_build(job->cfg, ctx, doc, next_build++, s, res);
			if (rc == 0)
				pages_set_state(&run, s, SLOT_QUEUED);
		}
		if (rc == 0) {
			struct page_slot *s = &run.slots[next_write++ % run.n_slots];
			rc = pages_write(&run, ctx, s, res);
			pages_clear(&run, ctx, s);
		}
	}
	pages_stop_helpers(&run, job);
	for (unsigned i = 0; i < run.n_slots; i++)
		if (run.slots[i].list || run.slots[i].pix)
			pages_clear(&run, ctx, &run.slots[i]);
	free(run.slots);
	pthread_cond_destroy(&run.changed);
	pthread_mutex_destroy(&run.lock);
	return rc;
}

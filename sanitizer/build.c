/* build.c -- the parent's side of a result: the worker's pixels and text checked against the limits, then encoded, named and written here. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/util.h"
#include "sanitizer/cleanres.h"
#include "sanitizer/internal.h"
#include "sanitizer/pool.h"

/* Text, tables and diagrams rendered without anti-aliasing use a few dozen colours at most. */
#define BUILD_MAX_THREADS 8
#define BUILD_MAX_DEPTH 32

/* ---- names ---------------------------------------------------------------------------- */

/* Decodes one UTF-8 sequence at s (n bytes left): the code point, or -1 when invalid/overlong/surrogate. */
static long
build_utf8_next(const unsigned char *s, size_t n, size_t *used)
{
	unsigned c = s[0], len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
	long cp = len == 1 ? (long)c : len == 2 ? (long)(c & 0x1F) : len == 3 ? (long)(c & 0x0F) : (long)(c & 0x07);
	static const long min[5] = { 0, 0, 0x80, 0x800, 0x10000 };

	if (len == 0 || len > n)
		return -1;
	for (unsigned i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*used = len;
	return cp;
}

/* Code points no name may hold: controls, bidi controls, zero-width characters, tag characters. */
static bool
build_invisible(long cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0xAD || (cp >= 0x200B && cp <= 0x200F) ||
	    (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xFEFF ||
	    (cp >= 0xE0000 && cp <= 0xE007F);
}

/*
 * A member path as a worker sent it. The worker's archive reader already
 * cut every path to clean relative segments, so anything else here means
 * the worker is not the one we wrote: the whole answer is refused.
 * (One function, so the shared text/name cleaner can take its place.)
 */
int
build_check_member_name(const char *path, char *why, size_t why_size)
{
	const unsigned char *s = (const unsigned char *)path;
	size_t n = strlen(path), seg = 0, used = 0;

	if (n == 0 || n >= 1024 || path[0] == '/' || path[n - 1] == '/') {
		snprintf(why, why_size, "member name empty, absolute or too long");
		return -1;
	}
	for (size_t i = 0; i <= n; i += used) {
		if (i == n || s[i] == '/') {
			if ((i - seg == 1 && s[seg] == '.') || (i - seg == 2 && s[seg] == '.' && s[seg + 1] == '.') ||
			    i == seg) {
				snprintf(why, why_size, "member name with an empty, \".\" or \"..\" segment");
				return -1;
			}
			seg = i + 1;
			used = 1;
			continue;
		}
		long cp = build_utf8_next(s + i, n - i, &used);
		if (cp < 0 || cp == '\\' || build_invisible(cp)) {
			snprintf(why, why_size, cp < 0 ? "member name not valid UTF-8" :
			    "member name with a control, bidi, invisible or backslash character (U+%04lX)", cp);
			return -1;
		}
	}
	return 0;
}

/* Text from a worker: valid UTF-8 without NUL (the worker already removed the controls). */
static int
build_check_text(const uint8_t *p, size_t n)
{
	size_t used = 0;

	for (size_t i = 0; i < n; i += used) {
		if (p[i] < 0x80) {
			used = 1;
			if (p[i] == 0)
				return -1;
			continue;
		}
		if (build_utf8_next(p + i, n - i, &used) < 0)
			return -1;
	}
	return 0;
}

/* The name outputs are named after: the caller's, with a compression suffix taken off ("a.pdf.gz" -> "a.pdf"). */
static char *
build_base_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	char *out = xstrdup(n ? name : "file");

	if (n > 3 && strcasecmp(out + n - 3, ".gz") == 0 && n - 3 > 0 && out[n - 4] != '/')
		out[n - 3] = '\0';
	else if (n > 4 && strcasecmp(out + n - 4, ".tgz") == 0)
		memcpy(out + n - 4, ".tar", 5);
	return out;
}

/* ---- pixels ---------------------------------------------------------------------------- */

/* The bytes of a page's samples (palette first when indexed). */
static uint64_t
build_samples_len(const struct san_pixels *p)
{
	return (uint64_t)p->w * p->h * p->ncomp + (uint64_t)p->colours * 3;
}

/* A page description from a worker: within the limits, inside its memfd of pixels_len bytes. -1 with why. */
static int
build_check_pixels(const struct san_config *cfg, size_t pixels_len, const struct san_pixels *p, size_t i, char *why,
    size_t why_size)
{
	uint64_t count = (uint64_t)p->w * p->h, len, max = p->image ? cfg->max_image_pixels : cfg->max_page_pixels;

	if (p->w == 0 || p->h == 0 || count > max) {
		snprintf(why, why_size, "page %zu of %ux%u pixels over the limit of %llu", i + 1, p->w, p->h,
		    (unsigned long long)max);
		return -1;
	}
	if (p->ncomp != 1 && p->ncomp != 3) {
		snprintf(why, why_size, "page %zu with %u colour channels", i + 1, p->ncomp);
		return -1;
	}
	if (!p->image && (p->page_w <= 0 || p->page_h <= 0 || p->page_w > SAN_PAGE_MAX_POINTS ||
	    p->page_h > SAN_PAGE_MAX_POINTS)) {
		snprintf(why, why_size, "page %zu with a size out of range", i + 1);
		return -1;
	}
	len = build_samples_len(p);
	if (p->offset > pixels_len || len > pixels_len - p->offset) {
		snprintf(why, why_size, "page %zu outside the pixel memfd", i + 1);
		return -1;
	}
	return 0;
}

/* Flate beyond ~1/4 bit per pixel means gradients or photos: then JPEG is tried and the smaller kept. */
static bool
build_flate_too_big(const struct page_image *img)
{
	return img->len > (size_t)img->w * (size_t)img->h / 32;
}

/* Keeps the JPEG form of the page when it is smaller than the Flate one already in img. */
static int
build_try_jpeg(const struct san_config *cfg, const uint8_t *px, size_t stride, int n, struct page_image *img)
{
	uint8_t *jpeg = NULL;
	size_t jpeg_len = 0;

	if (imgenc_jpeg(px, img->w, img->h, n, stride, (int)cfg->jpeg_quality, &jpeg, &jpeg_len) < 0)
		return -1;
	if (jpeg_len >= img->len) {
		free(jpeg);
		return 0;
	}
	free(img->data);
	img->data = jpeg;
	img->len = jpeg_len;
	img->dct = true;
	img->ncomp = n;
	img->palette_n = 0;
	return 0;
}

/*
 * One page's pixels as the configured page image. AUTO keeps pages of few
 * colours (text, tables: rendered without anti-aliasing) lossless and small
 * as indexed Flate; pages with more colours, or whose Flate form is large
 * (gradients), and photographs are JPEG.
 */
/* An indexed page as RGB (for JPEG): every index checked against the palette already. */
static uint8_t *
build_expand(const uint8_t *palette, const uint8_t *idx, size_t count)
{
	uint8_t *rgb = malloc(count * 3);

	for (size_t i = 0; rgb && i < count; i++)
		memcpy(rgb + 3 * i, palette + 3 * idx[i], 3);
	return rgb;
}

/*
 * An indexed page (text, tables: the worker found at most a few dozen
 * colours): lossless Flate of its indices, or JPEG when that is smaller or
 * configured. An index beyond the palette refuses the page.
 */
static int
build_encode_indexed(const struct san_config *cfg, const uint8_t *px, const struct san_pixels *p,
    struct page_image *img)
{
	size_t count = (size_t)p->w * p->h, colours = p->colours;
	const uint8_t *idx = px + colours * 3;
	uint8_t *rgb;
	int rc;

	for (size_t i = 0; i < count; i++)
		if (idx[i] >= colours)
			return -1;
	if (cfg->codec != SAN_CODEC_JPEG && !p->photo) {
		memcpy(img->palette, px, colours * 3);
		img->palette_n = (int)colours;
		img->ncomp = 1;
		rc = imgenc_flate(idx, img->w, img->h, 1, (size_t)img->w, &img->data, &img->len);
		if (rc < 0 || !build_flate_too_big(img))
			return rc;
	}
	rgb = build_expand(px, idx, count);
	if (rgb == NULL)
		return -1;
	if (img->data)
		rc = build_try_jpeg(cfg, rgb, (size_t)img->w * 3, 3, img);
	else {
		img->dct = true;
		img->ncomp = 3;
		img->palette_n = 0;
		rc = imgenc_jpeg(rgb, img->w, img->h, 3, (size_t)img->w * 3, (int)cfg->jpeg_quality, &img->data, &img->len);
	}
	free(rgb);
	return rc;
}

int
build_encode_page(const struct san_config *cfg, const uint8_t *px, const struct san_pixels *p,
    struct page_image *img)
{
	int w = (int)p->w, h = (int)p->h, n = p->ncomp, rc;
	size_t stride = (size_t)w * (size_t)n;

	memset(img, 0, sizeof *img);
	img->w = w;
	img->h = h;
	if (p->colours)
		return build_encode_indexed(cfg, px, p, img);
	img->w = w;
	img->h = h;
	img->ncomp = n;
	if (cfg->codec == SAN_CODEC_JPEG || p->photo)
		goto jpeg;
	if (cfg->codec == SAN_CODEC_FLATE)
		return imgenc_flate(px, w, h, n, stride, &img->data, &img->len);
	if (n == 3) {
		/*
		 * More colours: a gradient's steps or a photo, not flat colours: JPEG
		 * without trying Flate. The worker indexes every page of at most
		 * SAN_FLAT_COLOURS colours itself (arena_ship), so an RGB page had more:
		 * counting them again here found nothing but cost a pass per page.
		 */
		uint8_t *indexed = NULL;
		if (cfg->codec != SAN_CODEC_AUTO)
			indexed = imgenc_palette(px, w, h, stride, SAN_FLAT_COLOURS, img->palette, &img->palette_n);
		if (indexed == NULL)
			goto jpeg;
		rc = imgenc_flate(indexed, w, h, 1, (size_t)w, &img->data, &img->len);
		free(indexed);
		img->ncomp = 1;
	} else {
		rc = imgenc_flate(px, w, h, n, stride, &img->data, &img->len);
	}
	if (rc < 0 || !build_flate_too_big(img))
		return rc;
	return build_try_jpeg(cfg, px, stride, n, img);
jpeg:
	img->dct = true;
	img->palette_n = 0;
	return imgenc_jpeg(px, w, h, n, stride, (int)cfg->jpeg_quality, &img->data, &img->len);
}

/* An image file's pixels: a photograph (JPEG source) or image.format = jpeg gives a JPEG, else a PNG. */
static int
build_encode_image(const struct san_config *cfg, const uint8_t *s, const struct san_pixels *p, struct page_image *img)
{
	size_t stride = (size_t)p->w * p->ncomp;

	memset(img, 0, sizeof *img);
	if (p->colours)
		return -1;   /* image files cross as grey or RGB only */
	img->w = (int)p->w;
	img->h = (int)p->h;
	img->ncomp = p->ncomp;
	img->dct = p->photo || cfg->image_format == SAN_IMAGE_JPEG;
	if (img->dct)
		return imgenc_jpeg(s, img->w, img->h, p->ncomp, stride, (int)cfg->jpeg_quality, &img->data, &img->len);
	return imgenc_png(s, img->w, img->h, p->ncomp, stride, &img->data, &img->len);
}

/* ---- the store of encoded pages --------------------------------------------------------- */

struct pix_entry {
	struct san_pixels px;
	struct page_image img;
	const uint8_t *samples;   /* in a mapped (sealed) batch, while it is mapped; NULL: read from fd */
	int fd;                   /* a ring batch the worker can still write: copied out first */
	int rc;
	bool taken;
};

/* A buffer of the parent's own per encoder thread, kept for the whole answer (no fresh memory per page). */
struct scratch {
	uint8_t *p;
	size_t cap;
};

struct pixstore {
	struct pix_entry *e;
	size_t n, cap;
	uint32_t batches;
	uint64_t bytes;           /* encoded, over every batch */
	struct scratch scratch[BUILD_MAX_THREADS];
};

struct pixstore *
pixstore_new(void)
{
	return xcalloc(1, sizeof(struct pixstore));
}

void
pixstore_free(struct pixstore *ps)
{
	if (ps == NULL)
		return;
	for (size_t i = 0; i < ps->n; i++)
		free(ps->e[i].img.data);
	for (size_t i = 0; i < BUILD_MAX_THREADS; i++)
		free(ps->scratch[i].p);
	free(ps->e);
	free(ps);
}

uint32_t
pixstore_batches(const struct pixstore *ps)
{
	return ps ? ps->batches : 0;
}

/* Encoded on several threads of the parent: each takes the next entry of the batch. */
struct build_run {
	const struct san_config *cfg;
	struct pix_entry *e;
	size_t n;
	atomic_size_t next;
	struct scratch *scratch;   /* BUILD_MAX_THREADS of them */
	atomic_uint threads;
};

/*
 * A page's samples in memory only the parent can write: the worker may
 * rewrite a ring memfd at any time, so they are copied out (one pread) before
 * the first look, and every check (palette indices) and the encoding read the
 * copy. NULL when the copy fails.
 */
static const uint8_t *
build_copy_out(const struct pix_entry *e, struct scratch *sc)
{
	size_t len = (size_t)build_samples_len(&e->px), done = 0;

	if (e->samples)
		return e->samples;
	if (len > sc->cap) {
		uint8_t *grown = realloc(sc->p, len);
		if (grown == NULL)
			return NULL;
		sc->p = grown;
		sc->cap = len;
	}
	while (done < len) {
		ssize_t n = pread(e->fd, sc->p + done, len - done, (off_t)(e->px.offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		done += (size_t)n;
	}
	return sc->p;
}

static void *
build_encode_thread(void *v)
{
	struct build_run *run = v;
	struct scratch *sc = &run->scratch[atomic_fetch_add(&run->threads, 1) % BUILD_MAX_THREADS];

	for (size_t i; (i = atomic_fetch_add(&run->next, 1)) < run->n;) {
		struct pix_entry *e = &run->e[i];
		const uint8_t *samples = build_copy_out(e, sc);
		if (samples == NULL)
			e->rc = -1;
		else
			e->rc = e->px.image ? build_encode_image(run->cfg, samples, &e->px, &e->img)
			    : build_encode_page(run->cfg, samples, &e->px, &e->img);
	}
	return NULL;
}

static void
build_encode_all(struct build_run *run)
{
	unsigned want = run->cfg->worker_threads ? run->cfg->worker_threads : pool_auto_threads();
	pthread_t threads[BUILD_MAX_THREADS];
	unsigned started = 0;

	if (want > BUILD_MAX_THREADS)
		want = BUILD_MAX_THREADS;
	if (want > run->n)
		want = (unsigned)run->n;
	for (; started + 1 < want; started++)   /* this thread is one of them */
		if (pthread_create(&threads[started], NULL, build_encode_thread, run) != 0)
			break;
	build_encode_thread(run);
	for (unsigned i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}

int
pixstore_add_batch(struct pixstore *ps, const struct san_config *cfg, uint32_t batch, const uint8_t *desc,
    size_t n, const uint8_t *pixels, int fd, size_t len, char *why, size_t why_size)
{
	size_t first = ps->n;
	struct build_run run;

	if (batch != ps->batches++ || n == 0 || ps->n + n > (size_t)cfg->max_pages * 4 + 16) {
		snprintf(why, why_size, "pixel batch out of order, empty or over the page limit");
		return -1;
	}
	if (ps->n + n > ps->cap) {
		ps->cap = (ps->n + n) * 2;
		ps->e = xrealloc(ps->e, ps->cap, sizeof *ps->e);
	}
	for (size_t i = 0; i < n; i++) {
		struct pix_entry *e = &ps->e[ps->n];
		memset(e, 0, sizeof *e);
		if (arena_get_pixels(desc + i * SAN_PIXELS_RECORD, &e->px) < 0 || e->px.batch != batch) {
			snprintf(why, why_size, "malformed page record");
			return -1;
		}
		if (build_check_pixels(cfg, len, &e->px, ps->n, why, why_size) < 0)
			return -1;
		e->samples = pixels ? pixels + e->px.offset : NULL;
		e->fd = fd;
		ps->n++;
	}
	run = (struct build_run){ cfg, ps->e + first, n, 0, ps->scratch, 0 };
	build_encode_all(&run);
	for (size_t i = first; i < ps->n; i++) {
		ps->e[i].samples = NULL;   /* the batch is unmapped and its descriptor closed after this */
		ps->e[i].fd = -1;
		ps->bytes += ps->e[i].img.len;
		if (ps->e[i].rc < 0 || ps->bytes > cfg->max_output_bytes) {
			snprintf(why, why_size, ps->e[i].rc < 0 ? "page %zu could not be encoded" :
			    "encoded pages larger than the output limit", i + 1);
			return -1;
		}
	}
	return 0;
}

static bool
build_same_pixels(const struct san_pixels *a, const struct san_pixels *b)
{
	return a->batch == b->batch && a->offset == b->offset && a->w == b->w && a->h == b->h && a->ncomp == b->ncomp &&
	    a->photo == b->photo && a->image == b->image && a->page_w == b->page_w && a->page_h == b->page_h;
}

struct page_image *
pixstore_take(struct pixstore *ps, const struct san_pixels *px)
{
	for (size_t i = 0; ps && i < ps->n; i++)
		if (!ps->e[i].taken && build_same_pixels(&ps->e[i].px, px)) {
			ps->e[i].taken = true;
			return &ps->e[i].img;
		}
	return NULL;
}

/* PAGES: every page the tree lists, as encoded when its batch came, written in order into a new PDF. */
static int
build_pdf(struct pixstore *ps, struct san_result *r, char *why, size_t why_size)
{
	struct pdfwrite *pw = pdfwrite_new();
	const char *pw_why = "";
	int rc = -1;

	for (size_t i = 0; i < r->n_px; i++) {
		struct page_image *img = r->px[i].image ? NULL : pixstore_take(ps, &r->px[i]);
		if (img == NULL) {
			snprintf(why, why_size, "page %zu is not among the pixels received", i + 1);
			goto out;
		}
		if (pdfwrite_add_page(pw, img, r->px[i].page_w, r->px[i].page_h) < 0) {
			snprintf(why, why_size, "page %zu could not be written", i + 1);
			goto out;
		}
	}
	if (pdfwrite_finish(pw, &r->out, &r->out_len, &pw_why) < 0) {
		snprintf(why, why_size, "%s", pw_why);
		goto out;
	}
	rc = 0;
out:
	pdfwrite_free(pw);
	return rc;
}

/* IMAGE: the PNG or JPEG encoded when its batch came. */
static int
build_image(struct pixstore *ps, struct san_result *r, bool *jpeg, char *why, size_t why_size)
{
	struct page_image *img = r->px[0].image ? pixstore_take(ps, &r->px[0]) : NULL;

	if (img == NULL) {
		snprintf(why, why_size, "image is not among the pixels received");
		return -1;
	}
	r->out = img->data;
	r->out_len = img->len;
	img->data = NULL;
	*jpeg = img->dct;
	return 0;
}

/* ---- one result ------------------------------------------------------------------------ */

static int build_one(const struct san_config *cfg, struct pixstore *ps, const char *name, struct san_result *r,
    unsigned depth, char *why, size_t why_size);

/* Payloads of a result that is blocked (or of its members) are dropped: nothing of them is delivered. */
static void
build_drop(struct san_result *r)
{
	free(r->out);
	r->out = NULL;
	r->out_len = 0;
	free(r->px);
	r->px = NULL;
	r->n_px = 0;
	r->payload = SAN_PAY_NONE;
	for (size_t i = 0; i < r->n_members; i++)
		build_drop(&r->members[i]);
}

static int
build_check_names(const struct san_result *r, unsigned depth, char *why, size_t why_size)
{
	if (depth >= BUILD_MAX_DEPTH) {
		snprintf(why, why_size, "archives nested too deeply");
		return -1;
	}
	for (size_t i = 0; i < r->n_members; i++)
		if (r->members[i].name == NULL || build_check_member_name(r->members[i].name, why, why_size) < 0 ||
		    build_check_names(&r->members[i], depth + 1, why, why_size) < 0)
			return -1;
	return 0;
}

/* The verdict and the payload must agree: each action has exactly one kind of payload. */
static int
build_check_shape(const struct san_config *cfg, const struct san_result *r, char *why, size_t why_size)
{
	static const unsigned char payload_of[] = {
		[SAN_FLATTENED] = SAN_PAY_PAGES, [SAN_TEXT] = SAN_PAY_TEXT, [SAN_REENCODED] = SAN_PAY_IMAGE,
		[SAN_ARCHIVE] = SAN_PAY_ARCHIVE, [SAN_BLOCKED] = SAN_PAY_NONE,
	};
	unsigned char want = payload_of[r->action];
	bool ok = r->payload == want || (r->action == SAN_TEXT && r->payload == SAN_PAY_CSV);

	if (ok && r->action == SAN_BLOCKED)
		return 0;   /* members of a blocked archive are only listed */
	ok = ok && (r->n_px > 0) == (want == SAN_PAY_PAGES || want == SAN_PAY_IMAGE);
	ok = ok && (r->out != NULL) == (want == SAN_PAY_TEXT);
	/* pages may carry one text member: an office document's text beside its page images (lo_render.c) */
	bool beside = want == SAN_PAY_PAGES && r->n_members == 1 && r->members[0].action == SAN_TEXT &&
	    r->members[0].payload == SAN_PAY_TEXT && r->members[0].n_members == 0;
	ok = ok && ((r->n_members > 0) == (want == SAN_PAY_ARCHIVE) || beside);
	ok = ok && (want != SAN_PAY_IMAGE || r->n_px == 1) && r->n_px <= cfg->max_pages;
	if (!ok)
		snprintf(why, why_size, "%s verdict with a payload of the wrong kind", san_action_name(r->action));
	return ok ? 0 : -1;
}

/* ARCHIVE: every member checked and built like a file, then the new ZIP. */
static int
build_zip(const struct san_config *cfg, struct pixstore *ps, struct san_result *r, unsigned depth, char *why,
    size_t why_size)
{
	struct zipwrite *zw;

	if (depth >= BUILD_MAX_DEPTH) {
		snprintf(why, why_size, "archives nested too deeply");
		return -1;
	}
	size_t kept = 0;

	for (size_t i = 0; i < r->n_members; i++) {
		struct san_result *m = &r->members[i];
		if (build_one(cfg, ps, m->name, m, depth + 1, why, why_size) < 0)
			return -1;
		kept += m->action != SAN_BLOCKED;
	}
	if (kept == 0) {
		snprintf(why, why_size, "archive verdict without a member to write");
		return -1;
	}
	zw = zipwrite_new();
	if (zw == NULL) {
		snprintf(why, why_size, "cannot build the new archive");
		return -1;
	}
	for (size_t i = 0; i < r->n_members; i++) {
		if (r->members[i].action == SAN_BLOCKED)
			continue;
		cleanres_output(&r->members[i]);   /* a member's text as any text: clean, CSV rules, BOM */
		struct san_result *beside = r->members[i].payload == SAN_PAY_PAGES && r->members[i].n_members == 1 ?
		    &r->members[i].members[0] : NULL;   /* an office member's text: NAME.txt beside NAME.pdf */
		if (beside) {
			cleanres_output(beside);
			beside->mtime = r->members[i].mtime;
		}
		if (zipwrite_add(zw, &r->members[i], r) < 0 || (beside && zipwrite_add(zw, beside, r) < 0)) {
			zipwrite_discard(zw);
			snprintf(why, why_size, "member %zu could not be added to the new archive", i + 1);
			return -1;
		}
	}
	if (zipwrite_close(zw, &r->out, &r->out_len) < 0) {
		snprintf(why, why_size, "cannot build the new archive");
		return -1;
	}
	return 0;
}

/* The output name: name (the caller's, or a member's path) with the extension of what was built. */
static void
build_name(struct san_result *r, const char *name, bool jpeg)
{
	char *base = build_base_name(name), *out_name;
	const char *slash = strrchr(base, '/'), *ext = strrchr(slash ? slash + 1 : base, '.');
	bool text_name = ext && (strcasecmp(ext, ".txt") == 0 || strcasecmp(ext, ".csv") == 0 ||
	    strcasecmp(ext, ".tsv") == 0);

	switch (r->payload) {
	/* an office document's pages (text member beside): report.docx -> report.docx.pdf + report.docx.txt */
	case SAN_PAY_PAGES: out_name = res_name_with_ext(base, ".pdf", r->n_members > 0); break;
	case SAN_PAY_IMAGE: out_name = res_name_with_ext(base, jpeg ? ".jpg" : ".png", false); break;
	case SAN_PAY_ARCHIVE: out_name = res_name_with_ext(base, ".zip", false); break;
	default: out_name = text_name ? xstrdup(slash ? slash + 1 : base) : res_name_with_ext(base, ".txt", true); break;
	}
	free(r->out_name);
	r->out_name = out_name;
	free(base);
}

static int
build_one(const struct san_config *cfg, struct pixstore *ps, const char *name, struct san_result *r,
    unsigned depth, char *why, size_t why_size)
{
	static const char *const mimes[] = {
		[SAN_PAY_PAGES] = "application/pdf", [SAN_PAY_TEXT] = "text/plain; charset=utf-8",
		[SAN_PAY_CSV] = "text/csv; charset=utf-8", [SAN_PAY_ARCHIVE] = "application/zip",
	};
	bool jpeg = false;
	int rc = 0;

	if (depth > 0 && (name == NULL || build_check_member_name(name, why, why_size) < 0))
		return -1;   /* every member's name, kept or blocked, before anything of it is used */
	if (build_check_shape(cfg, r, why, why_size) < 0)
		return -1;
	free(r->out_name);
	free(r->out_mime);
	r->out_name = r->out_mime = NULL;
	switch (r->payload) {
	case SAN_PAY_NONE:
		build_drop(r);   /* its members are only listed in the report: their names are checked too */
		return build_check_names(r, depth, why, why_size);
	case SAN_PAY_PAGES:
		rc = build_pdf(ps, r, why, why_size);
		if (rc == 0 && r->n_members == 1)   /* the text beside (build_check_shape allowed only that) */
			rc = build_one(cfg, ps, name, &r->members[0], depth, why, why_size);
		break;
	case SAN_PAY_IMAGE: rc = build_image(ps, r, &jpeg, why, why_size); break;
	case SAN_PAY_ARCHIVE: rc = build_zip(cfg, ps, r, depth, why, why_size); break;
	default:
		if (r->out_len > cfg->max_text_bytes || build_check_text(r->out, r->out_len) < 0) {
			snprintf(why, why_size, "text not valid UTF-8 or over the text limit");
			rc = -1;
		}
		break;
	}
	if (rc == 0 && r->out_len > cfg->max_output_bytes) {
		snprintf(why, why_size, "output larger than the output limit");
		rc = -1;
	}
	if (rc < 0)
		return -1;
	build_name(r, name, jpeg);
	r->out_mime = xstrdup(r->payload == SAN_PAY_IMAGE ? (jpeg ? "image/jpeg" : "image/png") : mimes[r->payload]);
	free(r->px);
	r->px = NULL;
	r->n_px = 0;
	return 0;
}

void
build_result(const struct san_config *cfg, struct pixstore *ps, const char *name, struct san_result *res)
{
	char why[256] = "";

	if (build_one(cfg, ps, name, res, 0, why, sizeof why) < 0) {
		for (size_t i = 0; i < res->n_members; i++)
			build_drop(&res->members[i]);
		res_block(res, "worker answer refused: %s", why);
	}
}

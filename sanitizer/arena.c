/* arena.c -- pixels between worker and parent: batches of pages in sealed memfds (worker), checked, mapped and encoded at once (parent). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util.h"
#include "sanitizer/internal.h"

#define ARENA_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)
/* a ring memfd: its size is fixed (the parent never reads past an end that moved), its samples are not */
#define ARENA_RING_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)
#define ARENA_IN_FLIGHT 2   /* batches sent and not yet answered: the parent encodes one while the next fills */
#define ARENA_RING (ARENA_IN_FLIGHT + 1)   /* one filling, the others in flight */

/* ---- the wire form of one page description ----------------------------------------- */

static void
put32(uint8_t *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
get32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* w, h (u32), ncomp, photo, image, colours (u8), batch (u32), offset (u64), page size in 1/1000 pt (u32 x 2). */
void
arena_put_pixels(uint8_t *b, const struct san_pixels *px)
{
	memset(b, 0, SAN_PIXELS_RECORD);
	put32(b, px->w);
	put32(b + 4, px->h);
	b[8] = px->ncomp;
	b[9] = px->photo;
	b[10] = px->image;
	b[11] = px->colours;
	put32(b + 12, px->batch);
	put32(b + 16, (uint32_t)px->offset);
	put32(b + 20, (uint32_t)(px->offset >> 32));
	put32(b + 24, (uint32_t)(px->page_w * 1000.0 + 0.5));
	put32(b + 28, (uint32_t)(px->page_h * 1000.0 + 0.5));
}

int
arena_get_pixels(const uint8_t *b, struct san_pixels *px)
{
	if (b[9] > 1 || b[10] > 1 || (b[11] != 0 && b[8] != 1))
		return -1;
	px->w = get32(b);
	px->h = get32(b + 4);
	px->ncomp = b[8];
	px->photo = b[9];
	px->image = b[10];
	px->colours = b[11];
	px->batch = get32(b + 12);
	px->offset = (uint64_t)get32(b + 16) | (uint64_t)get32(b + 20) << 32;
	px->page_w = get32(b + 24) / 1000.0;
	px->page_h = get32(b + 28) / 1000.0;
	return 0;
}

/* ---- worker ---------------------------------------------------------------------------- */

struct arena {
	int sock;               /* the answer socket */
	int fd;                 /* the batch being filled, -1 when none */
	bool fd_in_ring;        /* it is ring[batch % ARENA_RING] (kept), not a one-off memfd (sealed, closed) */
	int ring[ARENA_RING];   /* reused memfds of batch_bytes each, made when first needed; -1 before */
	uint64_t size;          /* bytes written to it */
	uint64_t batch_bytes;   /* the most a ring batch holds */
	uint64_t max_bytes;     /* one batch never holds more (the parent's bound) */
	uint32_t batch;         /* number of the batch being filled */
	unsigned in_flight;
	unsigned max_colours;   /* pages of at most this many colours cross indexed (0: never) */
	struct wbuf desc;       /* its page descriptions */
};

struct arena *
arena_new(int sock, uint64_t batch_bytes, uint64_t max_bytes, unsigned max_colours)
{
	struct arena *a = xcalloc(1, sizeof *a);

	a->max_colours = max_colours > 255 ? 255 : max_colours;
	a->sock = sock;
	a->fd = -1;
	for (unsigned i = 0; i < ARENA_RING; i++)
		a->ring[i] = -1;
	a->batch_bytes = batch_bytes;
	a->max_bytes = max_bytes;
	return a;
}

/*
 * The page as one grey channel when every pixel is grey (R = G = B), else
 * NULL. One pass: it stops at the first colour pixel (a colour page costs a
 * few pixels), and a grey page leaves in one write, not one per row.
 */
static uint8_t *
arena_grey_of(const uint8_t *samples, size_t stride, uint32_t w, uint32_t h)
{
	uint8_t *grey = malloc((size_t)w * h), *o = grey;

	for (uint32_t y = 0; grey && y < h; y++) {
		const uint8_t *p = samples + (size_t)y * stride;
		for (uint32_t x = 0; x < w; x++, p += 3) {
			if (p[0] != p[1] || p[1] != p[2]) {
				free(grey);
				return NULL;
			}
			*o++ = p[0];
		}
	}
	return grey;
}

static int
arena_write(int fd, const void *p, size_t n, uint64_t at)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)at);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p = (const uint8_t *)p + w;
		n -= (size_t)w;
		at += (uint64_t)w;
	}
	return 0;
}

/*
 * A ring memfd of batch_bytes: sized once by writing its last byte (no
 * ftruncate in the sandbox), then sealed against shrinking and growing so
 * the parent can read it without a SIGBUS. Its pages stay allocated and are
 * written again for every third batch: allocating, mapping and freeing fresh
 * memory was the cost of every page before (about 1 ms per MB here).
 */
static int
arena_ring_slot(struct arena *a)
{
	int *slot = &a->ring[a->batch % ARENA_RING];

	if (*slot < 0) {
		int fd = memfd_create("tiergate-pixels", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fd < 0)
			return -1;
		if (arena_write(fd, "", 1, a->batch_bytes - 1) < 0 || fcntl(fd, F_ADD_SEALS, ARENA_RING_SEALS) < 0) {
			close(fd);
			return -1;
		}
		*slot = fd;
	}
	return *slot;
}

/*
 * Where the next len bytes go: the batch being filled, or a new one (the full
 * one sent first). A page that fits goes to a ring memfd; a larger one (up to
 * the worker's memory) travels alone in a one-off memfd, sealed every way.
 */
static int
arena_room(struct arena *a, uint64_t len)
{
	bool ring = len <= a->batch_bytes;

	if (len == 0 || len > a->max_bytes)
		return -1;
	if (a->fd >= 0 && (!a->fd_in_ring || !ring || a->size + len > a->batch_bytes) && arena_flush(a) < 0)
		return -1;
	if (a->fd < 0) {
		a->fd = ring ? arena_ring_slot(a) : memfd_create("tiergate-pixels", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		a->fd_in_ring = ring;
		a->size = 0;
	}
	return a->fd < 0 ? -1 : 0;
}

/*
 * A quick look before counting a page's colours: its middle rows. A photo or
 * gradient has more than max_colours there already, and counting from the
 * top (white margins first) ran through a tenth of a scanned page before it
 * gave up.
 */
static bool
arena_few_colours(const struct arena *a, const uint8_t *samples, size_t stride, const struct san_pixels *px)
{
	uint32_t rows = px->h < 8 ? px->h : 8;
	uint8_t palette[768];
	int n;
	uint8_t *idx = imgenc_palette(samples + (size_t)(px->h / 2 - rows / 2) * stride, (int)px->w, (int)rows, stride,
	    (int)a->max_colours, palette, &n);
	bool few = idx != NULL;

	free(idx);
	return few;
}

/* The samples of px in the memfd at a->size: the palette then converted (indices or grey), or as they are. */
static int
arena_write_samples(struct arena *a, const uint8_t *samples, size_t stride, const struct san_pixels *px,
    const uint8_t *palette, const uint8_t *converted)
{
	size_t row = (size_t)px->w * px->ncomp, pal = (size_t)px->colours * 3;
	int rc = 0;

	if (converted)
		return (pal && arena_write(a->fd, palette, pal, a->size) < 0) ? -1 :
		    arena_write(a->fd, converted, (size_t)px->w * px->h, a->size + pal);
	if (stride == row)
		return arena_write(a->fd, samples, row * px->h, a->size);
	for (uint32_t y = 0; y < px->h && rc == 0; y++)
		rc = arena_write(a->fd, samples + (size_t)y * stride, row, a->size + (uint64_t)y * row);
	return rc;
}

int
arena_ship(struct arena *a, const uint8_t *samples, size_t stride, struct san_pixels *px)
{
	uint8_t palette[768];
	uint8_t *converted = NULL;
	int n = 0, rc;
	uint64_t len;

	px->colours = 0;
	if (px->ncomp == 3 && (converted = arena_grey_of(samples, stride, px->w, px->h))) {
		px->ncomp = 1;   /* a black-and-white page crosses as a third of the bytes */
	} else if (px->ncomp == 3 && !px->image && a->max_colours && arena_few_colours(a, samples, stride, px) &&
	    (converted = imgenc_palette(samples, (int)px->w, (int)px->h, stride, (int)a->max_colours, palette, &n))) {
		px->ncomp = 1;   /* so does a page of few colours, as a palette and indices */
		px->colours = (uint8_t)n;
	}
	len = (uint64_t)px->w * px->h * px->ncomp + (uint64_t)px->colours * 3;
	rc = arena_room(a, len);
	if (rc == 0) {
		px->batch = a->batch;
		px->offset = a->size;
		rc = arena_write_samples(a, samples, stride, px, palette, converted);
	}
	free(converted);
	if (rc < 0)
		return -1;
	a->size += len;
	if (a->desc.len + SAN_PIXELS_RECORD > a->desc.cap) {
		a->desc.cap = a->desc.cap ? a->desc.cap * 2 : 64 * SAN_PIXELS_RECORD;
		a->desc.p = xrealloc(a->desc.p, a->desc.cap, 1);
	}
	arena_put_pixels(a->desc.p + a->desc.len, px);
	a->desc.len += SAN_PIXELS_RECORD;
	/*
	 * Every page leaves as soon as it is drawn: the parent encodes it while
	 * the next ones render (a 2-page document's first page no longer waits
	 * for its second). Batches of several pages were there to spread the cost
	 * of fresh memfds, which the ring no longer pays.
	 */
	return arena_flush(a);
}

/* One byte from the parent: it has encoded a batch and closed it. */
static int
arena_wait_ack(struct arena *a)
{
	uint8_t ack;
	ssize_t n;

	do
		n = read(a->sock, &ack, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return -1;
	a->in_flight--;
	return 0;
}

static int
arena_send(int sock, const struct wbuf *w, int fd)
{
	union { struct cmsghdr hdr; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
	struct iovec iov = { w->p, w->len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
	struct cmsghdr *c;
	size_t done;
	ssize_t n;

	memset(&ctl, 0, sizeof ctl);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	for (done = (size_t)n; done < w->len; done += (size_t)n) {
		n = write(sock, w->p + done, w->len - done);
		if (n < 0 && errno == EINTR)
			n = 0;
		else if (n <= 0)
			return -1;
	}
	return 0;
}

int
arena_flush(struct arena *a)
{
	struct wbuf w = { NULL, 0, 0 };
	int rc;

	if (a->fd < 0)
		return 0;
	if (a->in_flight >= ARENA_IN_FLIGHT && arena_wait_ack(a) < 0)
		return -1;
	rc = (a->fd_in_ring || fcntl(a->fd, F_ADD_SEALS, ARENA_SEALS) == 0) &&
	    wire_encode_pixels(a->batch, a->desc.p, a->desc.len / SAN_PIXELS_RECORD, &w) == 0 &&
	    arena_send(a->sock, &w, a->fd) == 0 ? 0 : -1;
	free(w.p);
	if (!a->fd_in_ring)
		close(a->fd);
	a->fd = -1;
	a->desc.len = 0;
	a->batch++;
	a->in_flight++;
	return rc;
}

int
arena_finish(struct arena *a)
{
	if (arena_flush(a) < 0)
		return -1;
	while (a->in_flight > 0)   /* no answer left unread: closing on one would reset the parent's socket */
		if (arena_wait_ack(a) < 0)
			return -1;
	return 0;
}

void
arena_free(struct arena *a)
{
	if (a == NULL)
		return;
	if (a->fd >= 0 && !a->fd_in_ring)
		close(a->fd);
	for (unsigned i = 0; i < ARENA_RING; i++)
		if (a->ring[i] >= 0)
			close(a->ring[i]);
	free(a->desc.p);
	free(a);
}

/* ---- parent ---------------------------------------------------------------------------- */

/*
 * A descriptor from a worker is as hostile as the worker: only a memfd whose
 * size can no longer change (sealed against shrinking and growing) and is
 * within the bound is read; a pipe or a file would not be pixels at all.
 * Sealed against writing too (a one-off batch), it is mapped read-only and
 * encoded in place. A ring memfd the worker can still write is not mapped:
 * *map stays NULL and the parent copies each page out with pread before it
 * checks or encodes a byte (build.c), so a worker that rewrites its pixels
 * afterwards changes nothing the parent looks at.
 */
int
arena_map_received(int fd, uint64_t max_bytes, const uint8_t **map, size_t *len, char *why, size_t why_size)
{
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);
	void *m;

	if (seals < 0) {
		snprintf(why, why_size, "pixel descriptor is not a sealable memfd");
		return -1;
	}
	if ((seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW)) {
		snprintf(why, why_size, "pixel memfd not sealed (seals 0x%x)", (unsigned)seals);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		snprintf(why, why_size, "pixel memfd empty or not a memory file");
		return -1;
	}
	if ((uint64_t)st.st_size > max_bytes) {
		snprintf(why, why_size, "pixel memfd of %lld bytes over the limit of %llu",
		    (long long)st.st_size, (unsigned long long)max_bytes);
		return -1;
	}
	*map = NULL;
	*len = (size_t)st.st_size;
	if ((seals & ARENA_SEALS) != ARENA_SEALS)
		return 0;   /* still writable: read page by page (pread), never mapped */
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (m == MAP_FAILED) {
		snprintf(why, why_size, "pixel memfd cannot be mapped: %s", strerror(errno));
		return -1;
	}
	*map = m;
	return 0;
}

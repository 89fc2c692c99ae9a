/* internal.h -- what the sanitizer's own files share: the worker job, result helpers, per-type rebuilders. */
#ifndef TIERGATE_SAN_INTERNAL_H
#define TIERGATE_SAN_INTERNAL_H

#include <magic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sanitizer/sanitize.h"

struct lo_output;

/* One sanitization inside the worker (or nested, for archive members). */
struct san_job {
	const struct san_config *cfg;
	magic_t magic;
	unsigned depth;        /* 0 for the file itself, +1 per enclosing archive */
	uint64_t *budget;      /* uncompressed bytes still allowed for the whole file (archives) */
	struct pool *pool;     /* the worker's render threads (pool.h), NULL: render on one */
	struct arena *arena;   /* where rendered pixels leave the worker (arena.c) */
	/* the converter's answer for the file itself (made by the parent before the fork, lo_pool.c) */
	const struct lo_output *office;   /* its PDF and text, or NULL */
	const char *office_why;           /* or why it failed, or NULL: not converted */
	bool office_refused;              /* LibreOffice could not read it (docx/odf: text path instead) */
	const uint8_t *office_src;        /* the bytes converted: only they get office/office_why */
	int lo_fd;                        /* archive members: conversions asked of the parent (lo_chan.c); <= 0: none */
};

/*
 * What a worker may hand back (san_result.payload): pixels or text, never a
 * file. The parent checks them against the limits and builds the output.
 */
enum san_payload {
	SAN_PAY_NONE,      /* blocked: nothing */
	SAN_PAY_PAGES,     /* document pages -> the parent writes a PDF */
	SAN_PAY_IMAGE,     /* one image -> the parent writes a PNG or JPEG */
	SAN_PAY_TEXT,      /* UTF-8 text (in out/out_len) -> .txt */
	SAN_PAY_CSV,       /* UTF-8 text of a CSV/TSV -> text/csv */
	SAN_PAY_ARCHIVE,   /* members (each with its own payload) -> the parent writes a ZIP */
};

/* One page or image: raw samples in a pixel memfd, rows of w * ncomp bytes without padding. */
struct san_pixels {
	uint32_t w, h;
	uint8_t ncomp;            /* 1 gray (or indexed), 3 RGB */
	uint8_t colours;          /* indexed: palette entries (RGB triples) before the w * h indices; 0 none */
	bool photo;               /* the source was a photograph (JPEG): encoded as JPEG */
	bool image;               /* an image file re-encoded (PNG/JPEG), not a document page */
	uint32_t batch;           /* which memfd (the n-th PIXELS record) */
	uint64_t offset;          /* of the first sample in that memfd */
	double page_w, page_h;    /* pages: page size in points */
};
#define SAN_PAGE_MAX_POINTS (14400.0 * 4)
#define SAN_PIXELS_RECORD 32  /* bytes of a page description on the wire */
#define SAN_FLAT_COLOURS 96   /* codec auto: a page of at most this many colours crosses indexed, Flate */

/*
 * arena.c, worker: pixels leave as they are rendered, a page per batch.
 * Each batch is a memfd (memfd_create with sealing) holding the page's
 * samples, passed to the parent with SCM_RIGHTS in a PIXELS record that
 * describes it; the parent encodes it at once and answers one byte, so at
 * most two batches are in flight and a long document never piles up in
 * memory. Batches rotate over three ring memfds of batch_bytes (sealed
 * against shrinking and growing, reused: fresh memory per page cost more
 * than encoding it); a page larger than that goes in a one-off memfd sealed
 * every way.
 */
struct arena;
struct arena *arena_new(int sock, uint64_t batch_bytes, uint64_t max_bytes, unsigned max_colours);
/*
 * Ships one rendered image (rows of stride bytes, w * ncomp used): px gets
 * its batch and offset (w, h, ncomp, photo, image, page size set by the
 * caller). A page whose every pixel is grey crosses as one channel, one of
 * at most max_colours colours (text, tables) as a palette and one index per
 * pixel: a third of the bytes either way. -1 on failure.
 */
int arena_ship(struct arena *a, const uint8_t *samples, size_t stride, struct san_pixels *px);
/* Sends the batch being filled (if any). -1 on failure. */
int arena_flush(struct arena *a);
/* Sends the last batch and waits until the parent has taken every batch. */
int arena_finish(struct arena *a);
void arena_free(struct arena *a);
/* Writes the wire record of one page description (SAN_PIXELS_RECORD bytes). */
void arena_put_pixels(uint8_t *b, const struct san_pixels *px);
/* Reads it back; -1 when its reserved bytes or flags are not what arena_put_pixels writes. */
int arena_get_pixels(const uint8_t *b, struct san_pixels *px);

/*
 * arena.c, parent: a received batch is read only when it is a memfd sealed
 * against shrinking and growing and within the size bound: mapped when it
 * is sealed against writing too, else (*map NULL) read page by page into
 * the parent's own memory. Its pages are checked against the limits and
 * encoded at once into the store, which build.c then takes them from. The
 * store is bounded by the output limit.
 */
int arena_map_received(int fd, uint64_t max_bytes, const uint8_t **map, size_t *len, char *why, size_t why_size);
struct pixstore;
struct pixstore *pixstore_new(void);
void pixstore_free(struct pixstore *ps);
/*
 * Checks and encodes the n pages described by desc (n * SAN_PIXELS_RECORD
 * bytes) of batch number batch, whose samples are pixels[0..len) (a sealed
 * batch, mapped) or, when pixels is NULL, the len bytes of the memfd fd that
 * the worker can still write (each page copied out first). -1 with why.
 */
int pixstore_add_batch(struct pixstore *ps, const struct san_config *cfg, uint32_t batch, const uint8_t *desc,
    size_t n, const uint8_t *pixels, int fd, size_t len, char *why, size_t why_size);
uint32_t pixstore_batches(const struct pixstore *ps);
/* The encoded page px names (same batch, offset, sizes, kind), taken out of the store once; NULL if none. */
struct page_image *pixstore_take(struct pixstore *ps, const struct san_pixels *px);

/* What libmagic's answer means for us. */
enum san_kind {
	KIND_PDF, KIND_IMAGE, KIND_OOXML, KIND_ODF, KIND_HTML, KIND_TEXT, KIND_ZIP, KIND_TAR, KIND_GZIP,
	KIND_LEGACY_OFFICE, KIND_RTF, KIND_EXECUTABLE, KIND_ARCHIVE_OTHER, KIND_OTHER,
};

/* detect.c */
enum san_kind detect_kind(const char *mime);
/* The kind the name's extension promises, or KIND_OTHER when unknown/none. */
enum san_kind detect_kind_of_name(const char *name);
const char *detect_kind_name(enum san_kind kind);
/* Detects the MIME type (malloc'd) with libmagic; "application/octet-stream" on failure. */
char *detect_mime(magic_t magic, const uint8_t *data, size_t len);
/* Office zips libmagic sometimes calls application/zip: looks at the members. */
enum san_kind detect_office_zip(const uint8_t *data, size_t len, const char *name);

/* result.c: building a san_result (all allocation failures are fatal in the worker). */
void res_set_str(char **field, const char *value);
void res_finding(struct san_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool res_has_finding(const struct san_result *res, const char *finding);
void res_block(struct san_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void res_output(struct san_result *res, enum san_action action, uint8_t *out, size_t out_len,
    const char *out_name, const char *out_mime);
/* Worker: res becomes text (takes text, malloc'd UTF-8); the parent names and types it. */
void res_text(struct san_result *res, char *text, size_t len, bool csv);
/* A plain file name: no directories, no control characters, no leading dot ("file" if nothing is left). */
char *res_safe_name(const char *name);
/* name with its last extension replaced (ext like ".pdf"); "file" when name is empty. */
char *res_name_with_ext(const char *name, const char *ext, bool append);

/* dispatch.c: the in-worker sanitization by type (no fork; archives recurse into it, and the
 * archive nesting limit is checked here, once, before any archive reader runs). */
void dispatch_sanitize(const struct san_job *job, const uint8_t *data, size_t len,
    const char *name, const char *declared_mime, struct san_result *res);

/* pdfscan.c: the qpdf look at an original PDF. */
enum pdfscan_status { PDFSCAN_OK, PDFSCAN_ENCRYPTED_USER, PDFSCAN_DAMAGED };
enum pdfscan_status pdfscan_buffer(const uint8_t *data, size_t len, struct san_result *res);

/*
 * flatten.c: MuPDF renders PDFs and images into the pixel channel. flatten_pdf
 * is the one entry for a document MuPDF can open: every page goes to res->px
 * (payload SAN_PAY_PAGES) or res is blocked with the reason; the parent
 * builds the PDF. A converter (e.g. office -> PDF) calls it with its PDF.
 */
void flatten_pdf(const struct san_job *job, const uint8_t *data, size_t len, struct san_result *res);
void flatten_image(const struct san_job *job, const uint8_t *data, size_t len,
    const char *mime, struct san_result *res);

/* pdfwrite.c: a new PDF of one image per page. */
struct pdfwrite;
struct pdfwrite *pdfwrite_new(void);
/* A page image ready for the PDF: JPEG (dct) or Flate with the PNG Up predictor. */
struct page_image {
	uint8_t *data;
	size_t len;
	bool dct;
	int w, h, ncomp;          /* ncomp 1 or 3; 1 with a palette for /Indexed */
	uint8_t palette[256 * 3];
	int palette_n;            /* 0: no palette */
};
/* Adds a page of size page_w x page_h points showing img over all of it. */
int pdfwrite_add_page(struct pdfwrite *pw, const struct page_image *img, double page_w, double page_h);
/* Writes the document to a malloc'd buffer. Returns 0 or -1 with why. */
int pdfwrite_finish(struct pdfwrite *pw, uint8_t **out, size_t *out_len, const char **why);
void pdfwrite_free(struct pdfwrite *pw);

/* imgenc.c */
int imgenc_jpeg(const uint8_t *pixels, int w, int h, int ncomp, size_t stride, int quality,
    uint8_t **out, size_t *out_len);
int imgenc_flate(const uint8_t *pixels, int w, int h, int ncomp, size_t stride,
    uint8_t **out, size_t *out_len);
int imgenc_png(const uint8_t *pixels, int w, int h, int ncomp, size_t stride, uint8_t **out, size_t *out_len);
/*
 * Maps RGB pixels to at most max_colours (<= 256) palette entries. Returns the index
 * image (w*h bytes, malloc'd) and fills palette/n, or NULL as soon as there are more.
 */
uint8_t *imgenc_palette(const uint8_t *pixels, int w, int h, size_t stride, int max_colours,
    uint8_t palette[768], int *n);

/* What the text converters left out because a reader would not see it (reported as findings). */
struct text_hidden {
	unsigned html_elements;   /* display:none, visibility:hidden, hidden, font-size:0 */
	unsigned word_runs;       /* w:vanish runs */
	unsigned sheets;          /* hidden and veryHidden worksheets */
	unsigned slides;          /* slides marked show="0" */
};

/* office.c: OOXML/ODF to text. Returns 0, or -1 with a reason in why. hidden may be NULL. */
int office_to_text(const uint8_t *data, size_t len, enum san_kind kind, const struct san_config *cfg,
    char **text, size_t *text_len, char *why, size_t why_size, struct text_hidden *hidden);

/* office_links.c: OOXML/ODF parts shown from elsewhere (linked images, files, objects; not hyperlinks): a count, 0 when unreadable. */
unsigned office_count_links(const uint8_t *data, size_t len, const struct san_config *cfg);

/* html.c: HTML (any charset) to readable UTF-8 text, without what a browser would not show. */
int html_to_text(const uint8_t *data, size_t len, size_t max_text, char **text, size_t *text_len,
    struct text_hidden *hidden);

/*
 * lo_render.c: an office document in the worker: the converter's PDF rendered to pixels
 * like any PDF, its text beside it (a member), or office.c's text when nothing was converted.
 */
bool lo_render(const struct san_job *job, const uint8_t *data, size_t len, enum san_kind kind,
    struct san_result *res);   /* false: not done, the caller's own path (text) takes it */
/* lo_pdftext.c: the text of each page of the converter's PDF under "=== slide N ===" (presentations). */
int lo_pdftext(const uint8_t *pdf, size_t len, size_t max_text, char **text, size_t *text_len);
/* An office member of an archive, converted by the parent on the worker's request: true when res is its verdict. */
bool lo_render_member(const struct san_job *job, const uint8_t *data, size_t len, const char *name,
    enum san_kind kind, struct san_result *res);


/* imgdecode.c: HEIC/HEIF and WebP (by their magic) decoded to pixels in the worker; the parent encodes. */
enum imgdecode_type { IMGDECODE_NONE, IMGDECODE_HEIF, IMGDECODE_WEBP };
enum imgdecode_type imgdecode_sniff(const uint8_t *data, size_t len);
/* In the parent, before a fork: libheif loaded (heifload.c) and its decoders registered; 0, or -1 (HEIC blocked). */
int imgdecode_prepare(void);
/* Whether these bytes may hold a HEIF image (one, or an archive): the parent then prepares before the fork. */
bool imgdecode_may_need_heif(const uint8_t *data, size_t len);
/* heifde265.c: libheif's HEVC decoder, in the caller's thread (registered by heifload_open). */
int heifde265_register(void);
void imgdecode_image(const struct san_job *job, const uint8_t *data, size_t len, enum imgdecode_type type,
    struct san_result *res);
/* The decoding alone (fuzz target): rows of w * ncomp bytes (RGB, or grey with cfg->gray), alpha over white. */
struct imgdecode_pixels {
	uint8_t *rows;            /* malloc'd: the caller frees */
	uint32_t w, h;
	uint8_t ncomp;
	bool photo;               /* encode as JPEG (HEIF, lossy WebP) */
};
int imgdecode_decode(const struct san_config *cfg, const uint8_t *data, size_t len, enum imgdecode_type type,
    struct imgdecode_pixels *out, char *why, size_t why_size);

/* archive.c: read a ZIP and rebuild it from its sanitized members (zipwrite.c writes). */
void archive_zip(const struct san_job *job, const uint8_t *data, size_t len, const char *name,
    struct san_result *res);
/* A member path as a safe relative UTF-8 path (CP932 decoded, no "..", not absolute, through
 * lib/textclean.c with removals counted in found); "member" if empty. */
struct textclean_counts;
char *archive_safe_path(const char *raw, struct textclean_counts *found);
/* Findings for what the cleaner removed from a member's name. */
void archive_name_findings(struct san_result *res, const char *name, const struct textclean_counts *found);

/*
 * zipwrite.c. Worker: the member list of archive.c and tarball.c -- each member
 * sanitized into its own payload (zipwrite_member), the archive's payload set
 * by zipwrite_finish. Parent (build.c): the new ZIP written with libzip.
 */
void zipwrite_member(const struct san_job *job, const char *name, const char *raw,
    const uint8_t *data, size_t len, time_t mtime, struct san_result *res);
/* m (a member not read, with its reason) moves into res->members. */
void zipwrite_blocked(struct san_result *res, struct san_result *m);
void zipwrite_finish(struct san_result *res);
struct zipwrite;
struct zipwrite *zipwrite_new(void);
/* Adds a built member (out, out_name) at its path's directory; -1 when libzip refuses. */
/* Adds m's output, renamed "name (2).ext" when its path is taken (a finding in res). */
int zipwrite_add(struct zipwrite *zw, struct san_result *m, struct san_result *res);
/* Writes the archive to a malloc'd buffer and frees zw. */
int zipwrite_close(struct zipwrite *zw, uint8_t **bytes, size_t *len);
void zipwrite_discard(struct zipwrite *zw);

/*
 * tarball.c: tar (ustar/GNU/pax, plain or gzipped) members into a new ZIP under the
 * archive limits; a lone .gz becomes its decompressed file, sanitized by its own type.
 */
void tarball_sanitize(const struct san_job *job, const uint8_t *data, size_t len, const char *name,
    bool gzipped, struct san_result *res);

/* tarread.c: the tar and gzip structure, read strictly and within bounds (fuzzed alone). */
enum tar_type { TAR_FILE, TAR_DIR, TAR_HARDLINK, TAR_SYMLINK, TAR_CHARDEV, TAR_BLOCKDEV, TAR_FIFO, TAR_OTHER };
struct tar_entry {
	char *path;            /* as the archive says it: pax path, GNU long name, or ustar prefix/name */
	char *link;            /* hard and symbolic links: the target, else NULL */
	enum tar_type type;
	char typeflag;         /* the header's type byte (named in findings for TAR_OTHER) */
	const uint8_t *data;   /* TAR_FILE: size bytes inside the parsed buffer */
	uint64_t size;
	int64_t mtime;
	size_t offset;         /* of the entry's header */
};
struct tar_list {
	struct tar_entry *entries;
	size_t n;
	size_t trailing;       /* bytes after the end-of-archive block that are not zero padding */
};
/*
 * Reads the whole archive before anything is used: a bad checksum, a
 * truncated header, a size beyond the input, an unsupported entry (sparse,
 * multi-volume) or more than max_entries entries refuses all of it
 * (-1, why says what and where). 0 with the entries otherwise.
 */
int tarread_parse(const uint8_t *data, size_t len, size_t max_entries, struct tar_list *out,
    char *why, size_t why_size);
void tarread_free(struct tar_list *tl);
/* A first block with the ustar magic, or a v7 header with a valid checksum. */
bool tarread_is_tar(const uint8_t *data, size_t len);
/*
 * gzip (concatenated members are one stream; CRC and length checked) into
 * *out (malloc'd), never more than max_out bytes: -2 when the stream holds
 * more, -1 when damaged or truncated (why). *trailing: non-zero bytes after it.
 */
int tarread_gunzip(const uint8_t *in, size_t len, size_t max_out, uint8_t **out, size_t *out_len,
    size_t *trailing, char *why, size_t why_size);

/* wire.c: the worker's result over its socket (length-prefixed records, bounded on read). */
struct wbuf {
	uint8_t *p;
	size_t len, cap;
};
/* The result tree as records, "TGW2" first when magic (the worker sends the magic, then batches, then this). */
int wire_encode(const struct san_result *res, bool magic, struct wbuf *out);
/* A PIXELS record: batch number and the page descriptions of one memfd. */
int wire_encode_pixels(uint32_t batch, const uint8_t *desc, size_t n, struct wbuf *out);
/*
 * Decodes a whole stream; *batches is the number of PIXELS records (the
 * parent has already handled them as they came). -1 with why (a short
 * reason for the block) on anything but a well-formed answer.
 */
int wire_decode(const uint8_t *p, size_t len, const struct san_config *cfg, struct san_result *res,
    uint32_t *batches, char *why, size_t why_size);
/*
 * While the answer arrives: the next complete PIXELS record at *pos (after
 * the magic, before the tree). 1 with its batch and descriptions, 0 when
 * the next record is something else or incomplete, -1 when malformed.
 */
int wire_next_pixels(const uint8_t *p, size_t len, size_t *pos, uint32_t *batch, const uint8_t **desc, size_t *n);

/*
 * build.c (parent): checks a decoded answer against the limits and builds
 * every output from its pixels and text -- PDF, PNG/JPEG, .txt, ZIP -- with
 * names and types chosen here from the payload. name is the caller's name
 * of the file. Anything inconsistent blocks res with the reason.
 */
void build_result(const struct san_config *cfg, struct pixstore *ps, const char *name, struct san_result *res);
/* A member path from a worker: 0 when every segment is clean UTF-8 (no controls, bidi, "..", ...), else -1. */
int build_check_member_name(const char *path, char *why, size_t why_size);
/* Page pixels -> a page image (codec from cfg; photo: JPEG); an image file's -> PNG/JPEG bytes (dct: JPEG). */
int build_encode_page(const struct san_config *cfg, const uint8_t *px, const struct san_pixels *p,
    struct page_image *img);

/* sandbox.c */
struct sandbox_ids {
	bool drop;
	uid_t uid;
	gid_t gid;
	void *bpf;            /* the seccomp filter, compiled once in the parent (struct sock_filter[]) */
	unsigned short bpf_len;
};
int sandbox_resolve_user(const char *user, struct sandbox_ids *ids);
/* The uid and gid worker.user names (a passwd user, a number, or the built-in default's own); false: unknown. */
bool sandbox_worker_ids(const char *user, uid_t *uid, gid_t *gid);
/* Root, or CAP_SETUID and CAP_SETGID effective (the packaged milter): workers can be given their own uid. */
bool sandbox_can_setuid(void);
/* Not root: clears every capability of every thread (the milter daemon once its zygote runs). -1 on failure. */
int sandbox_drop_caps(void);
/* Compiles the worker's seccomp filter (libseccomp) once, so a worker only installs it. */
int sandbox_compile(struct sandbox_ids *ids);
/* The same filter without the file-probe leniency: open, openat, access, stat and ioctl kill too (mail parser). */
int sandbox_compile_strict(struct sandbox_ids *ids);
void sandbox_free(struct sandbox_ids *ids);
/* In the forked child: privileges, rlimits, seccomp. Returns 0 or -1 (the child then exits). */
int sandbox_enter(const struct san_config *cfg, const struct sandbox_ids *ids, int keep_fd);
/* The same keeping a second descriptor (-1: none): the worker's channel to the office converter. */
int sandbox_enter_fds(const struct san_config *cfg, const struct sandbox_ids *ids, int keep_fd, int keep_fd2);
/* sandbox_enter_fds in two halves, for a worker that starts its threads in between (see sandbox.c). */
int sandbox_enter_ids(const struct sandbox_ids *ids, int keep_fd, int keep_fd2);
int sandbox_enter_filter(const struct san_config *cfg, const struct sandbox_ids *ids);

/* Unit tests only (production code never sets it): runs in the worker right after sandbox_enter. */
extern void (*san_test_worker_hook)(struct pool *pool);

/* sha256 of a buffer as hex (OpenSSL). */
void san_sha256_hex(const uint8_t *data, size_t len, char out[SAN_SHA256_HEX]);

#endif

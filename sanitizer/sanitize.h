/* sanitize.h -- the file sanitizer's in-process API: one hostile buffer in, a verdict and a safe rebuild out. */
#ifndef TIERGATE_SANITIZE_H
#define TIERGATE_SANITIZE_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"
#include "lib/event.h"

/*
 * Usage (CLI, spool daemon, milter):
 *
 *	struct san_config sc;
 *	san_config_defaults(&sc);
 *	san_config_load(&sc, config_root_or_NULL, &diags);   // the "sanitizer" group
 *	struct san_ctx *ctx = san_ctx_new(&sc);               // loads libmagic, iconv once
 *	struct san_result r;
 *	if (san_buffer(ctx, bytes, len, "report.pdf", "application/pdf", &r) == 0) {
 *		... r.action, r.out/r.out_len, r.out_name, r.findings ...
 *		if (r.action == SAN_BLOCKED) san_quarantine_original(ctx, bytes, len, &r, "file", ...);
 *	}
 *	san_result_free(&r);
 *	san_ctx_free(ctx);
 *
 * san_buffer never parses the bytes in the calling process: a forked worker
 * (privileges dropped, rlimits, seccomp) does, and a crash, a seccomp kill or
 * a timeout of that worker is a SAN_BLOCKED result with the reason, not an
 * error. san_buffer is safe to call from several threads at once.
 */

enum san_action {
	SAN_FLATTENED,   /* PDF (or image) rebuilt as a PDF of one image per page */
	SAN_TEXT,        /* office, HTML, text: plain UTF-8 text */
	SAN_REENCODED,   /* image decoded and written anew (PNG or JPEG), metadata gone */
	SAN_ARCHIVE,     /* archive rebuilt from its sanitized members (see members) */
	SAN_BLOCKED,     /* nothing safe to deliver; reason says why */
};

/* AUTO: pages of at most 256 colours (text, tables, diagrams) lossless as indexed Flate, others JPEG. */
enum san_codec { SAN_CODEC_AUTO, SAN_CODEC_JPEG, SAN_CODEC_FLATE };
enum san_image_mode { SAN_IMAGE_REENCODE, SAN_IMAGE_PDF };
enum san_image_format { SAN_IMAGE_PNG, SAN_IMAGE_JPEG };
/* Office documents: the printed pages as an image-only PDF, the text beside it, or both. */
enum san_office_output { SAN_OFFICE_BOTH, SAN_OFFICE_IMAGE, SAN_OFFICE_TEXT };

/* Every size is in bytes, every time in seconds; each has a default (san_config_defaults). */
struct san_config {
	unsigned dpi;                 /* rendering resolution of PDF pages (150) */
	bool gray;                    /* render gray instead of colour (false) */
	enum san_codec codec;         /* page image compression (AUTO) */
	unsigned jpeg_quality;        /* 1..100 (75) */
	unsigned max_pages;           /* more pages: blocked (1000) */
	uint64_t max_page_pixels;     /* rendered pixels per page (60 M) */
	uint64_t max_image_pixels;    /* decoded pixels of an image file (100 M) */
	enum san_image_mode image_mode;       /* images: re-encode or flatten into a PDF */
	enum san_image_format image_format;   /* re-encoded image format (PNG) */
	size_t max_input_bytes;       /* larger inputs: blocked (100 MB) */
	size_t max_output_bytes;      /* larger results: blocked (256 MB) */
	size_t max_text_bytes;        /* extracted text cap per file (16 MB) */
	/* archives */
	unsigned archive_max_depth;   /* nesting of archives in archives (3) */
	unsigned archive_max_members; /* (1000) */
	uint64_t archive_max_total;   /* uncompressed bytes over all members (512 MB) */
	unsigned archive_max_ratio;   /* uncompressed/compressed per member and total (100) */
	/* office XML */
	uint64_t office_max_member;   /* one XML part uncompressed (64 MB) */
	uint64_t office_max_total;    /* all XML parts read (128 MB) */
	enum san_office_output office_output;   /* (BOTH; needs san_ctx_office_start, else TEXT) */
	unsigned office_slots;        /* warm LibreOffice sandboxes (1) */
	unsigned office_timeout;      /* wall clock per document and per start (60) */
	uint64_t office_memory;       /* RLIMIT_AS of a converter sandbox (4 GB) */
	unsigned office_max_documents;   /* a converter is restarted after this many (100) */
	/* worker sandbox */
	unsigned worker_cpu_seconds;  /* RLIMIT_CPU (60) */
	uint64_t worker_memory;       /* RLIMIT_AS (2 GB) */
	unsigned worker_timeout;      /* wall clock, parent kills (120) */
	char *worker_user;            /* dropped to when started as root ("tiergate-worker"; uid 61000 if absent) */
	unsigned worker_threads;      /* render threads per PDF (0: one per CPU, at most 8) */
	/* quarantine */
	char *quarantine_dir;         /* ("/var/lib/tiergate/quarantine") */
	unsigned quarantine_retention_days;   /* (90; 0 = keep forever) */
	char *sendmail;               /* release of mail items ("/usr/sbin/sendmail") */
	/* release: tiergate-quarantined and the portal (sanitizer/qrel_*.c) */
	char *release_socket;         /* ("/run/tiergate/quarantined.sock") */
	char *admin_group;            /* who may release ("tiergate-admin") */
	unsigned release_approvals;   /* 1, or 2: a second, different admin approves (1) */
	char *release_dir;            /* --to only below it (NULL: file release refused) */
	char *requests_dir;           /* release requests ("/var/lib/tiergate/release-requests") */
	char *portal_user;            /* the portal's uid may send the portal verbs (NULL: none) */
	char *token_key;              /* HMAC key file of request links (NULL: no links) */
	unsigned request_days;        /* how long a request link works (14) */
	char *portal_url;             /* base of the request link in notices (NULL: no link) */
	char *approvers;              /* approvers' name:scrypt:TOTP file, the daemon's alone (NULL: no portal logins) */
	unsigned approver_ticket_seconds;   /* an approver's login lasts (28800) */
	unsigned lockout_threshold, lockout_source_threshold, lockout_base, lockout_max;   /* as the bridge's */
	char *user_release_root;      /* portal file releases go to ROOT/USER/ (NULL: not offered) */
	char *libreoffice;            /* soffice.bin for the converter (NULL: Debian's) */
	char *events;                 /* JSON event log path, "-" stdout, NULL none */
};

/* Fills every member with its default (strings allocated). */
void san_config_defaults(struct san_config *sc);
/*
 * Reads the "sanitizer" group of root (a loaded site file; NULL or a missing
 * group leaves the defaults). Unknown members are warned about. Returns -1 on
 * any error diagnostic.
 */
int san_config_load(struct san_config *sc, const config_setting_t *root, struct diags *d);
void san_config_copy(struct san_config *dst, const struct san_config *src);   /* deep: dst owns its strings */
void san_config_free(struct san_config *sc);

struct san_ctx;
/* Copies sc. Returns NULL (logged) when libmagic cannot load its database. */
struct san_ctx *san_ctx_new(const struct san_config *sc);
/*
 * Gives the ctx its office converter (lo_pool.c) when office.output is "image" or "both":
 * without it office files become text only. warm: start the sandboxes now (daemons).
 */
void san_ctx_office_start(struct san_ctx *ctx, bool warm);
/* The same with the converter of another process (lo_service.c) behind svc_fd (the ctx then owns it). */
void san_ctx_office_remote(struct san_ctx *ctx, int svc_fd);
/* Daemons, at start: libmagic warmed and libheif loaded once, so workers forked later start warm (else lazily). */
void san_ctx_warm(struct san_ctx *ctx);
void san_ctx_free(struct san_ctx *ctx);
const struct san_config *san_ctx_config(const struct san_ctx *ctx);
/* The ctx's event sink (sanitizer.events), NULL when none. */
struct ev_sink *san_ctx_events(struct san_ctx *ctx);

#define SAN_SHA256_HEX 65

struct san_result {
	enum san_action action;
	char *name;            /* input name as given (may be NULL) */
	char *detected_mime;   /* libmagic's MIME type of the bytes */
	char *declared_mime;   /* the caller's (Content-Type), may be NULL */
	char *reason;          /* why blocked; for others a short note or NULL */
	char **findings;       /* "JavaScript", "OpenAction", "extension mismatch: .pdf is application/x-executable", ... */
	size_t n_findings;
	bool encrypted;        /* password-protected input (PPAP): blocked, reason "encrypted" */
	unsigned pages;        /* pages of the original PDF / output PDF */
	uint8_t *out;          /* the sanitized bytes (NULL when blocked) */
	size_t out_len;
	char *out_name;        /* suggested name: "report.pdf", "memo.docx.txt", "photo.png" */
	char *out_mime;        /* "application/pdf", "text/plain; charset=utf-8", "image/png", "application/zip" */
	char sha256_in[SAN_SHA256_HEX];
	char sha256_out[SAN_SHA256_HEX];   /* "" when no output */
	uint64_t usec_total;   /* wall time of san_buffer, fork to result */
	uint64_t usec_worker;  /* time spent parsing and rebuilding inside the worker */
	struct san_result *members;   /* SAN_ARCHIVE: one per member, same fields (name = path in archive) */
	size_t n_members;
	/*
	 * Between the worker and the parent only (see internal.h): what the worker
	 * produced -- pixels or text, never a file. The parent builds out, out_name
	 * and out_mime from it; callers of san_buffer never see a payload.
	 */
	unsigned char payload;        /* enum san_payload */
	struct san_pixels *px;        /* SAN_PAY_PAGES / SAN_PAY_IMAGE: one per page */
	size_t n_px;
	int64_t mtime;                /* archive members: the original member's time (deterministic ZIP) */
};

/*
 * Sanitizes one file. name is the file name as received (for the extension
 * check and out_name), declared_mime the sender's type or NULL. Returns 0 with
 * a verdict in *res (which may be SAN_BLOCKED), or -1 on an internal error of
 * this process (fork, pipe, memory) -- then *res holds nothing to free and the
 * caller should retry later (the milter answers tempfail). When len exceeds
 * max_input_bytes the verdict is "blocked" without reading data at all (a
 * caller that did not load a huge file may pass a dummy buffer and its size).
 */
int san_buffer(struct san_ctx *ctx, const uint8_t *data, size_t len, const char *name,
    const char *declared_mime, struct san_result *res);
void san_result_free(struct san_result *res);

const char *san_action_name(enum san_action action);   /* "flattened", "text", ... */

/* Appends the report as a JSON object (key NULL: bare object / array element). */
void san_report_json(const struct san_result *res, struct jbuf *jb, const char *key);
/* Writes the report atomically to path (pretty enough: one line of JSON + '\n'). */
int san_report_write(const struct san_result *res, const char *path);
/* Emits a "sanitize" event for res on the ctx's sink (no-op without one). */
void san_event(struct san_ctx *ctx, const struct san_result *res, const char *source,
    const char *quarantine_id);

/*
 * Puts the original into the ctx's quarantine (see sanitizer/quarantine.h)
 * with the result's types, reason and findings. kind is "file" or "mail";
 * sender/recipients only for mail (may be NULL/0). id receives the SHA-256
 * hex ID. Returns 0 or -1 (logged).
 */
int san_quarantine_original(struct san_ctx *ctx, const uint8_t *data, size_t len,
    const struct san_result *res, const char *kind, const char *source,
    const char *sender, const char *const *recipients, size_t n_recipients,
    char id[SAN_SHA256_HEX]);

#endif

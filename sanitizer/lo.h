/* lo.h -- the warm LibreOffice converter: sandboxed soffice slots (lo_conv.c) behind a pool (lo_pool.c). */
#ifndef TIERGATE_SAN_LO_H
#define TIERGATE_SAN_LO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sanitizer/sanitize.h"

/* What a conversion gave: the converter's PDF and text (both hostile: the worker judges them). */
struct lo_output {
	uint8_t *pdf;
	size_t pdf_len;
	uint8_t *text;
	size_t text_len;
};
void lo_output_free(struct lo_output *out);

/* Limits of one sandboxed converter process (from the office group of the config). */
struct lo_limits {
	const char *soffice;      /* soffice.bin inside the sandbox */
	uint64_t memory;          /* RLIMIT_AS of the sandbox */
	unsigned timeout;         /* seconds per document (and for the start) */
	size_t max_input;
	size_t max_output;        /* PDF + text bytes accepted back */
	uid_t uid;                /* dropped to before bwrap when running as root */
	gid_t gid;
	bool drop;
};

/* One slot: bwrap + the UNO driver + its soffice, kept warm between documents. */
struct lo_slot {
	pid_t pid;                /* bwrap, the sandbox's outer process; 0: not running */
	int to_fd, from_fd;
	unsigned docs;            /* documents converted since the start */
	uint64_t start_usec;      /* how long the last start took until READY */
};

/* Starts the sandbox and waits for the driver's READY. 0, or -1 with why. */
int lo_slot_start(struct lo_slot *s, const struct lo_limits *lim, char *why, size_t why_size);
/*
 * Converts one document (ext tells LibreOffice its format, max_pages caps the PDF export at
 * one page more). 0 with out filled; -1 with why: the slot is then stopped (crash, timeout,
 * garbage) or still usable (the document was refused: *slot_ok set).
 */
int lo_slot_convert(struct lo_slot *s, const struct lo_limits *lim, const char *ext, unsigned max_pages,
    const uint8_t *data, size_t len, struct lo_output *out, bool *slot_ok, char *why, size_t why_size);
/* The converter's reply line "OK <pdf_len> <txt_len>" (hostile): 0 with both lengths, -1 when malformed or too big. */
int lo_parse_reply(const char *line, size_t max_output, size_t *pdf_len, size_t *txt_len);
/* Kills the sandbox (the whole process tree dies with bwrap) and reaps it. */
void lo_slot_stop(struct lo_slot *s);

/* The extension to give LibreOffice for these bytes, or NULL when they are no office document it reads. */
const char *lo_sniff(const uint8_t *data, size_t len, const char *name);

struct lo_pool;
struct lo_pool *lo_pool_new(const struct san_config *cfg);
/* Starts every slot now (daemons), instead of at the first document. */
void lo_pool_warm(struct lo_pool *lp);
/*
 * Converts on a free slot (waits for one). 0; -1 with why when the converter failed on it
 * (hang, crash, no start: block); -2 with why when LibreOffice refused the document.
 */
int lo_pool_convert(struct lo_pool *lp, const uint8_t *data, size_t len, const char *ext,
    struct lo_output *out, char *why, size_t why_size);
void lo_pool_free(struct lo_pool *lp);

/*
 * A pool without slots of its own: every conversion goes to the converter service
 * (lo_service.c) behind svc_fd, on a socket of its own passed with SCM_RIGHTS.
 */
struct lo_pool *lo_pool_remote(const struct san_config *cfg, int svc_fd);

/* lo_chan.c: conversions asked for over a socket (a worker's archive members, a mail broker's parts). */
struct lo_chan_limits {
	size_t max_input;         /* bytes of one document */
	size_t max_output;        /* PDF + text of one answer */
	unsigned max_requests;    /* documents per connection */
	uint64_t max_bytes;       /* input bytes per connection */
};
/* The asking side: as lo_pool_convert (0, -1 failed, -2 refused), the answer checked against max_output. */
int lo_chan_request(int fd, const char *ext, const uint8_t *data, size_t len, size_t max_output,
    struct lo_output *out, char *why, size_t why_size);
/* What one connection asked for so far. */
struct lo_chan_count {
	unsigned served;
	uint64_t bytes;
};
/*
 * The converting side's reader: one request (1: ext and data, the caller frees data), 0 at
 * EOF or a short request, -1 when it breaks the format or the limits (the connection ends).
 */
int lo_chan_next(int fd, const struct lo_chan_limits *lim, struct lo_chan_count *count, const char **ext,
    uint8_t **data, uint32_t *len);
/* The converting side: answers requests on fd until EOF (0), or -1 on a bad request or over the limits. */
int lo_chan_serve(int fd, struct lo_pool *lp, const struct lo_chan_limits *lim);
/* The extension a request names (8 bytes, NUL-padded), NULL when it is none LibreOffice is asked to read. */
const char *lo_chan_ext(const uint8_t field[8]);

/*
 * lo_service.c: a process owning a pool (office.slots), forked now, serving every process
 * that inherits the returned descriptor (the milter's message processes). warm: start the
 * slots now (the zygote), else at the first document. -1 when it cannot start.
 */
int lo_service_start(const struct san_config *cfg, bool warm);
/* One conversion by the service behind svc_fd: as lo_pool_convert. */
int lo_service_ask(int svc_fd, const char *ext, const uint8_t *data, size_t len, size_t max_output,
    struct lo_output *out, char *why, size_t why_size);

#endif

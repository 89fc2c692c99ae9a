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

#endif

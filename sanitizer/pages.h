/* pages.h -- a document's pages rendered on every render thread, shipped to the parent as pixels in page order. */
#ifndef TIERGATE_SANITIZER_PAGES_H
#define TIERGATE_SANITIZER_PAGES_H

#include <mupdf/fitz.h>

#include "sanitizer/internal.h"

/* The locks MuPDF needs to share a document's fonts and resources between threads. */
const fz_locks_context *pages_locks(void);

/* The settings a context renders with (a clone does not inherit them all). */
void pages_tune(fz_context *ctx, const struct san_config *cfg);

/*
 * Renders pages 0..pages-1 of doc at the configured DPI: the main thread
 * interprets each page into a display list, the job's pool threads and the
 * main thread draw the lists, and the main thread ships each page's pixels
 * (arena.c) and lists it in res->px, in page order. Returns 0, or -1 with
 * the reason blocked in res.
 */
int pages_render(const struct san_job *job, fz_context *ctx, fz_document *doc, int pages,
    struct san_result *res);

#endif

/* lo_pdftext.c -- in the worker: a presentation's text read from the converter's PDF, one block per slide. */
#include <mupdf/fitz.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "sanitizer/internal.h"

/*
 * Why from the PDF: walking a presentation's shapes over UNO costs two round
 * trips per shape (45 ms for 20 slides, a fifth of the converter's time), and
 * it sees hidden slides, which the PDF export leaves out. The PDF's text layer
 * holds what each printed slide shows, in reading order. The bytes are the
 * converter's (hostile): MuPDF reads them here in the sandbox, and the text is
 * cleaned like any text after.
 */
struct lo_pdftext {
	char *buf;
	size_t len, cap, max;
	bool over;
};

static void
lo_pdftext_add(struct lo_pdftext *t, const char *s, size_t n)
{
	if (t->over || t->len + n > t->max) {
		t->over = true;
		return;
	}
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		t->buf = xrealloc(t->buf, t->cap, 1);
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void
lo_pdftext_page(fz_context *ctx, fz_stext_page *sp, struct lo_pdftext *t)
{
	for (fz_stext_block *b = sp->first_block; b; b = b->next) {
		if (b->type != FZ_STEXT_BLOCK_TEXT)
			continue;
		for (fz_stext_line *l = b->u.t.first_line; l; l = l->next) {
			for (fz_stext_char *c = l->first_char; c; c = c->next) {
				char u[8];
				int n = fz_runetochar(u, c->c);
				lo_pdftext_add(t, u, (size_t)n);
			}
			lo_pdftext_add(t, "\n", 1);
		}
	}
	(void)ctx;
}

int
lo_pdftext(const uint8_t *pdf, size_t len, size_t max_text, char **text, size_t *text_len)
{
	fz_context *ctx = fz_new_context(NULL, NULL, FZ_STORE_DEFAULT);
	struct lo_pdftext t = { NULL, 0, 0, max_text, false };
	fz_document *doc = NULL;
	fz_stream *stm = NULL;
	fz_stext_page *sp = NULL;
	int rc = 0;

	if (ctx == NULL)
		return -1;
	fz_var(doc);
	fz_var(stm);
	fz_var(sp);
	fz_try(ctx) {
		fz_register_document_handlers(ctx);
		stm = fz_open_memory(ctx, pdf, len);
		doc = fz_open_document_with_stream(ctx, "pdf", stm);
		int pages = fz_count_pages(ctx, doc);
		for (int i = 0; i < pages && !t.over; i++) {
			char head[40];
			int n = snprintf(head, sizeof head, "=== slide %d ===\n", i + 1);
			lo_pdftext_add(&t, head, (size_t)n);
			sp = fz_new_stext_page_from_page_number(ctx, doc, i, NULL);
			lo_pdftext_page(ctx, sp, &t);
			fz_drop_stext_page(ctx, sp);
			sp = NULL;
		}
	}
	fz_always(ctx) {
		fz_drop_stext_page(ctx, sp);
		fz_drop_document(ctx, doc);
		fz_drop_stream(ctx, stm);
	}
	fz_catch(ctx)
		rc = -1;
	fz_drop_context(ctx);
	if (rc < 0 || t.over) {
		free(t.buf);
		return -1;
	}
	*text = t.buf ? t.buf : xstrdup("");
	*text_len = t.len;
	return 0;
}

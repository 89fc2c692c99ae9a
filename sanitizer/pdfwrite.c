/* pdfwrite.c -- a new PDF from nothing with qpdf's C API: one full-page image per page, nothing else. */
#include <qpdf/qpdf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "sanitizer/internal.h"

struct pdfwrite {
	qpdf_data q;
	bool failed;
};

struct pdfwrite *
pdfwrite_new(void)
{
	struct pdfwrite *pw = xcalloc(1, sizeof *pw);

	pw->q = qpdf_init();
	qpdf_silence_errors(pw->q);
	qpdf_set_suppress_warnings(pw->q, QPDF_TRUE);
	if (qpdf_empty_pdf(pw->q) != QPDF_SUCCESS)
		pw->failed = true;
	return pw;
}

void
pdfwrite_free(struct pdfwrite *pw)
{
	if (pw == NULL)
		return;
	qpdf_cleanup(&pw->q);
	free(pw);
}

static void
dict_int(qpdf_data q, qpdf_oh dict, const char *key, long long v)
{
	qpdf_oh_replace_key(q, dict, key, qpdf_oh_new_integer(q, v));
}

static void
dict_name(qpdf_data q, qpdf_oh dict, const char *key, const char *name)
{
	qpdf_oh_replace_key(q, dict, key, qpdf_oh_new_name(q, name));
}

/* [/Indexed /DeviceRGB hival <palette>] */
static qpdf_oh
pdfwrite_indexed(qpdf_data q, const struct page_image *img)
{
	qpdf_oh cs = qpdf_oh_new_array(q);

	qpdf_oh_append_item(q, cs, qpdf_oh_new_name(q, "/Indexed"));
	qpdf_oh_append_item(q, cs, qpdf_oh_new_name(q, "/DeviceRGB"));
	qpdf_oh_append_item(q, cs, qpdf_oh_new_integer(q, img->palette_n - 1));
	qpdf_oh_append_item(q, cs, qpdf_oh_new_binary_string(q, (const char *)img->palette,
	    (size_t)img->palette_n * 3));
	return cs;
}

static qpdf_oh
pdfwrite_image(struct pdfwrite *pw, const struct page_image *img)
{
	qpdf_data q = pw->q;
	qpdf_oh stream = qpdf_oh_new_stream(q);
	qpdf_oh dict = qpdf_oh_get_dict(q, stream);
	bool dct = img->dct;
	int w = img->w, ncomp = img->ncomp;

	dict_name(q, dict, "/Type", "/XObject");
	dict_name(q, dict, "/Subtype", "/Image");
	dict_int(q, dict, "/Width", w);
	dict_int(q, dict, "/Height", img->h);
	if (img->palette_n > 0)
		qpdf_oh_replace_key(q, dict, "/ColorSpace", pdfwrite_indexed(q, img));
	else
		dict_name(q, dict, "/ColorSpace", ncomp == 1 ? "/DeviceGray" : "/DeviceRGB");
	dict_int(q, dict, "/BitsPerComponent", 8);
	/* the data is already compressed: filter given, qpdf keeps the bytes as they are */
	qpdf_oh parms = qpdf_oh_new_null(q);
	if (!dct) {   /* imgenc_flate's rows carry the PNG Up predictor */
		parms = qpdf_oh_new_dictionary(q);
		dict_int(q, parms, "/Predictor", 12);
		dict_int(q, parms, "/Colors", ncomp);
		dict_int(q, parms, "/BitsPerComponent", 8);
		dict_int(q, parms, "/Columns", w);
	}
	qpdf_oh_replace_stream_data(q, stream, img->data, img->len,
	    qpdf_oh_new_name(q, dct ? "/DCTDecode" : "/FlateDecode"), parms);
	return qpdf_make_indirect_object(q, stream);
}

static qpdf_oh
pdfwrite_content(struct pdfwrite *pw, double page_w, double page_h)
{
	qpdf_data q = pw->q;
	qpdf_oh stream = qpdf_oh_new_stream(q);
	char ops[128];
	int n = snprintf(ops, sizeof ops, "q %.4f 0 0 %.4f 0 0 cm /Im0 Do Q\n", page_w, page_h);

	qpdf_oh_replace_stream_data(q, stream, (const unsigned char *)ops, (size_t)n,
	    qpdf_oh_new_null(q), qpdf_oh_new_null(q));
	return qpdf_make_indirect_object(q, stream);
}

static qpdf_oh
pdfwrite_box(qpdf_data q, double w, double h)
{
	qpdf_oh box = qpdf_oh_new_array(q);

	qpdf_oh_append_item(q, box, qpdf_oh_new_integer(q, 0));
	qpdf_oh_append_item(q, box, qpdf_oh_new_integer(q, 0));
	qpdf_oh_append_item(q, box, qpdf_oh_new_real_from_double(q, w, 4));
	qpdf_oh_append_item(q, box, qpdf_oh_new_real_from_double(q, h, 4));
	return box;
}

int
pdfwrite_add_page(struct pdfwrite *pw, const struct page_image *img, double page_w, double page_h)
{
	qpdf_data q = pw->q;
	qpdf_oh page, res, xobj;

	if (pw->failed)
		return -1;
	page = qpdf_oh_new_dictionary(q);
	res = qpdf_oh_new_dictionary(q);
	xobj = qpdf_oh_new_dictionary(q);
	qpdf_oh_replace_key(q, xobj, "/Im0", pdfwrite_image(pw, img));
	qpdf_oh_replace_key(q, res, "/XObject", xobj);
	dict_name(q, page, "/Type", "/Page");
	qpdf_oh_replace_key(q, page, "/MediaBox", pdfwrite_box(q, page_w, page_h));
	qpdf_oh_replace_key(q, page, "/Resources", res);
	qpdf_oh_replace_key(q, page, "/Contents", pdfwrite_content(pw, page_w, page_h));
	page = qpdf_make_indirect_object(q, page);
	if (qpdf_add_page(q, q, page, QPDF_FALSE) != QPDF_SUCCESS || qpdf_has_error(q)) {
		pw->failed = true;
		return -1;
	}
	qpdf_oh_release_all(q);
	return 0;
}

int
pdfwrite_finish(struct pdfwrite *pw, uint8_t **out, size_t *out_len, const char **why)
{
	qpdf_data q = pw->q;
	size_t n;

	*why = "PDF writer failed";
	if (pw->failed)
		return -1;
	/* a failed init makes later calls crash: check it */
	if (qpdf_init_write_memory(q) != QPDF_SUCCESS || qpdf_has_error(q))
		return -1;
	qpdf_set_deterministic_ID(q, QPDF_TRUE);   /* no random /ID: /dev/urandom is not open in the sandbox */
	qpdf_set_object_stream_mode(q, qpdf_o_generate);
	qpdf_set_compress_streams(q, QPDF_TRUE);
	qpdf_set_decode_level(q, qpdf_dl_none);   /* page images are compressed already: keep their bytes */
	if (qpdf_write(q) != QPDF_SUCCESS || qpdf_has_error(q))
		return -1;
	n = qpdf_get_buffer_length(q);
	*out = malloc(n ? n : 1);
	if (*out == NULL)
		return -1;
	memcpy(*out, qpdf_get_buffer(q), n);
	*out_len = n;
	return 0;
}

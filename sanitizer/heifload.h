/* heifload.h -- libheif and libde265 reached through pointers filled by dlopen (heifload.c), never linked. */
#ifndef TIERGATE_HEIFLOAD_H
#define TIERGATE_HEIFLOAD_H

#include <stdbool.h>

#include <libde265/de265.h>
#include <libheif/heif.h>
#include <libheif/heif_plugin.h>

/* Every function of the two libraries tiergate calls (imgdecode.c, heifde265.c). */
#define HEIFLOAD_HEIF_FUNCS(X) \
	X(heif_init) X(heif_register_decoder_plugin) X(heif_context_alloc) X(heif_context_free) \
	X(heif_context_set_max_decoding_threads) X(heif_context_set_maximum_image_size_limit) \
	X(heif_context_read_from_memory_without_copy) X(heif_context_get_primary_image_handle) \
	X(heif_image_handle_has_alpha_channel) X(heif_image_handle_get_width) X(heif_image_handle_get_height) \
	X(heif_image_handle_release) X(heif_decoding_options_alloc) X(heif_decoding_options_free) \
	X(heif_decode_image) X(heif_image_create) X(heif_image_add_plane) X(heif_image_get_plane) \
	X(heif_image_get_plane_readonly) X(heif_image_get_width) X(heif_image_get_height) X(heif_image_release)
#define HEIFLOAD_DE265_FUNCS(X) \
	X(de265_init) X(de265_isOK) X(de265_new_decoder) X(de265_free_decoder) X(de265_push_NAL) \
	X(de265_flush_data) X(de265_decode) X(de265_get_next_picture) X(de265_release_next_picture) \
	X(de265_get_chroma_format) X(de265_get_image_width) X(de265_get_image_height) \
	X(de265_get_bits_per_pixel) X(de265_get_image_plane)

struct heifload {
#define HEIFLOAD_FIELD(f) __typeof__(f) *f;
	HEIFLOAD_HEIF_FUNCS(HEIFLOAD_FIELD)
	HEIFLOAD_DE265_FUNCS(HEIFLOAD_FIELD)
#undef HEIFLOAD_FIELD
};

/* Filled once by heifload_open; read only after it said the libraries are there. */
extern struct heifload heifload;

/*
 * In the parent, before the fork (never in the worker: it cannot open a
 * file): loads both libraries, resolves every function, starts libheif and
 * registers heifde265's decoder. Once per process; later calls return the
 * first answer. 0, or -1 with heifload_error() saying why.
 */
int heifload_open(void);
/* Whether heifload_open succeeded in this process (or the one that forked it); never loads. */
bool heifload_ready(void);
/* Why the libraries are not there: "" before heifload_open or after it succeeded. */
const char *heifload_error(void);

#endif

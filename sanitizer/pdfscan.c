/* pdfscan.c -- what an original PDF carries (JavaScript, actions, embedded files, forms, encryption), via qpdf. */
#include <qpdf/qpdf-c.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "sanitizer/internal.h"

/* Bounds on the walk: a hostile file must not make the scan itself the bomb. */
#define SCAN_MAX_NODES 2000000
#define SCAN_MAX_KEYS 4096

/* A dictionary key that is itself the finding. */
static const struct {
	const char *key, *finding;
} scan_keys[] = {
	{ "/JS", "JavaScript" }, { "/JavaScript", "JavaScript" }, { "/OpenAction", "OpenAction" },
	{ "/AA", "AA" }, { "/EmbeddedFiles", "EmbeddedFiles" }, { "/EF", "EmbeddedFiles" },
	{ "/RichMedia", "RichMedia" }, { "/RichMediaContent", "RichMedia" },
	{ "/RichMediaSettings", "RichMedia" }, { "/XFA", "XFA" }, { "/URI", "URI" },
	{ "/AcroForm", "AcroForm" }, { "/Launch", "Launch" },
};

/* A name value (of /S, /Type or /Subtype) that is the finding. */
static const struct {
	const char *name, *finding;
} scan_names[] = {
	{ "/Launch", "Launch" }, { "/JavaScript", "JavaScript" }, { "/URI", "URI" },
	{ "/SubmitForm", "SubmitForm" }, { "/ImportData", "ImportData" }, { "/GoToR", "GoToR" },
	{ "/GoToE", "GoToE" }, { "/EmbeddedFile", "EmbeddedFiles" }, { "/FileAttachment", "EmbeddedFiles" },
	{ "/RichMedia", "RichMedia" }, { "/Movie", "Multimedia" }, { "/Sound", "Multimedia" },
	{ "/Screen", "Multimedia" }, { "/Rendition", "Multimedia" }, { "/Widget", "AcroForm" },
};

/* Visited indirect objects: open addressing on (id, generation). */
struct seen {
	uint64_t *slot;
	size_t cap, n;
};

static bool
seen_add(struct seen *s, uint64_t key)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap) {
		struct seen bigger = { xcalloc(s->cap ? s->cap * 2 : 1024, sizeof(uint64_t)), 0, 0 };
		bigger.cap = s->cap ? s->cap * 2 : 1024;
		for (size_t k = 0; k < s->cap; k++)
			if (s->slot[k])
				seen_add(&bigger, s->slot[k]);
		free(s->slot);
		*s = bigger;
	}
	key++;   /* 0 marks an empty slot */
	for (i = (size_t)(key * 0x9E3779B97F4A7C15ULL) & (s->cap - 1); s->slot[i]; i = (i + 1) & (s->cap - 1))
		if (s->slot[i] == key)
			return false;
	s->slot[i] = key;
	s->n++;
	return true;
}

struct scan {
	qpdf_data q;
	struct san_result *res;
	struct seen seen;
	qpdf_oh *stack;
	size_t n, cap;
	size_t nodes;
};

static void
scan_push(struct scan *sc, qpdf_oh oh)
{
	if (qpdf_oh_is_indirect(sc->q, oh)) {
		uint64_t key = (uint64_t)(uint32_t)qpdf_oh_get_object_id(sc->q, oh) << 16 |
		    (uint16_t)qpdf_oh_get_generation(sc->q, oh);
		if (!seen_add(&sc->seen, key)) {
			qpdf_oh_release(sc->q, oh);
			return;
		}
	}
	if (sc->n == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 256;
		sc->stack = xrealloc(sc->stack, sc->cap, sizeof *sc->stack);
	}
	sc->stack[sc->n++] = oh;
}

static void
scan_name_value(struct scan *sc, qpdf_oh val)
{
	const char *name;

	if (qpdf_oh_get_type_code(sc->q, val) != ot_name)
		return;
	name = qpdf_oh_get_name(sc->q, val);
	for (size_t i = 0; name && i < ARRAY_LEN(scan_names); i++)
		if (strcmp(name, scan_names[i].name) == 0)
			res_finding(sc->res, "%s", scan_names[i].finding);
}

static void
scan_key(struct scan *sc, const char *key)
{
	for (size_t i = 0; i < ARRAY_LEN(scan_keys); i++)
		if (strcmp(key, scan_keys[i].key) == 0)
			res_finding(sc->res, "%s", scan_keys[i].finding);
}

static void
scan_dict(struct scan *sc, qpdf_oh dict)
{
	char *keys[SCAN_MAX_KEYS];
	size_t nkeys = 0;

	/* the key iterator is one cursor per document: copy the keys out before any lookup */
	qpdf_oh_begin_dict_key_iter(sc->q, dict);
	while (nkeys < SCAN_MAX_KEYS && qpdf_oh_dict_more_keys(sc->q))
		keys[nkeys++] = xstrdup(qpdf_oh_dict_next_key(sc->q));
	for (size_t i = 0; i < nkeys; i++) {
		qpdf_oh val = qpdf_oh_get_key(sc->q, dict, keys[i]);
		scan_key(sc, keys[i]);
		if (strcmp(keys[i], "/S") == 0 || strcmp(keys[i], "/Type") == 0 ||
		    strcmp(keys[i], "/Subtype") == 0)
			scan_name_value(sc, val);
		if (strcmp(keys[i], "/Parent") == 0 || strcmp(keys[i], "/P") == 0)
			qpdf_oh_release(sc->q, val);   /* back links: reached from above anyway */
		else
			scan_push(sc, val);
		free(keys[i]);
	}
}

static void
scan_node(struct scan *sc, qpdf_oh oh)
{
	enum qpdf_object_type_e type = qpdf_oh_get_type_code(sc->q, oh);

	if (type == ot_dictionary) {
		scan_dict(sc, oh);
	} else if (type == ot_stream) {
		scan_push(sc, qpdf_oh_get_dict(sc->q, oh));
	} else if (type == ot_array) {
		int n = qpdf_oh_get_array_n_items(sc->q, oh);
		for (int i = 0; i < n; i++)
			scan_push(sc, qpdf_oh_get_array_item(sc->q, oh, i));
	}
}

static void
scan_walk(struct scan *sc)
{
	scan_push(sc, qpdf_get_trailer(sc->q));
	while (sc->n > 0 && sc->nodes < SCAN_MAX_NODES) {
		qpdf_oh oh = sc->stack[--sc->n];
		sc->nodes++;
		scan_node(sc, oh);
		qpdf_oh_release(sc->q, oh);
	}
	if (sc->n > 0)
		res_finding(sc->res, "object walk stopped at %d objects", SCAN_MAX_NODES);
}

static enum pdfscan_status
scan_read_error(qpdf_data q, struct san_result *res)
{
	qpdf_error e = qpdf_get_error(q);
	enum qpdf_error_code_e code = e ? qpdf_get_error_code(q, e) : qpdf_e_damaged_pdf;

	if (code == qpdf_e_password) {
		res_finding(res, "Encrypted");
		return PDFSCAN_ENCRYPTED_USER;
	}
	res_finding(res, "damaged PDF structure");
	return PDFSCAN_DAMAGED;
}

enum pdfscan_status
pdfscan_buffer(const uint8_t *data, size_t len, struct san_result *res)
{
	qpdf_data q = qpdf_init();
	struct scan sc = { q, res, { NULL, 0, 0 }, NULL, 0, 0, 0 };
	enum pdfscan_status status = PDFSCAN_OK;

	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	if (qpdf_read_memory(q, "input", (const char *)data, len, "") & QPDF_ERRORS) {
		status = scan_read_error(q, res);
	} else {
		if (qpdf_is_encrypted(q))
			res_finding(res, "Encrypted (owner password only)");
		scan_walk(&sc);
		if (qpdf_has_error(q))
			res_finding(res, "damaged PDF structure");
	}
	free(sc.stack);
	free(sc.seen.slot);
	qpdf_cleanup(&q);
	return status;
}

/* milter_wire.h -- framed records between the sandboxed mail parser and its broker (milter_wire.c). */
#ifndef TIERGATE_MILTER_WIRE_H
#define TIERGATE_MILTER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A frame: 8-byte header (type, field count, two zero bytes, body length as
 * u32 little-endian) then the fields, each a u32 length (0xFFFFFFFF: NULL)
 * and its bytes. Parser -> broker: 'S' sanitize (name, media, data),
 * 'Q' quarantine (subject, reason, report JSON), 'D' done (message,
 * "BODY_AT N_ADDED", report JSON). Broker -> parser: 'R' (rc, action,
 * reason, detected, out name, out type, out bytes[, text name, text bytes: an office
 * document's text beside its pages]), 'I' (quarantine id).
 */
#define MWIRE_MAX_FIELDS 10

struct mwire_field {
	const char *data;   /* NULL: a NULL string */
	size_t len;
};

struct mwire_frame {
	char type;
	size_t n;
	struct mwire_field f[MWIRE_MAX_FIELDS];
	uint8_t *body;      /* owns the bytes f[] point into (each field NUL-terminated) */
};

int mwire_send(int fd, char type, const struct mwire_field *fields, size_t n);
/* Reads one frame of at most max_body bytes: 0, 1 at a clean EOF, -1 on a bad or short frame. */
int mwire_recv(int fd, size_t max_body, struct mwire_frame *fr);
/* Splits a frame body (the fuzz target's entry): 0 or -1. Fields point into body. */
int mwire_parse(char type, unsigned n_fields, uint8_t *body, size_t len, struct mwire_frame *fr);
void mwire_frame_free(struct mwire_frame *fr);
/* Field i as a string, NULL when absent or NULL. */
const char *mwire_str(const struct mwire_frame *fr, size_t i);
struct mwire_field mwire_s(const char *s);

#endif

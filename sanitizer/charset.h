/* charset.h -- Japanese-aware text decoding to clean UTF-8 (CP932, EUC-JP, ISO-2022-JP/CP50220, UTF-8). */
#ifndef TIERGATE_CHARSET_H
#define TIERGATE_CHARSET_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decodes in[0..len) to UTF-8. label is the declared charset (MIME label,
 * any case) or NULL. Labels are taken as a hint: Shift_JIS and its aliases
 * decode as CP932, EUC-JP as EUC-JP-MS (CP51932 superset), ISO-2022-JP (and
 * -1, -2, -3, CP50220, CP50221, ISO-2022-JP-MS) with our own decoder that
 * accepts the NEC/IBM extensions (①, ㈱, 髙, ～) and half-width kana (ESC ( I
 * and SO/SI). When the label is missing, unknown, or the bytes do not decode
 * cleanly under it, the charset is detected from the bytes.
 *
 * The output has no control characters except '\n' and '\t' ("\r\n" and a
 * lone '\r' become '\n'), no BOM, and bytes that decode under no candidate
 * become U+FFFD. *out is NUL-terminated, malloc'd; *detected (may be NULL)
 * points to a static name: "UTF-8", "CP932", "EUC-JP", "ISO-2022-JP", "US-ASCII",
 * or the label as iconv knows it for other charsets (e.g. "ISO-8859-1").
 * Returns 0, or -1 on allocation failure.
 */
int charset_to_utf8(const char *label, const uint8_t *in, size_t len, char **out,
    size_t *out_len, const char **detected);

/* Flag for charset_to_utf8_opts: keep '\n'/'\t' out too (for headers and file names). */
#define CHARSET_SINGLE_LINE 0x1

/* As charset_to_utf8; with CHARSET_SINGLE_LINE newlines and tabs become spaces. */
int charset_to_utf8_opts(const char *label, const uint8_t *in, size_t len, unsigned flags,
    char **out, size_t *out_len, const char **detected);

/* Guesses the charset of unlabelled bytes (same names as above). */
const char *charset_detect(const uint8_t *in, size_t len);

/*
 * Opens the iconv converters this module uses (loads gconv modules) so that
 * later calls need no file access: call once before entering a seccomp sandbox.
 * Safe to call more than once.
 */
void charset_preload(void);

#endif

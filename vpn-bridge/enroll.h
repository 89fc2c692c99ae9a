/* enroll.h -- TOTP enrolment output: the otpauth:// URI and its QR code (terminal and PNG). */
#ifndef TIERGATE_BRIDGE_ENROLL_H
#define TIERGATE_BRIDGE_ENROLL_H

#include <stddef.h>
#include <stdio.h>

/* otpauth://totp/ISSUER:USER?secret=...&issuer=ISSUER&digits=D&period=P (percent-encoded). */
int enroll_uri(const char *issuer, const char *user, const char *secret_b32, unsigned digits,
    unsigned period, char *out, size_t size);
/* The QR code of text in UTF-8 half blocks (two modules per character cell). */
int enroll_qr_terminal(const char *text, FILE *out);
/* The QR code of text as a grey-scale PNG, scale pixels per module. */
int enroll_qr_png(const char *text, const char *path, unsigned scale);

#endif

/* enroll.c -- renders an otpauth:// URI as a QR code for authenticator apps (libqrencode, libpng). */
#include "vpn-bridge/enroll.h"

#include <fcntl.h>
#include <png.h>
#include <qrencode.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

#define ENROLL_QUIET 2   /* modules of white border; readers need some */

static size_t
enroll_pct(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t used = 0;

	for (; *in && used + 4 < size; in++) {
		unsigned char ch = (unsigned char)*in;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			out[used++] = (char)ch;
		} else {
			out[used++] = '%';
			out[used++] = hex[ch >> 4];
			out[used++] = hex[ch & 15];
		}
	}
	out[used] = '\0';
	return used;
}

int
enroll_uri(const char *issuer, const char *user, const char *secret_b32, unsigned digits,
    unsigned period, char *out, size_t size)
{
	char iss[192], usr[192];
	int n;

	enroll_pct(issuer, iss, sizeof iss);
	enroll_pct(user, usr, sizeof usr);
	n = snprintf(out, size, "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%u&period=%u",
	    iss, usr, secret_b32, iss, digits, period);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

static bool
enroll_dark(const QRcode *qr, int x, int y)
{
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return false;
	return (qr->data[y * qr->width + x] & 1) != 0;
}

int
enroll_qr_terminal(const char *text, FILE *out)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	int lo = -ENROLL_QUIET;

	if (qr == NULL)
		return -1;
	/* Light modules print as blocks: dark-background terminals show the code the right way. */
	for (int y = lo; y < qr->width + ENROLL_QUIET; y += 2) {
		for (int x = lo; x < qr->width + ENROLL_QUIET; x++) {
			bool top = !enroll_dark(qr, x, y), bottom = !enroll_dark(qr, x, y + 1);
			fputs(top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ", out);
		}
		fputc('\n', out);
	}
	QRcode_free(qr);
	return 0;
}

static int
enroll_png_write(FILE *f, const QRcode *qr, unsigned scale)
{
	unsigned side = (unsigned)(qr->width + 2 * ENROLL_QUIET) * scale;
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	uint8_t *row = xmalloc(side);

	if (info == NULL || setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, info ? &info : NULL);
		free(row);
		return -1;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, side, side, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (unsigned py = 0; py < side; py++) {
		int y = (int)(py / scale) - ENROLL_QUIET;
		for (unsigned px = 0; px < side; px++)
			row[px] = enroll_dark(qr, (int)(px / scale) - ENROLL_QUIET, y) ? 0 : 255;
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	free(row);
	return 0;
}

int
enroll_qr_png(const char *text, const char *path, unsigned scale)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	FILE *f;
	int fd, rc;

	if (qr == NULL)
		return -1;
	/* A new file only, never through a symlink: the QR code is the TOTP secret. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (f == NULL) {
		log_warn("%s (the QR code is written to a new file only)", path);
		if (fd >= 0)
			close(fd);
		QRcode_free(qr);
		return -1;
	}
	rc = enroll_png_write(f, qr, scale ? scale : 8);
	if (fclose(f) != 0)
		rc = -1;
	QRcode_free(qr);
	return rc;
}

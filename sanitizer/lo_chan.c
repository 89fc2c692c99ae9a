/* lo_chan.c -- conversions asked for over a socket: a worker's archive members, a mail broker's attachments. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/lo.h"

/*
 * Request: "TGC1", the extension NUL-padded to 8 bytes, u32 length (LE), the bytes.
 * Reply:   "TGR1", u32 status (0 converted, 1 converter failed, 2 document refused),
 *          u32 pdf, u32 text, u32 why lengths, then those bytes.
 * Both sides read fixed headers and check every length before a byte is used.
 */
#define LO_CHAN_REQ 16
#define LO_CHAN_REP 20
#define LO_CHAN_WHY_MAX 255

static const char *const lo_chan_exts[] = { "docx", "docm", "xlsx", "xlsm", "pptx", "pptm", "odt", "ods", "odp",
	"doc", "xls", "ppt", "rtf", NULL };

static void
lo_chan_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
lo_chan_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Exactly len bytes (blocking): 0, or -1 at EOF or on error. */
static int
lo_chan_read(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* len bytes into a new buffer (one more, NUL): NULL on failure. */
static uint8_t *
lo_chan_read_new(int fd, size_t len)
{
	uint8_t *buf = malloc(len + 1);

	if (buf == NULL || lo_chan_read(fd, buf, len) < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = 0;
	return buf;
}

/* One of the extensions LibreOffice is asked to read, from the request's padded field: NULL otherwise. */
const char *
lo_chan_ext(const uint8_t field[8])
{
	for (size_t i = 0; lo_chan_exts[i]; i++) {
		size_t n = strlen(lo_chan_exts[i]);
		bool padded = memcmp(field, lo_chan_exts[i], n) == 0;
		for (size_t j = n; padded && j < 8; j++)
			padded = field[j] == 0;
		if (padded)
			return lo_chan_exts[i];
	}
	return NULL;
}

int
lo_chan_request(int fd, const char *ext, const uint8_t *data, size_t len, size_t max_output,
    struct lo_output *out, char *why, size_t why_size)
{
	uint8_t hdr[LO_CHAN_REP > LO_CHAN_REQ ? LO_CHAN_REP : LO_CHAN_REQ] = { 0 };
	uint32_t status, pdf_len, txt_len, why_len;

	memset(out, 0, sizeof *out);
	snprintf(why, why_size, "office converter unreachable");
	if (len > UINT32_MAX || strlen(ext) > 8)
		return -1;
	memcpy(hdr, "TGC1", 4);
	memcpy(hdr + 4, ext, strlen(ext));
	lo_chan_put32(hdr + 12, (uint32_t)len);
	if (fd_write_all(fd, hdr, LO_CHAN_REQ) < 0 || fd_write_all(fd, data, len) < 0 ||
	    lo_chan_read(fd, hdr, LO_CHAN_REP) < 0 || memcmp(hdr, "TGR1", 4) != 0)
		return -1;
	status = lo_chan_get32(hdr + 4);
	pdf_len = lo_chan_get32(hdr + 8);
	txt_len = lo_chan_get32(hdr + 12);
	why_len = lo_chan_get32(hdr + 16);
	if (status > 2 || why_len > LO_CHAN_WHY_MAX || (uint64_t)pdf_len + txt_len > max_output ||
	    (status != 0 && pdf_len + txt_len != 0)) {
		snprintf(why, why_size, "office converter answer refused");
		return -1;
	}
	if ((out->pdf = lo_chan_read_new(fd, pdf_len)) == NULL || (out->text = lo_chan_read_new(fd, txt_len)) == NULL) {
		lo_output_free(out);
		return -1;
	}
	out->pdf_len = pdf_len;
	out->text_len = txt_len;
	char reason[LO_CHAN_WHY_MAX + 1];
	if (lo_chan_read(fd, reason, why_len) < 0) {
		lo_output_free(out);
		return -1;
	}
	reason[why_len] = '\0';
	for (size_t i = 0; i < why_len; i++)   /* shown to people: printable ASCII, as lo_conv.c makes it */
		if ((unsigned char)reason[i] < 0x20 || (unsigned char)reason[i] > 0x7e)
			reason[i] = '?';
	snprintf(why, why_size, "%s", reason);
	if (status != 0)
		lo_output_free(out);
	return status == 0 ? 0 : status == 1 ? -1 : -2;
}

/* The reply to one request. -1 when the asker is gone. */
static int
lo_chan_reply(int fd, int rc, const struct lo_output *out, const char *why)
{
	uint8_t hdr[LO_CHAN_REP];
	size_t why_len = rc == 0 ? 0 : strnlen(why, LO_CHAN_WHY_MAX);

	memcpy(hdr, "TGR1", 4);
	lo_chan_put32(hdr + 4, rc == 0 ? 0 : rc == -2 ? 2 : 1);
	lo_chan_put32(hdr + 8, rc == 0 ? (uint32_t)out->pdf_len : 0);
	lo_chan_put32(hdr + 12, rc == 0 ? (uint32_t)out->text_len : 0);
	lo_chan_put32(hdr + 16, (uint32_t)why_len);
	if (fd_write_all(fd, hdr, sizeof hdr) < 0)
		return -1;
	if (rc == 0 && (fd_write_all(fd, out->pdf, out->pdf_len) < 0 || fd_write_all(fd, out->text, out->text_len) < 0))
		return -1;
	return fd_write_all(fd, why, why_len);
}

int
lo_chan_next(int fd, const struct lo_chan_limits *lim, struct lo_chan_count *count, const char **ext,
    uint8_t **data, uint32_t *len)
{
	uint8_t hdr[LO_CHAN_REQ];

	*data = NULL;
	if (lo_chan_read(fd, hdr, sizeof hdr) < 0)
		return 0;
	*ext = lo_chan_ext(hdr + 4);
	*len = lo_chan_get32(hdr + 12);
	if (memcmp(hdr, "TGC1", 4) != 0 || *ext == NULL || *len > lim->max_input || count->served >= lim->max_requests ||
	    count->bytes + *len > lim->max_bytes) {
		log_warnx("sanitizer: office conversion request refused (%s)", *ext == NULL ? "format" : "limits");
		return -1;   /* the asker is hostile or over its limits: no more conversions for it */
	}
	if ((*data = lo_chan_read_new(fd, *len)) == NULL)
		return 0;
	count->served++;
	count->bytes += *len;
	return 1;
}

int
lo_chan_serve(int fd, struct lo_pool *lp, const struct lo_chan_limits *lim)
{
	struct lo_chan_count count = { 0, 0 };
	const char *ext;
	uint8_t *data;
	uint32_t len;
	int got;

	while ((got = lo_chan_next(fd, lim, &count, &ext, &data, &len)) == 1) {
		struct lo_output out = { 0 };
		char why[256] = "";
		int rc = lo_pool_convert(lp, data, len, ext, &out, why, sizeof why);

		free(data);
		if (rc == 0 && out.pdf_len + out.text_len > lim->max_output) {
			lo_output_free(&out);
			snprintf(why, sizeof why, "converter output larger than the limit");
			rc = -1;
		}
		rc = lo_chan_reply(fd, rc, &out, why);
		lo_output_free(&out);
		if (rc < 0)
			return -1;
	}
	return got;
}

/* san_forge.c -- test build only: a worker that answers with a forged result (TIERGATE_FORGE=mode), as a compromised parser could. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sanitizer/internal.h"

/* sanitize.c built with -DTIERGATE_TEST_FORGE calls this in the worker, inside the sandbox. */
extern int (*san_test_forge)(int fd, const uint8_t *data, size_t len);

/* Record tags as wire.c numbers them (the forge writes what an attacker would: raw records). */
enum { F_ACTION = 1, F_NAME = 4, F_REASON = 5, F_OUT = 9, F_OUT_NAME = 10, F_OUT_MIME = 11,
	F_MEMBER_BEGIN = 13, F_MEMBER_END = 14, F_END = 15, F_PAYLOAD = 16, F_TEXT = 17, F_PAGE = 18,
	F_PIXELS = 20 };

static char forge_mode[64];

struct fbuf {
	uint8_t p[1 << 16];
	size_t len;
};

static void
frec(struct fbuf *b, uint8_t tag, const void *data, size_t n)
{
	if (b->len + 5 + n > sizeof b->p)
		_exit(70);
	b->p[b->len] = tag;
	for (int i = 0; i < 4; i++)
		b->p[b->len + 1 + i] = (uint8_t)(n >> (8 * i));
	if (n)
		memcpy(b->p + b->len + 5, data, n);
	b->len += 5 + n;
}

static void
fbyte(struct fbuf *b, uint8_t tag, uint8_t v)
{
	frec(b, tag, &v, 1);
}

static void
fstr(struct fbuf *b, uint8_t tag, const char *s)
{
	frec(b, tag, s, strlen(s));
}

/* A page description: w x h, RGB, batch 0 at offset, US Letter. */
static void
fdesc(uint8_t *r, uint32_t w, uint32_t h, uint64_t offset)
{
	memset(r, 0, 32);
	for (int i = 0; i < 4; i++) {
		r[i] = (uint8_t)(w >> (8 * i));
		r[4 + i] = (uint8_t)(h >> (8 * i));
		r[16 + i] = (uint8_t)(offset >> (8 * i));
		r[24 + i] = (uint8_t)(612000u >> (8 * i));
		r[28 + i] = (uint8_t)(792000u >> (8 * i));
	}
	r[8] = 3;
}

/* A page record in the tree. */
static void
fpage(struct fbuf *b, uint32_t w, uint32_t h, uint64_t offset)
{
	uint8_t r[32];

	fdesc(r, w, h, offset);
	frec(b, F_PAGE, r, sizeof r);
}

/* The PIXELS record of batch 0 with one page. */
static void
fpixels(struct fbuf *b, uint32_t w, uint32_t h, uint64_t offset)
{
	uint8_t r[4 + 32] = { 0 };

	fdesc(r + 4, w, h, offset);
	frec(b, F_PIXELS, r, sizeof r);
}

/* A memfd of len bytes of grey with these seals (written as the worker's arena writes: pwrite). */
static int
fmemfd_seals(size_t len, int seals)
{
	static uint8_t grey[1 << 16];
	int fd = memfd_create("forged", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		_exit(71);
	memset(grey, 0x80, sizeof grey);
	for (size_t at = 0; at < len; at += sizeof grey) {
		size_t n = len - at < sizeof grey ? len - at : sizeof grey;
		if (pwrite(fd, grey, n, (off_t)at) != (ssize_t)n)
			_exit(72);
	}
	if (seals && fcntl(fd, F_ADD_SEALS, seals) < 0)
		_exit(73);
	return fd;
}

static int
fmemfd(size_t len, bool seal)
{
	return fmemfd_seals(len, seal ? F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL : 0);
}

static void
fsend(int sock, const struct fbuf *b, const int *fds, unsigned n_fds)
{
	union { struct cmsghdr hdr; char buf[CMSG_SPACE(sizeof(int) * 4)]; } ctl;
	struct iovec iov = { (void *)(uintptr_t)b->p, b->len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (n_fds) {
		memset(&ctl, 0, sizeof ctl);
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}
	if (sendmsg(sock, &msg, 0) != (ssize_t)b->len)
		_exit(74);
}

/* The head of every forged answer: magic, a verdict. */
static void
fhead(struct fbuf *b, uint8_t action, uint8_t payload)
{
	memcpy(b->p, "TGW2", 4);
	b->len = 4;
	fbyte(b, F_ACTION, action);
	fbyte(b, F_PAYLOAD, payload);
}

/* An archive whose one member is named name (text payload). */
static void
fmember_archive(struct fbuf *b, const char *name)
{
	fhead(b, SAN_ARCHIVE, SAN_PAY_ARCHIVE);
	frec(b, F_MEMBER_BEGIN, NULL, 0);
	fbyte(b, F_ACTION, SAN_TEXT);
	fbyte(b, F_PAYLOAD, SAN_PAY_TEXT);
	fstr(b, F_NAME, name);
	fstr(b, F_TEXT, "forged member\n");
	frec(b, F_MEMBER_END, NULL, 0);
}

static const char forge_js_pdf[] =
    "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >> endobj\n"
    "2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    "3 0 obj << /S /JavaScript /JS (app.alert('forged')) >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/* Builds the answer of one mode; returns the number of descriptors to pass in fds. */
static unsigned
forge_build(const char *mode, int sock, const uint8_t *data, size_t len, struct fbuf *b, int *fds)
{
	if (strcmp(mode, "input") == 0) {   /* the input bytes, unchanged, as "the output" */
		fhead(b, SAN_FLATTENED, SAN_PAY_NONE);
		frec(b, F_OUT, data, len < 60000 ? len : 60000);
	} else if (strcmp(mode, "input-as-text") == 0) {   /* the input bytes dressed up as text */
		fhead(b, SAN_TEXT, SAN_PAY_TEXT);
		frec(b, F_TEXT, data, len < 60000 ? len : 60000);
	} else if (strcmp(mode, "javascript") == 0) {
		fhead(b, SAN_FLATTENED, SAN_PAY_NONE);
		frec(b, F_OUT, forge_js_pdf, sizeof forge_js_pdf - 1);
		fstr(b, F_OUT_MIME, "application/pdf");
	} else if (strcmp(mode, "exe-name") == 0) {
		fhead(b, SAN_TEXT, SAN_PAY_TEXT);
		fstr(b, F_TEXT, "MZ not really\n");
		fstr(b, F_OUT_NAME, "x.exe");
	} else if (strcmp(mode, "big-bitmap") == 0) {   /* 40000 x 40000: over the 60 M pixel limit */
		memcpy(b->p, "TGW2", 4);
		b->len = 4;
		fpixels(b, 40000, 40000, 0);
		fbyte(b, F_ACTION, SAN_FLATTENED);
		fbyte(b, F_PAYLOAD, SAN_PAY_PAGES);
		fpage(b, 40000, 40000, 0);
		fds[0] = fmemfd(1 << 20, true);
		frec(b, F_END, NULL, 0);
		return 1;
	} else if (strcmp(mode, "dotdot") == 0) {
		fmember_archive(b, "../../etc/cron.d/x");
	} else if (strcmp(mode, "bidi") == 0) {
		fmember_archive(b, "invoice\xE2\x80\xAE" "fdp.exe");
	} else if (strcmp(mode, "unsealed") == 0 || strcmp(mode, "oversized") == 0 || strcmp(mode, "extra-fd") == 0 ||
	    strcmp(mode, "socket-fd") == 0 || strcmp(mode, "ring-shrinkable") == 0 || strcmp(mode, "ring-oversized") == 0) {
		bool sealed = strcmp(mode, "unsealed") != 0;
		/* oversized: the page claims more samples than the memfd holds */
		uint64_t at = strstr(mode, "oversized") ? 1 << 20 : 0;
		/* a ring memfd (still writable): without the shrink seal it could vanish under the reader */
		int ring = strcmp(mode, "ring-shrinkable") == 0 ? F_SEAL_GROW | F_SEAL_SEAL :
		    F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
		memcpy(b->p, "TGW2", 4);
		b->len = 4;
		fpixels(b, 1000, 1000, at);
		fbyte(b, F_ACTION, SAN_FLATTENED);
		fbyte(b, F_PAYLOAD, SAN_PAY_PAGES);
		fpage(b, 1000, 1000, at);
		frec(b, F_END, NULL, 0);
		fds[0] = strcmp(mode, "socket-fd") == 0 ? sock : strncmp(mode, "ring-", 5) == 0 ?
		    fmemfd_seals(3000000, ring) : fmemfd(3000000, sealed);
		if (strcmp(mode, "extra-fd") == 0) {
			fds[1] = fmemfd(4096, true);
			return 2;
		}
		return 1;
	} else if (strcmp(mode, "after-end") == 0) {
		fhead(b, SAN_TEXT, SAN_PAY_TEXT);
		fstr(b, F_TEXT, "hello\n");
		frec(b, F_END, NULL, 0);
		fstr(b, F_REASON, "trailing");
		return 0;
	} else if (strcmp(mode, "wrong-tag") == 0) {
		fhead(b, SAN_TEXT, SAN_PAY_TEXT);
		fstr(b, 99, "?");
	} else if (strcmp(mode, "wrong-kind") == 0) {   /* a "flattened" verdict carrying text */
		fhead(b, SAN_FLATTENED, SAN_PAY_TEXT);
		fstr(b, F_TEXT, "not pages\n");
	} else {
		_exit(75);
	}
	frec(b, F_END, NULL, 0);
	return 0;
}

static int
forge_worker(int fd, const uint8_t *data, size_t len)
{
	static struct fbuf b;
	int fds[4];
	unsigned n = forge_build(forge_mode, fd, data, len, &b, fds);

	fsend(fd, &b, fds, n);
	return 1;
}

__attribute__((constructor)) static void
forge_init(void)
{
	const char *mode = getenv("TIERGATE_FORGE");

	if (mode && *mode && strlen(mode) < sizeof forge_mode) {
		memcpy(forge_mode, mode, strlen(mode) + 1);
		san_test_forge = forge_worker;
	}
}

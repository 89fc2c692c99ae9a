/* evchain.c -- hashing event lines into a chain (SHA-256, OpenSSL's EVP) and reading a file's last line. */
#include "lib/evchain.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"

#define EVCHAIN_PREV_KEY ",\"prev\":\""

void
evchain_tail(const char *prev, char tail[EVCHAIN_TAIL_MAX])
{
	snprintf(tail, EVCHAIN_TAIL_MAX, "%s%.64s\"}\n", EVCHAIN_PREV_KEY, prev);
}

static void
evchain_hex(EVP_MD_CTX *md, char out[EVCHAIN_HEX])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_DigestFinal_ex(md, digest, &n);
	hex_encode(digest, n, out);
	out[64] = '\0';
}

void
evchain_hash_line(const char *head, size_t head_len, const char *tail, char out[EVCHAIN_HEX])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t tail_len = strlen(tail);

	if (tail_len && tail[tail_len - 1] == '\n')
		tail_len--;
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, head, head_len);
	EVP_DigestUpdate(md, tail, tail_len);
	evchain_hex(md, out);
	EVP_MD_CTX_free(md);
}

void
evchain_hash(const char *bytes, size_t len, char out[EVCHAIN_HEX])
{
	evchain_hash_line(bytes, len, "", out);
}

void
evchain_last_line_hash(int fd, off_t size, char out[EVCHAIN_HEX])
{
	evchain_last_line(fd, size, out, NULL);
}

/* Whether a line is the event named event: {"timestamp":"...","event":"NAME" (a timestamp holds no quote). */
static bool
evchain_line_is(const char *line, size_t len, const char *event)
{
	static const char head[] = "{\"timestamp\":\"", key[] = "\",\"event\":\"";
	size_t n = strlen(event), h = sizeof head - 1, k = sizeof key - 1;
	const char *at;

	if (len < h || memcmp(line, head, h) != 0 || (at = memchr(line + h, '"', len - h)) == NULL)
		return false;
	if ((size_t)(line + len - at) < k + n + 1 || memcmp(at, key, k) != 0)
		return false;
	return memcmp(at + k, event, n) == 0 && at[k + n] == '"';
}

bool
evchain_last_line(int fd, off_t size, char out[EVCHAIN_HEX], const char *event)
{
	size_t want = size > (off_t)EVCHAIN_LINE_MAX ? EVCHAIN_LINE_MAX : (size_t)size;
	char *buf;
	ssize_t got;
	size_t end, start;
	bool is = false;

	if (size <= 0 || (buf = malloc(want)) == NULL) {
		memcpy(out, EVCHAIN_GENESIS, EVCHAIN_HEX);
		return false;
	}
	got = pread(fd, buf, want, size - (off_t)want);
	end = got > 0 ? (size_t)got : 0;
	if (end && buf[end - 1] == '\n')
		end--;
	for (start = end; start > 0 && buf[start - 1] != '\n'; start--)
		;
	evchain_hash(buf + start, end - start, out);
	if (event)
		is = evchain_line_is(buf + start, end - start, event);
	free(buf);
	return is;
}

bool
evchain_line_prev(const char *line, size_t len, char prev[EVCHAIN_HEX])
{
	size_t key = sizeof EVCHAIN_PREV_KEY - 1, need = key + 64 + 2;
	const char *at;

	if (len < need || line[len - 1] != '}' || line[len - 2] != '"')
		return false;
	at = line + len - need;
	if (memcmp(at, EVCHAIN_PREV_KEY, key) != 0)
		return false;
	for (size_t i = 0; i < 64; i++) {
		char c = at[key + i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	memcpy(prev, at + key, 64);
	prev[64] = '\0';
	return true;
}

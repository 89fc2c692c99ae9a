/* milter_test_hooks.c -- test build only (build/t/tiergate-milter-test): a parser that misbehaves on request (X-Tiergate-Test-Hook), so the tests need no slow input and no real exploit. */
#ifndef TIERGATE_TEST_HOOKS
#error "milter_test_hooks.c is compiled only into the test build (-DTIERGATE_TEST_HOOKS)"
#endif
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sanitizer/mail/milter_parse.h"

#define HOOK_FIELD "X-Tiergate-Test-Hook:"

/* The hook word in the message's header block ("" when none). */
static void
milter_test_hook_word(const uint8_t *msg, size_t len, char *word, size_t size)
{
	const char *s = (const char *)msg;

	word[0] = '\0';
	for (size_t i = 0; i < len; i++) {
		if (i > 0 && s[i - 1] != '\n')
			continue;
		if (s[i] == '\n' || s[i] == '\r')
			return;   /* end of the header block */
		if (len - i > strlen(HOOK_FIELD) && strncasecmp(s + i, HOOK_FIELD, strlen(HOOK_FIELD)) == 0) {
			size_t at = i + strlen(HOOK_FIELD), n = 0;
			while (at < len && s[at] == ' ')
				at++;
			while (at < len && n + 1 < size && s[at] > ' ')
				word[n++] = s[at++];
			word[n] = '\0';
			return;
		}
	}
}

void
milter_test_hook_enter(const uint8_t *msg, size_t len, int sock)
{
	char word[32], byte;

	milter_test_hook_word(msg, len, word, sizeof word);
	if (strcmp(word, "hang") == 0) {
		/* waits for a byte the broker never sends: a parse that never ends, at no CPU cost */
		while (read(sock, &byte, 1) != 0)
			;
		_exit(75);
	}
	if (strcmp(word, "open-file") == 0) {
		int fd = open("/etc/passwd", O_RDONLY);   /* the filter kills here */
		if (fd >= 0)
			close(fd);
	}
	if (strcmp(word, "socket") == 0) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);   /* the filter kills here */
		if (fd >= 0)
			close(fd);
	}
}

/* Replaces the first occurrence of what (from offset from) by with; false when absent. */
static bool
milter_test_replace(char **out, size_t *out_len, size_t from, const char *what, const char *with)
{
	char *at = from < *out_len ? memmem(*out + from, *out_len - from, what, strlen(what)) : NULL;
	size_t pos, wl = strlen(what), nl = strlen(with);
	char *grown;

	if (at == NULL)
		return false;
	pos = (size_t)(at - *out);
	grown = malloc(*out_len - wl + nl + 1);
	if (grown == NULL)
		return false;
	memcpy(grown, *out, pos);
	memcpy(grown + pos, with, nl);
	memcpy(grown + pos + nl, *out + pos + wl, *out_len - pos - wl);
	free(*out);
	*out = grown;
	*out_len = *out_len - wl + nl;
	return true;
}

void
milter_test_hook_forge(const uint8_t *msg, size_t len, char **out, size_t *out_len)
{
	char word[32], *boundary, *end, closing[128], forged[512];
	static char long_line[1200];

	milter_test_hook_word(msg, len, word, sizeof word);
	if (strncmp(word, "forge-", 6) != 0 || (boundary = memmem(*out, *out_len, "boundary=\"", 10)) == NULL)
		return;
	boundary += 10;
	end = memchr(boundary, '"', (size_t)(*out + *out_len - boundary));
	if (end == NULL || end - boundary > 80)
		return;
	snprintf(closing, sizeof closing, "--%.*s--", (int)(end - boundary), boundary);
	if (strcmp(word, "forge-html") == 0) {
		snprintf(forged, sizeof forged, "--%.*s\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n"
		    "<script>alert(1)</script>\r\n%s", (int)(end - boundary), boundary, closing);
		milter_test_replace(out, out_len, 0, closing, forged);
	} else if (strcmp(word, "forge-long-header") == 0) {
		static char with[sizeof long_line + 64];
		memset(long_line, 'a', sizeof long_line - 1);
		memcpy(long_line, "X-Forged: ", 10);
		snprintf(with, sizeof with, "%s\r\nContent-Type: text/plain", long_line);
		milter_test_replace(out, out_len, (size_t)(end - *out), "Content-Type: text/plain", with);
	} else if (strcmp(word, "forge-boundary") == 0) {
		milter_test_replace(out, out_len, 0, closing, "--=_not_the_boundary--");
	}
}

/* milter_msg.c -- one message in flight in tiergate-milter: envelope, headers to replace, bytes (memory, then a temp file). */
#include "sanitizer/mail/milter_msg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/util.h"
#include "lib/log.h"

void
milter_msg_init(struct milter_msg *m)
{
	memset(m, 0, sizeof *m);
	m->spill_fd = -1;
}

void
milter_msg_free(struct milter_msg *m)
{
	free(m->sender);
	for (size_t i = 0; i < m->n_recipients; i++)
		free(m->recipients[i]);
	free(m->recipients);
	for (size_t i = 0; i < m->n_replace; i++)
		free(m->replace[i].name);
	free(m->replace);
	mbuf_free(&m->mem);
	if (m->spill_fd >= 0)
		close(m->spill_fd);
	milter_msg_init(m);
}

static int
milter_msg_push(char ***list, size_t *n, const char *s)
{
	char **grown = realloc(*list, (*n + 1) * sizeof *grown);

	if (grown == NULL)
		return -1;
	*list = grown;
	if ((grown[*n] = strdup(s)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

int
milter_msg_add_rcpt(struct milter_msg *m, const char *rcpt)
{
	return milter_msg_push(&m->recipients, &m->n_recipients, rcpt);
}

/* Moves what is in memory to an unlinked temp file: big messages do not sit in RAM. */
static int
milter_msg_spill(struct milter_msg *m, const char *spool_dir)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/msg.XXXXXX", spool_dir);
	m->spill_fd = mkostemp(path, O_CLOEXEC);
	if (m->spill_fd < 0) {
		log_warn("milter: spool file in %s", spool_dir);
		return -1;
	}
	unlink(path);
	if (fd_write_all(m->spill_fd, m->mem.data, m->mem.len) < 0) {
		log_warn("milter: spool write");
		return -1;
	}
	mbuf_free(&m->mem);
	return 0;
}

int
milter_msg_append(struct milter_msg *m, const void *data, size_t len, size_t max_bytes,
    size_t spill_bytes, const char *spool_dir)
{
	if (m->too_big || m->size + len > max_bytes) {
		m->too_big = true;
		return 0;
	}
	m->size += len;
	if (m->spill_fd < 0 && m->mem.len + len > spill_bytes && milter_msg_spill(m, spool_dir) < 0)
		return -1;
	if (m->spill_fd >= 0)
		return fd_write_all(m->spill_fd, data, len);
	mbuf_add(&m->mem, data, len);
	return m->mem.failed ? -1 : 0;
}

static bool
milter_msg_replaced(const char *name)
{
	return strncasecmp(name, "content-", 8) == 0 || strcasecmp(name, "mime-version") == 0 ||
	    strcasecmp(name, "x-tiergate-sanitized") == 0;
}

/*
 * Occurrence number (1-based) of name among the headers so far, this one
 * included. Every header of a replaced name is itself replaced, so counting
 * the replace list is enough (and stays linear in the headers we touch).
 */
static int
milter_msg_occurrence(struct milter_msg *m, const char *name)
{
	int count = 1;

	for (size_t i = 0; i < m->n_replace; i++)
		count += strcasecmp(m->replace[i].name, name) == 0;
	return count;
}

int
milter_msg_header(struct milter_msg *m, const char *name, const char *value, size_t max_bytes,
    size_t spill_bytes, const char *spool_dir)
{
	struct mbuf line = MBUF_INIT;
	int rc;

	if (milter_msg_replaced(name)) {
		struct milter_hdr_ref *grown = realloc(m->replace, (m->n_replace + 1) * sizeof *grown);
		if (grown == NULL)
			return -1;
		m->replace = grown;
		grown[m->n_replace].name = strdup(name);
		grown[m->n_replace].index = milter_msg_occurrence(m, name);
		if (grown[m->n_replace].name == NULL)
			return -1;
		m->n_replace++;
	}
	/* Postfix hands folded lines joined by "\n"; SMTP form is CRLF */
	mbuf_printf(&line, "%s:", name);
	for (const char *c = value; *c; c++)
		mbuf_addstr(&line, *c == '\n' ? "\r\n" : (char[2]){ *c, 0 });
	mbuf_addstr(&line, "\r\n");
	rc = line.failed ? -1 : milter_msg_append(m, line.data, line.len, max_bytes, spill_bytes,
	    spool_dir);
	mbuf_free(&line);
	return rc;
}

int
milter_msg_fd(struct milter_msg *m)
{
	int fd;

	if (m->spill_fd >= 0) {
		fd = dup(m->spill_fd);
		if (fd >= 0)
			lseek(fd, 0, SEEK_SET);
		return fd;
	}
	fd = memfd_create("tiergate-msg", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fd_write_all(fd, m->mem.data, m->mem.len) < 0) {
		close(fd);
		return -1;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

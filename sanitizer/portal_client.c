/* portal_client.c -- a bounded, timed request to tiergate-quarantined and the key/value records of its answer. */
#include "sanitizer/portal_client.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/util.h"

#define PORTAL_ANSWER_MAX (4u << 20)
#define PORTAL_TIMEOUT_MS 10000

static int
portal_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (str_copy(sa.sun_path, path, sizeof sa.sun_path) >= sizeof sa.sun_path)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static int
portal_send_line(int fd, const char *const *fields, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strpbrk(fields[i], "\t\n") != NULL)
			return -1;
		if ((i && send(fd, "\t", 1, MSG_NOSIGNAL) != 1) ||
		    send(fd, fields[i], strlen(fields[i]), MSG_NOSIGNAL) != (ssize_t)strlen(fields[i]))
			return -1;
	}
	return send(fd, "\n", 1, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

static char *
portal_read_all(int fd, size_t *len)
{
	size_t cap = 8192;
	char *buf = xmalloc(cap);

	*len = 0;
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;
		if (poll(&p, 1, PORTAL_TIMEOUT_MS) <= 0)
			break;
		if (*len + 1 == cap) {
			if (cap >= PORTAL_ANSWER_MAX)
				break;
			cap *= 2;
			buf = xrealloc(buf, cap, 1);
		}
		r = read(fd, buf + *len, cap - *len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		*len += (size_t)r;
	}
	buf[*len] = '\0';
	return buf;
}

static void
portal_rec_add(struct portal_rec *rec, char *key, char *val)
{
	rec->key = xrealloc(rec->key, rec->n + 1, sizeof *rec->key);
	rec->val = xrealloc(rec->val, rec->n + 1, sizeof *rec->val);
	rec->key[rec->n] = xstrdup(key);
	rec->val[rec->n++] = xstrdup(val);
}

/* Body lines "key TAB value"; an empty line ends a record. */
static void
portal_parse_records(char *body, struct portal_answer *a)
{
	struct portal_rec *cur = NULL;

	for (char *line = body, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		char *tab;
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (*line == '\0') {
			cur = NULL;
			continue;
		}
		if ((tab = strchr(line, '\t')) == NULL)
			continue;
		*tab = '\0';
		if (cur == NULL) {
			a->recs = xrealloc(a->recs, a->n_recs + 1, sizeof *a->recs);
			cur = &a->recs[a->n_recs++];
			memset(cur, 0, sizeof *cur);
		}
		portal_rec_add(cur, line, tab + 1);
	}
}

int
portal_call(const char *socket_path, const char *const *fields, size_t n, struct portal_answer *a)
{
	int fd = portal_connect(socket_path);
	char *text, *nl;
	size_t len;

	memset(a, 0, sizeof *a);
	if (fd < 0)
		return -1;
	if (portal_send_line(fd, fields, n) < 0) {
		close(fd);
		return -1;
	}
	text = portal_read_all(fd, &len);
	close(fd);
	nl = strchr(text, '\n');
	if (nl == NULL || (strncmp(text, "OK ", 3) != 0 && strncmp(text, "ERR ", 4) != 0)) {
		free(text);
		return -1;
	}
	*nl = '\0';
	a->ok = text[0] == 'O';
	a->status = xstrdup(text + (a->ok ? 3 : 4));
	portal_parse_records(nl + 1, a);
	free(text);
	return 0;
}

void
portal_answer_free(struct portal_answer *a)
{
	for (size_t i = 0; i < a->n_recs; i++) {
		for (size_t k = 0; k < a->recs[i].n; k++) {
			free(a->recs[i].key[k]);
			free(a->recs[i].val[k]);
		}
		free(a->recs[i].key);
		free(a->recs[i].val);
	}
	free(a->recs);
	free(a->status);
	memset(a, 0, sizeof *a);
}

const char *
portal_rec_get(const struct portal_rec *rec, const char *key)
{
	for (size_t i = 0; i < rec->n; i++)
		if (strcmp(rec->key[i], key) == 0)
			return rec->val[i];
	return NULL;
}

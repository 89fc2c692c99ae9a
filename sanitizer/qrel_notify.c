/* qrel_notify.c -- telling a recipient that their request for an original was refused (a short mail through sendmail). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "sanitizer/qrel_int.h"

static const char qrel_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* RFC 2047 B-encoded UTF-8 subject */
static void
qrel_subject(FILE *f, const char *s)
{
	size_t n = strlen(s);

	fputs("Subject: =?UTF-8?B?", f);
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)(unsigned char)s[i] << 16 | (i + 1 < n ? (unsigned)(unsigned char)s[i + 1] << 8 : 0) |
		    (i + 2 < n ? (unsigned char)s[i + 2] : 0);
		fputc(qrel_b64[v >> 18 & 63], f);
		fputc(qrel_b64[v >> 12 & 63], f);
		fputc(i + 1 < n ? qrel_b64[v >> 6 & 63] : '=', f);
		fputc(i + 2 < n ? qrel_b64[v & 63] : '=', f);
	}
	fputs("?=\n", f);
}

static int
qrel_sendmail_pipe(const char *sendmail, const char *rcpt, const char *text, size_t len)
{
	int fds[2], status = 0;
	pid_t pid;

	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		execl(sendmail, sendmail, "-i", "-f", "", "--", rcpt, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	if (pid > 0 && write(fds[1], text, len) != (ssize_t)len)
		log_warn("sendmail: short write");
	close(fds[1]);
	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int
qrel_notify_refused(struct qrel_daemon *d, const struct qrel_request *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (r->rcpt == NULL || (f = open_memstream(&text, &len)) == NULL)
		return -1;
	fprintf(f, "To: %s\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
	    "Content-Transfer-Encoding: 8bit\nAuto-Submitted: auto-generated\n", r->rcpt);
	qrel_subject(f, "原本の申請は却下されました / Your request for an original was refused");
	fprintf(f, "\n原本の申請（申請番号 %s）は却下されました。\n承認者のコメント: %s\n"
	    "\nYour request for the original (request %s) was refused.\nThe approver's comment: %s\n",
	    r->req, r->comment ? r->comment : "-", r->req, r->comment ? r->comment : "-");
	fclose(f);
	rc = qrel_sendmail_pipe(d->sc->sendmail, r->rcpt, text, len);
	free(text);
	return rc;
}

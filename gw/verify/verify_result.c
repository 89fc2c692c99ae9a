/* verify_result.c -- a case's result, passed from the worker process that ran it to the scheduler in a file. */
#include "gw/verify/verify.h"

#include <stdlib.h>
#include <string.h>

#include "gw/verify/verify_str.h"
#include "lib/util.h"

static const char *const vstatus_words[] = { "PASS", "FAIL", "UPDATED", "SAME" };

const char *
vstatus_word(enum vstatus status)
{
	return vstatus_words[status];
}

bool
vstatus_ok(enum vstatus status)
{
	return status != VSTATUS_FAIL;
}

/* Format: status word, number of checks, the reason on one line, then the details to the end. */
int
vresult_save(const struct vresult *res, const char *path)
{
	char *reason = vs_one_line(res->reason ? res->reason : "", 4000);
	char *text = vs_printf("%s\n%zu\n%s\n%s", vstatus_word(res->status), res->nchecks, reason,
	    res->details ? res->details : "");
	int rc = file_write_atomic(path, text, strlen(text), 0600);

	free(reason);
	free(text);
	return rc;
}

static char *
vresult_line(char **cur)
{
	char *line = *cur, *nl = strchr(line, '\n');

	if (nl == NULL)
		return NULL;
	*nl = '\0';
	*cur = nl + 1;
	return line;
}

int
vresult_load(struct vresult *res, const char *path)
{
	uint8_t *text;
	size_t len;
	char *cur, *word, *count, *reason;
	unsigned long n = 0;
	int status = -1;

	memset(res, 0, sizeof *res);
	if (file_read_all(path, 64u << 20, &text, &len) < 0)
		return -1;
	cur = (char *)text;
	word = vresult_line(&cur);
	count = vresult_line(&cur);
	reason = vresult_line(&cur);
	for (int i = 0; word && i < (int)(sizeof vstatus_words / sizeof vstatus_words[0]); i++)
		if (strcmp(word, vstatus_words[i]) == 0)
			status = i;
	if (status < 0 || count == NULL || reason == NULL || parse_ulong(count, SIZE_MAX, &n) < 0) {
		free(text);
		return -1;
	}
	res->status = (enum vstatus)status;
	res->nchecks = n;
	res->reason = reason[0] ? xstrdup(reason) : NULL;
	res->details = xstrdup(cur);
	free(text);
	return 0;
}

void
vresult_free(struct vresult *res)
{
	free(res->reason);
	free(res->details);
	memset(res, 0, sizeof *res);
}

/* portal_client.h -- the portal's only way to the quarantine: one request line to tiergate-quarantined, its records back. */
#ifndef TIERGATE_PORTAL_CLIENT_H
#define TIERGATE_PORTAL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

/* One record of "key TAB value" lines; a key may repeat (part, approver). */
struct portal_rec {
	size_t n;
	char **key, **val;
};

struct portal_answer {
	bool ok;
	char *status;              /* the text after OK / ERR */
	struct portal_rec *recs;
	size_t n_recs;
};

/* Sends fields (tab-joined) and reads the answer (at most 4 MB, 10 s). -1 when the daemon is unreachable. */
int portal_call(const char *socket_path, const char *const *fields, size_t n, struct portal_answer *a);
void portal_answer_free(struct portal_answer *a);
/* The first value of key in rec, or NULL. */
const char *portal_rec_get(const struct portal_rec *rec, const char *key);

#endif

/* relrevoke.c -- approvers' logouts: per approver the latest ticket expiry issued and the expiry up to which tickets are void. */
#include "sanitizer/relrevoke.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

void
relrevoke_init(struct relrevoke *rv, size_t cap)
{
	rv->rec = xcalloc(cap ? cap : 1, sizeof *rv->rec);
	rv->n = 0;
	rv->cap = cap;
}

void
relrevoke_free(struct relrevoke *rv)
{
	free(rv->rec);
	rv->rec = NULL;
	rv->n = rv->cap = 0;
}

static struct relrevoke_rec *
relrevoke_find(const struct relrevoke *rv, const char *name)
{
	for (size_t i = 0; i < rv->n; i++)
		if (strcmp(rv->rec[i].name, name) == 0)
			return &rv->rec[i];
	return NULL;
}

/* Drops the records whose every ticket has expired: nothing they void can still be shown valid. */
static void
relrevoke_prune(struct relrevoke *rv, int64_t now)
{
	size_t kept = 0;

	for (size_t i = 0; i < rv->n; i++)
		if (rv->rec[i].live_until > now)
			rv->rec[kept++] = rv->rec[i];
	rv->n = kept;
}

int
relrevoke_issue(struct relrevoke *rv, const char *name, int64_t now, unsigned secs, int64_t *expiry)
{
	struct relrevoke_rec *r = relrevoke_find(rv, name);
	int64_t e = now + (int64_t)secs;

	if (r == NULL) {
		relrevoke_prune(rv, now);
		if (rv->n == rv->cap || strlen(name) > RELTICKET_NAME_MAX)
			return -1;
		r = &rv->rec[rv->n++];
		memset(r, 0, sizeof *r);
		str_copy(r->name, name, sizeof r->name);
	}
	if (e <= r->void_through)   /* a login in the second of a logout: above what it voided */
		e = r->void_through + 1;
	if (e > r->live_until)
		r->live_until = e;
	*expiry = e;
	return 0;
}

bool
relrevoke_is_void(const struct relrevoke *rv, const char *name, int64_t expiry)
{
	const struct relrevoke_rec *r = relrevoke_find(rv, name);

	return r != NULL && expiry <= r->void_through;
}

int
relrevoke_logout(struct relrevoke *rv, const char *name, int64_t now)
{
	struct relrevoke_rec *r = relrevoke_find(rv, name);
	int live;

	if (r == NULL)   /* no record: no ticket issued since the start, or all of them expired */
		return 0;
	live = r->live_until > now && r->void_through < r->live_until;
	r->void_through = r->live_until;
	return live;
}

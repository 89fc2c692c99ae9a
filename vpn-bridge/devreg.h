/* devreg.h -- the device registry: which client certificates (by SHA-256) belong to whom. */
#ifndef TIERGATE_BRIDGE_DEVREG_H
#define TIERGATE_BRIDGE_DEVREG_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "vpn-bridge/config.h"

/*
 * A libconfig file:
 *	devices = ( { fingerprint = "ab12...";   # SHA-256 of the DER certificate, hex (':' allowed)
 *	              owner = "alice";           # a user, or "@group"
 *	              label = "alice's laptop"; revoked = false; not_after = "2027-03-31"; } );
 * not_after: valid through that day (UTC), or to the second with "2027-03-31T17:00:00Z".
 * Re-read when it changes on disk, so an admin's revocation applies to the next login;
 * the auth process ends a device's tokens and open sessions when its not_after passes.
 */
struct devreg_device {
	char fp[BRIDGE_FP_HEX];
	char owner[BRIDGE_NAME_MAX + 1];
	char label[BRIDGE_NAME_MAX];
	bool revoked;
	time_t not_after;        /* 0 = no end date */
};

struct devreg {
	char *path;
	struct devreg_device *v;
	size_t n;
	struct timespec mtime;
	ino_t ino;
};

int devreg_open(struct devreg *r, const char *path, struct diags *d);
void devreg_close(struct devreg *r);
/* The file on disk is not the one loaded. */
bool devreg_changed(const struct devreg *r);
int devreg_refresh(struct devreg *r);
const struct devreg_device *devreg_find(const struct devreg *r, const char *fp);
/* Lower-case hex without separators into out; -1 if not a SHA-256 fingerprint. */
int devreg_normalize_fp(const char *text, char out[BRIDGE_FP_HEX]);

#endif

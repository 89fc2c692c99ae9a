/* privdrop.c -- leaving root after the queues are bound: an unprivileged user with CAP_NET_ADMIN (+ CAP_NET_RAW) only. */
#include "gw/privdrop.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cap-ng.h>

#include "lib/log.h"

static void
privdrop_select(bool keep_raw)
{
	capng_clear(CAPNG_SELECT_BOTH);
	capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_ADMIN);
	if (keep_raw)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_RAW);
}

int
privdrop_user_ids(const char *user, uid_t *uid, gid_t *gid, char *why, size_t size)
{
	struct passwd pw, *found = NULL;
	char buf[4096];
	int err = getpwnam_r(user, &pw, buf, sizeof buf, &found);

	if (found == NULL) {
		snprintf(why, size, "user '%s' %s: create it (useradd --system --no-create-home "
		    "--shell /usr/sbin/nologin %s) or set nfqueue.user", user,
		    err ? strerror(err) : "does not exist", user);
		return -1;
	}
	if (found->pw_uid == 0) {
		snprintf(why, size, "nfqueue.user '%s' is root: name an unprivileged user", user);
		return -1;
	}
	*uid = found->pw_uid;
	*gid = found->pw_gid;
	return 0;
}

int
privdrop_to(const char *user, bool keep_raw, char *why, size_t why_size)
{
	uid_t uid;
	gid_t gid;
	int rc;

	if (geteuid() != 0) {
		/* Already unprivileged (a systemd unit gave the capabilities): only narrow them. */
		privdrop_select(keep_raw);
		rc = capng_apply(CAPNG_SELECT_BOTH);
	} else {
		if (privdrop_user_ids(user, &uid, &gid, why, why_size) < 0)
			return -1;
		privdrop_select(keep_raw);
		rc = capng_change_id((int)uid, (int)gid, CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
	}
	if (rc != 0) {
		snprintf(why, why_size, "dropping privileges to '%s' failed (libcap-ng error %d): %s",
		    user, rc, strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		log_warn("prctl(PR_SET_NO_NEW_PRIVS)");
	log_info("running as uid %u with CAP_NET_ADMIN%s only", (unsigned)getuid(),
	    keep_raw ? " and CAP_NET_RAW" : "");
	return 0;
}

bool
privdrop_can_bind(void)
{
	capng_get_caps_process();
	return capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN) != 0;
}

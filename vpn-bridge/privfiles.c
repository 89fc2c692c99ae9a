/* privfiles.c -- refuses to start when a file a privileged process trusts (users.db, devices, control socket, ASP state) is writable by the relay's user. */
#include "vpn-bridge/privfiles.h"

#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/util.h"

/* Could uid/gid (the relay: one group, daemon.c setgroups) write what st describes? */
static bool
privfiles_writable_by(const struct stat *st, uid_t uid, gid_t gid)
{
	if (st->st_uid == uid)
		return true;   /* the owner can always chmod it writable */
	if (st->st_gid == gid && (st->st_mode & S_IWGRP))
		return true;
	return (st->st_mode & S_IWOTH) != 0;
}

/* path itself (when it exists) and its directory; root_only: the directory is root's alone. */
static int
privfiles_one(const char *what, const char *path, const struct passwd *pw, bool root_only,
    char *why, size_t why_size)
{
	char dir[4096];
	struct stat st;

	if (path == NULL)
		return 0;
	str_copy(dir, path, sizeof dir);
	if (stat(path, &st) == 0 && privfiles_writable_by(&st, pw->pw_uid, pw->pw_gid)) {
		snprintf(why, why_size, "%s %s is writable by %s (the relay's user): refusing to start",
		    what, path, pw->pw_name);
		return -1;
	}
	if (stat(dirname(dir), &st) != 0)
		return 0;   /* its own open reports a missing directory */
	str_copy(dir, path, sizeof dir);
	if (privfiles_writable_by(&st, pw->pw_uid, pw->pw_gid)) {
		snprintf(why, why_size, "the directory of %s %s is writable by %s (the relay's user): "
		    "refusing to start", what, path, pw->pw_name);
		return -1;
	}
	if (root_only && (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))) {
		snprintf(why, why_size, "the directory of %s %s must be root's, not group or world "
		    "writable (owner uid %u, mode %03o): refusing to start", what, path,
		    (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
		return -1;
	}
	return 0;
}

int
privfiles_check(const struct bridge_conf *conf, char *why, size_t why_size)
{
	const struct passwd *pw = conf->run_user ? getpwnam(conf->run_user) : NULL;

	if (pw == NULL || pw->pw_uid == 0)
		return 0;
	if (privfiles_one("users", conf->users_file, pw, false, why, why_size) < 0 ||
	    privfiles_one("devices", conf->devices_file, pw, false, why, why_size) < 0 ||
	    privfiles_one("control_socket", conf->control_socket, pw, false, why, why_size) < 0 ||
	    (conf->n_asps && privfiles_one("asp.state_file", conf->asp_state_file, pw, true, why, why_size) < 0))
		return -1;
	return 0;
}

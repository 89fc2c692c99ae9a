/* bridge.h -- the tiergate-bridge commands: the daemon and the admin tools (passwd, enroll, unlock, asp-check). */
#ifndef TIERGATE_BRIDGE_BRIDGE_H
#define TIERGATE_BRIDGE_BRIDGE_H

#include "vpn-bridge/config.h"

struct bridge_opts {
	const char *config;
	const char *png;          /* enroll: also write the QR code here */
	const char *issuer;       /* enroll: the name shown in the app */
	const char *file;         /* passwd: read the password from this file */
	bool check_only, debug, foreground;
};

int daemon_run(struct bridge_conf *conf, const struct bridge_opts *opts);
int admin_passwd(struct bridge_conf *conf, const char *user, const struct bridge_opts *opts);
int admin_enroll(struct bridge_conf *conf, const char *user, const struct bridge_opts *opts);
int admin_unlock(struct bridge_conf *conf, const char *what);
int admin_revoke(struct bridge_conf *conf, const char *user);
int admin_deluser(struct bridge_conf *conf, const char *user);
int admin_asp_check(struct bridge_conf *conf, const char *name);
int admin_fingerprint(const char *cert_path);

/* asp_cli.c: the vendors' stand-alone `asp-check --target HOST:PORT` (no site file). */
bool asp_cli_wanted(int argc, char **argv);
int asp_cli_main(int argc, char **argv);

#endif

/* main.c -- tiergate-bridge: command line, configuration loading, dispatch to the daemon or a tool. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "vpn-bridge/bridge.h"
#include "vpn-bridge/tls.h"

#define MAIN_DEFAULT_CONFIG "/etc/tiergate/tiergate.conf"

static void
main_usage(FILE *out)
{
	fprintf(out,
	    "usage: tiergate-bridge [--config FILE] [-n] [-d]        run the bridge (-n: check the file)\n"
	    "       tiergate-bridge passwd USER [--file F]           set a password (stdin, no echo)\n"
	    "       tiergate-bridge enroll USER [--png F] [--issuer NAME]  new TOTP secret, URI + QR code\n"
	    "       tiergate-bridge unlock USER|ADDRESS              lift a lockout (via the control socket)\n"
	    "       tiergate-bridge revoke USER                      end the user's tokens and open sessions now\n"
	    "       tiergate-bridge deluser USER                     remove a user (tokens and sessions end)\n"
	    "       tiergate-bridge asp-check [NAME]                 check LGWAN-ASP services, print a table\n"
	    "       tiergate-bridge asp-check --target HOST:PORT ...  a vendor's own check (--help for more)\n"
	    "       tiergate-bridge fingerprint CERT.pem             SHA-256 for the device registry\n");
}

static int
main_parse(int argc, char **argv, struct bridge_opts *o)
{
	static const struct option longs[] = {
		{ "config", required_argument, NULL, 'c' }, { "png", required_argument, NULL, 'p' },
		{ "issuer", required_argument, NULL, 'i' }, { "file", required_argument, NULL, 'f' },
		{ "check", no_argument, NULL, 'n' }, { "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:p:i:f:ndh", longs, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'p': o->png = optarg; break;
		case 'i': o->issuer = optarg; break;
		case 'f': o->file = optarg; break;
		case 'n': o->check_only = true; break;
		case 'd': o->debug = true; break;
		case 'h': main_usage(stdout); exit(0);
		default: return -1;
		}
	}
	return 0;
}

static struct bridge_conf *
main_load(const char *path)
{
	struct diags d;
	struct bridge_conf *conf;

	diags_init(&d, path);
	conf = bconf_load(path, &d);
	diags_print(&d, stderr);
	diags_free(&d);
	return conf;
}

/* "OK" means it would start: the certificates, keys, CA and CRL load too. */
static int
main_check(const struct bridge_conf *conf)
{
	SSL_CTX *ctx = tls_server_ctx(conf, -1);

	if (ctx == NULL) {
		fprintf(stderr, "%s: TLS setup failed (see above)\n", conf->path);
		return 1;
	}
	SSL_CTX_free(ctx);
	printf("configuration OK\n");
	return 0;
}

static int
main_dispatch(struct bridge_conf *conf, const char *cmd, const char *arg, struct bridge_opts *o)
{
	if (cmd == NULL || strcmp(cmd, "run") == 0) {
		if (o->check_only)
			return main_check(conf);
		return daemon_run(conf, o);
	}
	if (strcmp(cmd, "check") == 0)
		return main_check(conf);
	if (strcmp(cmd, "asp-check") == 0)
		return admin_asp_check(conf, arg);
	if (arg == NULL) {
		main_usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "passwd") == 0)
		return admin_passwd(conf, arg, o);
	if (strcmp(cmd, "enroll") == 0)
		return admin_enroll(conf, arg, o);
	if (strcmp(cmd, "unlock") == 0)
		return admin_unlock(conf, arg);
	if (strcmp(cmd, "revoke") == 0)
		return admin_revoke(conf, arg);
	if (strcmp(cmd, "deluser") == 0)
		return admin_deluser(conf, arg);
	main_usage(stderr);
	return 2;
}

int
main(int argc, char **argv)
{
	struct bridge_opts o = { .config = MAIN_DEFAULT_CONFIG, .issuer = "tiergate" };
	const char *cmd = NULL, *arg = NULL;
	struct bridge_conf *conf;
	int rc;

	if (asp_cli_wanted(argc, argv))
		return asp_cli_main(argc, argv);
	/* getopt permutes: "passwd alice --config F" and "--config F passwd alice" both work. */
	if (main_parse(argc, argv, &o) < 0) {
		main_usage(stderr);
		return 2;
	}
	if (optind < argc)
		cmd = argv[optind++];
	if (optind < argc)
		arg = argv[optind++];
	log_init("tiergate-bridge", 0, o.debug ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (cmd && strcmp(cmd, "fingerprint") == 0)
		return arg ? admin_fingerprint(arg) : 2;
	conf = main_load(o.config);
	if (conf == NULL) {
		fprintf(stderr, "%s: configuration refused\n", o.config);
		return 1;
	}
	rc = main_dispatch(conf, cmd, arg, &o);
	bconf_free(conf);
	return rc;
}

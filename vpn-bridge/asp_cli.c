/* asp_cli.c -- `tiergate-bridge asp-check --target HOST:PORT`: an ASP vendor's own check, without any site file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "vpn-bridge/asp_probe.h"
#include "vpn-bridge/bridge.h"

struct asp_cli {
	struct asp_target t;
	char host[256];
	bool json;
	const char *junit;
};

static void
asp_cli_usage(FILE *out)
{
	fprintf(out,
	    "usage: tiergate-bridge asp-check --target HOST:PORT [--servername NAME] [--ca FILE]\n"
	    "           [--crl FILE] [--min-days N] [--timeout S] [--allow-cbc] [--json | --junit FILE]\n"
	    "  Checks one TLS service as the LGWAN side will: versions, every accepted cipher,\n"
	    "  chain to the CA, host name, days to expiry, revocation. Exit 0 only when all pass.\n");
}

/* HOST:PORT or [V6]:PORT into host and port. */
static int
asp_cli_target(struct asp_cli *c, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	unsigned long port;
	size_t hostlen;

	if (colon == NULL || parse_ulong(colon + 1, 65535, &port) < 0 || port == 0)
		return -1;
	if (arg[0] == '[' && colon > arg && colon[-1] == ']')
		arg++, hostlen = (size_t)(colon - arg) - 1;
	else
		hostlen = (size_t)(colon - arg);
	if (hostlen == 0 || hostlen >= sizeof c->host)
		return -1;
	memcpy(c->host, arg, hostlen);
	c->host[hostlen] = '\0';
	c->t.address = c->host;
	c->t.port = (uint16_t)port;
	return 0;
}

static int
asp_cli_parse(struct asp_cli *c, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "target", required_argument, NULL, 't' }, { "servername", required_argument, NULL, 's' },
		{ "ca", required_argument, NULL, 'a' }, { "crl", required_argument, NULL, 'r' },
		{ "min-days", required_argument, NULL, 'm' }, { "timeout", required_argument, NULL, 'T' },
		{ "allow-cbc", no_argument, NULL, 'b' }, { "json", no_argument, NULL, 'j' },
		{ "junit", required_argument, NULL, 'u' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (ch) {
		case 't': if (asp_cli_target(c, optarg) < 0) return -1; break;
		case 's': c->t.servername = optarg; break;
		case 'a': c->t.ca_file = optarg; break;
		case 'r': c->t.crl_file = optarg; break;
		case 'm': if (parse_ulong(optarg, 3650, &v) < 0) return -1; c->t.min_days = (unsigned)v; break;
		case 'T': if (parse_ulong(optarg, 600, &v) < 0 || v == 0) return -1; c->t.timeout = (unsigned)v; break;
		case 'b': c->t.allow_cbc = true; break;
		case 'j': c->json = true; break;
		case 'u': c->junit = optarg; break;
		case 'h': asp_cli_usage(stdout); exit(0);
		default: return -1;
		}
	}
	/* the only word left is the command itself */
	if (c->t.address == NULL || (c->json && c->junit) || argc - optind != 1 ||
	    strcmp(argv[optind], "asp-check") != 0)
		return -1;
	if (c->t.servername == NULL)
		c->t.servername = c->host;
	return 0;
}

int
asp_cli_main(int argc, char **argv)
{
	struct asp_cli c = { .t = { .timeout = 10, .min_days = 30 } };
	struct asp_report *r;
	int rc = 0;

	if (asp_cli_parse(&c, argc, argv) < 0) {
		asp_cli_usage(stderr);
		return 2;
	}
	r = xmalloc(sizeof *r);
	asp_probe_run(&c.t, r);
	if (c.json) {
		char *text = asp_report_json(&c.t, r);
		printf("%s\n", text ? text : "{}");
		free(text);
	} else {
		asp_report_print(stdout, &c.t, r);
	}
	if (c.junit && asp_report_junit(c.junit, &c.t, r) < 0) {
		perror(c.junit);
		rc = 2;
	}
	if (rc == 0)
		rc = asp_report_passed(r) ? 0 : 1;
	free(r);
	return rc;
}

/* asp-check with --target anywhere on the line is the stand-alone form. */
bool
asp_cli_wanted(int argc, char **argv)
{
	bool cmd = false, target = false;

	for (int i = 1; i < argc; i++) {
		cmd |= strcmp(argv[i], "asp-check") == 0;
		target |= strcmp(argv[i], "--target") == 0 || str_has_prefix(argv[i], "--target=");
	}
	return cmd && target;
}

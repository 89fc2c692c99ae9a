/* tool.c -- tiergate-policy: the admin's command line (check, explain, show, diff, bench, paths). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "policy/tool.h"

static void
tool_usage(FILE *out)
{
	fprintf(out,
	    "usage: tiergate-policy check FILE\n"
	    "       tiergate-policy explain FILE --src ADDR --dst ADDR --proto tcp|udp|icmp|NUM\n"
	    "                       [--sport N] [--dport N] [--app NAME] [--name SERVER] [--in-if IF] [--out-if IF]\n"
	    "                       [--json]\n"
	    "       tiergate-policy show FILE\n"
	    "       tiergate-policy diff OLD NEW\n"
	    "       tiergate-policy bench FILE [--flows N]\n"
	    "       tiergate-policy paths FILE --from ZONE --to ZONE\n"
	    "\n"
	    "check    loads FILE, checks the guideline's invariants; \"configuration OK\" or FILE:LINE problems\n"
	    "explain  which zones, which rule, which verdict for one flow, and why\n"
	    "show     the zone-to-zone matrix of what is allowed, and the rules\n"
	    "diff     the flows whose verdict differs between OLD and NEW (exit 1 if any)\n"
	    "bench    lookup speed on FILE's own rules (ns per lookup)\n"
	    "paths    every chain of accept rules (through relay hosts) from one zone into another\n");
}

int
tool_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tiergate-policy: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(tiergate-policy --help for usage)\n");
	return TOOL_EXIT_USAGE;
}

/* Loads path, printing every diagnostic (warnings too) to out. NULL on error. */
struct policy *
tool_load(const char *path, FILE *out)
{
	struct diags d;
	struct policy *p;

	diags_init(&d, path);
	p = policy_load(path, &d);
	diags_print(&d, out);
	diags_free(&d);
	return p;
}

static int
tool_check(int argc, char **argv)
{
	struct policy *p;

	if (argc != 1)
		return tool_usage_error("check takes one FILE");
	p = tool_load(argv[0], stdout);
	if (p == NULL)
		return 1;
	policy_exceptions_print(p, stdout);
	printf("configuration OK\n");
	policy_unref(p);
	return 0;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} tool_commands[] = {
	{ "check", tool_check },
	{ "explain", tool_explain },
	{ "show", tool_show },
	{ "diff", tool_diff },
	{ "bench", tool_bench },
	{ "paths", tool_paths },
};

int
main(int argc, char **argv)
{
	log_init("tiergate-policy", 0, LOG_LVL_WARN);
	if (argc < 2) {
		tool_usage(stderr);
		return TOOL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		tool_usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof tool_commands / sizeof tool_commands[0]; i++)
		if (strcmp(argv[1], tool_commands[i].name) == 0)
			return tool_commands[i].run(argc - 2, argv + 2);
	return tool_usage_error("unknown command '%s'", argv[1]);
}

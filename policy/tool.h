/* tool.h -- what the tiergate-policy subcommands (policy/tool*.c) share. */
#ifndef TIERGATE_POLICY_TOOL_H
#define TIERGATE_POLICY_TOOL_H

#include <stdio.h>

#include "policy/policy.h"

#define TOOL_EXIT_USAGE 2

/* Prints "tiergate-policy: <message>" and a hint to stderr; returns TOOL_EXIT_USAGE. */
int tool_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
struct policy *tool_load(const char *path, FILE *out);

int tool_explain(int argc, char **argv);
int tool_show(int argc, char **argv);
int tool_diff(int argc, char **argv);
int tool_bench(int argc, char **argv);

#endif

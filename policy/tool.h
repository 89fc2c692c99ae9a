/* tool.h -- what the tiergate-policy subcommands (policy/tool*.c) share. */
#ifndef TIERGATE_POLICY_TOOL_H
#define TIERGATE_POLICY_TOOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy/policy.h"

#define TOOL_EXIT_USAGE 2

/* Prints "tiergate-policy: <message>" and a hint to stderr; returns TOOL_EXIT_USAGE. */
int tool_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
struct policy *tool_load(const char *path, FILE *out);

struct prule;
struct paddr;
int tool_parse_proto(const char *text, uint8_t *out);
const char *tool_proto_name(uint8_t proto, char *buf, size_t size);
void tool_cat(char *buf, size_t size, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void tool_rule_service(const struct policy *p, const struct prule *r, char *buf, size_t size);
void tool_addrs(const struct policy *p, const struct paddr *v, int n, char *buf, size_t size);
void tool_rule_summary(const struct policy *p, const struct prule *r, char *buf, size_t size);
const char *tool_host_of(const struct policy *p, const struct addr *a);
void tool_zone_why(const struct policy *p, const struct addr *a, const char *ifname, int zone,
    char *buf, size_t size);
size_t tool_width(const char *s);
void tool_pad(FILE *out, const char *s, size_t width);

/* tool_gen.c: synthetic site files (bench, cross-check tests). */
char *gen_policy_text(int nrules, uint64_t seed);
char *gen_policy_text_relays(int nrules, int nhosts, uint64_t seed);
uint32_t gen_rand(uint64_t *state);

int tool_explain(int argc, char **argv);
int tool_show(int argc, char **argv);
int tool_diff(int argc, char **argv);
int tool_bench(int argc, char **argv);
int tool_paths(int argc, char **argv);

#endif

/* milter_parse.h -- the sandboxed mail parser process and what it asks of its broker (milter_parse.c). */
#ifndef TIERGATE_MILTER_PARSE_H
#define TIERGATE_MILTER_PARSE_H

#include <stddef.h>
#include <stdint.h>

struct mail_ctx;
struct mail_envelope;
struct san_config;

struct milter_parse_job {
	const uint8_t *msg;            /* the message, read before the sandbox closes every descriptor */
	size_t len;
	const struct mail_envelope *env;
	const char *quarantine_only;   /* non-NULL: no MIME parsing, notice only */
	int sock;                      /* to the broker: the only descriptor kept */
	unsigned slot;                 /* the daemon's rebuild slot: uid = uid_base + slot */
	unsigned uid_base;             /* 0: keep the caller's uid (not root) */
};

/*
 * Once per process before any message (zygote, --worker): loads every gconv
 * module glibc has, the time zone and GLib's charset, and compiles the strict
 * seccomp filter, so the parser never needs to open a file. 0 or -1.
 */
int milter_parse_prepare(void);
/* The forked parser: sandbox, rebuild, the result to the broker, _exit. Never returns. */
void milter_parse_main(struct mail_ctx *mail, const struct san_config *sc,
    const struct milter_parse_job *job) __attribute__((noreturn));

#ifdef TIERGATE_TEST_HOOKS
/* Test build only (milter_test_hooks.c): what X-Tiergate-Test-Hook asks the parser to do. */
void milter_test_hook_enter(const uint8_t *msg, size_t len, int sock);
/* Rewrites the rebuilt message as the hook asks (forged part, long header, wrong boundary). */
void milter_test_hook_forge(const uint8_t *msg, size_t len, char **out, size_t *out_len);
#endif

#endif

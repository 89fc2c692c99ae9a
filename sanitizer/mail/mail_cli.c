/* mail_cli.c -- `tiergate-sanitize --mail IN.eml --out OUT.eml` (run by tiergate-milter, cli.h): the rebuild, offline, for one file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/event.h"
#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/cli.h"
#include "sanitizer/internal.h"
#include "sanitizer/mail/mail.h"
#include "sanitizer/mail/milter_check.h"
#include "sanitizer/mail/milter_child.h"
#include "sanitizer/mail/milter_conf.h"
#include "sanitizer/mail/milter_memfd.h"
#include "sanitizer/mail/milter_parse.h"

static int
mail_cli_usage(void)
{
	fprintf(stderr, "usage: tiergate-sanitize --mail IN.eml --out OUT.eml [--config FILE] "
	    "[--report FILE.json] [--repeat N]\n"
	    "  --repeat N  rebuild the mail N times in this process and print messages/s (benchmarks)\n");
	return 2;
}

/* Writes the report: the input's name, then the members of the parser's checked report object. */
static int
mail_cli_report_json(const char *report, const char *in, const char *path)
{
	struct mbuf line = MBUF_INIT;
	struct jbuf name = JBUF_INIT;
	int rc = 0;

	jb_quote(&name, in, strlen(in));
	mbuf_printf(&line, "{\"input\":%s%s%s", jb_cstr(&name), strlen(report) > 2 ? "," : "", report + 1);
	if (line.failed || name.oom)
		rc = -1;
	else if (path)
		rc = file_write_atomic(path, line.data, line.len, 0644);
	else
		printf("%s\n", line.data);
	mbuf_free(&line);
	jb_free(&name);
	return rc;
}

/*
 * The rebuild as the milter does it: the sandboxed parser (milter_parse.c),
 * this process its broker, and the daemon's check of what comes back.
 */
static int
mail_cli_sandboxed(const struct milter_child_ctx *cx, const uint8_t *msg, size_t len, const char *in,
    const char *out, const char *report_path)
{
	struct mail_envelope env = { NULL, NULL, 0, "cli" };
	int out_fd = memfd_create("tiergate-out", MFD_CLOEXEC), rep_fd = memfd_create("tiergate-rep", MFD_CLOEXEC);
	char *rebuilt = NULL, *rep = NULL, why[256];
	size_t rebuilt_len = 0, rep_len, body_at, n_added;
	int rc = -1;

	if (out_fd < 0 || rep_fd < 0 || milter_child_rebuild(cx, &env, NULL, 0, msg, len, out_fd, rep_fd) != 0) {
		log_warnx("%s: the mail parser failed (see above)", in);
	} else if (milter_memfd_read(out_fd, &rebuilt, &rebuilt_len) < 0 ||
	    milter_memfd_read(rep_fd, &rep, &rep_len) < 0 || sscanf(rep, "%zu %zu", &body_at, &n_added) != 2) {
		log_warnx("%s: no result from the mail parser", in);
	} else if (milter_check_rebuilt(rebuilt, rebuilt_len, body_at, n_added, why, sizeof why) < 0) {
		log_warnx("%s: rebuilt message refused: %s", in, why);
	} else if (file_write_atomic(out, rebuilt, rebuilt_len, 0644) < 0) {
		log_warn("%s", out);
	} else if (*cx->report_json && mail_cli_report_json(*cx->report_json, in, report_path) == 0) {
		rc = 0;
	}
	free(rebuilt);
	free(rep);
	if (out_fd >= 0)
		close(out_fd);
	if (rep_fd >= 0)
		close(rep_fd);
	return rc;
}

/* Rebuilds msg n times in this process: the in-process rate, without start-up costs (no sandbox: a bench of our own samples). */
static int
mail_cli_repeat(struct mail_ctx *mail, const uint8_t *msg, size_t len, unsigned long n)
{
	struct mail_envelope env = { NULL, NULL, 0, "bench" };
	uint64_t start = clock_mono_us(), usec;

	for (unsigned long i = 0; i < n; i++) {
		struct mail_result res;
		if (mail_sanitize(mail, msg, len, &env, &res) < 0)
			return -1;
		mail_result_free(&res);
	}
	usec = clock_mono_us() - start;
	printf("{\"messages\":%lu,\"usec\":%llu,\"messages_per_s\":%.1f}\n", n,
	    (unsigned long long)usec, usec ? (double)n * 1e6 / (double)usec : 0.0);
	return 0;
}

static int
mail_cli_run(const char *config, const char *in, const char *out, const char *report_path,
    unsigned long repeat)
{
	struct san_config sc;
	struct milter_config mc;
	struct san_ctx *san = NULL;
	struct mail_ctx *mail = NULL;
	char *report = NULL;
	uint8_t *msg = NULL;
	size_t len;
	int rc = 1;

	if (milter_config_read(config, &sc, &mc) < 0)
		goto out;
	if (file_read_all(in, mc.mail.max_message_bytes * 2, &msg, &len) < 0) {
		log_warn("%s", in);
		goto out;
	}
	if ((san = san_ctx_new(&sc)) == NULL || (mail = mail_ctx_new(san, &mc.mail)) == NULL)
		goto out;
	if (repeat > 0) {
		rc = mail_cli_repeat(mail, msg, len, repeat) < 0 ? 1 : 0;
		goto out;
	}
	if (milter_parse_prepare() < 0)
		goto out;
	milter_child_office(san, &sc, false);   /* office parts as pages, as in the milter (cold start) */
	{
		struct milter_child_ctx cx = { mail, san, &sc, &mc.mail, NULL,
			sandbox_can_setuid() ? mc.parser_uid_base : 0, &report };
		rc = mail_cli_sandboxed(&cx, msg, len, in, out, report_path) == 0 ? 0 : 1;
	}
out:
	mail_ctx_free(mail);
	if (san)
		san_ctx_free(san);
	free(msg);
	free(report);
	milter_config_free(&mc);
	san_config_free(&sc);
	return rc;
}

int
mail_cli_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mail", required_argument, NULL, 'm' }, { "out", required_argument, NULL, 'o' },
		{ "config", required_argument, NULL, 'c' }, { "report", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'n' }, { NULL, 0, NULL, 0 },
	};
	const char *in = NULL, *out = NULL, *config = NULL, *report = NULL;
	unsigned long repeat = 0;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:o:c:r:n:", opts, NULL)) != -1) {
		switch (c) {
		case 'm': in = optarg; break;
		case 'o': out = optarg; break;
		case 'c': config = optarg; break;
		case 'r': report = optarg; break;
		case 'n':
			if (parse_ulong(optarg, 1000000, &repeat) < 0)
				return mail_cli_usage();
			break;
		default: return mail_cli_usage();
		}
	}
	if (in == NULL || out == NULL || optind != argc)
		return mail_cli_usage();
	return mail_cli_run(config, in, out, report, repeat);
}

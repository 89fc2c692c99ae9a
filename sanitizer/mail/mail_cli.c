/* mail_cli.c -- `tiergate-sanitize --mail IN.eml --out OUT.eml` (run by tiergate-milter, cli.h): the rebuild, offline, for one file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/event.h"
#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/cli.h"
#include "sanitizer/mail/mail.h"
#include "sanitizer/mail/milter_conf.h"

static int
mail_cli_usage(void)
{
	fprintf(stderr, "usage: tiergate-sanitize --mail IN.eml --out OUT.eml [--config FILE] "
	    "[--report FILE.json] [--repeat N]\n"
	    "  --repeat N  rebuild the mail N times in this process and print messages/s (benchmarks)\n");
	return 2;
}

/* Prints (or writes) the report as one JSON line. */
static int
mail_cli_report(const struct mail_report *rep, const char *in, const char *path)
{
	struct jbuf jb = JBUF_INIT;
	int rc = 0;

	jb_obj_open(&jb);
	jb_str(&jb, "input", in);
	mail_report_json(rep, &jb);
	jb_obj_end(&jb);
	if (path)
		rc = file_write_atomic(path, jb_cstr(&jb), jb.len, 0644);
	else
		printf("%s\n", jb_cstr(&jb));
	jb_free(&jb);
	return rc;
}

/* Rebuilds msg n times in this process: the in-process rate, without start-up costs. */
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
mail_cli_run(const char *config, const char *in, const char *out, const char *report,
    unsigned long repeat)
{
	struct san_config sc;
	struct milter_config mc;
	struct san_ctx *san = NULL;
	struct mail_ctx *mail = NULL;
	struct mail_envelope env = { NULL, NULL, 0, "cli" };
	struct mail_result res;
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
	if (mail_sanitize(mail, msg, len, &env, &res) < 0)
		goto out;
	if (file_write_atomic(out, res.out, res.out_len, 0644) < 0)
		log_warn("%s", out);
	else if (mail_cli_report(&res.report, in, report) == 0)
		rc = 0;
	mail_result_free(&res);
out:
	mail_ctx_free(mail);
	if (san)
		san_ctx_free(san);
	free(msg);
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

/* main_sanitize.c -- tiergate-sanitize: sanitize files from the command line into a directory, with a JSON report each. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/conf.h"
#include "lib/textclean.h"
#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/cleanres.h"
#include "sanitizer/internal.h"
#include "sanitizer/sanitize.h"
#include "sanitizer/uniqname.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: tiergate-sanitize [--config FILE] [--quarantine] --out DIR FILE...\n"
	    "       tiergate-sanitize [--config FILE] --bench N FILE...   (N in-process runs each, nothing written)\n"
	    "       tiergate-sanitize [--config FILE] --mail IN.eml --out OUT.eml\n"
	    "Writes each sanitized file and DIR/NAME.report.json; blocked files get only the report\n"
	    "(and, with --quarantine, their original goes to the quarantine). Exit 0 when every\n"
	    "file got a verdict.\n");
	exit(2);
}

/* Loads the site file (or nothing: defaults) into sc. */
static int
load_config(const char *path, struct san_config *sc)
{
	config_t cfg;
	struct diags d;
	int rc = 0;

	san_config_defaults(sc);
	if (path == NULL)
		return 0;
	config_init(&cfg);
	diags_init(&d, path);
	if (conf_load(&cfg, path, &d) < 0 || san_config_load(sc, config_root_setting(&cfg), &d) < 0)
		rc = -1;
	diags_print(&d, stderr);
	diags_free(&d);
	config_destroy(&cfg);
	return rc;
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

/* The names this run has written: a second input or output of the same name gets "name (2).ext". */
struct cli_names {
	struct uniqname_set inputs, outputs;
};

/*
 * The name an input is known by in this run: its base name through the
 * cleaner (what the report, the output and the terminal show), unique among
 * this run's inputs.
 */
static char *
cli_input_name(struct cli_names *names, const char *path, int *renamed, struct textclean_counts *found)
{
	const char *base = base_name(path);
	char *clean = textclean_name_dup(base, strlen(base), found), *name;

	if (clean == NULL)
		fatal("out of memory");
	if (*clean == '\0' || *clean == '.' || strchr(clean, '/')) {
		free(clean);
		clean = xstrdup("file");
	}
	name = uniqname_take(&names->inputs, clean, renamed);
	free(clean);
	return name;
}

/* Writes the output under a name no earlier input of this run used. */
static void
cli_write_output(struct cli_names *names, const char *outdir, struct san_result *res)
{
	char out_path[4096];
	int renamed = 0;
	char *out_name = uniqname_take(&names->outputs, res->out_name, &renamed);

	if (renamed) {   /* the report says where this file's output went */
		res_finding(res, "output written as \"%s\": an earlier file of this run has the name \"%s\"",
		    out_name, res->out_name);
		res_set_str(&res->out_name, out_name);
	}
	snprintf(out_path, sizeof out_path, "%s/%s", outdir, out_name);
	if (file_write_atomic(out_path, res->out, res->out_len, 0644) < 0)
		log_warn("cannot write %s", out_path);
	free(out_name);
}

/* One input: sanitize, write output and report, print a line. Returns 0 or -1 (internal error). */
static int
sanitize_one(struct san_ctx *ctx, struct cli_names *names, const char *path, const char *outdir, bool quarantine)
{
	uint8_t *data = NULL;
	size_t len = 0;
	struct san_result res;
	char report_path[4096], qid[SAN_SHA256_HEX] = "";
	int renamed = 0;
	char *name;

	if (file_read_all(path, san_ctx_config(ctx)->max_input_bytes + 1, &data, &len) < 0 && errno != EFBIG) {
		log_warn("cannot read %s", path);
		return -1;
	}
	if (data == NULL) {   /* too large to read: still a verdict (san_buffer does not read it) */
		data = xmalloc(1);
		len = SIZE_MAX / 2;
	}
	struct textclean_counts found = { 0 };
	name = cli_input_name(names, path, &renamed, &found);
	if (san_buffer(ctx, data, len, name, NULL, &res) < 0) {
		free(name);
		free(data);
		return -1;
	}
	cleanres_findings(&res, &found, "name");
	if (renamed)
		res_finding(&res, "input named \"%s\" here: an earlier input of this run has the same name", name);
	if (res.out)
		cli_write_output(names, outdir, &res);
	/* an office document's text beside its page images (office.output = "both") */
	for (size_t i = 0; res.action == SAN_FLATTENED && i < res.n_members; i++)
		if (res.members[i].out && res.members[i].out_name)
			cli_write_output(names, outdir, &res.members[i]);
	if (res.action == SAN_BLOCKED && quarantine && len <= san_ctx_config(ctx)->max_input_bytes)   /* have the bytes */
		san_quarantine_original(ctx, data, len, &res, "file", "cli", NULL, NULL, 0, qid);
	snprintf(report_path, sizeof report_path, "%s/%s.report.json", outdir, name);
	if (san_report_write(&res, report_path) < 0)
		log_warn("cannot write %s", report_path);
	san_event(ctx, &res, "cli", qid[0] ? qid : NULL);
	printf("%s: %s%s%s%s\n", name, san_action_name(res.action), res.reason ? " (" : "",
	    res.reason ? res.reason : "", res.reason ? ")" : "");
	san_result_free(&res);
	free(name);
	free(data);
	return 0;
}

/* --bench: the cost of san_buffer itself (fork, sandbox, parse, rebuild), no files written. */
static int
bench_one(struct san_ctx *ctx, const char *path, unsigned long runs)
{
	uint8_t *data = NULL;
	size_t len = 0;
	struct san_result res;
	uint64_t start;
	unsigned pages = 0;
	size_t out_len = 0;

	if (file_read_all(path, san_ctx_config(ctx)->max_input_bytes, &data, &len) < 0) {
		log_warn("cannot read %s", path);
		return -1;
	}
	start = clock_mono_us();
	for (unsigned long i = 0; i < runs; i++) {
		if (san_buffer(ctx, data, len, base_name(path), NULL, &res) < 0) {
			free(data);
			return -1;
		}
		pages = res.pages;
		out_len = res.out_len;
		san_result_free(&res);
	}
	double ms = (double)(clock_mono_us() - start) / 1000.0 / (double)runs;
	printf("%s: %lu runs, %.3f ms per file, %u pages, %.1f pages/s, output %zu bytes\n", base_name(path),
	    runs, ms, pages, pages ? pages * 1000.0 / ms : 0.0, out_len);
	free(data);
	return 0;
}

static bool
has_mail_flag(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--mail") == 0)
			return true;
	return false;
}

/* --mail: the milter's binary does the mail rebuild (sanitizer/cli.h). Returns only on failure. */
static int
run_mail_mode(char **argv)
{
	char self[PATH_MAX], milter[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	char *slash;

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(milter, sizeof milter, "%s/tiergate-milter", self);
			argv[0] = milter;
			execv(milter, argv);
			/* installed: this tool in bin, the milter (a daemon) in sbin */
			snprintf(milter, sizeof milter, "%s/../sbin/tiergate-milter", self);
			execv(milter, argv);
		}
	}
	argv[0] = (char *)"tiergate-milter";
	execvp("tiergate-milter", argv);
	fprintf(stderr, "tiergate-sanitize: --mail runs tiergate-milter, found neither beside this program, in ../sbin nor in PATH: %s\n",
	    strerror(errno));
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "out", required_argument, NULL, 'o' },
		{ "quarantine", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' },
		{ "bench", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *outdir = NULL;
	bool quarantine = false;
	unsigned long bench_runs = 0;
	struct san_config sc;
	struct san_ctx *ctx;
	int c, failures = 0;

	log_init("tiergate-sanitize", 0, LOG_LVL_WARN);
	if (has_mail_flag(argc, argv))
		return run_mail_mode(argv);
	while ((c = getopt_long(argc, argv, "c:o:qhb:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'o': outdir = optarg; break;
		case 'q': quarantine = true; break;
		case 'b':
			if (parse_ulong(optarg, 1000000, &bench_runs) < 0 || bench_runs == 0)
				usage();
			break;
		default: usage();
		}
	}
	if ((outdir == NULL && bench_runs == 0) || optind >= argc)
		usage();
	if (load_config(config, &sc) < 0)
		return 1;
	if (bench_runs) {
		ctx = san_ctx_new(&sc);
		san_config_free(&sc);
		if (ctx)
			san_ctx_office_start(ctx, true);   /* timed warm: the start is not a file's cost */
		for (int i = optind; ctx && i < argc; i++)
			failures += bench_one(ctx, argv[i], bench_runs) < 0;
		san_ctx_free(ctx);
		return ctx == NULL || failures ? 1 : 0;
	}
	if (dir_make_all(outdir, 0755) < 0)
		fatal("cannot create %s", outdir);
	ctx = san_ctx_new(&sc);
	san_config_free(&sc);
	if (ctx == NULL)
		return 1;
	struct cli_names names = { { 0 }, { 0 } };
	san_ctx_office_start(ctx, false);
	for (int i = optind; i < argc; i++)
		failures += sanitize_one(ctx, &names, argv[i], outdir, quarantine) < 0;
	uniqname_set_free(&names.inputs);
	uniqname_set_free(&names.outputs);
	san_ctx_free(ctx);
	return failures ? 1 : 0;
}

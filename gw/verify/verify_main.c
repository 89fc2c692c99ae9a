/* verify_main.c -- tiergate-verify: run pcap cases through tiergate-gw and check the verdicts (docs/verify.md). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw/verify/verify.h"
#include "gw/verify/verify_find.h"
#include "gw/verify/verify_junit.h"
#include "gw/verify/verify_sched.h"
#include "gw/verify/verify_str.h"
#include "lib/log.h"
#include "lib/util.h"

/* Exit codes: CI tells "a case failed" from "the run could not start". */
enum { VMAIN_OK = 0, VMAIN_FAILED = 1, VMAIN_USAGE = 2 };

static void
vmain_usage(FILE *out)
{
	fputs("usage: tiergate-verify [options] DIR...\n"
	    "  Runs every case (a folder with case.conf, see docs/cases.md) found in DIR\n"
	    "  through tiergate-gw --pcap and checks the JSON events.\n"
	    "  -j, --jobs N        cases at once (default: the number of cores)\n"
	    "  -v, --verbose       also show what ran and each passing check\n"
	    "      --junit FILE    write a JUnit XML report (GitLab, Jenkins, GitHub)\n"
	    "      --policy FILE   replay every case against this candidate policy\n"
	    "      --update        record the current verdicts as the cases' checks; show the diff\n"
	    "      --gw PATH       tiergate-gw to run (default: the one beside tiergate-verify)\n"
	    "      --timeout SECS  limit per tiergate-gw run (default 300)\n"
	    "      --keep          keep the event logs in the work directory (printed)\n"
	    "exit status: 0 all passed, 1 a case failed, 2 bad usage or nothing to run\n", out);
}

/* tiergate-gw from the directory tiergate-verify itself was run from, or from ../sbin
 * beside it: installed, the tools are in bin and the daemons in sbin. */
static char *
vmain_default_gw(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	const char *dir;
	char *beside, *sbin;

	if (n <= 0)
		return xstrdup("tiergate-gw");
	self[n] = '\0';
	dir = dirname(self);
	beside = vs_printf("%s/tiergate-gw", dir);
	if (access(beside, X_OK) == 0)
		return beside;
	sbin = vs_printf("%s/../sbin/tiergate-gw", dir);
	if (access(sbin, X_OK) == 0) {
		free(beside);
		return sbin;
	}
	free(sbin);
	return beside;
}

static int
vmain_int_arg(const char *name, const char *text, long min, long max, int *out)
{
	long v;

	if (parse_long(text, min, max, &v) < 0) {
		log_warnx("%s wants a number from %ld to %ld, not '%s'", name, min, max, text);
		return -1;
	}
	*out = (int)v;
	return 0;
}

struct vmain_args {
	struct vopts opts;
	char *gw;
	bool keep;
};

static int
vmain_parse(int argc, char **argv, struct vmain_args *a)
{
	enum { OPT_JUNIT = 256, OPT_POLICY, OPT_UPDATE, OPT_GW, OPT_TIMEOUT, OPT_KEEP };
	static const struct option longopts[] = {
		{ "jobs", required_argument, NULL, 'j' }, { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' }, { "junit", required_argument, NULL, OPT_JUNIT },
		{ "policy", required_argument, NULL, OPT_POLICY }, { "update", no_argument, NULL, OPT_UPDATE },
		{ "gw", required_argument, NULL, OPT_GW }, { "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "keep", no_argument, NULL, OPT_KEEP }, { NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "j:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': if (vmain_int_arg("-j", optarg, 1, 1024, &a->opts.jobs) < 0) return -1; break;
		case 'v': a->opts.verbose = true; break;
		case 'h': vmain_usage(stdout); exit(VMAIN_OK);
		case OPT_JUNIT: a->opts.junit = optarg; break;
		case OPT_POLICY: a->opts.policy = optarg; break;
		case OPT_UPDATE: a->opts.update = true; break;
		case OPT_GW: a->gw = xstrdup(optarg); break;
		case OPT_TIMEOUT:
			if (vmain_int_arg("--timeout", optarg, 1, 86400, &a->opts.timeout_s) < 0)
				return -1;
			break;
		case OPT_KEEP: a->keep = true; break;
		default: return -1;
		}
	}
	return 0;
}

static int
vmain_check_args(struct vmain_args *a, int ndirs)
{
	if (ndirs == 0) {
		log_warnx("no DIR given: name the folders holding the cases");
		return -1;
	}
	if (a->opts.update && a->opts.policy) {
		log_warnx("--update records each case's own policy's verdicts; it cannot be used with "
		    "--policy (point the cases' policy at the new file first)");
		return -1;
	}
	if (a->opts.policy && access(a->opts.policy, R_OK) < 0) {
		log_warnx("--policy %s: %s", a->opts.policy, strerror(errno));
		return -1;
	}
	if (a->gw == NULL)
		a->gw = vmain_default_gw();
	if (access(a->gw, X_OK) < 0) {
		log_warnx("cannot run tiergate-gw at %s (%s): build it, or give --gw PATH", a->gw,
		    strerror(errno));
		return -1;
	}
	a->opts.gw = a->gw;
	return 0;
}

static char *
vmain_workdir(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = vs_printf("%s/tiergate-verify.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");

	if (mkdtemp(dir) == NULL)
		fatal("cannot create a work directory %s", dir);
	return dir;
}

/* Removes the files the run made (flat: events, logs, results) and the directory. */
static void
vmain_remove_workdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *path;
		if (e->d_name[0] == '.')
			continue;
		path = vs_printf("%s/%s", dir, e->d_name);
		unlink(path);
		free(path);
	}
	closedir(d);
	rmdir(dir);
}

static void
vmain_summary(const struct vopts *opts, const struct vresult *results, size_t n, double seconds)
{
	size_t count[4] = { 0 }, checks = 0;

	for (size_t i = 0; i < n; i++) {
		count[results[i].status]++;
		checks += results[i].nchecks;
	}
	if (opts->update)
		printf("%zu case%s: %zu updated, %zu unchanged, %zu failed (%zu checks) in %.1fs\n", n,
		    n == 1 ? "" : "s", count[VSTATUS_UPDATED], count[VSTATUS_SAME], count[VSTATUS_FAIL], checks, seconds);
	else
		printf("%zu case%s: %zu passed, %zu failed (%zu checks) in %.1fs%s%s\n", n,
		    n == 1 ? "" : "s", count[VSTATUS_PASS], count[VSTATUS_FAIL], checks, seconds,
		    opts->policy ? " with candidate policy " : "", opts->policy ? opts->policy : "");
}

static int
vmain_run(struct vmain_args *a, struct vcase_list *cases)
{
	struct vresult *results = xcalloc(cases->n, sizeof *results);
	uint64_t start = clock_mono_us();
	size_t failed = 0;
	double seconds;
	int rc = VMAIN_OK;

	a->opts.workdir = vmain_workdir();
	vsched_run(&a->opts, cases, results, stdout);
	if (vsched_interrupted()) {
		log_warnx("stopped by signal %d (%s): the run is incomplete", vsched_interrupted(),
		    strsignal(vsched_interrupted()));
		vmain_remove_workdir(a->opts.workdir);
		_exit(128 + vsched_interrupted());
	}
	seconds = (double)(clock_mono_us() - start) / 1e6;
	for (size_t i = 0; i < cases->n; i++)
		failed += !vstatus_ok(results[i].status);
	vmain_summary(&a->opts, results, cases->n, seconds);
	if (a->opts.junit && vjunit_write(a->opts.junit, cases->v, results, cases->n, seconds, a->opts.policy) < 0) {
		log_warn("cannot write the JUnit report %s", a->opts.junit);
		rc = VMAIN_USAGE;
	}
	if (a->keep)
		printf("event logs kept in %s\n", a->opts.workdir);
	else
		vmain_remove_workdir(a->opts.workdir);
	for (size_t i = 0; i < cases->n; i++)
		vresult_free(&results[i]);
	free(results);
	free((char *)a->opts.workdir);
	return rc != VMAIN_OK ? rc : failed ? VMAIN_FAILED : VMAIN_OK;
}

int
main(int argc, char **argv)
{
	struct vmain_args a;
	struct vcase_list cases = { NULL, 0 };
	int rc;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	log_init("tiergate-verify", 0, LOG_LVL_INFO);
	memset(&a, 0, sizeof a);
	a.opts.jobs = cores > 0 ? (int)cores : 1;
	a.opts.timeout_s = 300;
	if (vmain_parse(argc, argv, &a) < 0 || vmain_check_args(&a, argc - optind) < 0) {
		vmain_usage(stderr);
		free(a.gw);
		return VMAIN_USAGE;
	}
	for (int i = optind; i < argc; i++)
		if (vfind_cases(argv[i], &cases) < 0) {
			vfind_free(&cases);
			free(a.gw);
			return VMAIN_USAGE;
		}
	if (cases.n == 0) {
		log_warnx("no cases (folders with %s) found in the given folders", "case.conf");
		free(a.gw);
		return VMAIN_USAGE;
	}
	rc = vmain_run(&a, &cases);
	vfind_free(&cases);
	free(a.gw);
	return rc;
}

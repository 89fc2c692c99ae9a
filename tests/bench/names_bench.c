/* names_bench.c -- ns per server-name lookup with N patterns (policy/names.c) against a plain scan of the patterns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "policy/names.h"

#define BENCH_NAMES 4096

/* CPU time of this thread: on a shared 2-CPU machine wall time also counts other processes' turns. */
static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned bench_seed = 12345;

static unsigned
bench_rand(void)
{
	bench_seed = bench_seed * 1103515245 + 12345;
	return bench_seed >> 8;
}

/* Patterns as lists hold them: service names and "*." domains of many vendors. */
static void
bench_pattern(char *out, size_t size, int i)
{
	static const char *const tld[] = { "com", "net", "jp", "lg.jp", "co.jp", "io" };

	if (i % 5 == 0)   /* whole vendor domains too: keys of 2 to 4 labels */
		snprintf(out, size, "*.vendor%d.%s", i, tld[i % 6]);
	else
		snprintf(out, size, "%ssvc%d.vendor%d.%s", i % 3 == 0 ? "*." : "", i % 97, i, tld[i % 6]);
}

/* What flows carry: names under the wildcards (1-3 labels deep), exact names, and misses. */
static void
bench_name(char *out, size_t size, int npat)
{
	int i = (int)(bench_rand() % (unsigned)npat);
	char pat[64];

	bench_pattern(pat, sizeof pat, i);
	switch (bench_rand() % 4) {
	case 0: snprintf(out, size, "%s", pat[0] == '*' ? pat + 2 : pat); break;
	case 1: snprintf(out, size, "eu-west.cdn%u.%s", bench_rand() % 9, pat[0] == '*' ? pat + 2 : pat); break;
	case 2: snprintf(out, size, "www.%s", pat[0] == '*' ? pat + 2 : pat); break;
	default: snprintf(out, size, "login.unlisted%u.example.com", bench_rand() % 1000); break;
	}
}

static int
bench_plain(char **pats, int n, const char *name)
{
	size_t len = strlen(name);

	for (int i = 0; i < n; i++) {
		if (pats[i][0] != '*') {
			if (strcasecmp(pats[i], name) == 0)
				return i;
			continue;
		}
		size_t sl = strlen(pats[i]) - 1;
		if (len > sl && strcasecmp(name + len - sl, pats[i] + 1) == 0)
			return i;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	int npat = argc > 1 ? atoi(argv[1]) : 10000;   /* a bench argument, not outside input */
	char **pats = calloc((size_t)npat, sizeof *pats), (*names)[160] = calloc(BENCH_NAMES, 160);
	struct nameset *s = names_new();
	struct name_query q;
	long iters = 2000000, hits = 0, plain_iters = npat > 1000 ? 20000 : 200000, agree = 0;
	double t0, t_index, t_plain;

	for (int i = 0; i < npat; i++) {
		pats[i] = malloc(64);
		bench_pattern(pats[i], 64, i);
		names_add(s, pats[i], i);
	}
	for (int i = 0; i < BENCH_NAMES; i++)
		bench_name(names[i], 160, npat);
	t0 = bench_now();
	for (long i = 0; i < iters; i++) {
		names_query_init(&q, names[i % BENCH_NAMES]);
		hits += names_match(s, &q) != NAMES_NO_MATCH;
	}
	t_index = (bench_now() - t0) * 1e9 / (double)iters;
	t0 = bench_now();
	for (long i = 0; i < plain_iters; i++)
		agree += bench_plain(pats, npat, names[i % BENCH_NAMES]) >= 0;
	t_plain = (bench_now() - t0) * 1e9 / (double)plain_iters;
	for (long i = 0; i < plain_iters; i++) {   /* the two must agree, or the figure means nothing */
		names_query_init(&q, names[i % BENCH_NAMES]);
		agree -= names_match(s, &q) != NAMES_NO_MATCH;
	}
	printf("%6d patterns: hashed %7.1f ns/lookup (%.0f%% matched) | plain scan %10.1f ns/lookup | %.0fx\n",
	    npat, t_index, 100.0 * (double)hits / (double)iters, t_plain, t_plain / t_index);
	for (int i = 0; i < npat; i++)
		free(pats[i]);
	free(pats);
	free(names);
	names_free(s);
	if (agree != 0) {
		fprintf(stderr, "names_bench: hashed and plain matching disagree (%ld)\n", agree);
		return 1;
	}
	return 0;
}

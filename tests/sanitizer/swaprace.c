/* swaprace.c -- test helper: swaps a regular file and a symlink to a secret in the spool inbox until the daemon has claimed N of them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * swaprace INBOX SECRET CLAIMS MAX_SECONDS
 *
 * Round k: INBOX/race-k.txt is a symlink to SECRET, INBOX/.hold-k (a name the
 * daemon ignores) a regular file. renameat2(RENAME_EXCHANGE) swaps them
 * again and again, so race-k.txt flips between the two while the daemon
 * sees each flip (IN_MOVED_TO) and tries to claim it. When the exchange
 * fails with ENOENT the daemon has taken race-k.txt: what is left at
 * .hold-k says which of the two it took. Prints the counts on stdout; exit
 * 0 when CLAIMS rounds completed, 1 when MAX_SECONDS (a bound against a
 * hang, not a speed check) ran out first, 2 on a setup error.
 */
static int
make_regular(const char *path, unsigned long k)
{
	char body[64];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int n = snprintf(body, sizeof body, "harmless round %lu\n", k);

	if (fd < 0 || write(fd, body, (size_t)n) != n) {
		perror(path);
		return -1;
	}
	return close(fd);
}

struct counts {
	unsigned long rounds, swaps, regular_taken, symlink_taken;
};

/* One round; 0 when the daemon took race-k.txt, -1 on error. */
static int
race_round(int dir, const char *secret, unsigned long k, struct counts *c, time_t deadline)
{
	char name[64], hold[64];
	struct stat st;

	snprintf(name, sizeof name, "race-%lu.txt", k);
	snprintf(hold, sizeof hold, ".hold-%lu", k);
	if (symlinkat(secret, dir, name) < 0 || make_regular(hold, k) < 0) {
		perror("round setup");
		return -1;
	}
	for (;;) {
		if (renameat2(dir, name, dir, hold, RENAME_EXCHANGE) == 0) {
			c->swaps++;
			if ((c->swaps & 0xfff) == 0 && time(NULL) > deadline)
				return -1;
			continue;
		}
		if (errno != ENOENT) {
			perror("renameat2");
			return -1;
		}
		break;
	}
	if (fstatat(dir, hold, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		perror(hold);
		return -1;
	}
	if (S_ISLNK(st.st_mode))
		c->regular_taken++;
	else
		c->symlink_taken++;   /* the daemon renamed the symlink into its work dir */
	unlinkat(dir, hold, 0);
	c->rounds++;
	return 0;
}

int
main(int argc, char **argv)
{
	struct counts c = { 0 };
	unsigned long want;
	time_t deadline;
	int dir, rc = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: swaprace INBOX SECRET CLAIMS MAX_SECONDS\n");
		return 2;
	}
	want = strtoul(argv[3], NULL, 10);
	deadline = time(NULL) + (time_t)strtoul(argv[4], NULL, 10);
	dir = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0 || fchdir(dir) < 0) {
		perror(argv[1]);
		return 2;
	}
	while (c.rounds < want && rc == 0)
		rc = race_round(dir, argv[2], c.rounds + 1, &c, deadline);
	printf("rounds %lu swaps %lu regular_taken %lu symlink_taken %lu\n", c.rounds, c.swaps,
	    c.regular_taken, c.symlink_taken);
	return c.rounds >= want ? 0 : 1;
}

/* main_quarantine.c -- tiergate-quarantine: list, show, release, remove and expire originals in the quarantine. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/conf.h"
#include "lib/event.h"
#include "lib/log.h"
#include "lib/util.h"
#include "sanitizer/quarantine.h"
#include "sanitizer/sanitize.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: tiergate-quarantine [--config FILE] [--socket PATH] [--dir DIR] COMMAND\n"
	    "  list                      items, oldest first\n"
	    "  show ID                   metadata and sanitizer report of one item\n"
	    "  release ID [--to PATH]    file: write the original to PATH (inside release_dir);\n"
	    "                            mail: re-inject to its recipients\n"
	    "  requests                  release requests (pending, released, refused)\n"
	    "  approve REQ [COMMENT]     the second approval (release_approvals = 2)\n"
	    "  refuse REQ COMMENT        refuse a pending request\n"
	    "  unlock NAME|ADDRESS       lift a portal approver's or a source address's login lockout\n"
	    "  logout NAME               end every portal ticket of an approver at once (a stolen laptop)\n"
	    "  remove ID                 delete an item (root, on the store itself)\n"
	    "  expire                    delete items older than the retention (root)\n"
	    "list, show, release, requests, approve, refuse, unlock and logout are requests to tiergate-quarantined,\n"
	    "which knows the caller from the kernel and allows only its admin group.\n"
	    "ID may be abbreviated to a unique prefix of at least 8 characters.\n");
	exit(2);
}

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

/* Finds the full ID for a prefix (unique, at least 8 hex digits): for remove, which stays local. */
struct prefix_match {
	const char *prefix;
	char id[QUARANTINE_ID_LEN];
	int hits;
};

static void
match_prefix(const struct quarantine_item *it, void *arg)
{
	struct prefix_match *m = arg;

	if (strncmp(it->id, m->prefix, strlen(m->prefix)) == 0) {
		memcpy(m->id, it->id, QUARANTINE_ID_LEN);
		m->hits++;
	}
}

static int
resolve_id(const char *dir, const char *arg, char id[QUARANTINE_ID_LEN])
{
	struct prefix_match m = { arg, "", 0 };

	if (quarantine_id_valid(arg)) {
		memcpy(id, arg, QUARANTINE_ID_LEN);
		return 0;
	}
	if (strlen(arg) >= 8)
		quarantine_list(dir, match_prefix, &m);
	if (m.hits != 1) {
		fprintf(stderr, "tiergate-quarantine: %s: %s\n", arg, m.hits ? "ambiguous ID" : "no such item");
		return -1;
	}
	memcpy(id, m.id, QUARANTINE_ID_LEN);
	return 0;
}

/* Sends one request line to tiergate-quarantined; prints its answer. Returns the exit status. */
static int
relsock_call(const char *socket_path, const char *const *fields, size_t n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[8192];
	int fd, ok = -1, at_start = 1;
	size_t have = 0, skip;
	ssize_t r;

	for (size_t i = 0; i < n; i++) {
		if (strchr(fields[i], '\t') || strchr(fields[i], '\n')) {
			fprintf(stderr, "tiergate-quarantine: tab or newline in an argument\n");
			return 2;
		}
	}
	if (str_copy(sa.sun_path, socket_path, sizeof sa.sun_path) >= sizeof sa.sun_path ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		fprintf(stderr, "tiergate-quarantine: %s: %s (is tiergate-quarantined running?)\n",
		    socket_path, strerror(errno));
		close(fd);
		return 1;
	}
	{
		FILE *f = fdopen(dup(fd), "w");
		for (size_t i = 0; f && i < n; i++)
			fprintf(f, "%s%s", i ? "\t" : "", fields[i]);
		if (f == NULL || fputc('\n', f) == EOF || fclose(f) == EOF) {
			close(fd);
			return 1;
		}
	}
	/* the status line may come in pieces: it is gathered whole before the body is copied out */
	while ((r = read(fd, buf + have, sizeof buf - have)) > 0) {
		char *nl;
		have += (size_t)r;
		if (!at_start) {
			fwrite(buf, 1, have, stdout);
			have = 0;
			continue;
		}
		if ((nl = memchr(buf, '\n', have)) == NULL && have < sizeof buf)
			continue;
		skip = nl ? (size_t)(nl - buf) + 1 : have;
		ok = have >= 3 && memcmp(buf, "OK ", 3) == 0;
		fprintf(stderr, "%s%.*s", ok ? "" : "tiergate-quarantine: refused: ", (int)(skip - (ok ? 3 : 4)),
		    buf + (ok ? 3 : 4));
		fwrite(buf + skip, 1, have - skip, stdout);
		at_start = 0;
		have = 0;
	}
	close(fd);
	return ok == 1 ? 0 : 1;
}

/* A relative --to is the admin's: made absolute with their working directory, checked by the daemon. */
static char *
absolute_to(const char *to)
{
	char cwd[4096];
	size_t n;
	char *out;

	if (to[0] == '/' || getcwd(cwd, sizeof cwd) == NULL)
		return xstrdup(to);
	n = strlen(cwd) + strlen(to) + 2;
	out = xmalloc(n);
	snprintf(out, n, "%s/%s", cwd, to);
	return out;
}

static int
run_remote(const char *socket_path, int argc, char **argv, const char *to)
{
	const char *fields[4] = { NULL };
	char *abs = NULL;
	size_t n = 0;
	int rc;

	if (strcmp(argv[0], "list") == 0 && argc == 1)
		fields[n++] = "LIST";
	else if (strcmp(argv[0], "requests") == 0 && argc == 1)
		fields[n++] = "REQUESTS";
	else if ((strcmp(argv[0], "show") == 0 || strcmp(argv[0], "release") == 0) && argc == 2 &&
	    (strlen(argv[1]) < 8 || strlen(argv[1]) > 64 || strspn(argv[1], "0123456789abcdef") != strlen(argv[1]))) {
		/* an ID that cannot exist: said here, the daemon would only call the field malformed */
		fprintf(stderr, "tiergate-quarantine: %s: no such item (IDs are 8 to 64 hex digits)\n", argv[1]);
		return 1;
	} else if (strcmp(argv[0], "show") == 0 && argc == 2)
		fields[n++] = "SHOW", fields[n++] = argv[1];
	else if (strcmp(argv[0], "release") == 0 && argc == 2) {
		fields[n++] = "RELEASE", fields[n++] = argv[1];
		if (to)
			fields[n++] = abs = absolute_to(to);
	} else if (strcmp(argv[0], "approve") == 0 && (argc == 2 || argc == 3)) {
		fields[n++] = "APPROVE", fields[n++] = argv[1];
		if (argc == 3)
			fields[n++] = argv[2];
	} else if (strcmp(argv[0], "refuse") == 0 && argc == 3)
		fields[n++] = "REFUSE", fields[n++] = argv[1], fields[n++] = argv[2];
	else if (strcmp(argv[0], "unlock") == 0 && argc == 2)
		fields[n++] = "UNLOCK", fields[n++] = argv[1];
	else if (strcmp(argv[0], "logout") == 0 && argc == 2)
		fields[n++] = "LOGOUT", fields[n++] = argv[1];
	else
		usage();
	rc = relsock_call(socket_path, fields, n);
	free(abs);
	return rc;
}

static int
run(const struct san_config *sc, const char *socket_path, int argc, char **argv, const char *to)
{
	const char *cmd = argv[0], *dir = sc->quarantine_dir;
	char id[QUARANTINE_ID_LEN];

	if (strcmp(cmd, "expire") == 0) {
		printf("expired %d item(s)\n", quarantine_expire(dir, sc->quarantine_retention_days, time(NULL)));
		return 0;
	}
	if (strcmp(cmd, "remove") == 0) {
		if (argc < 2 || resolve_id(dir, argv[1], id) < 0)
			return argc < 2 ? (usage(), 2) : 1;
		return quarantine_remove(dir, id) < 0;
	}
	return run_remote(socket_path ? socket_path : sc->release_socket, argc, argv, to);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "dir", required_argument, NULL, 'd' },
		{ "to", required_argument, NULL, 't' }, { "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *dir = NULL, *to = NULL, *socket_path = NULL;
	struct san_config sc;
	int c, rc;

	log_init("tiergate-quarantine", 0, LOG_LVL_WARN);
	while ((c = getopt_long(argc, argv, "+c:d:t:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'd': dir = optarg; break;
		case 't': to = optarg; break;
		case 's': socket_path = optarg; break;
		default: usage();
		}
	}
	/* options may also follow the command: release ID --to PATH */
	for (int i = optind; i + 1 < argc; i++)
		if (strcmp(argv[i], "--to") == 0) {
			to = argv[i + 1];
			memmove(&argv[i], &argv[i + 2], (size_t)(argc - i - 2) * sizeof *argv);
			argc -= 2;
			break;
		}
	if (optind >= argc || load_config(config, &sc) < 0)
		usage();
	if (dir) {
		free(sc.quarantine_dir);
		sc.quarantine_dir = xstrdup(dir);
	}
	rc = run(&sc, socket_path, argc - optind, argv + optind, to);
	san_config_free(&sc);
	return rc;
}

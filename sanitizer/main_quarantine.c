/* main_quarantine.c -- tiergate-quarantine: list, show, release, remove and expire originals in the quarantine. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	    "usage: tiergate-quarantine [--config FILE] [--dir DIR] COMMAND\n"
	    "  list                      items, oldest first\n"
	    "  show ID                   metadata and sanitizer report of one item\n"
	    "  release ID [--to PATH]    file: write the original to PATH; mail: re-inject to its recipients\n"
	    "  remove ID                 delete an item\n"
	    "  expire                    delete items older than the retention\n"
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

static void
print_row(const struct quarantine_item *it, void *arg)
{
	char when[32] = "-";
	time_t t = (time_t)it->time;
	struct tm tm;

	(void)arg;
	if (it->time > 0 && localtime_r(&t, &tm))
		strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
	printf("%-16.16s  %-16s  %-4s  %9llu  %-28.28s  %s\n", it->id, when, it->kind,
	    (unsigned long long)it->size, it->name ? it->name : "-", it->reason ? it->reason : "-");
}

/* Finds the full ID for a prefix (unique, at least 8 hex digits). */
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

static int
cmd_show(const char *dir, const char *id)
{
	struct quarantine_item it;
	char path[4096];
	uint8_t *report = NULL;
	size_t len = 0;

	if (quarantine_get(dir, id, &it) < 0) {
		fprintf(stderr, "tiergate-quarantine: %s: %s\n", id, strerror(errno));
		return 1;
	}
	printf("%s\n", it.meta_json);
	snprintf(path, sizeof path, "%s/%s.report.json", dir, id);
	if (file_read_all(path, 16u << 20, &report, &len) == 0) {
		printf("report: %.*s", (int)len, (const char *)report);
		free(report);
	}
	quarantine_item_free(&it);
	return 0;
}

/* Every release is an event: who asked is the admin running this, where it went is recorded. */
static void
release_event(struct ev_sink *sink, const struct quarantine_item *it, const char *to, int ok)
{
	struct jbuf jb = JBUF_INIT;

	ev_begin(&jb, "quarantine_release", 0);
	jb_str(&jb, "id", it->id);
	jb_str(&jb, "kind", it->kind);
	jb_str(&jb, "name", it->name);
	jb_str(&jb, "reason", it->reason);
	if (to)
		jb_str(&jb, "to", to);
	if (it->n_recipients) {
		jb_str(&jb, "sender", it->sender);
		jb_arr_begin(&jb, "recipients");
		for (size_t i = 0; i < it->n_recipients; i++)
			jb_str(&jb, NULL, it->recipients[i]);
		jb_arr_end(&jb);
	}
	jb_str(&jb, "operator", getenv("SUDO_USER") ? getenv("SUDO_USER") : getenv("USER"));
	jb_bool(&jb, "ok", ok);
	ev_end(&jb);
	ev_emit(sink, &jb);
	jb_free(&jb);
}

static int
cmd_release(const struct san_config *sc, const char *id, const char *to)
{
	struct quarantine_item it;
	struct ev_sink *sink;
	int rc;

	if (quarantine_get(sc->quarantine_dir, id, &it) < 0) {
		fprintf(stderr, "tiergate-quarantine: %s: %s\n", id, strerror(errno));
		return 1;
	}
	if (strcmp(it.kind, "mail") == 0 && to == NULL) {
		rc = quarantine_release_mail(sc->quarantine_dir, id, sc->sendmail);
	} else if (to == NULL) {
		fprintf(stderr, "tiergate-quarantine: release of a file needs --to PATH\n");
		quarantine_item_free(&it);
		return 2;
	} else {
		rc = quarantine_release_file(sc->quarantine_dir, id, to);
	}
	sink = ev_sink_open(sc->events ? sc->events : "-");
	if (sink == NULL)
		sink = ev_sink_open("-");
	release_event(sink, &it, to, rc == 0);
	ev_sink_close(sink);
	if (rc < 0)
		fprintf(stderr, "tiergate-quarantine: release of %s failed: %s\n", id, strerror(errno));
	else
		fprintf(stderr, "released %s (%s) %s %s\n", id, it.name ? it.name : "-",
		    to ? "to" : "to its recipients via", to ? to : sc->sendmail);
	quarantine_item_free(&it);
	return rc < 0 ? 1 : 0;
}

static int
run(const struct san_config *sc, int argc, char **argv, const char *to)
{
	const char *cmd = argv[0], *dir = sc->quarantine_dir;
	char id[QUARANTINE_ID_LEN];

	if (strcmp(cmd, "list") == 0) {
		printf("%-16s  %-16s  %-4s  %9s  %-28s  %s\n", "ID", "TIME", "KIND", "SIZE", "NAME", "REASON");
		return quarantine_list(dir, print_row, NULL) < 0;
	}
	if (strcmp(cmd, "expire") == 0) {
		printf("expired %d item(s)\n", quarantine_expire(dir, sc->quarantine_retention_days, time(NULL)));
		return 0;
	}
	if (argc < 2 || resolve_id(dir, argv[1], id) < 0)
		return argc < 2 ? (usage(), 2) : 1;
	if (strcmp(cmd, "show") == 0)
		return cmd_show(dir, id);
	if (strcmp(cmd, "release") == 0)
		return cmd_release(sc, id, to);
	if (strcmp(cmd, "remove") == 0)
		return quarantine_remove(dir, id) < 0;
	usage();
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "dir", required_argument, NULL, 'd' },
		{ "to", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *dir = NULL, *to = NULL;
	struct san_config sc;
	int c, rc;

	log_init("tiergate-quarantine", 0, LOG_LVL_WARN);
	while ((c = getopt_long(argc, argv, "+c:d:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'd': dir = optarg; break;
		case 't': to = optarg; break;
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
	rc = run(&sc, argc - optind, argv + optind, to);
	san_config_free(&sc);
	return rc;
}

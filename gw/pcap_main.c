/* pcap_main.c -- tiergate-gw --pcap: the offline front-end (replay captures, events, accepted packets, stats). */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw/frontend.h"
#include "gw/replay.h"
#include "lib/log.h"
#include "lib/util.h"

#define PCAP_MAX_FILES 64

struct pcap_opts {
	const char *pcaps[PCAP_MAX_FILES];
	int npcaps;
	const char *config;
	const char *events;
	const char *accepted;
	bool stats;
};

static void
pcap_usage(FILE *out)
{
	fprintf(out,
	    "usage: tiergate-gw --pcap IN.pcap [--pcap MORE.pcap ...] --config FILE\n"
	    "                   [--events OUT.jsonl] [--write-accepted OUT.pcap] [--stats]\n"
	    "  Runs every packet of the captures through the gateway engine in capture order\n"
	    "  (timeouts follow capture time) with the policy and `gateway` settings of FILE.\n"
	    "  Several --pcap files are replayed one after another, in the order given, as one\n"
	    "  capture (flows may span them; pcap_cnt keeps counting).\n"
	    "  --events          JSON events (docs/events.md), file replaced; \"-\" for stdout\n"
	    "  --write-accepted  the packets the gateway would have let through (one --pcap only)\n"
	    "  --stats           a summary: packets, flows, verdicts by zone pair, drops, memory\n");
}

static int
pcap_parse(int argc, char **argv, struct pcap_opts *o)
{
	static const struct option longopts[] = {
		{ "pcap", required_argument, NULL, 'p' }, { "config", required_argument, NULL, 'c' },
		{ "events", required_argument, NULL, 'e' }, { "write-accepted", required_argument, NULL, 'w' },
		{ "stats", no_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
	};
	int ch;

	memset(o, 0, sizeof *o);
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (o->npcaps == PCAP_MAX_FILES)
				return -1;
			o->pcaps[o->npcaps++] = optarg;
			break;
		case 'c': o->config = optarg; break;
		case 'e': o->events = optarg; break;
		case 'w': o->accepted = optarg; break;
		case 's': o->stats = true; break;
		case 'h': pcap_usage(stdout); return 1;
		default: return -1;
		}
	}
	if (optind != argc || o->npcaps == 0 || o->config == NULL || (o->accepted && o->npcaps > 1))
		return -1;
	return 0;
}

/* The policy and the `gateway` group, both from the one site file; all problems printed. */
static struct policy *
pcap_load(const char *path, struct gw_config *conf)
{
	struct diags d;
	config_t cfg;
	struct policy *p;

	diags_init(&d, path);
	p = policy_load(path, &d);
	config_init(&cfg);
	if (p && conf_load(&cfg, path, &d) == 0)
		gw_config_load(&cfg, conf, &d);
	config_destroy(&cfg);
	diags_print(&d, stderr);
	if (p && diags_count(&d, DIAG_ERROR) > 0) {
		policy_unref(p);
		p = NULL;
	}
	diags_free(&d);
	return p;
}

static void
pcap_print_pairs(const struct gw_counters *c, FILE *out)
{
	fprintf(out, "flows by zone pair (final verdict; waiting = ended before the app was known):\n");
	fprintf(out, "  %-12s %-12s %9s %9s %9s %9s\n", "from", "to", "accept", "drop", "reject",
	    "waiting");
	for (unsigned i = 0; i < c->pairs; i++) {
		const struct gw_pair_count *p = &c->pair[i];
		fprintf(out, "  %-12s %-12s %9llu %9llu %9llu %9llu\n", p->src_zone, p->dst_zone,
		    (unsigned long long)p->flows[0], (unsigned long long)p->flows[1],
		    (unsigned long long)p->flows[2], (unsigned long long)p->undecided);
	}
}

static void
pcap_print_stats(const struct gw_counters *c, const struct gw_replay_stats *st, double secs, FILE *out)
{
	fprintf(out, "packets      %llu read, %llu not IP, %llu accepted, %llu dropped, %llu rejected\n",
	    (unsigned long long)st->packets, (unsigned long long)st->not_ip,
	    (unsigned long long)c->packets_by_verdict[0], (unsigned long long)c->packets_by_verdict[1],
	    (unsigned long long)c->packets_by_verdict[2]);
	fprintf(out, "flows        %llu (peak %llu at once), %llu evicted, %llu changed verdict "
	    "once the app was known\n", (unsigned long long)c->flows_created,
	    (unsigned long long)c->flows_peak, (unsigned long long)c->evictions,
	    (unsigned long long)c->verdict_changes);
	pcap_print_pairs(c, out);
	fprintf(out, "drops by reason (packets):");
	for (int r = 0; r < GW_DROP_REASONS; r++)
		fprintf(out, " %s=%llu", gw_drop_reason_name((enum gw_drop_reason)r),
		    (unsigned long long)c->drops[r]);
	fprintf(out, "\nmalformed    %llu packets; fragments %llu; reject answers %llu\n",
	    (unsigned long long)c->malformed, (unsigned long long)c->fragments,
	    (unsigned long long)c->rejects_sent);
	fprintf(out, "memory       %u B per flow entry + %u B nDPI state while classifying; "
	    "%llu nDPI states allocated; peak %.1f MB\n", c->flow_bytes, c->ndpi_bytes,
	    (unsigned long long)c->ndpi_allocs, (double)c->memory_peak / 1048576.0);
	fprintf(out, "names        %llu read, %llu hidden (ECH/ESNI); %llu DNS answers read, %llu "
	    "addresses learnt, %llu names held\n", (unsigned long long)c->names_known,
	    (unsigned long long)c->names_hidden, (unsigned long long)c->dns_answers,
	    (unsigned long long)c->dns_addresses, (unsigned long long)c->dns_names);
	for (unsigned i = 0; i < c->lists && i < GW_LIST_MAX; i++)
		fprintf(out, "name list    %s: %llu flows\n", c->list[i].list, (unsigned long long)c->list[i].hits);
	fprintf(out, "speed        %.0f packets/s (%.3f s)\n", secs > 0 ? (double)st->packets / secs : 0.0,
	    secs);
}

static int
pcap_run(const struct pcap_opts *o, struct gw_engine *e, struct gw_replay_stats *st)
{
	char err[512];
	uint64_t pkt_num = 0;

	for (int i = 0; i < o->npcaps; i++) {
		if (gw_replay_file(e, o->pcaps[i], o->accepted, &pkt_num, st, err, sizeof err) < 0) {
			fprintf(stderr, "tiergate-gw: %s\n", err);
			return -1;
		}
	}
	return 0;
}

/* A replay's events describe that replay only: the file is replaced, not appended to. */
static struct ev_sink *
pcap_events_open(const char *path)
{
	int fd;

	if (strcmp(path, "-") != 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return NULL;
		close(fd);
	}
	return ev_sink_open(path);
}

int
gw_pcap_main(int argc, char **argv)
{
	struct pcap_opts o;
	struct gw_config conf;
	struct gw_replay_stats st = { 0, 0, 0, 0, 0, 0 };
	struct gw_counters *c = xcalloc(1, sizeof *c);
	struct ev_sink *sink = NULL;
	struct gw_engine *e;
	struct policy *p;
	uint64_t t0;
	int rc = pcap_parse(argc, argv, &o);

	log_init("tiergate-gw", 0, LOG_LVL_INFO);
	if (rc != 0) {
		if (rc < 0)
			pcap_usage(stderr);
		free(c);
		return rc < 0 ? 2 : 0;
	}
	gw_config_defaults(&conf);
	if ((p = pcap_load(o.config, &conf)) == NULL)
		fatalx("%s: configuration refused", o.config);
	if (o.events && (sink = pcap_events_open(o.events)) == NULL)
		fatal("%s", o.events);
	if ((e = gw_engine_new(&conf, p, sink)) == NULL)
		fatalx("cannot start the engine");
	policy_unref(p);
	t0 = clock_mono_us();
	rc = pcap_run(&o, e, &st);
	gw_engine_shutdown(e, st.last_us);
	if (o.stats && rc == 0) {
		gw_engine_counters(e, c);
		pcap_print_stats(c, &st, (double)(clock_mono_us() - t0) / 1e6, stdout);
	}
	gw_engine_free(e);
	ev_sink_close(sink);
	free(c);
	return rc == 0 ? 0 : 1;
}

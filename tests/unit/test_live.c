/* test_live.c -- unit tests of the live front-end's pieces that need no kernel queue: config, rules, control socket, names. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw/ctl.h"
#include "gw/iptrules.h"
#include "gw/live_ifname.h"
#include "gw/metrics.h"
#include "gw/nfqconf.h"
#include "lib/conf.h"
#include "tests/lib/unit.h"

/* Parses text as a site file; returns nfqconf_parse's result, diagnostics in d. */
static int
parse(const char *text, struct nfqconf *c, struct diags *d)
{
	config_t cfg;
	int rc;

	diags_init(d, "test.conf");
	nfqconf_defaults(c);
	config_init(&cfg);
	rc = conf_load_string(&cfg, text, ".", d);
	if (rc == 0)
		rc = nfqconf_parse(&cfg, c, d);
	config_destroy(&cfg);
	return rc;
}

static bool
diags_say(const struct diags *d, enum diag_severity sev, int line, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].severity == sev && (line == 0 || d->v[i].line == line) &&
		    strstr(d->v[i].text, needle))
			return true;
	return false;
}

static void
test_conf_defaults(void)
{
	struct nfqconf c;
	struct diags d;

	CHECK_INT(parse("model = \"alpha\";\n", &c, &d), 0);
	CHECK_INT(c.n_queues, 1);
	CHECK_INT(c.queue[0].num, 0);
	CHECK(!c.queue[0].fail_open);
	CHECK(c.gso && c.offload);
	CHECK_STR(c.chain, "TIERGATE");
	CHECK_STR(c.metrics_listen, "127.0.0.1:9750");
	diags_free(&d);
}

static void
test_conf_queues(void)
{
	struct nfqconf c;
	struct diags d;

	CHECK_INT(parse("nfqueue = { queues = ( { num = 3; fail_open = true; }, { num = 2; } );\n"
	    "  queue_maxlen = 100; batch = 16; offload = false; chain = \"TG\"; };\n", &c, &d), 0);
	CHECK_INT(c.n_queues, 2);
	CHECK_INT(c.queue[0].num, 2);   /* sorted */
	CHECK(!c.queue[0].fail_open && c.queue[1].fail_open);
	CHECK(!nfqconf_all_fail_open(&c));
	CHECK(diags_say(&d, DIAG_WARNING, 0, "fail-open but others are not"));
	CHECK_INT(c.queue_maxlen, 100);
	CHECK(!c.offload);
	CHECK_STR(c.chain, "TG");
	diags_free(&d);
}

static void
test_conf_errors(void)
{
	struct nfqconf c;
	struct diags d;

	CHECK_INT(parse("nfqueue = {\n  queues = ( { num = 0; }, { num = 2; } );\n};\n", &c, &d), -1);
	CHECK(diags_say(&d, DIAG_ERROR, 2, "one range"));
	diags_free(&d);
	CHECK_INT(parse("nfqueue = {\n  queues = ( { num = 0; }, { num = 0; } );\n};\n", &c, &d), -1);
	CHECK(diags_say(&d, DIAG_ERROR, 2, "listed twice"));
	diags_free(&d);
	CHECK_INT(parse("nfqueue = {\n  copy_range = 64;\n  qeue_maxlen = 5;\n};\n", &c, &d), -1);
	CHECK(diags_say(&d, DIAG_ERROR, 2, "at least 128"));
	CHECK(diags_say(&d, DIAG_WARNING, 3, "qeue_maxlen"));
	diags_free(&d);
	CHECK_INT(parse("nfqueue = {\n  chain = \"THIS_CHAIN_NAME_IS_MUCH_TOO_LONG_FOR_XTABLES\";\n};\n",
	    &c, &d), -1);
	CHECK(diags_say(&d, DIAG_ERROR, 2, "longer than 28"));
	diags_free(&d);
	CHECK_INT(parse("nfqueue = {\n  queues = ( { fail_open = true; } );\n};\n", &c, &d), -1);
	CHECK(diags_say(&d, DIAG_ERROR, 2, "without 'num'"));
	diags_free(&d);
	CHECK_INT(parse("nfqueue = {\n  offload = false;\n  ha_pair = true;\n};\n", &c, &d), -1);
	CHECK(diags_say(&d, DIAG_ERROR, 3, "needs offload = true"));
	diags_free(&d);
}

/* The rules as text, for searching. */
static char *
rules_text(const struct nfqconf *c)
{
	struct iptrules_marks mk = { 0x1, 0x2, 0x4 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	iptrules_print(c, &mk, f);
	fclose(f);
	return buf;
}

static void
test_rules(void)
{
	struct nfqconf c;
	struct diags d;
	char *t;

	parse("nfqueue = { queues = ( { num = 0; }, { num = 1; } ); };\n", &c, &d);
	diags_free(&d);
	t = rules_text(&c);
	CHECK(strstr(t, "iptables -w -t filter -A TIERGATE -m connmark --mark 0x1/0x7 -j ACCEPT\n") != NULL);
	CHECK(strstr(t, "-A TIERGATE -m mark ! --mark 0x0/0x7 -j CONNMARK --save-mark --mask 0x7\n") != NULL);
	CHECK(strstr(t, "-j NFQUEUE --queue-balance 0:1\n") != NULL);
	CHECK(strstr(t, "--queue-bypass") == NULL);
	CHECK(strstr(t, "ip6tables -w -t filter -A TIERGATE -m connmark --mark 0x4/0x7 -j REJECT "
	    "--reject-with icmp6-adm-prohibited\n") != NULL);
	CHECK(strstr(t, "ip6tables -w -t filter -I FORWARD 1 -j TIERGATE\n") != NULL);
	free(t);

	parse("nfqueue = { queues = ( { num = 5; fail_open = true; } ); offload = false; "
	    "iptables = \"iptables-legacy\"; };\n", &c, &d);
	diags_free(&d);
	t = rules_text(&c);
	CHECK(strstr(t, "-j NFQUEUE --queue-num 5 --queue-bypass\n") != NULL);
	CHECK(strstr(t, "connmark") == NULL);
	CHECK(strstr(t, "ip6tables-legacy -w") != NULL);
	free(t);
}

/* A pair's node: INVALID packets dropped and undecided ones through the gate, just before the queue. */
static void
test_rules_ha_pair(void)
{
	struct nfqconf c;
	struct diags d;
	char *t, *gate, *queue;

	CHECK_INT(parse("nfqueue = { ha_pair = true; };\n", &c, &d), 0);
	diags_free(&d);
	t = rules_text(&c);
	CHECK(strstr(t, "iptables -w -t filter -N TIERGATE-HA\niptables -w -t filter -A TIERGATE-HA -j DROP\n") != NULL);
	CHECK(strstr(t, "-A TIERGATE -m conntrack --ctstate INVALID -j DROP\n") != NULL);
	gate = strstr(t, "iptables -w -t filter -A TIERGATE -j TIERGATE-HA\n");
	queue = strstr(t, "iptables -w -t filter -A TIERGATE -j NFQUEUE --queue-num 0\n");
	CHECK(gate != NULL && queue != NULL && gate < queue);
	CHECK(strstr(t, "ip6tables -w -t filter -A TIERGATE -j TIERGATE-HA\n") != NULL);
	free(t);
	CHECK_INT(parse("nfqueue = { ha_pair = false; };\n", &c, &d), 0);
	diags_free(&d);
	t = rules_text(&c);
	CHECK(strstr(t, "TIERGATE-HA") == NULL && strstr(t, "INVALID") == NULL);
	free(t);
}

static void
test_ifname(void)
{
	struct live_ifname cache;

	memset(&cache, 0, sizeof cache);
	CHECK(live_ifname_get(&cache, 0, 1) == NULL);
	CHECK_STR(live_ifname_get(&cache, 1, 1), "lo");   /* loopback is index 1 in every namespace */
	CHECK_STR(live_ifname_get(&cache, 1, 2), "lo");   /* cached */
	CHECK(live_ifname_get(&cache, 987654, 1) == NULL);
}

static void
test_metrics_listen_errors(void)
{
	char why[256] = "";

	CHECK_INT(metrics_listen("localhost", why, sizeof why), -1);
	CHECK(strstr(why, "ADDR:PORT") != NULL);
	CHECK_INT(metrics_listen("127.0.0.1:99999", why, sizeof why), -1);
	CHECK_INT(metrics_listen("[::1:9750", why, sizeof why), -1);
}

static void
handler(const char *cmd, FILE *answer, uid_t peer, void *arg)
{
	(void)arg;
	if (strcmp(cmd, "stats") == 0)
		fprintf(answer, "ok\nqueue 0: 1 packets\n");
	else
		fprintf(answer, "error: unknown command '%s'\n", cmd);
}

static void *
serve(void *arg)
{
	int fd = *(int *)arg;

	ctl_serve_one(fd, handler, NULL);
	ctl_serve_one(fd, handler, NULL);
	return NULL;
}

static void
test_ctl_roundtrip(void)
{
	char path[] = "/tmp/tg-test-live-XXXXXX", sock[64], why[256], *out = NULL;
	size_t len = 0;
	pthread_t t;
	FILE *f;
	int fd;

	CHECK(mkdtemp(path) != NULL);
	snprintf(sock, sizeof sock, "%s/gw.sock", path);
	fd = ctl_listen(sock, why, sizeof why);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	pthread_create(&t, NULL, serve, &fd);
	f = open_memstream(&out, &len);
	CHECK_INT(ctl_client(sock, "stats", f), 0);
	fclose(f);
	CHECK_STR(out, "queue 0: 1 packets\n");
	free(out);
	f = fopen("/dev/null", "w");
	CHECK_INT(ctl_client(sock, "bogus", f), 1);
	fclose(f);
	pthread_join(t, NULL);
	close(fd);
	unlink(sock);
	rmdir(path);
	CHECK_INT(ctl_client(sock, "stats", stdout), 2);   /* nobody listening */
}

int
main(void)
{
	UNIT_RUN(test_conf_defaults);
	UNIT_RUN(test_conf_queues);
	UNIT_RUN(test_conf_errors);
	UNIT_RUN(test_rules);
	UNIT_RUN(test_rules_ha_pair);
	UNIT_RUN(test_ifname);
	UNIT_RUN(test_metrics_listen_errors);
	UNIT_RUN(test_ctl_roundtrip);
	UNIT_EXIT();
}

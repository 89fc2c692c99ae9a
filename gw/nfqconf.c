/* nfqconf.c -- parsing the `nfqueue` group: defaults, ranges and cross-checks of the live gateway's settings. */
#include "gw/nfqconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

void
nfqconf_defaults(struct nfqconf *c)
{
	memset(c, 0, sizeof *c);
	c->queue[0].num = 0;
	c->n_queues = 1;
	c->queue_maxlen = 4096;
	c->copy_range = 65535;
	c->socket_buffer = 32u << 20;
	c->batch = 64;
	c->gso = true;
	c->offload = true;
	str_copy(c->chain, "TIERGATE", sizeof c->chain);
	str_copy(c->iptables, "iptables", sizeof c->iptables);
	str_copy(c->control_socket, "/run/tiergate/gw.sock", sizeof c->control_socket);
	str_copy(c->metrics_listen, "127.0.0.1:9750", sizeof c->metrics_listen);
	str_copy(c->user, "tiergate", sizeof c->user);
}

/* Copies a string member into a fixed buffer, refusing what would not fit. */
static void
nfqconf_str(const config_setting_t *g, const char *name, char *dst, size_t size, struct diags *d)
{
	const char *val = NULL;

	if (conf_get_str(g, name, &val, d) < 0 || val == NULL)
		return;
	if (strlen(val) >= size) {
		diags_add(d, DIAG_ERROR, config_setting_get_member(g, name),
		    "'%s' is longer than %zu characters", name, size - 1);
		return;
	}
	str_copy(dst, val, size);
}

static void
nfqconf_queue(const config_setting_t *q, struct nfqconf *c, struct diags *d)
{
	static const char *const known[] = { "num", "fail_open", NULL };
	struct nfqconf_queue *out = &c->queue[c->n_queues];
	unsigned num = 65536;

	if (!config_setting_is_group(q)) {
		diags_add(d, DIAG_ERROR, q, "each queue is a group like { num = 0; fail_open = false; }");
		return;
	}
	conf_check_members(q, known, d);
	if (conf_get_uint(q, "num", 65535, &num, d) < 0)
		return;
	if (num == 65536) {
		diags_add(d, DIAG_ERROR, q, "queue without 'num'");
		return;
	}
	for (unsigned i = 0; i < c->n_queues; i++) {
		if (c->queue[i].num == num) {
			diags_add(d, DIAG_ERROR, q, "queue %u listed twice", num);
			return;
		}
	}
	out->num = (uint16_t)num;
	out->fail_open = false;
	conf_get_bool(q, "fail_open", &out->fail_open, d);
	c->n_queues++;
}

static int
nfqconf_queue_cmp(const void *a, const void *b)
{
	return (int)((const struct nfqconf_queue *)a)->num - (int)((const struct nfqconf_queue *)b)->num;
}

static void
nfqconf_queues(const config_setting_t *g, struct nfqconf *c, struct diags *d)
{
	config_setting_t *list = config_setting_get_member(g, "queues");
	int n;

	if (list == NULL)
		return;
	n = config_setting_length(list);
	if (!config_setting_is_list(list) || n < 1 || n > NFQCONF_MAX_QUEUES) {
		diags_add(d, DIAG_ERROR, list, "'queues' must be a list of 1 to %d groups",
		    NFQCONF_MAX_QUEUES);
		return;
	}
	c->n_queues = 0;
	for (int i = 0; i < n; i++)
		nfqconf_queue(config_setting_get_elem(list, (unsigned)i), c, d);
	qsort(c->queue, c->n_queues, sizeof c->queue[0], nfqconf_queue_cmp);
	if (c->n_queues > 0 && !nfqconf_queues_contiguous(c))
		diags_add(d, DIAG_ERROR, list,
		    "queue numbers must be one range (e.g. 0, 1, 2): the kernel spreads flows "
		    "over a range with --queue-balance");
}

/* Settings that are each valid but do not fit together. */
static void
nfqconf_cross_check(const config_setting_t *g, struct nfqconf *c, struct diags *d)
{
	if (c->n_queues > 1 && !nfqconf_all_fail_open(c)) {
		for (unsigned i = 0; i < c->n_queues; i++)
			if (c->queue[i].fail_open)
				diags_add(d, DIAG_WARNING, g, "queue %u is fail-open but others are "
				    "not: it passes packets when full, yet a stopped gateway still "
				    "blocks (--queue-bypass needs every queue fail-open)", c->queue[i].num);
	}
	if ((unsigned long long)c->socket_buffer < (unsigned long long)c->queue_maxlen * 256)
		diags_add(d, DIAG_WARNING, g, "socket_buffer %u is small for queue_maxlen %u: "
		    "the kernel will drop packets it cannot deliver", c->socket_buffer, c->queue_maxlen);
}

static void
nfqconf_scalars(const config_setting_t *g, struct nfqconf *c, struct diags *d)
{
	conf_get_uint(g, "queue_maxlen", 1u << 20, &c->queue_maxlen, d);
	conf_get_uint(g, "copy_range", 65535, &c->copy_range, d);
	conf_get_uint(g, "socket_buffer", 1u << 30, &c->socket_buffer, d);
	conf_get_uint(g, "batch", 1024, &c->batch, d);
	if (c->batch == 0)
		c->batch = 1;
	if (c->copy_range < 128)
		diags_add(d, DIAG_ERROR, config_setting_get_member(g, "copy_range"),
		    "'copy_range' must be at least 128 bytes: the engine needs the headers");
	conf_get_bool(g, "gso", &c->gso, d);
	conf_get_bool(g, "offload", &c->offload, d);
	conf_get_bool(g, "ha_pair", &c->ha_pair, d);
	nfqconf_str(g, "chain", c->chain, sizeof c->chain, d);
	nfqconf_str(g, "iptables", c->iptables, sizeof c->iptables, d);
	nfqconf_str(g, "control_socket", c->control_socket, sizeof c->control_socket, d);
	nfqconf_str(g, "metrics_listen", c->metrics_listen, sizeof c->metrics_listen, d);
	nfqconf_str(g, "user", c->user, sizeof c->user, d);
}

int
nfqconf_parse(const config_t *cfg, struct nfqconf *c, struct diags *d)
{
	static const char *const known[] = { "queues", "queue_maxlen", "copy_range",
		"socket_buffer", "batch", "gso", "offload", "ha_pair", "chain", "iptables", "control_socket", "metrics_listen", "user", NULL };
	config_setting_t *g = config_lookup(cfg, "nfqueue");
	size_t errors = diags_count(d, DIAG_ERROR);

	if (g == NULL)
		return 0;
	if (!config_setting_is_group(g)) {
		diags_add(d, DIAG_ERROR, g, "'nfqueue' must be a group { ... }");
		return -1;
	}
	conf_check_members(g, known, d);
	nfqconf_queues(g, c, d);
	nfqconf_scalars(g, c, d);
	nfqconf_cross_check(g, c, d);
	if (c->ha_pair && (!c->offload || strlen(c->chain) > 25))
		diags_add(d, DIAG_ERROR, config_setting_get_member(g, "ha_pair"), "'ha_pair' needs "
		    "offload = true (the verdicts travel in the connmark) and a chain name of at most "
		    "25 characters (its gate chain is CHAIN-HA)");
	return diags_count(d, DIAG_ERROR) > errors ? -1 : 0;
}

int
nfqconf_load(const char *path, struct nfqconf *c, struct diags *d)
{
	config_t cfg;
	int rc;

	config_init(&cfg);
	rc = conf_load(&cfg, path, d);
	if (rc == 0)
		rc = nfqconf_parse(&cfg, c, d);
	config_destroy(&cfg);
	return rc;
}

bool
nfqconf_all_fail_open(const struct nfqconf *c)
{
	for (unsigned i = 0; i < c->n_queues; i++)
		if (!c->queue[i].fail_open)
			return false;
	return c->n_queues > 0;
}

bool
nfqconf_queues_contiguous(const struct nfqconf *c)
{
	for (unsigned i = 1; i < c->n_queues; i++)
		if (c->queue[i].num != c->queue[0].num + i)
			return false;
	return true;
}

void
nfqconf_gate_chain(const struct nfqconf *c, char out[32])
{
	snprintf(out, 32, "%.25s-HA", c->chain);
}

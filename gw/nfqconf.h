/* nfqconf.h -- the `nfqueue` group of the site file: queues, chains, control and metrics. */
#ifndef TIERGATE_GW_NFQCONF_H
#define TIERGATE_GW_NFQCONF_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/conf.h"

#define NFQCONF_MAX_QUEUES 32

struct nfqconf_queue {
	uint16_t num;
	bool fail_open;          /* NFQA_CFG_F_FAIL_OPEN: accept when this queue is full */
};

struct nfqconf {
	struct nfqconf_queue queue[NFQCONF_MAX_QUEUES];
	unsigned n_queues;
	unsigned queue_maxlen;   /* packets the kernel holds per queue */
	unsigned copy_range;     /* bytes of each packet copied to user space */
	unsigned socket_buffer;  /* SO_RCVBUFFORCE, bytes */
	unsigned batch;          /* packets read before the verdicts go out */
	bool gso;                /* NFQA_CFG_F_GSO */
	bool offload;            /* decided flows continue in the kernel (connmark) */
	bool ha_pair;            /* one of an active-standby pair: gate chain, drops kept in conntrack */
	char chain[29];          /* xtables limits chain names to 28 characters */
	char iptables[64];
	char control_socket[108];   /* sun_path size */
	char metrics_listen[64];    /* "ADDR:PORT", "" = no endpoint */
	char user[64];
};

/* The built-in values: what an empty `nfqueue = {}` means. */
void nfqconf_defaults(struct nfqconf *c);
/*
 * Reads the `nfqueue` group of cfg over the defaults (a missing group keeps
 * them). Problems go to d with file and line; returns -1 on any error.
 */
int nfqconf_parse(const config_t *cfg, struct nfqconf *c, struct diags *d);
/* Loads path and parses it (for tools that need no policy, e.g. --print-rules). */
int nfqconf_load(const char *path, struct nfqconf *c, struct diags *d);
/* True when every queue is fail-open: only then may the rule bypass a dead gateway. */
bool nfqconf_all_fail_open(const struct nfqconf *c);
/* True when the queue numbers form one range first..first+n-1 (--queue-balance). */
bool nfqconf_queues_contiguous(const struct nfqconf *c);
/* The HA gate chain: "<chain>-HA" (closed on a standby, open on the active node). */
void nfqconf_gate_chain(const struct nfqconf *c, char out[32]);

#endif

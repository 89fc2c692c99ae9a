/* iptrules.h -- the iptables rules the live gateway needs: print, install (atomic, idempotent), remove. */
#ifndef TIERGATE_GW_IPTRULES_H
#define TIERGATE_GW_IPTRULES_H

#include <stdio.h>

#include <stdbool.h>
#include <stdint.h>

#include "gw/nfqconf.h"

/* The packet marks of decided flows (the gateway group's mark_accept/_drop/_reject). */
struct iptrules_marks {
	uint32_t accept, drop, reject;
};

/*
 * Everything lives in one chain of the filter table (c->chain) plus one jump
 * to it at the top of FORWARD, for IPv4 and IPv6 alike. Nothing else on the
 * host is read or changed.
 */
void iptrules_print(const struct nfqconf *c, const struct iptrules_marks *m, FILE *out);
/* Creates or refreshes the chain in one iptables-restore transaction per family. Returns 0 or -1. */
int iptrules_install(const struct nfqconf *c, const struct iptrules_marks *m);
/* Removes the jump and the chain; a no-op when they are absent. Returns 0 or -1. */
int iptrules_remove(const struct nfqconf *c);
/*
 * nfqueue.ha_pair: packets no decision covers pass the gate chain CHAIN-HA
 * before the queue. Closed (one DROP) on a standby, so that nothing reaches
 * its queue before conntrackd's commit has given it the active node's
 * verdicts; opened (empty) when keepalived makes the node master. Returns 0 or -1.
 */
int iptrules_gate(const struct nfqconf *c, bool open);
/* True when the jump from FORWARD to the chain is in place (IPv4). */
bool iptrules_present(const struct nfqconf *c);

#endif

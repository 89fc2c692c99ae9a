/* replay.h -- feeding a pcap file through an engine (tiergate-gw --pcap, tiergate-verify). */
#ifndef TIERGATE_GW_REPLAY_H
#define TIERGATE_GW_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "gw/engine.h"

struct gw_replay_stats {
	uint64_t packets;        /* records read */
	uint64_t bytes;          /* IP bytes handed to the engine */
	uint64_t not_ip;         /* link-layer frames that carry no IPv4/IPv6 (ARP, ...) */
	uint64_t accepted;       /* packets written to --write-accepted (or that would be) */
	uint64_t first_us, last_us;   /* capture time span */
};

/*
 * Reads path (pcap or pcapng; Ethernet, raw IP, Linux cooked SLL/SLL2,
 * BSD loopback/null) and runs every packet through e in capture order,
 * expiring flows on capture time. *pkt_num is the running packet number
 * (pcap_cnt), carried across several files. accepted_path, if not NULL,
 * receives the packets the gateway lets through (same link type).
 * Returns 0, or -1 with a message for a person in err (missing, not a
 * capture, truncated, unsupported link type, write error).
 */
int gw_replay_file(struct gw_engine *e, const char *path, const char *accepted_path,
    uint64_t *pkt_num, struct gw_replay_stats *stats, char *err, size_t errsize);

#endif

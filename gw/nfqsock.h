/* nfqsock.h -- one NFQUEUE queue over libmnl: bind and configure, read packets in bulk, send verdicts in batches. */
#ifndef TIERGATE_GW_NFQSOCK_H
#define TIERGATE_GW_NFQSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nfqsock;

struct nfqsock_opts {
	uint16_t num;
	uint32_t queue_maxlen;
	uint32_t copy_range;
	uint32_t socket_buffer;
	unsigned batch;          /* packets per read burst (recvmmsg slots) */
	bool gso;
	bool fail_open;
};

/* A queued packet as the kernel gave it; data points into the socket's buffer until the next read. */
struct nfqsock_pkt {
	uint32_t id;
	uint16_t hw_protocol;    /* ETH_P_IP or ETH_P_IPV6 */
	const uint8_t *data;     /* from the network header on */
	uint32_t len;            /* bytes at data */
	uint32_t wire_len;       /* length before the copy range cut it (NFQA_CAP_LEN) */
	uint32_t mark;
	uint32_t indev, outdev;  /* interface indexes, 0 when none */
	bool gso;                /* a GSO super-packet, not yet segmented */
	bool csum_not_ready;     /* transport checksum left to the NIC: do not verify */
};

typedef void (*nfqsock_pkt_fn)(void *arg, const struct nfqsock_pkt *pkt);

/*
 * Opens a netlink socket, binds queue o->num and configures it. On failure
 * returns NULL with a sentence for the operator in why (what failed, the
 * likely cause, what to do).
 */
struct nfqsock *nfqsock_open(const struct nfqsock_opts *o, char *why, size_t why_size);
void nfqsock_close(struct nfqsock *s);
int nfqsock_fd(const struct nfqsock *s);
uint16_t nfqsock_num(const struct nfqsock *s);

/*
 * Reads up to the batch size of waiting messages without blocking and calls
 * fn for each packet, in queue order. The callback must give every packet a
 * verdict with nfqsock_verdict before returning (ids must ascend). Returns the
 * number of packets, 0 when nothing was waiting, -1 on a socket error.
 */
int nfqsock_read(struct nfqsock *s, nfqsock_pkt_fn fn, void *arg);

/*
 * Queues a verdict (NF_ACCEPT, NF_DROP, NF_REPEAT). Unmarked verdicts of
 * consecutive packets collapse into one NFQNL_MSG_VERDICT_BATCH; a verdict
 * with a mark is sent on its own. Nothing leaves before nfqsock_flush.
 */
void nfqsock_verdict(struct nfqsock *s, uint32_t id, uint32_t verdict, bool set_mark, uint32_t mark);
/* Sends the queued verdicts in one datagram. Returns 0 or -1. */
int nfqsock_flush(struct nfqsock *s);

struct nfqsock_stats {
	uint64_t packets, bytes, read_calls, verdict_msgs, batch_msgs, send_errors, kernel_errors;
};
void nfqsock_stats(const struct nfqsock *s, struct nfqsock_stats *out);

/* One line of /proc/net/netfilter/nfnetlink_queue: the kernel's view of a queue. */
struct nfqsock_kstats {
	uint32_t num, portid, waiting, copy_mode, copy_range, queue_dropped, user_dropped, id_sequence;
};
/*
 * Opens the /proc file once (it is readable by root only: call before
 * dropping privileges). Later reads use the open descriptor.
 */
void nfqsock_kstats_open(void);
/* Reads the line for queue num (this network namespace). Returns 0, or -1 when absent. */
int nfqsock_kstats(uint16_t num, struct nfqsock_kstats *out);

#endif

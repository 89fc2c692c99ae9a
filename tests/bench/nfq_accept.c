/* nfq_accept.c -- benchmark peer: the least an NFQUEUE loop can do (accept everything), built from the same library and settings as tiergate-gw. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

/*
 * Same plumbing as gw/nfqsock.c (copy-packet mode, GSO, SO_RCVBUFFORCE,
 * NETLINK_NO_ENOBUFS, recvmmsg bursts, one NFQNL_MSG_VERDICT_BATCH per burst)
 * with nothing in between: the ratio tiergate-gw / nfq_accept is the cost
 * of classification. usage: nfq_accept QUEUE [BURST]
 */
#define ACC_SLOT 70000
#define ACC_MAX_BURST 256

static volatile sig_atomic_t acc_stop;

static void
acc_on_signal(int sig)
{
	(void)sig;
	acc_stop = 1;
}

static void
acc_config(struct mnl_socket *nl, uint16_t queue, int what)
{
	char buf[256];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);

	if (what == 0) {
		nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	} else if (what == 1) {
		mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_GSO));
		mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO));
	} else {
		nfq_nlmsg_cfg_put_qmaxlen(nlh, 4096);
		nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("nfq_accept: config");
		exit(1);
	}
}

static struct mnl_socket *
acc_open(uint16_t queue)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	int one = 1, rcvbuf = 32 << 20;

	if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("nfq_accept: netlink");
		exit(1);
	}
	mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &one, sizeof one);
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
	for (int what = 0; what < 3; what++)
		acc_config(nl, queue, what);
	return nl;
}

/* The id of the last packet message in a datagram, 0 if none. */
static uint32_t
acc_last_id(const uint8_t *buf, int len)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	uint32_t id = 0;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		struct nlattr *attr[NFQA_MAX + 1] = { NULL };

		if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFQNL_MSG_PACKET || nfq_nlmsg_parse(nlh, attr) < 0 ||
		    attr[NFQA_PACKET_HDR] == NULL)
			continue;
		id = ntohl(((struct nfqnl_msg_packet_hdr *)mnl_attr_get_payload(attr[NFQA_PACKET_HDR]))->packet_id);
	}
	return id;
}

static void
acc_verdict(struct mnl_socket *nl, uint16_t queue, uint32_t id)
{
	char buf[256];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT_BATCH, queue);

	nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
	mnl_socket_sendto(nl, nlh, nlh->nlmsg_len);
}

int
main(int argc, char **argv)
{
	static struct mmsghdr msgs[ACC_MAX_BURST];
	static struct iovec iov[ACC_MAX_BURST];
	uint16_t queue = argc > 1 ? (uint16_t)strtoul(argv[1], NULL, 10) : 0;
	unsigned burst = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 64;
	unsigned long long packets = 0;
	struct mnl_socket *nl;
	uint8_t *slots;

	if (burst == 0 || burst > ACC_MAX_BURST)
		burst = 64;
	/* No SA_RESTART: the blocking recvmmsg must return EINTR so the loop sees the flag. */
	struct sigaction sa = { .sa_handler = acc_on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	nl = acc_open(queue);
	slots = malloc((size_t)burst * ACC_SLOT);
	if (slots == NULL)
		return 1;
	for (unsigned i = 0; i < burst; i++) {
		iov[i].iov_base = slots + (size_t)i * ACC_SLOT;
		iov[i].iov_len = ACC_SLOT;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (!acc_stop) {
		int got = recvmmsg(mnl_socket_get_fd(nl), msgs, burst, MSG_WAITFORONE, NULL);
		uint32_t last = 0;

		if (got < 0) {
			if (errno == EINTR)
				continue;
			perror("nfq_accept: recvmmsg");
			break;
		}
		for (int i = 0; i < got; i++) {
			uint32_t id = acc_last_id(iov[i].iov_base, (int)msgs[i].msg_len);
			if (id) {
				last = id;
				packets++;
			}
		}
		if (last)
			acc_verdict(nl, queue, last);
	}
	printf("nfq_accept: queue %u: %llu packets accepted\n", queue, packets);
	mnl_socket_close(nl);
	free(slots);
	return 0;
}

/* nfqsock.c -- one NFQUEUE queue over libmnl: bind and configure, read packets in bulk, send verdicts in batches. */
#include "gw/nfqsock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "lib/log.h"
#include "lib/util.h"

#define NFQSOCK_SEND_SIZE 65536
#define NFQSOCK_MSG_MAX 128           /* room one verdict message may take */
#define NFQSOCK_ATTR_ROOM 4096        /* netlink and attribute headers around a packet */

/* Counters have one writer (the queue's thread); readers in other threads see whole values. */
#define NFQSOCK_STAT_ADD(field, n) \
	__atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)

struct nfqsock {
	struct mnl_socket *nl;
	uint16_t num;
	uint32_t portid;
	unsigned slots;
	size_t slot_size;
	uint8_t *rbuf;                /* slots * slot_size */
	struct mmsghdr *msgs;
	struct iovec *iov;
	uint8_t sbuf[NFQSOCK_SEND_SIZE];
	size_t slen;
	/* the run of unmarked verdicts not yet written to sbuf */
	uint32_t run_verdict, run_last;
	unsigned run_count;
	struct nfqsock_stats stats;
};

/* --- configuration ------------------------------------------------------ */

static int
nfqsock_talk(struct nfqsock *s, struct nlmsghdr *nlh);

static void
nfqsock_explain(int err, uint16_t num, const char *step, char *why, size_t size)
{
	const char *hint = "";

	if (err == EPERM)
		hint = ": the queue is already bound by another process (is another tiergate-gw "
		    "running in this network namespace?), or this process lacks CAP_NET_ADMIN";
	else if (err == ENOENT || err == EPROTONOSUPPORT || err == EAFNOSUPPORT)
		hint = ": the kernel has no nfnetlink_queue support (CONFIG_NETFILTER_NETLINK_QUEUE; "
		    "try 'modprobe nfnetlink_queue')";
	else if (err == EOPNOTSUPP)
		hint = ": this kernel does not support the requested queue flag";
	snprintf(why, size, "NFQUEUE %u: %s failed: %s%s", num, step, strerror(err), hint);
}

static int
nfqsock_cmd(struct nfqsock *s, uint8_t cmd)
{
	char buf[NFQSOCK_MSG_MAX];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, s->num);

	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, cmd);
	return nfqsock_talk(s, nlh);
}

static int
nfqsock_flags(struct nfqsock *s, uint32_t flags)
{
	char buf[NFQSOCK_MSG_MAX];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, s->num);

	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(flags));
	return nfqsock_talk(s, nlh);
}

static int
nfqsock_params(struct nfqsock *s, const struct nfqsock_opts *o)
{
	char buf[NFQSOCK_MSG_MAX];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, s->num);

	nfq_nlmsg_cfg_put_qmaxlen(nlh, o->queue_maxlen);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)o->copy_range);
	return nfqsock_talk(s, nlh);
}

/* Flags are set one by one so a kernel lacking one (GSO) costs only that one. */
static int
nfqsock_configure(struct nfqsock *s, const struct nfqsock_opts *o, char *why, size_t size)
{
	if (nfqsock_cmd(s, NFQNL_CFG_CMD_BIND) < 0) {
		nfqsock_explain(errno, s->num, "binding the queue", why, size);
		return -1;
	}
	if (o->gso && nfqsock_flags(s, NFQA_CFG_F_GSO) < 0)
		log_warn("NFQUEUE %u: cannot take GSO packets (slower TCP)", s->num);
	if (o->fail_open && nfqsock_flags(s, NFQA_CFG_F_FAIL_OPEN) < 0) {
		nfqsock_explain(errno, s->num, "setting fail-open", why, size);
		return -1;
	}
	/* Copy mode last: before it the kernel queues nothing, so the acks above meet no packets. */
	if (nfqsock_params(s, o) < 0) {
		nfqsock_explain(errno, s->num, "setting copy mode and queue length", why, size);
		return -1;
	}
	return 0;
}

static int
nfqsock_socket_opts(struct nfqsock *s, const struct nfqsock_opts *o, char *why, size_t size)
{
	int one = 1, fd = mnl_socket_get_fd(s->nl);
	int rcvbuf = (int)o->socket_buffer;

	/* Without this a full socket buffer turns into ENOBUFS on read and stops the loop. */
	if (mnl_socket_setsockopt(s->nl, NETLINK_NO_ENOBUFS, &one, sizeof one) < 0)
		log_warn("NFQUEUE %u: NETLINK_NO_ENOBUFS", s->num);
	if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) < 0) {
		nfqsock_explain(errno, s->num, "sizing the socket buffer", why, size);
		return -1;
	}
	return 0;
}

static void
nfqsock_alloc_slots(struct nfqsock *s, const struct nfqsock_opts *o)
{
	s->slots = o->batch ? o->batch : 1;
	/* Each slot starts a netlink message: keep them aligned (copy_range may be odd). */
	s->slot_size = (o->copy_range + NFQSOCK_ATTR_ROOM + 63) & ~(size_t)63;
	s->rbuf = xmalloc(s->slots * s->slot_size);
	s->msgs = xcalloc(s->slots, sizeof *s->msgs);
	s->iov = xcalloc(s->slots, sizeof *s->iov);
	for (unsigned i = 0; i < s->slots; i++) {
		s->iov[i].iov_base = s->rbuf + i * s->slot_size;
		s->iov[i].iov_len = s->slot_size;
		s->msgs[i].msg_hdr.msg_iov = &s->iov[i];
		s->msgs[i].msg_hdr.msg_iovlen = 1;
	}
}

struct nfqsock *
nfqsock_open(const struct nfqsock_opts *o, char *why, size_t why_size)
{
	struct nfqsock *s = xcalloc(1, sizeof *s);

	s->num = o->num;
	s->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (s->nl == NULL) {
		nfqsock_explain(errno, o->num, "opening a netfilter netlink socket", why, why_size);
		free(s);
		return NULL;
	}
	if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		nfqsock_explain(errno, o->num, "binding the netlink socket", why, why_size);
		goto fail;
	}
	s->portid = mnl_socket_get_portid(s->nl);
	if (nfqsock_socket_opts(s, o, why, why_size) < 0 || nfqsock_configure(s, o, why, why_size) < 0)
		goto fail;
	nfqsock_alloc_slots(s, o);
	return s;
fail:
	mnl_socket_close(s->nl);
	free(s);
	return NULL;
}

void
nfqsock_close(struct nfqsock *s)
{
	if (s == NULL)
		return;
	nfqsock_flush(s);
	nfqsock_cmd(s, NFQNL_CFG_CMD_UNBIND);
	mnl_socket_close(s->nl);
	free(s->rbuf);
	free(s->msgs);
	free(s->iov);
	free(s);
}

int
nfqsock_fd(const struct nfqsock *s)
{
	return mnl_socket_get_fd(s->nl);
}

uint16_t
nfqsock_num(const struct nfqsock *s)
{
	return s->num;
}

/* --- request/ack during start-up ----------------------------------------- */

/* A packet met while waiting for an ack goes round again (NF_REPEAT) instead of being lost. */
static void
nfqsock_requeue(struct nfqsock *s, const struct nlmsghdr *nlh)
{
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	struct nfqnl_msg_packet_hdr *ph;
	char buf[NFQSOCK_MSG_MAX];
	struct nlmsghdr *v;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL)
		return;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	v = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, s->num);
	nfq_nlmsg_verdict_put(v, (int)ntohl(ph->packet_id), NF_REPEAT);
	mnl_socket_sendto(s->nl, v, v->nlmsg_len);
}

/* Sends one config message and waits for its ack. Returns 0 or -1 with errno. */
static int
nfqsock_talk(struct nfqsock *s, struct nlmsghdr *nlh)
{
	/* Room for a whole packet: one may arrive before the ack (up to 64 KB with GSO). */
	size_t size = 65536 + NFQSOCK_ATTR_ROOM;
	uint32_t seq = (uint32_t)clock_mono_us();
	uint8_t *buf;
	int rc = -1;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	buf = xmalloc(size);
	while (rc < 0) {
		ssize_t got = mnl_socket_recvfrom(s->nl, buf, size);
		const struct nlmsghdr *r = (const struct nlmsghdr *)buf;
		int len = (int)got;

		if (got < 0)
			break;
		for (; mnl_nlmsg_ok(r, len); r = mnl_nlmsg_next(r, &len)) {
			if (r->nlmsg_type == NLMSG_ERROR && r->nlmsg_seq == seq) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(r);
				rc = e->error ? 1 : 0;
				errno = -e->error;
				break;
			}
			if (NFNL_MSG_TYPE(r->nlmsg_type) == NFQNL_MSG_PACKET)
				nfqsock_requeue(s, r);
		}
	}
	int saved = errno;
	free(buf);
	errno = saved;
	return rc == 0 ? 0 : -1;
}

/* --- packets ------------------------------------------------------------ */

static uint32_t
nfqsock_attr_u32(struct nlattr *const *attr, int type)
{
	return attr[type] ? ntohl(mnl_attr_get_u32(attr[type])) : 0;
}

/* Fills pkt from one packet message. Returns -1 for a message that is not a usable packet. */
static int
nfqsock_parse(const struct nlmsghdr *nlh, struct nfqsock_pkt *pkt)
{
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	const struct nfqnl_msg_packet_hdr *ph;
	uint32_t skbinfo;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL)
		return -1;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	pkt->id = ntohl(ph->packet_id);
	pkt->hw_protocol = ntohs(ph->hw_protocol);
	pkt->data = attr[NFQA_PAYLOAD] ? mnl_attr_get_payload(attr[NFQA_PAYLOAD]) : NULL;
	pkt->len = attr[NFQA_PAYLOAD] ? mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]) : 0;
	pkt->wire_len = attr[NFQA_CAP_LEN] ? nfqsock_attr_u32(attr, NFQA_CAP_LEN) : pkt->len;
	pkt->mark = nfqsock_attr_u32(attr, NFQA_MARK);
	pkt->indev = nfqsock_attr_u32(attr, NFQA_IFINDEX_INDEV);
	pkt->outdev = nfqsock_attr_u32(attr, NFQA_IFINDEX_OUTDEV);
	skbinfo = nfqsock_attr_u32(attr, NFQA_SKB_INFO);
	pkt->gso = (skbinfo & NFQA_SKB_GSO) != 0;
	pkt->csum_not_ready = (skbinfo & NFQA_SKB_CSUMNOTREADY) != 0;
	return 0;
}

static void
nfqsock_kernel_error(struct nfqsock *s, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (e->error == 0)
		return;
	NFQSOCK_STAT_ADD(s->stats.kernel_errors, 1);
	log_warnx("NFQUEUE %u: kernel refused a verdict: %s", s->num, strerror(-e->error));
}

/* Walks the messages of one datagram. */
static int
nfqsock_datagram(struct nfqsock *s, const uint8_t *buf, int len, nfqsock_pkt_fn fn, void *arg)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int packets = 0;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		struct nfqsock_pkt pkt;

		if (nlh->nlmsg_type == NLMSG_ERROR) {
			nfqsock_kernel_error(s, nlh);
			continue;
		}
		if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFQNL_MSG_PACKET || nfqsock_parse(nlh, &pkt) < 0)
			continue;
		NFQSOCK_STAT_ADD(s->stats.bytes, pkt.wire_len);
		fn(arg, &pkt);
		packets++;
	}
	return packets;
}

int
nfqsock_read(struct nfqsock *s, nfqsock_pkt_fn fn, void *arg)
{
	int got, packets = 0;

	got = recvmmsg(nfqsock_fd(s), s->msgs, s->slots, MSG_DONTWAIT, NULL);
	if (got < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	NFQSOCK_STAT_ADD(s->stats.read_calls, 1);
	for (int i = 0; i < got; i++)
		packets += nfqsock_datagram(s, s->iov[i].iov_base, (int)s->msgs[i].msg_len, fn, arg);
	NFQSOCK_STAT_ADD(s->stats.packets, (uint64_t)packets);
	return packets;
}

/* --- verdicts ------------------------------------------------------------ */

static struct nlmsghdr *
nfqsock_msg(struct nfqsock *s, int type)
{
	struct nlmsghdr *nlh;

	if (s->slen + NFQSOCK_MSG_MAX > sizeof s->sbuf)
		nfqsock_flush(s);
	nlh = nfq_nlmsg_put((char *)s->sbuf + s->slen, type, s->num);
	return nlh;
}

static void
nfqsock_commit(struct nfqsock *s, struct nlmsghdr *nlh)
{
	s->slen += NLMSG_ALIGN(nlh->nlmsg_len);
}

static void
nfqsock_single(struct nfqsock *s, uint32_t id, uint32_t verdict, bool set_mark, uint32_t mark)
{
	struct nlmsghdr *nlh = nfqsock_msg(s, NFQNL_MSG_VERDICT);

	nfq_nlmsg_verdict_put(nlh, (int)id, (int)verdict);
	if (set_mark)
		nfq_nlmsg_verdict_put_mark(nlh, mark);
	nfqsock_commit(s, nlh);
	NFQSOCK_STAT_ADD(s->stats.verdict_msgs, 1);
}

/* A batch verdict covers every queued id up to run_last: valid because ids before the run are settled. */
static void
nfqsock_end_run(struct nfqsock *s)
{
	struct nlmsghdr *nlh;

	if (s->run_count == 0)
		return;
	if (s->run_count == 1) {
		nfqsock_single(s, s->run_last, s->run_verdict, false, 0);
	} else {
		nlh = nfqsock_msg(s, NFQNL_MSG_VERDICT_BATCH);
		nfq_nlmsg_verdict_put(nlh, (int)s->run_last, (int)s->run_verdict);
		nfqsock_commit(s, nlh);
		NFQSOCK_STAT_ADD(s->stats.batch_msgs, 1);
	}
	s->run_count = 0;
}

void
nfqsock_verdict(struct nfqsock *s, uint32_t id, uint32_t verdict, bool set_mark, uint32_t mark)
{
	if (!set_mark && s->run_count > 0 && verdict == s->run_verdict) {
		s->run_last = id;
		s->run_count++;
		return;
	}
	nfqsock_end_run(s);
	if (set_mark) {
		nfqsock_single(s, id, verdict, true, mark);
		return;
	}
	s->run_verdict = verdict;
	s->run_last = id;
	s->run_count = 1;
}

int
nfqsock_flush(struct nfqsock *s)
{
	nfqsock_end_run(s);
	if (s->slen == 0)
		return 0;
	if (mnl_socket_sendto(s->nl, s->sbuf, s->slen) < 0) {
		NFQSOCK_STAT_ADD(s->stats.send_errors, 1);
		log_warn("NFQUEUE %u: sending verdicts", s->num);
		s->slen = 0;
		return -1;
	}
	s->slen = 0;
	return 0;
}

void
nfqsock_stats(const struct nfqsock *s, struct nfqsock_stats *out)
{
	out->packets = __atomic_load_n(&s->stats.packets, __ATOMIC_RELAXED);
	out->bytes = __atomic_load_n(&s->stats.bytes, __ATOMIC_RELAXED);
	out->read_calls = __atomic_load_n(&s->stats.read_calls, __ATOMIC_RELAXED);
	out->verdict_msgs = __atomic_load_n(&s->stats.verdict_msgs, __ATOMIC_RELAXED);
	out->batch_msgs = __atomic_load_n(&s->stats.batch_msgs, __ATOMIC_RELAXED);
	out->send_errors = __atomic_load_n(&s->stats.send_errors, __ATOMIC_RELAXED);
	out->kernel_errors = __atomic_load_n(&s->stats.kernel_errors, __ATOMIC_RELAXED);
}

static int nfqsock_kstats_fd = -1;

void
nfqsock_kstats_open(void)
{
	if (nfqsock_kstats_fd < 0)
		nfqsock_kstats_fd = open("/proc/net/netfilter/nfnetlink_queue", O_RDONLY | O_CLOEXEC);
}

int
nfqsock_kstats(uint16_t num, struct nfqsock_kstats *out)
{
	char buf[8192], *line, *save = NULL;
	ssize_t n;

	nfqsock_kstats_open();
	if (nfqsock_kstats_fd < 0 || (n = pread(nfqsock_kstats_fd, buf, sizeof buf - 1, 0)) < 0)
		return -1;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct nfqsock_kstats k;

		if (sscanf(line, "%u %u %u %u %u %u %u %u", &k.num, &k.portid, &k.waiting,
		    &k.copy_mode, &k.copy_range, &k.queue_dropped, &k.user_dropped,
		    &k.id_sequence) == 8 && k.num == num) {
			*out = k;
			return 0;
		}
	}
	return -1;
}

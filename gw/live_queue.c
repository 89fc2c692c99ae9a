/* live_queue.c -- one queue's thread: packets from NFQUEUE through the engine, verdicts and marks back, reject answers out. */
#include "gw/live.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter.h>

#include "gw/live_ifname.h"
#include "gw/nfqct.h"
#include "lib/log.h"
#include "lib/util.h"

#define LIVE_STAT_ADD(field, n) __atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)
#define LIVE_EXPIRE_EVERY_US 1000000ULL
#define LIVE_READS_PER_WAKE 64       /* bursts read before requests and timers get a look */
#define LIVE_CALL_TIMEOUT_S 10

/* Per-thread state the callbacks need beyond the queue itself. */
struct live_ctx {
	struct live_queue *q;
	uint64_t now_us;
	struct live_ifname ifnames;
	struct nfqct *ct;             /* opened at the first reload */
};

/* --- answers and verdicts ---------------------------------------------- */

static void
live_queue_reply(struct live_queue *q, const struct gw_result *res)
{
	const struct live *lv = q->live;
	struct sockaddr_storage to;
	socklen_t tolen;
	int fd;

	memset(&to, 0, sizeof to);
	if ((res->reply[0] >> 4) == 4 && res->reply_len >= 20) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&to;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, res->reply + 16, 4);
		tolen = sizeof *sin;
		fd = lv->raw4;
	} else if ((res->reply[0] >> 4) == 6 && res->reply_len >= 40) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&to;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, res->reply + 24, 16);
		tolen = sizeof *sin6;
		fd = lv->raw6;
	} else {
		return;
	}
	if (fd >= 0 && sendto(fd, res->reply, res->reply_len, 0, (struct sockaddr *)&to, tolen) >= 0) {
		LIVE_STAT_ADD(q->stats.replies_sent, 1);
		return;
	}
	if (q->stats.reply_errors == 0)
		log_warn("queue %u: sending a reject answer", nfqsock_num(q->sock));
	LIVE_STAT_ADD(q->stats.reply_errors, 1);
}

/*
 * A flow dropped or rejected on its first packet has no conntrack entry to
 * save the mark in: that packet is dropped before conntrack confirms it. In a
 * pair (nfqueue.ha_pair) the entry is made here with the mark, so that later
 * packets are settled by the kernel and conntrackd carries the verdict to the
 * standby. A flow that already has one (decided later) answers EEXIST.
 */
static void
live_queue_keep_drop(struct live_ctx *ctx, const struct gw_result *res)
{
	struct live_queue *q = ctx->q;
	const struct live *lv = q->live;
	unsigned timeout = res->proto == IPPROTO_TCP ? lv->gw.timeout_syn : lv->gw.timeout_udp;

	if (res->proto != IPPROTO_TCP && res->proto != IPPROTO_UDP)
		return;
	if (ctx->ct == NULL && (ctx->ct = nfqct_open()) == NULL)
		return;
	if (nfqct_create(ctx->ct, &res->src, &res->dst, res->proto, res->sport, res->dport, res->mark,
	    timeout) == 0) {
		LIVE_STAT_ADD(q->stats.conntrack_updates, 1);
	} else if (errno != EEXIST) {
		if (q->stats.conntrack_errors == 0)
			log_warn("queue %u: keeping flow %llu's verdict in conntrack", nfqsock_num(q->sock),
			    (unsigned long long)res->flow_id);
		LIVE_STAT_ADD(q->stats.conntrack_errors, 1);
	}
}

/*
 * A decided flow goes back through the chain once (NF_REPEAT) carrying its
 * mark; the chain saves the mark to the connmark and settles the packet, and
 * the kernel settles the rest of the flow without us.
 */
static void
live_queue_verdict(struct live_ctx *ctx, const struct nfqsock_pkt *p, const struct gw_result *res)
{
	struct live_queue *q = ctx->q;
	const struct live *lv = q->live;

	LIVE_STAT_ADD(q->stats.verdict[res->verdict], 1);
	if (lv->nfq.offload && res->final && res->flow_id != 0 && res->mark != 0) {
		if (lv->nfq.ha_pair && res->verdict != GW_ACCEPT)
			live_queue_keep_drop(ctx, res);
		nfqsock_verdict(q->sock, p->id, NF_REPEAT, true, (p->mark & ~lv->mark_mask) | res->mark);
		LIVE_STAT_ADD(q->stats.offloaded, 1);
		return;
	}
	nfqsock_verdict(q->sock, p->id, res->verdict == GW_ACCEPT ? NF_ACCEPT : NF_DROP, false, 0);
}

static void
live_queue_packet(void *arg, const struct nfqsock_pkt *p)
{
	struct live_ctx *ctx = arg;
	struct live_queue *q = ctx->q;
	struct gw_packet pkt;
	struct gw_result res;

	if (p->data == NULL) {   /* copy mode gave no payload: nothing to judge, fail closed */
		nfqsock_verdict(q->sock, p->id, NF_DROP, false, 0);
		return;
	}
	pkt.l3 = p->data;
	pkt.len = p->len;
	pkt.ts_us = ctx->now_us;
	pkt.in_if = live_ifname_get(&ctx->ifnames, p->indev, ctx->now_us);
	pkt.out_if = live_ifname_get(&ctx->ifnames, p->outdev, ctx->now_us);
	pkt.pkt_num = ++q->pkt_num;
	gw_engine_process(q->engine, &pkt, &res);
	if (res.reply_len > 0)
		live_queue_reply(q, &res);
	live_queue_verdict(ctx, p, &res);
}

/* Reads bursts until the socket is empty (bounded), releasing each burst's packets at once. */
static int
live_queue_drain(struct live_ctx *ctx)
{
	struct live_queue *q = ctx->q;
	int n = 0;

	for (int i = 0; i < LIVE_READS_PER_WAKE; i++) {
		n = nfqsock_read(q->sock, live_queue_packet, ctx);
		nfqsock_flush(q->sock);
		/* A short burst means the socket is empty: poll again rather than pay for an EAGAIN read. */
		if (n < (int)q->live->nfq.batch)
			break;
		ctx->now_us = ev_now_us();
	}
	gw_engine_flush(q->engine);
	return n < 0 ? -1 : 0;
}

/* --- reload: the kernel must forget what the new policy no longer allows --- */

static uint32_t
live_queue_mark_for(const struct live *lv, enum gw_verdict v)
{
	if (v == GW_ACCEPT)
		return lv->gw.mark_accept;
	return v == GW_REJECT ? lv->gw.mark_reject : lv->gw.mark_drop;
}

static void
live_queue_reload_flow(const struct gw_flow_info *f, enum gw_reload_change change, void *arg)
{
	struct live_ctx *ctx = arg;
	struct live_queue *q = ctx->q;
	const struct live *lv = q->live;
	enum gw_verdict v = f->verdict;

	if (!lv->nfq.offload || (f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP))
		return;   /* not offloaded, or no ports to find the entry by: its packets still come to us */
	if (change == GW_RELOAD_CUT && v == GW_ACCEPT)
		v = GW_DROP;
	if (ctx->ct == NULL)
		ctx->ct = nfqct_open();
	if (ctx->ct && nfqct_set_mark(ctx->ct, &f->src, &f->dst, f->proto, f->sport, f->dport,
	    live_queue_mark_for(lv, v), lv->mark_mask) == 0) {
		LIVE_STAT_ADD(q->stats.conntrack_updates, 1);
	} else if (errno != ENOENT) {
		LIVE_STAT_ADD(q->stats.conntrack_errors, 1);
		log_warn("queue %u: updating the connmark of flow %llu", nfqsock_num(q->sock),
		    (unsigned long long)f->flow_id);
	}
}

/* --- requests from the main thread ----------------------------------------- */

static int
live_queue_flow_line(const struct gw_flow_info *f, void *arg)
{
	FILE *out = arg;
	char src[ADDR_STRLEN], dst[ADDR_STRLEN];

	addr_format(&f->src, src);
	addr_format(&f->dst, dst);
	fprintf(out, "%llu %s %s %u %s %u %s %s %s %s %s%s %s %llu/%llu pkts %llu/%llu bytes\n",
	    (unsigned long long)f->flow_id, f->proto == IPPROTO_TCP ? "tcp" :
	    f->proto == IPPROTO_UDP ? "udp" : "other", src, f->sport, dst, f->dport,
	    f->src_zone ? f->src_zone : "-", f->dst_zone ? f->dst_zone : "-",
	    f->app ? f->app : "(pending)", f->rule ? f->rule : "-",
	    policy_action_name((enum policy_action)f->verdict), f->final ? "" : "(waiting)",
	    gw_tcp_state_name(f->tcp_state),
	    (unsigned long long)f->pkts_toserver, (unsigned long long)f->pkts_toclient,
	    (unsigned long long)f->bytes_toserver, (unsigned long long)f->bytes_toclient);
	return 0;
}

static void
live_queue_serve(struct live_ctx *ctx)
{
	struct live_queue *q = ctx->q;
	struct live_req *req;
	uint64_t ignored;

	if (read(q->wake_fd, &ignored, sizeof ignored) < 0 && errno != EAGAIN)
		log_warn("queue %u: wake-up descriptor", nfqsock_num(q->sock));
	pthread_mutex_lock(&q->lock);
	req = q->req;
	if (req && req->kind == LIVE_REQ_COUNTERS)
		gw_engine_counters(q->engine, req->counters);
	else if (req && req->kind == LIVE_REQ_FLOWS)
		gw_engine_flows(q->engine, live_queue_flow_line, req->out);
	else if (req && req->kind == LIVE_REQ_POLICY)
		gw_engine_set_policy(q->engine, req->policy, ev_now_us(), live_queue_reload_flow, ctx,
		    &req->report);
	if (req) {
		gw_engine_flush(q->engine);
		req->done = true;
		q->req = NULL;
		pthread_cond_broadcast(&q->cond);
	}
	pthread_mutex_unlock(&q->lock);
}

int
live_queue_call(struct live_queue *q, struct live_req *req)
{
	struct timespec until;
	uint64_t one = 1;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += LIVE_CALL_TIMEOUT_S;
	req->done = false;
	pthread_mutex_lock(&q->lock);
	q->req = req;
	if (write(q->wake_fd, &one, sizeof one) < 0)
		log_warn("waking queue %u", q->index);
	while (!req->done && rc == 0)
		rc = pthread_cond_timedwait(&q->cond, &q->lock, &until);
	if (!req->done)
		q->req = NULL;   /* the thread is stuck; the caller reports it */
	pthread_mutex_unlock(&q->lock);
	return req->done ? 0 : -1;
}

/* --- the thread ------------------------------------------------------------ */

static void
live_queue_loop(struct live_ctx *ctx)
{
	struct live_queue *q = ctx->q;
	struct pollfd pfd[2] = { { nfqsock_fd(q->sock), POLLIN, 0 }, { q->wake_fd, POLLIN, 0 } };
	uint64_t next_expire = 0;

	while (!q->live->stopping) {
		if (poll(pfd, 2, 1000) < 0 && errno != EINTR)
			fatal("queue %u: poll", nfqsock_num(q->sock));
		ctx->now_us = ev_now_us();
		pthread_rwlock_rdlock(&q->live->sink_lock);
		if ((pfd[0].revents & POLLIN) && live_queue_drain(ctx) < 0)
			log_warn("queue %u: reading packets", nfqsock_num(q->sock));
		if (pfd[1].revents & POLLIN)
			live_queue_serve(ctx);
		if (ctx->now_us >= next_expire) {
			gw_engine_expire(q->engine, ctx->now_us);
			gw_engine_flush(q->engine);
			next_expire = ctx->now_us + LIVE_EXPIRE_EVERY_US;
		}
		pthread_rwlock_unlock(&q->live->sink_lock);
	}
}

static void *
live_queue_main(void *arg)
{
	struct live_ctx *ctx = xcalloc(1, sizeof *ctx);

	ctx->q = arg;
	live_queue_loop(ctx);
	pthread_rwlock_rdlock(&ctx->q->live->sink_lock);
	gw_engine_shutdown(ctx->q->engine, ev_now_us());
	pthread_rwlock_unlock(&ctx->q->live->sink_lock);
	nfqct_close(ctx->ct);
	free(ctx);
	return NULL;
}

int
live_queue_start(struct live *lv, struct live_queue *q)
{
	q->live = lv;
	q->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->wake_fd < 0)
		return -1;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	if (pthread_create(&q->thread, NULL, live_queue_main, q) != 0)
		return -1;
	q->started = true;
	return 0;
}

void
live_queue_stop(struct live_queue *q)
{
	uint64_t one = 1;

	if (!q->started)
		return;
	if (write(q->wake_fd, &one, sizeof one) < 0)
		log_warn("waking queue %u", q->index);
	pthread_join(q->thread, NULL);
	q->started = false;
	close(q->wake_fd);
}

/* nfqct.c -- conntrack entries over ctnetlink: a connmark changed (reload cuts), an entry made for a dropped flow, a listing. */
#include "gw/nfqct.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "lib/util.h"

struct nfqct {
	struct mnl_socket *nl;
	uint32_t portid, seq;
};

struct nfqct *
nfqct_open(void)
{
	struct nfqct *c = xcalloc(1, sizeof *c);

	c->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (c->nl == NULL || mnl_socket_bind(c->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		if (c->nl)
			mnl_socket_close(c->nl);
		free(c);
		return NULL;
	}
	c->portid = mnl_socket_get_portid(c->nl);
	return c;
}

void
nfqct_close(struct nfqct *c)
{
	if (c == NULL)
		return;
	mnl_socket_close(c->nl);
	free(c);
}

static void
nfqct_put_tuple(struct nlmsghdr *nlh, int which, const struct addr *src, const struct addr *dst,
    uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct nlattr *tuple = mnl_attr_nest_start(nlh, (uint16_t)which);
	struct nlattr *ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	struct nlattr *l4;

	if (addr_is_v4(src)) {
		mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, src->b + 12);
		mnl_attr_put(nlh, CTA_IP_V4_DST, 4, dst->b + 12);
	} else {
		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, src->b);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, dst->b);
	}
	mnl_attr_nest_end(nlh, ip);
	l4 = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
	mnl_attr_nest_end(nlh, l4);
	mnl_attr_nest_end(nlh, tuple);
}

/* Sends one request and reads its acknowledgement: 0, or -1 with the kernel's errno. */
static int
nfqct_talk(struct nfqct *c, struct nlmsghdr *nlh, uint8_t *buf, size_t size)
{
	ssize_t n;

	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	n = mnl_socket_recvfrom(c->nl, buf, size);
	if (n < 0)
		return -1;
	return mnl_cb_run(buf, (size_t)n, c->seq, c->portid, NULL, NULL) < 0 ? -1 : 0;
}

int
nfqct_set_mark(struct nfqct *c, const struct addr *src, const struct addr *dst, uint8_t proto,
    uint16_t sport, uint16_t dport, uint32_t mark, uint32_t mask)
{
	uint8_t buf[1024];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	/* An update of an existing entry: IPCTNL_MSG_CT_NEW without NLM_F_CREATE. */
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++c->seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof *nfg);
	nfg->nfgen_family = addr_is_v4(src) ? AF_INET : AF_INET6;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	nfqct_put_tuple(nlh, CTA_TUPLE_ORIG, src, dst, proto, sport, dport);
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(mark));
	mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(mask));
	return nfqct_talk(c, nlh, buf, sizeof buf);
}

int
nfqct_create(struct nfqct *c, const struct addr *src, const struct addr *dst, uint8_t proto,
    uint16_t sport, uint16_t dport, uint32_t mark, uint32_t timeout_s)
{
	uint8_t buf[1024];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlattr *info, *tcp;
	struct nfgenmsg *nfg;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	nlh->nlmsg_seq = ++c->seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof *nfg);
	nfg->nfgen_family = addr_is_v4(src) ? AF_INET : AF_INET6;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	nfqct_put_tuple(nlh, CTA_TUPLE_ORIG, src, dst, proto, sport, dport);
	nfqct_put_tuple(nlh, CTA_TUPLE_REPLY, dst, src, proto, dport, sport);
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(mark));
	mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(timeout_s));
	if (proto == IPPROTO_TCP) {
		info = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
		tcp = mnl_attr_nest_start(nlh, CTA_PROTOINFO_TCP);
		mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_STATE, TCP_CONNTRACK_SYN_SENT);
		mnl_attr_nest_end(nlh, tcp);
		mnl_attr_nest_end(nlh, info);
	}
	return nfqct_talk(c, nlh, buf, sizeof buf);
}

/* --- listing entries by mark (reload: flows the engine no longer remembers) --- */

struct nfqct_listing {
	struct nfqct_entry *v;
	size_t n, cap, max;
};

static int
nfqct_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type <= CTA_MAX)   /* all nested groups here share the small attribute numbers */
		tb[type] = attr;
	return MNL_CB_OK;
}

static void
nfqct_parse_ip(const struct nlattr *nest, struct nfqct_entry *e)
{
	const struct nlattr *tb[CTA_MAX + 1] = { NULL };

	mnl_attr_parse_nested(nest, nfqct_attr_cb, tb);
	if (tb[CTA_IP_V4_SRC] && tb[CTA_IP_V4_DST]) {
		addr_from_v4(&e->src, mnl_attr_get_payload(tb[CTA_IP_V4_SRC]));
		addr_from_v4(&e->dst, mnl_attr_get_payload(tb[CTA_IP_V4_DST]));
	} else if (tb[CTA_IP_V6_SRC] && tb[CTA_IP_V6_DST]) {
		addr_from_v6(&e->src, mnl_attr_get_payload(tb[CTA_IP_V6_SRC]));
		addr_from_v6(&e->dst, mnl_attr_get_payload(tb[CTA_IP_V6_DST]));
	}
}

static void
nfqct_parse_proto(const struct nlattr *nest, struct nfqct_entry *e)
{
	const struct nlattr *tb[CTA_MAX + 1] = { NULL };

	mnl_attr_parse_nested(nest, nfqct_attr_cb, tb);
	if (tb[CTA_PROTO_NUM])
		e->proto = mnl_attr_get_u8(tb[CTA_PROTO_NUM]);
	if (tb[CTA_PROTO_SRC_PORT])
		e->sport = ntohs(mnl_attr_get_u16(tb[CTA_PROTO_SRC_PORT]));
	if (tb[CTA_PROTO_DST_PORT])
		e->dport = ntohs(mnl_attr_get_u16(tb[CTA_PROTO_DST_PORT]));
}

static int
nfqct_entry_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nfqct_listing *l = data;
	const struct nlattr *tb[CTA_MAX + 1] = { NULL }, *tuple[CTA_MAX + 1] = { NULL };
	struct nfqct_entry e;

	memset(&e, 0, sizeof e);
	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), nfqct_attr_cb, tb);
	if (tb[CTA_TUPLE_ORIG] == NULL || l->n >= l->max)
		return MNL_CB_OK;
	if (tb[CTA_MARK])
		e.mark = ntohl(mnl_attr_get_u32(tb[CTA_MARK]));
	mnl_attr_parse_nested(tb[CTA_TUPLE_ORIG], nfqct_attr_cb, tuple);
	if (tuple[CTA_TUPLE_IP] == NULL || tuple[CTA_TUPLE_PROTO] == NULL)
		return MNL_CB_OK;
	nfqct_parse_ip(tuple[CTA_TUPLE_IP], &e);
	nfqct_parse_proto(tuple[CTA_TUPLE_PROTO], &e);
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->v = xrealloc(l->v, l->cap, sizeof *l->v);
	}
	l->v[l->n++] = e;
	return MNL_CB_OK;
}

int
nfqct_list(struct nfqct *c, uint32_t mark, uint32_t mask, size_t max, struct nfqct_entry **out)
{
	static __thread uint8_t buf[65536];
	struct nfqct_listing l = { NULL, 0, 0, max };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	int rc = MNL_CB_OK;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++c->seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof *nfg);
	nfg->nfgen_family = AF_UNSPEC;   /* IPv4 and IPv6 */
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(mark));
	mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(mask));
	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	while (rc > MNL_CB_STOP) {
		ssize_t n = mnl_socket_recvfrom(c->nl, buf, sizeof buf);
		if (n < 0) {
			free(l.v);
			return -1;
		}
		rc = mnl_cb_run(buf, (size_t)n, c->seq, c->portid, nfqct_entry_cb, &l);
	}
	if (rc < 0) {
		free(l.v);
		return -1;
	}
	*out = l.v;
	return (int)l.n;
}

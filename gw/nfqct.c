/* nfqct.c -- changing the connmark of one conntrack entry over ctnetlink (cutting flows after a reload). */
#include "gw/nfqct.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
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
nfqct_put_tuple(struct nlmsghdr *nlh, const struct addr *src, const struct addr *dst, uint8_t proto,
    uint16_t sport, uint16_t dport)
{
	struct nlattr *tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
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

int
nfqct_set_mark(struct nfqct *c, const struct addr *src, const struct addr *dst, uint8_t proto,
    uint16_t sport, uint16_t dport, uint32_t mark, uint32_t mask)
{
	uint8_t buf[1024];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	ssize_t n;

	/* An update of an existing entry: IPCTNL_MSG_CT_NEW without NLM_F_CREATE. */
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++c->seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof *nfg);
	nfg->nfgen_family = addr_is_v4(src) ? AF_INET : AF_INET6;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	nfqct_put_tuple(nlh, src, dst, proto, sport, dport);
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(mark));
	mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(mask));
	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	n = mnl_socket_recvfrom(c->nl, buf, sizeof buf);
	if (n < 0)
		return -1;
	return mnl_cb_run(buf, (size_t)n, c->seq, c->portid, NULL, NULL) < 0 ? -1 : 0;
}

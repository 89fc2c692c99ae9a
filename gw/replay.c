/* replay.c -- reads a capture file with libpcap and feeds its IP packets to an engine in order. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "gw/replay.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86dd

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* The IP packet inside an Ethernet frame, after any 802.1Q / 802.1ad tags. */
static const uint8_t *
replay_ether(const uint8_t *p, size_t len, size_t *l3_len)
{
	size_t off = 12;
	uint16_t type;

	for (int tags = 0; ; tags++) {
		if (off + 2 > len)
			return NULL;
		type = rd16(p + off);
		if ((type != 0x8100 && type != 0x88a8) || tags == 2)
			break;
		off += 4;
	}
	off += 2;
	if (type != ETH_P_IP && type != ETH_P_IPV6)
		return NULL;
	*l3_len = len - off;
	return p + off;
}

static const uint8_t *
replay_typed(const uint8_t *p, size_t len, size_t hdr, uint16_t type, size_t *l3_len)
{
	if (len < hdr || (type != ETH_P_IP && type != ETH_P_IPV6))
		return NULL;
	*l3_len = len - hdr;
	return p + hdr;
}

/* BSD null/loopback: a 4-byte address family in the writer's byte order. */
static const uint8_t *
replay_null(const uint8_t *p, size_t len, size_t *l3_len)
{
	uint32_t fam;

	if (len < 5)
		return NULL;
	memcpy(&fam, p, 4);
	if (fam > 0xffff)
		fam = __builtin_bswap32(fam);
	if (fam != 2 && fam != 10 && fam != 24 && fam != 28 && fam != 30)
		return NULL;
	*l3_len = len - 4;
	return p + 4;
}

static const uint8_t *
replay_l3(int dlt, const uint8_t *p, size_t len, size_t *l3_len)
{
	switch (dlt) {
	case DLT_EN10MB: return replay_ether(p, len, l3_len);
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		*l3_len = len;
		return len ? p : NULL;
	case DLT_LINUX_SLL: return len < 16 ? NULL : replay_typed(p, len, 16, rd16(p + 14), l3_len);
	case DLT_LINUX_SLL2: return len < 20 ? NULL : replay_typed(p, len, 20, rd16(p), l3_len);
	case DLT_NULL:
	case DLT_LOOP: return replay_null(p, len, l3_len);
	default: return NULL;
	}
}

static bool
replay_dlt_ok(int dlt)
{
	return dlt == DLT_EN10MB || dlt == DLT_RAW || dlt == DLT_IPV4 || dlt == DLT_IPV6 ||
	    dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2 || dlt == DLT_NULL || dlt == DLT_LOOP;
}

static pcap_t *
replay_open(const char *path, char *err, size_t errsize)
{
	char pcap_err[PCAP_ERRBUF_SIZE] = "";
	struct stat st;
	pcap_t *pc;

	if (stat(path, &st) < 0) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errsize, "%s: is a directory, not a capture file", path);
		return NULL;
	}
	pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, pcap_err);
	if (pc == NULL) {
		snprintf(err, errsize, "%s: not a readable pcap/pcapng file (%s)", path, pcap_err);
		return NULL;
	}
	if (!replay_dlt_ok(pcap_datalink(pc))) {
		snprintf(err, errsize, "%s: link type %s is not supported (Ethernet, raw IP, "
		    "Linux cooked, loopback are)", path, pcap_datalink_val_to_name(pcap_datalink(pc)) ?
		    pcap_datalink_val_to_name(pcap_datalink(pc)) : "?");
		pcap_close(pc);
		return NULL;
	}
	return pc;
}

struct replay_run {
	struct gw_engine *e;
	pcap_t *pc;
	pcap_dumper_t *dump;
	int dlt;
	uint64_t *pkt_num;
	struct gw_replay_stats *st;
	uint64_t next_expiry_us;
};

static void
replay_packet(struct replay_run *r, const struct pcap_pkthdr *h, const uint8_t *data)
{
	struct gw_packet pkt = { NULL, 0, 0, NULL, NULL, 0 };
	struct gw_result res;
	uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;

	++*r->pkt_num;
	r->st->packets++;
	if (r->st->first_us == 0)
		r->st->first_us = ts;
	r->st->last_us = ts;
	if (ts >= r->next_expiry_us) {   /* timeouts on capture time, checked once a second */
		gw_engine_expire(r->e, ts);
		r->next_expiry_us = ts + 1000000u;
	}
	pkt.l3 = replay_l3(r->dlt, data, h->caplen, &pkt.len);
	if (pkt.l3 == NULL) {
		r->st->not_ip++;
		return;
	}
	pkt.ts_us = ts;
	pkt.pkt_num = *r->pkt_num;
	r->st->bytes += pkt.len;
	gw_engine_process(r->e, &pkt, &res);
	if (res.verdict == GW_ACCEPT) {
		r->st->accepted++;
		if (r->dump)
			pcap_dump((u_char *)r->dump, h, data);
	}
}

static int
replay_loop(struct replay_run *r, const char *path, char *err, size_t errsize)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	while ((rc = pcap_next_ex(r->pc, &h, &data)) == 1)
		replay_packet(r, h, data);
	if (rc == PCAP_ERROR) {
		snprintf(err, errsize, "%s: after %llu packets: %s (file truncated or damaged)", path,
		    (unsigned long long)r->st->packets, pcap_geterr(r->pc));
		return -1;
	}
	return 0;
}

int
gw_replay_file(struct gw_engine *e, const char *path, const char *accepted_path,
    uint64_t *pkt_num, struct gw_replay_stats *stats, char *err, size_t errsize)
{
	struct replay_run r = { e, NULL, NULL, 0, pkt_num, stats, 0 };
	int rc;

	r.pc = replay_open(path, err, errsize);
	if (r.pc == NULL)
		return -1;
	r.dlt = pcap_datalink(r.pc);
	if (accepted_path && (r.dump = pcap_dump_open(r.pc, accepted_path)) == NULL) {
		snprintf(err, errsize, "%s: %s", accepted_path, pcap_geterr(r.pc));
		pcap_close(r.pc);
		return -1;
	}
	rc = replay_loop(&r, path, err, errsize);
	if (r.dump && (pcap_dump_flush(r.dump) < 0 || ferror(pcap_dump_file(r.dump)))) {
		snprintf(err, errsize, "%s: write error", accepted_path);
		rc = -1;
	}
	if (r.dump)
		pcap_dump_close(r.dump);
	pcap_close(r.pc);
	return rc;
}

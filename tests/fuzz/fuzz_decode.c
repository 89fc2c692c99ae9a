/* fuzz_decode.c -- fuzz target: hostile packets through the decoder and the whole engine (flows, nDPI, rejects). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gw/decode.h"
#include "gw/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: packets framed as [len_hi len_lo flags] + len bytes (flags bit 0:
 * advance the clock a minute, so expiry runs). The corpus is cut from the
 * pcap fixtures (pcap/synth.py corpus).
 */
static const char *fuzz_policy_text =
    "model = \"alpha\";\n"
    "zones = ( { name = \"lgwan\"; networks = [ \"10.20.0.0/16\", \"fd00:20::/48\" ]; },\n"
    "  { name = \"asp\"; networks = [ \"10.40.0.0/16\" ]; },\n"
    "  { name = \"dmz\"; networks = [ \"10.30.0.0/24\", \"fd00:30::/64\" ]; },\n"
    "  { name = \"internet\"; networks = [ \"0.0.0.0/0\", \"::/0\" ]; } );\n"
    "defaults = { action = \"drop\"; unknown_app = \"drop\"; malformed = \"drop\"; log = true; };\n"
    "rules = (\n"
    "  { name = \"web\"; from = \"dmz\"; to = \"internet\"; proto = \"tcp\"; dport = [ 80, 443 ];\n"
    "    app = [ \"HTTP\", \"TLS\" ]; action = \"accept\"; },\n"
    "  { name = \"asp\"; from = \"lgwan\"; to = \"asp\"; proto = \"tcp\"; app = [ \"TLS\" ]; action = \"accept\"; },\n"
    "  { name = \"dns\"; from = \"dmz\"; to = \"internet\"; proto = \"udp\"; dport = [ 53 ]; app = [ \"DNS\" ];\n"
    "    action = \"accept\"; },\n"
    "  { name = \"ping\"; from = \"internet\"; to = \"dmz\"; proto = \"icmp\"; action = \"accept\"; },\n"
    "  { name = \"refused\"; from = \"internet\"; to = \"lgwan\"; action = \"reject\"; }\n"
    ");\n";

static struct gw_engine *
fuzz_engine(void)
{
	static struct gw_engine *e;
	struct gw_config conf;
	struct diags d;
	struct policy *p;

	if (e)
		return e;
	diags_init(&d, "fuzz");
	p = policy_load_string(fuzz_policy_text, "fuzz.conf", &d);
	if (p == NULL) {
		diags_print(&d, stderr);
		__builtin_trap();
	}
	diags_free(&d);
	gw_config_defaults(&conf);
	conf.max_flows = 64;   /* small, so eviction runs too */
	conf.frag_max = 16;
	e = gw_engine_new(&conf, p, ev_sink_open("/dev/null"));   /* events built, then discarded */
	policy_unref(p);
	return e;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_engine *e = fuzz_engine();
	uint64_t ts = 1790000000ULL * 1000000ULL, n = 0;
	struct gw_result res;
	struct decoded d;
	size_t off = 0;

	while (off + 3 <= size) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		uint8_t flags = data[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		struct gw_packet pkt = { data + off, len, ts += (flags & 1) ? 60000000 : 1000,
		    NULL, NULL, ++n };
		decode_packet(data + off, len, &d);
		gw_engine_process(e, &pkt, &res);
		if (res.reply_len > sizeof res.reply)
			__builtin_trap();
		if (flags & 1)
			gw_engine_expire(e, ts);
		off += len;
	}
	gw_engine_shutdown(e, ts);
	return 0;
}

#!/usr/bin/env bash
# 40-gw-live-pcap.sh -- pcap fixtures replayed with tcpreplay through the live gateway give the same verdicts as `tiergate-gw --pcap` on the same files.
# tier: e2e
# timeout: 240
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/netns/lib.sh"
live_setup

# A replay namespace joined to the gateway by one veth (MTU 9000: veth captures hold
# GSO frames up to ~5 KB). Both ends of every replayed flow are routed back into it
# (/32 routes), so the gateway judges the packets but no real host answers them.
REP="$TOPO_PREFIX-rep"
ip netns add "$REP" && on_exit "ip netns del $REP"
ip link add ra netns "$GW_NS" mtu 9000 type veth peer name repa netns "$REP" mtu 9000
ip -n "$GW_NS" link set ra up
ip -n "$REP" link set repa up
ip netns exec "$GW_NS" sysctl -qw net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.ra.send_redirects=0 \
	net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.ra.rp_filter=0 net.ipv6.conf.ra.forwarding=1
GW_MAC=$(ip -n "$GW_NS" -br link show ra | awk '{ print $3 }')
REP_MAC=$(ip -n "$REP" -br link show repa | awk '{ print $3 }')

# file | client | server   (conf/alpha.conf verdicts: accept, reject, drop, app-based, IPv6)
CASES="${LIVE_PCAP_CASES:-smtp-internet-dmz 198.51.100.25 10.30.0.10
ssh-lgwan-dmz 10.20.1.5 10.30.0.20
http-dmz-internet 10.30.0.30 198.51.100.10
dns-mynumber-lgwan 10.10.1.5 10.20.0.53
tls-mynumber-intermediate 10.10.1.5 10.20.5.10
tls-mynumber-internet 10.10.1.5 198.51.100.10
ping-internet-lgwan 203.0.113.5 10.20.1.5
rdp-lgwan-dmz 10.20.1.5 10.30.0.30
unknown-lgwan-dmz-3389 10.20.1.5 10.30.0.30
smtp-internet-lgwan 198.51.100.25 10.20.0.25
http6-lgwan-internet fd00:20::15 2001:db8:100::10}"

route_to_replay() {
	case "$1" in
	*:*) ip -n "$GW_NS" -6 route replace "$1/128" dev ra ;;
	*) ip -n "$GW_NS" route replace "$1/32" dev ra ;;
	esac
	# No neighbour will answer: a permanent entry keeps forwarded packets from waiting on one.
	ip -n "$GW_NS" neigh replace "$1" lladdr "$REP_MAC" dev ra nud permanent
}
while read -r f c s; do route_to_replay "$c"; route_to_replay "$s"; done <<<"$CASES"

gw_start conf/alpha.conf || exit 1

# The verdict events of a file: one sorted line per (flow, decision), without times and packet numbers.
verdicts() {   # verdicts EVENTS CLIENT SERVER [REFERENCE]: only flows (5-tuples) also in REFERENCE
	python3 - "$@" <<'PY'
import json, sys
def events(path, ends):
    for line in open(path):
        ev = json.loads(line)
        if ev.get("event") == "flow" and {ev["src_ip"], ev["dst_ip"]} == ends:
            yield ev
key = lambda ev: (ev["proto"], ev["src_ip"], ev["src_port"], ev["dst_ip"], ev["dst_port"])
ends = set(sys.argv[2:4])
keep = {key(ev) for ev in events(sys.argv[4], ends)} if len(sys.argv) > 4 else None
seen = set()
for ev in events(sys.argv[1], ends):
    if keep is None or key(ev) in keep:
        seen.add("%s %s %s > %s %s app=%s rule=%s verdict=%s final=%s" % (key(ev) + (ev["app"],
            ev["rule"], ev["verdict"], ev["final"])))
print("\n".join(sorted(seen)))
PY
}

# Every frame addressed to the gateway's replay port. (tcprewrite --enet-dmac leaves
# multicast addresses alone, and the IPv6 fixtures carry 33:33:.. ones.)
set_macs() {   # set_macs IN OUT
	python3 - "$1" "$2" "$GW_MAC" "$REP_MAC" <<'PY'
import struct, sys
src, dst, gw, rep = sys.argv[1:5]
mac = lambda s: bytes.fromhex(s.replace(":", ""))
data = bytearray(open(src, "rb").read())
endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
off = 24
while off + 16 <= len(data):
    incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
    if incl >= 12:
        data[off + 16:off + 28] = mac(gw) + mac(rep)
    off += 16 + incl
open(dst, "wb").write(data)
PY
}

while read -r f c s; do
	pcap="pcap/$f.pcap"
	[ -f "$pcap" ] || { fail "replay $f" "missing $pcap"; continue; }
	set_macs "$pcap" "$TG_TMP/$f.rw.pcap"
	"$BIN/tiergate-gw" --pcap "$TG_TMP/$f.rw.pcap" --config conf/alpha.conf --events "$TG_TMP/$f.offline.json" >/dev/null 2>&1
	verdicts "$TG_TMP/$f.offline.json" "$c" "$s" >"$TG_TMP/$f.want"
	# Slow enough that the kernel keeps the capture's order.
	ip netns exec "$REP" tcpreplay -q --pps=200 -i repa "$TG_TMP/$f.rw.pcap" >/dev/null 2>&1
	sleep 0.3
	verdicts "$GW_EVENTS" "$c" "$s" "$TG_TMP/$f.offline.json" >"$TG_TMP/$f.got"
	if [ -s "$TG_TMP/$f.want" ] && cmp -s "$TG_TMP/$f.want" "$TG_TMP/$f.got"; then
		pass "replay $f: live verdicts = --pcap verdicts ($(tail -n 1 "$TG_TMP/$f.want" | grep -o 'rule=.*'))"
	else
		fail "replay $f: live verdicts = --pcap verdicts"
		diff "$TG_TMP/$f.want" "$TG_TMP/$f.got" | sed 's/^/  | /'
		[ -n "${LIVE_PCAP_DEBUG:-}" ] && { cut -c1-250 "$TG_TMP/$f.offline.json"; cut -c1-250 "$GW_EVENTS"; tail "$GW_LOG"; }
	fi
done <<<"$CASES"
drops=$(gw_kernel_drops)
[ "$drops" = "0 0" ] && pass "kernel queue drop counters stay zero" || fail "kernel queue drop counters stay zero" "$drops"

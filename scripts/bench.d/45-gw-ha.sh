#!/usr/bin/env bash
# tiergate-gw pair (keepalived + conntrackd): failover gap with and without conntrackd, new flows/s on the new active node, conntrackd's cost on throughput
#
# One run on the pair's namespaces (tests/netns/ha.sh, conf/ha/), conf/alpha.conf:
#  (a) an iperf3 TCP stream (200 Mbit/s, screen-transfer -> staff PC, a rule of the pair's test policy) while
#      the active node's tiergate-gw is killed (kill -9): the stream's longest silence,
#      from a capture at the receiver, with conntrackd syncing and with conntrackd
#      stopped on both nodes (the new node then meets the flow in its middle);
#  (b) new flows/s decided by the new active node right after the failover (one UDP
#      packet per flow, internet -> mynumber, dropped: each drop also goes into
#      conntrack and to the peer), against a single gateway (tests/netns/lib.sh, no
#      pair) in the same run;
#  (c) iperf3 at full speed through the active node, conntrackd running against
#      stopped on both nodes, alternated.
# Never fails on speed. BENCH_QUICK=1: 1 s runs, 2,000 flows, the same lines.
set -u
: "${TIERGATE_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
TG_SUITE=bench-gw-ha
. "$TIERGATE_ROOT/tests/lib/harness.sh"
. "$ROOT/tests/netns/ha.sh"
if [ "$(id -u)" != 0 ]; then
	echo "skipped: the pair benchmark needs root (network namespaces, NFQUEUE)"
	exit 0
fi
for t in "$BIN/tiergate-gw" "$TIERGATE_BUILD/t/udpgen"; do
	[ -x "$t" ] || { echo "not built: $t (make)"; exit 1; }
done
[ -n "${BENCH_QUICK:-}" ] && : "${BENCH_SECONDS:=1}" "${BENCH_FLOWS:=2000}"
T=${BENCH_SECONDS:-5}
FLOWS=${BENCH_FLOWS:-50000}
ha_setup >/dev/null

_bg lgw "$TG_TMP/iperf3-server.log" iperf3 -s -B 10.20.1.5 -p 3389 >/dev/null
wait_for 5 _port_open lgw 10.20.1.5 3389 || { echo "iperf3 server did not start"; exit 1; }
ha_start_node a >/dev/null && wait_for 10 ha_has_vip a && ha_start_node b >/dev/null &&
	wait_for 10 ha_told b backup || { echo "the pair did not come up"; exit 1; }
other() { [ "$1" = a ] && echo b || echo a; }

# --- (a) failover gap ------------------------------------------------------------------------------
# gap_run PORT kill|link: a stream through the active node, then its gateway killed or its LGWAN
# link down; sets GAP to "gap_ms vip_ms iperf_exit new_decisions".
gap_run() {
	local port=$1 how=$2 old new pcap="$TG_TMP/gap-$1.pcap" t0 vip_ms rc pid n
	old=$(ha_master)
	new=$(other "$old")
	ha_capture_start "$port" "$pcap" >/dev/null
	in_ns dmz iperf3 -c 10.20.1.5 -p 3389 -B 10.30.0.30 --cport "$port" -t 12 -b 200M >"$TG_TMP/iperf-$port.log" 2>&1 </dev/null &
	pid=$!
	sleep 3
	t0=$(python3 -c 'import time; print(time.time())')
	if [ "$how" = kill ]; then eval "kill -9 \$HA_GW_PID_$old"; else ha_in "$old" ip link set lgw down; fi
	wait_for 15 ha_has_vip "$new"
	vip_ms=$(python3 -c "import time; print(int((time.time() - $t0) * 1000))")
	wait "$pid"
	rc=$?
	ha_capture_stop
	n=$(grep -c "\"src_port\":$port,.*\"final\":true" "$(ha_dir "$new")/events.json")
	GAP="$(ha_stream_gap "$pcap" "$t0") $vip_ms $rc $n"
	# The failed node comes back; it is the standby now.
	if [ "$how" = kill ]; then ha_start_gw "$old" >/dev/null; else ha_in "$old" ip link set lgw up; fi
	wait_for 15 ha_told "$old" backup
	sleep 2
}
stream_fate() {   # stream_fate IPERF_EXIT NEW_DECISIONS
	if [ "$1" -ne 0 ]; then echo "stream broken (iperf3 exit $1)"
	elif [ "$2" -gt 0 ]; then echo "stream went on, decided again by the new node ($2 decision)"
	else echo "stream went on, no new decision"; fi
}
gap_line() {   # gap_line LABEL: prints GAP's figures
	local g v r n
	read -r g v r n <<<"$GAP"
	printf '    %-34s %6s ms gap  (VIPs moved after %s ms; %s)\n' "$1" "$g" "$v" "$(stream_fate "$r" "$n")"
}
echo "(a) failover gap of an iperf3 TCP stream (200 Mbit/s, receiver's capture), the active node failing two ways"
gap_run 41000 kill; gap_line "tiergate-gw killed, conntrackd"
gap_run 41001 link; gap_line "link down, conntrackd"
ha_conntrackd a -k >/dev/null 2>&1
ha_conntrackd b -k >/dev/null 2>&1
gap_run 41002 kill; gap_line "tiergate-gw killed, no conntrackd"
gap_run 41003 link; gap_line "link down, no conntrackd"
sync_on() { ha_conntrackd a -s >/dev/null 2>&1 || ha_start_conntrackd a; ha_conntrackd b -s >/dev/null 2>&1 || ha_start_conntrackd b; }
sync_off() { ha_conntrackd a -k >/dev/null 2>&1; ha_conntrackd b -k >/dev/null 2>&1; sleep 0.3; }
sync_on
ha_conntrackd "$(other "$(ha_master)")" -n >/dev/null 2>&1

# --- (b) new flows/s on the new active node ---------------------------------------------------------
# flow_rate EVENTS [SRC]: flows/s from the final flow events of SRC (198.51.100.10; first to last event).
flow_rate() {
	python3 - "$1" "${2:-198.51.100.10}" <<'PY'
import json, sys
from datetime import datetime
ts = []
for line in open(sys.argv[1], errors="replace"):
    try:
        ev = json.loads(line)
    except ValueError:
        continue
    if ev.get("event") == "flow" and ev.get("src_ip") == sys.argv[2] and ev.get("final"):
        ts.append(datetime.strptime(ev["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp())
span = (max(ts) - min(ts)) if len(ts) > 1 else 0
print("%.0f %d %.2f" % (len(ts) / span if span > 0 else 0, len(ts), span))
PY
}
wait_settled() {   # until the event file stops growing (at most 20 s)
	local prev=-1 now
	for _ in $(seq 1 100); do
		now=$(wc -l <"$1")
		[ "$now" = "$prev" ] && return
		prev=$now
		sleep 0.2
	done
}
active=$(ha_master)
d=$(ha_dir "$active")
: >"$d/events.json"
in_ns inet "$TIERGATE_BUILD/t/udpgen" 10.10.1.5 1024 "$FLOWS" 32 0 198.51.100.10 >/dev/null
wait_settled "$d/events.json"
read -r pair_rate pair_n pair_span <<<"$(flow_rate "$d/events.json")"
synced=$(ha_conntrackd "$(other "$active")" -e 2>/dev/null | grep -c 'dport=[0-9]* .*mark=2')
# The same node with conntrackd stopped (fresh flows from a second address): what the sync costs.
sync_off
in_ns inet "$TIERGATE_BUILD/t/udpgen" 10.10.1.5 1024 "$FLOWS" 32 0 198.51.100.11 >/dev/null
wait_settled "$d/events.json"
read -r nosync_rate nosync_n nosync_span <<<"$(flow_rate "$d/events.json" 198.51.100.11)"
sync_on

# --- (c) conntrackd's cost on throughput ----------------------------------------------------------------
iperf_full() {   # Gbit/s received through the active node
	in_ns dmz iperf3 -c 10.20.1.5 -p 3389 -B 10.30.0.30 -t "$T" -J 2>/dev/null |
		python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))' 2>/dev/null || echo 0
}
maxf() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 >= b + 0) ? a : b }'; }
sync_on; on1=$(iperf_full)
sync_off; off1=$(iperf_full)
sync_on; on2=$(iperf_full)
sync_off; off2=$(iperf_full)
on=$(maxf "$on1" "$on2")
off=$(maxf "$off1" "$off2")
echo "(c) iperf3 TCP ${T} s at full speed through the active node (connmark offload), best of 2, alternated"
printf '    %-34s %6s Gbit/s  (%s, %s)\n' "conntrackd syncing" "$on" "$on1" "$on2"
printf '    %-34s %6s Gbit/s  (%s, %s)\n' "conntrackd stopped" "$off" "$off1" "$off2"
awk -v a="$on" -v b="$off" 'BEGIN { if (b > 0) printf "    ratio sync on / off: %.2f\n", a / b; else print "    ratio sync on / off: n/a" }'

# --- (b), the peer: one gateway, no pair ------------------------------------------------------------
# One gateway without a pair (the standard test topology), same binary and policy.
SINGLE_PREFIX="tg5$$"
# (last: the pair's helpers follow TOPO_PREFIX, which this changes)
on_exit "topo_down $SINGLE_PREFIX"
# single_rate CONF SRC: flows/s of one udpgen flood through the single gateway with CONF.
single_rate() {
	: >"$GW_EVENTS"
	if gw_start "$1" >/dev/null; then
		ip netns exec "$GW_NS" iptables -w -F TIERGATE-HA 2>/dev/null   # ha_pair: open the gate (no keepalived here)
		in_ns inet "$TIERGATE_BUILD/t/udpgen" 10.10.1.5 1024 "$FLOWS" 32 0 "$2" >/dev/null
		wait_settled "$GW_EVENTS"
		gw_stop
	fi
	gw_rules "$1" remove >/dev/null 2>&1
	flow_rate "$GW_EVENTS" "$2" 2>/dev/null || echo "0 0 0"
}
one_rate=0 one_n=0 one_span=0 keep_rate=0 keep_n=0 keep_span=0
if topo_up "$SINGLE_PREFIX" >/dev/null 2>&1; then
	GW_NS=$(topo_ns gw) GW_EVENTS="$TG_TMP/single.json" GW_SOCK="$TG_TMP/single.sock" GW_LOG="$TG_TMP/single.log"
	mkdir -p "$TG_TMP/keep"
	cp -r conf/alpha.conf conf/parts "$TG_TMP/keep/"
	sed -i 's/ha_pair = false;/ha_pair = true;/' "$TG_TMP/keep/parts/nfqueue.conf"
	chmod -R a+rX "$TG_TMP/keep"
	read -r one_rate one_n one_span <<<"$(single_rate conf/alpha.conf 198.51.100.10)"
	read -r keep_rate keep_n keep_span <<<"$(single_rate "$TG_TMP/keep/alpha.conf" 198.51.100.25)"
fi
echo "(b) new flows decided right after the failover, one 32-byte UDP packet per flow, internet -> mynumber (drop)"
printf '    %-34s %8s flows/s  (%s of %s flows in %s s; drops kept in conntrack, %s synced to the peer)\n' \
	"new active node of the pair (gw-$active)" "$pair_rate" "$pair_n" "$FLOWS" "$pair_span" "$synced"
printf '    %-34s %8s flows/s  (%s of %s flows in %s s; drops kept in conntrack)\n' \
	"the same node, conntrackd stopped" "$nosync_rate" "$nosync_n" "$FLOWS" "$nosync_span"
printf '    %-34s %8s flows/s  (%s of %s flows in %s s; drops kept in conntrack)\n' \
	"single gateway with ha_pair = true" "$keep_rate" "$keep_n" "$FLOWS" "$keep_span"
printf '    %-34s %8s flows/s  (%s of %s flows in %s s)\n' "single gateway (no pair)" "$one_rate" "$one_n" "$FLOWS" "$one_span"
awk -v a="$pair_rate" -v b="$one_rate" 'BEGIN { if (b > 0) printf "    ratio pair / single: %.2f\n", a / b; else print "    ratio pair / single: n/a" }'


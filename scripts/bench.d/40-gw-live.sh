#!/usr/bin/env bash
# tiergate-gw live (NFQUEUE): TCP throughput, verdict loop packets/s against a bare accept loop, new flows/s
#
# One run on the test namespaces (tests/netns/topology.sh), conf/alpha.conf:
#  (a) iperf3 TCP internet -> bridge 10.30.0.20:8443 (rule internet-telework, a port rule: the
#      LGWAN-side rules need app RDP, which iperf3 is not): no gateway, tiergate-gw
#      with connmark offload (target >= 90% of no gateway), every packet in user space;
#  (b) 64-byte UDP mynumber -> LGWAN NTP (rule mynumber-ntp), every packet through
#      the queue: tiergate-gw (decode, flow table, policy, events) against
#      tests/bench/nfq_accept.c, an accept-everything loop on the same library and
#      settings (target >= 90%);
#  (c) new flows/s decided: one UDP packet per flow, internet -> mynumber (dropped by
#      the mynumber/internet invariant), rate from the flow events' timestamps.
# Kernel queue drop counters are shown for every run. Never fails on speed.
set -u
: "${TIERGATE_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
TG_SUITE=bench-gw-live
. "$TIERGATE_ROOT/tests/lib/harness.sh"
. "$ROOT/tests/netns/lib.sh"
if [ "$(id -u)" != 0 ]; then
	echo "skipped: the live benchmark needs root (network namespaces, NFQUEUE)"
	exit 0
fi
for t in "$BIN/tiergate-gw" "$TIERGATE_BUILD/t/nfq_accept" "$TIERGATE_BUILD/t/udpgen"; do
	[ -x "$t" ] || { echo "not built: $t (make)"; exit 1; }
done
# Quick mode (make test): 1 s per run and 2,000 new flows; the same lines.
[ -n "${BENCH_QUICK:-}" ] && : "${BENCH_SECONDS:=1}" "${BENCH_FLOWS:=2000}"
T=${BENCH_SECONDS:-5}
live_setup >/dev/null

# Config variants: copies of conf/ with nfqueue.conf changed.
variant() {   # variant NAME SED-SCRIPT -> prints the alpha.conf path
	mkdir -p "$TG_TMP/$1"
	cp -r conf/alpha.conf conf/parts "$TG_TMP/$1/"
	sed -i "$2" "$TG_TMP/$1/parts/nfqueue.conf"
	chmod -R a+rX "$TG_TMP/$1"
	echo "$TG_TMP/$1/alpha.conf"
}
C_OFFLOAD=$(variant offload 's/x/x/')
C_USER=$(variant user 's/offload = true/offload = false/')
C_PPS=$(variant pps 's/offload = true/offload = false/; /{ num = 1;/d; s/{ num = 0; fail_open = false; },/{ num = 0; fail_open = false; }/')
C_FLOWS=$(variant flows 's/queue_maxlen  = 4096/queue_maxlen = 65536/; s/socket_buffer = 33554432/socket_buffer = 134217728/')

# Kernel counters of every queue in the gateway namespace: "queued dropped user_dropped".
kq() { ip netns exec "$GW_NS" awk '{ s += $8; q += $6; u += $7 } END { print s + 0, q + 0, u + 0 }' /proc/net/netfilter/nfnetlink_queue; }
kq_delta() {   # kq_delta "BEFORE" "AFTER" -> "queued dropped user_dropped"
	local a b
	read -r -a a <<<"$1"
	read -r -a b <<<"$2"
	echo "$((b[0] - a[0])) $((b[1] - a[1])) $((b[2] - a[2]))"
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "n/a" }'; }

# --- (a) TCP throughput ---------------------------------------------------------------------
_bg dmz "$TG_TMP/iperf3.log" iperf3 -s -B 10.30.0.20 -p 8443 >/dev/null
wait_for 5 _port_open dmz 10.30.0.20 8443
iperf() {   # prints Gbit/s received
	in_ns inet timeout $((T + 10)) iperf3 -c 10.30.0.20 -p 8443 -B 198.51.100.10 -t "$T" -J 2>/dev/null |
		python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))' 2>/dev/null || echo 0
}
gw_run_iperf() {   # gw_run_iperf CONF -> "Gbit/s queued dropped user_dropped"
	local before rate d
	gw_start "$1" >/dev/null || { echo "0 0 0 0"; return; }
	before=$(kq)
	rate=$(iperf)
	d=$(kq_delta "$before" "$(kq)")
	gw_stop
	gw_rules "$1" remove >/dev/null 2>&1
	echo "$rate $d"
}
echo "(a) TCP throughput, iperf3 ${T} s, internet 198.51.100.10 -> bridge 10.30.0.20:8443 (rule internet-telework)"
maxf() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 >= b + 0) ? a : b }'; }
# Alternate the no-gateway and offload runs and keep each one's best: the cores are shared.
none1=$(iperf)
read -r off1 oq1 od1 ou1 <<<"$(gw_run_iperf "$C_OFFLOAD")"
none2=$(iperf)
read -r off2 oq2 od2 ou2 <<<"$(gw_run_iperf "$C_OFFLOAD")"
none=$(maxf "$none1" "$none2")
off=$(maxf "$off1" "$off2")
printf '    %-34s %6s Gbit/s  (best of 2: %s, %s)\n' "no gateway (plain forwarding)" "$none" "$none1" "$none2"
printf '    %-34s %6s Gbit/s  %5s of no gateway (target >= 90%%; best of 2: %s, %s); %s+%s packets queued; queue drops %s/%s, %s/%s\n' \
	"tiergate-gw, connmark offload" "$off" "$(pct "$off" "$none")" "$off1" "$off2" "$oq1" "$oq2" "$od1" "$ou1" "$od2" "$ou2"
read -r usr uq ud uu <<<"$(gw_run_iperf "$C_USER")"
printf '    %-34s %6s Gbit/s  %5s of no gateway; %s packets queued (GSO); queue drops %s/%s\n' \
	"tiergate-gw, every packet in user" "$usr" "$(pct "$usr" "$none")" "$uq" "$ud" "$uu"

# --- (b) verdict loop packets/s --------------------------------------------------------------
_bg lgw "$TG_TMP/udpsink.log" socat -u UDP-RECV:123,bind=10.20.0.123 /dev/null >/dev/null
pps_run() {   # prints "verdicts/s sent dropped user_dropped"
	local before sent d
	before=$(kq)
	sent=$(in_ns myn "$TIERGATE_BUILD/t/udpgen" 10.20.0.123 123 1 64 "$T")
	d=$(kq_delta "$before" "$(kq)")
	read -r q dr ur <<<"$d"
	echo "$(( (q - dr - ur) / T )) $(( sent / T )) $dr $ur"
}
echo "(b) verdict loop, 64-byte UDP mynumber 10.10.1.5 -> NTP 10.20.0.123 (rule mynumber-ntp), one queue, every packet queued, ${T} s"
peer_pps() {
	ip netns exec "$GW_NS" iptables -w -I FORWARD 1 -j NFQUEUE --queue-num 0
	ip netns exec "$GW_NS" "$TIERGATE_BUILD/t/nfq_accept" 0 64 >>"$TG_TMP/nfq_accept.log" 2>&1 &
	local peer=$!
	sleep 0.5
	pps_run
	kill "$peer"
	wait "$peer" 2>/dev/null
	ip netns exec "$GW_NS" iptables -w -D FORWARD -j NFQUEUE --queue-num 0
}
tg_pps() {
	gw_start "$C_PPS" >/dev/null
	pps_run
	gw_stop
	gw_rules "$C_PPS" remove >/dev/null 2>&1
}
best() { [ "${1%% *}" -ge "${2%% *}" ] && echo "$1" || echo "$2"; }   # the run with more verdicts/s
# Sender, gateway and receiver share the machine's cores: alternate the two loops, keep each one's best.
p1=$(peer_pps); t1=$(tg_pps); p2=$(peer_pps); t2=$(tg_pps)
read -r ppeer psent pdr pur <<<"$(best "$p1" "$p2")"
read -r ptg tsent tdr tur <<<"$(best "$t1" "$t2")"
printf '    %-34s %8s packets/s (best of 2; sender offered %s/s); queue drops %s/%s\n' "nfq_accept (peer, accept all)" \
	"$ppeer" "$psent" "$pdr" "$pur"
printf '    %-34s %8s packets/s  %5s of the peer (target >= 90%%); sender %s/s; queue drops %s/%s\n' \
	"tiergate-gw (engine + policy)" "$ptg" "$(pct "$ptg" "$ppeer")" "$tsent" "$tdr" "$tur"

# --- (c) new flows/s --------------------------------------------------------------------------
FLOWS=${BENCH_FLOWS:-50000}
: >"$GW_EVENTS"
gw_start "$C_FLOWS" >/dev/null
before=$(kq)
in_ns inet "$TIERGATE_BUILD/t/udpgen" 10.10.1.5 1024 "$FLOWS" 32 0 198.51.100.10 >/dev/null
prev=-1
for _ in $(seq 1 100); do   # until the gateway has caught up (at most 20 s)
	now=$(grep -c '"event":"flow",' "$GW_EVENTS")
	[ "$now" = "$prev" ] && break
	prev=$now
	sleep 0.2
done
read -r fq fdr fur <<<"$(kq_delta "$before" "$(kq)")"
gw_stop
gw_rules "$C_FLOWS" remove >/dev/null 2>&1
python3 - "$GW_EVENTS" "$FLOWS" "$fq" "$fdr" "$fur" <<'PY'
import json, sys
from datetime import datetime
path, offered, queued, dropped, udropped = sys.argv[1:6]
ts = []
for line in open(path):
    ev = json.loads(line)
    if ev.get("event") == "flow" and ev.get("src_ip") == "198.51.100.10" and ev.get("final"):
        ts.append(datetime.strptime(ev["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp())
span = (max(ts) - min(ts)) if len(ts) > 1 else 0
rate = len(ts) / span if span > 0 else 0
print("(c) new flows decided, one 32-byte UDP packet per flow, internet -> mynumber (invariant: drop), offload on")
print("    %-34s %8.0f flows/s  (%d of %s flows decided in %.2f s, each with its flow event); "
      "%s packets queued; queue drops %s/%s" % ("tiergate-gw", rate, len(ts), offered, span, queued, dropped, udropped))
PY

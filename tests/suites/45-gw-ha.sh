#!/usr/bin/env bash
# 45-gw-ha.sh -- an active-standby pair (keepalived + conntrackd, conf/ha/) loses no decided flow when the active node's gateway is killed, its link goes down, or its namespace is removed.
# tier: e2e
# timeout: 300
#
# Two gateway namespaces stand on shared zone segments (tests/netns/ha.sh);
# conntrackd syncs over a third link. Running through the pair: a long iperf3
# TCP stream and a long SSH session (screen-transfer server -> staff PCs, a rule of the test's by port,
# offloaded) and a blocked UDP stream (internet -> mynumber). The active node
# fails three ways in turn (gw-a: kill -9 of tiergate-gw; gw-b: link down;
# gw-a: namespace removed); after each the VIPs are on the other node, the
# streams go on, the blocked flow stays blocked by its synced verdict, and new
# flows are decided by the new node. At the end the events of both nodes
# decide every flow exactly once. The gap of the stream at each failover is
# printed (a figure, not a check).
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/netns/ha.sh"
ha_setup

DURATION=60   # seconds the long flows run; the three failovers fit in it
IPERF_PORT=41000
UDP_PORT=40000

# --- servers in the zone hosts ------------------------------------------------------------------
srv_sshd_port() {   # srv_sshd_port ROLE ADDR PORT
	ssh-keygen -q -t ed25519 -N '' -f "$TG_TMP/id"
	ssh-keygen -q -t ed25519 -N '' -f "$TG_TMP/hostkey"
	cp "$TG_TMP/id.pub" "$TG_TMP/authorized_keys"
	mkdir -p /run/sshd
	_bg "$1" "$TG_TMP/sshd.log" /usr/sbin/sshd -D -e -f /dev/null -o ListenAddress="$2:$3" \
		-o HostKey="$TG_TMP/hostkey" -o AuthorizedKeysFile="$TG_TMP/authorized_keys" \
		-o PermitRootLogin=yes -o StrictModes=no -o UsePAM=no -o PidFile=none >/dev/null
	wait_for 5 _port_open "$1" "$2" "$3"
}
_bg lgw "$TG_TMP/iperf3-server.log" iperf3 -s -B 10.20.1.5 -p 3389 >/dev/null
srv_sshd_port lgw 10.20.1.6 3389 && srv_tcp lgw 10.20.1.7 3389 && wait_for 5 _port_open lgw 10.20.1.5 3389 ||
	{ fail "servers" "a server did not start"; exit 1; }
: >"$TG_TMP/udp-received"
: >"$TG_TMP/dns-received"
_bg inet "$TG_TMP/dns-sink.log" socat -u UDP-RECV:53,bind=198.51.100.10 "OPEN:$TG_TMP/dns-received,append" >/dev/null
_bg myn "$TG_TMP/udp-sink.log" socat -u UDP-RECV:5000,bind=10.10.1.5 "OPEN:$TG_TMP/udp-received,append" >/dev/null

# --- the pair ---------------------------------------------------------------------------------
ha_start_node a || exit 1
wait_for 10 ha_has_vip a && pass "gw-a takes the VIPs" || { fail "gw-a takes the VIPs"; tail "$(ha_dir a)/keepalived.log"; exit 1; }
ha_start_node b || exit 1
wait_for 10 ha_told b backup && wait_for 5 ha_told a master &&
	pass "tiergate-gw told: gw-a master, gw-b backup (ha_state events)" ||
	fail "tiergate-gw told: gw-a master, gw-b backup" "$(cat "$(ha_dir a)/notify.log" "$(ha_dir b)/notify.log" 2>/dev/null | tail -n 8)"
[ "$(ha_master)" = a ] && pass "gw-b stays standby (nopreempt)" || fail "gw-b stays standby" "master: $(ha_master)"
ha_in b iptables -S TIERGATE-HA | grep -q -- '-A TIERGATE-HA -j DROP' && ha_in a iptables -S TIERGATE-HA >"$TG_TMP/gate-a" &&
	! grep -q -- '-j DROP' "$TG_TMP/gate-a" && pass "gate: open on gw-a, closed on gw-b" || fail "gate: open on gw-a, closed on gw-b"
out=$("$BIN/tiergate-policy" diff "$(ha_dir a)/site/alpha.conf" "$(ha_dir b)/site/alpha.conf" 2>&1)
rc=$?
[ $rc -eq 0 ] && pass "tiergate-policy diff of the two nodes' policies: same (${out:-no output})" ||
	fail "tiergate-policy diff of the two nodes' policies" "exit $rc: $out"

# --- the long flows through gw-a -----------------------------------------------------------------
ha_capture_start $IPERF_PORT "$TG_TMP/stream.pcap"
in_ns dmz iperf3 -c 10.20.1.5 -p 3389 -B 10.30.0.30 --cport $IPERF_PORT -t $DURATION -b 100M -i 5 \
	>"$TG_TMP/iperf3.log" 2>&1 </dev/null &
IPERF_PID=$!
on_exit "kill $IPERF_PID"
ssh_cmd dmz -b 10.30.0.30 -p 3389 10.20.1.6 \
	"for i in \$(seq 1 $((DURATION * 5))); do echo \$i; sleep 0.2; done" >"$TG_TMP/ssh.out" 2>"$TG_TMP/ssh.err" </dev/null &
SSH_PID=$!
on_exit "kill $SSH_PID"
in_ns inet python3 -c "
import socket, time, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('198.51.100.10', $UDP_PORT))
end = time.time() + $DURATION
while time.time() < end:
    s.sendto(b'blocked', ('10.10.1.5', 5000))
    time.sleep(0.05)
" </dev/null &
UDP_PID=$!
on_exit "kill $UDP_PID"

# Bytes the staff PC received on the stream's data connection (ss -i of the server side).
stream_rx() {
	in_ns lgw ss -Htin state established "( sport = :3389 and dport = :$IPERF_PORT )" |
		grep -o 'bytes_received:[0-9]*' | cut -d: -f2 | head -n 1
}
ssh_lines() { wc -l <"$TG_TMP/ssh.out"; }
_grows() { [ "$($1)" -gt "$2" ] 2>/dev/null; }

wait_for 5 _grows stream_rx 1000000 && wait_for 10 _grows ssh_lines 2 ||
	{ fail "long flows start" "rx $(stream_rx), ssh $(ssh_lines) lines: $(tail -n 3 "$TG_TMP/iperf3.log" "$TG_TMP/ssh.err")"; exit 1; }
SSH_SPORT=$(in_ns dmz ss -Htn state established "( dport = :3389 and dst 10.20.1.6 )" | awk '{ split($3, a, ":"); print a[2]; exit }')
[ -n "$SSH_SPORT" ] || { fail "long flows start" "the SSH session's port not found"; exit 1; }
pass "iperf3 stream, SSH session (port $SSH_SPORT) and blocked UDP stream run through gw-a"
# A flow still waiting for its application: one datagram that is no DNS yet, to a rule that needs app DNS.
send_wait() { in_ns dmz python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('10.30.0.30', 41300))
s.sendto(b'$1', ('198.51.100.10', 53))"; }
send_wait first
wait_for 3 grep -q first "$TG_TMP/dns-received" &&
	wait_for 3 grep -q '"src_port":41300,.*"final":false' "$(ha_dir a)/events.json" &&
	pass "a UDP flow to rule dmz-dns-out waits for its application on gw-a (accepted while waiting)" ||
	fail "a UDP flow waits for its application on gw-a" "$(grep 41300 "$(ha_dir a)/events.json")"
sleep 2   # conntrackd's FTFW sync: the standby has them in its external cache
ha_conntrackd b -e >"$TG_TMP/ext-b.txt" 2>&1
grep -q "sport=$IPERF_PORT dport=3389.*mark=1" "$TG_TMP/ext-b.txt" && grep -q "sport=$UDP_PORT dport=5000.*mark=2" "$TG_TMP/ext-b.txt" &&
	pass "gw-b's conntrackd holds the stream (mark=1, accept) and the blocked flow (mark=2, drop)" ||
	fail "gw-b's conntrackd holds the flows with their marks" "$(grep -E "sport=($IPERF_PORT|$UDP_PORT)" "$TG_TMP/ext-b.txt" | head -n 3)"

# The iptables packet counter of the rule dropping by the connmark (decided drops).
drop_count() { ha_in "$1" iptables -w -L TIERGATE -v -x -n | awk '/connmark match +0x2\/0x7/ && /DROP/ { print $1; exit }'; }

# events_of NODE [since=EPOCH] KEY=VALUE...: the node's final flow events with those fields (after EPOCH).
events_of() {
	python3 - "$(ha_dir "$1")/events.json" "${@:2}" <<'PY'
import json, sys, datetime
conds = [c.split("=", 1) for c in sys.argv[2:]]
since = float(dict(conds).get("since", 0))
conds = [c for c in conds if c[0] != "since"]
for line in open(sys.argv[1], errors="replace"):
    try:
        ev = json.loads(line)
        t = datetime.datetime.strptime(ev["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    except (ValueError, KeyError):
        continue
    if ev.get("event") == "flow" and ev.get("final") and t >= since and all(str(ev.get(k)) == v for k, v in conds):
        print(line.strip())
PY
}

has_event() { [ -n "$(events_of "$@")" ]; }

FAILOVER_TIMES=()
# after_failover WHAT NEW OLD PORT T0 RX0 LINES0 DROPS0: what must hold once the VIPs moved to NEW.
after_failover() {
	local what=$1 new=$2 old=$3 port=$4 t0=$5 rx0=$6 lines0=$7 drops0=$8 ms out
	if wait_for 15 ha_has_vip "$new"; then
		ms=$(python3 -c "import time; print(int((time.time() - $t0) * 1000))")
		pass "$what: the VIPs are on gw-$new (after about $ms ms)"
	else
		fail "$what: the VIPs move to gw-$new" "master: $(ha_master)"
		return 1
	fi
	wait_for 10 ha_told "$new" master && pass "$what: gw-$new's tiergate-gw told master (commit, gate open)" ||
		fail "$what: gw-$new's tiergate-gw told master" "$(tail -n 6 "$(ha_dir "$new")/notify.log")"
	wait_for 15 _grows stream_rx $((rx0 + 2000000)) &&
		pass "$what: iperf3 stream goes on through gw-$new ($(( ($(stream_rx) - rx0) / 1000000 )) MB more)" ||
		fail "$what: iperf3 stream goes on" "rx $rx0 -> $(stream_rx); $(tail -n 2 "$TG_TMP/iperf3.log")"
	wait_for 15 _grows ssh_lines $((lines0 + 5)) &&
		pass "$what: SSH session goes on (line $lines0 -> $(ssh_lines))" ||
		fail "$what: SSH session goes on" "$lines0 -> $(ssh_lines) lines; $(cat "$TG_TMP/ssh.err")"
	sleep 1
	[ "$(drop_count "$new")" -gt "${drops0:-0}" ] 2>/dev/null && [ ! -s "$TG_TMP/udp-received" ] && kill -0 "$UDP_PID" &&
		pass "$what: blocked UDP stream still dropped, by its synced verdict on gw-$new (connmark drop rule ${drops0:-0} -> $(drop_count "$new") packets; nothing received)" ||
		fail "$what: blocked UDP stream stays dropped on gw-$new" "drops ${drops0:-0} -> $(drop_count "$new"), received $(wc -c <"$TG_TMP/udp-received") bytes"
	out=$(events_of "$new" since="$t0" src_port=$IPERF_PORT; events_of "$new" since="$t0" src_port="$SSH_SPORT"
		events_of "$new" since="$t0" src_port=$UDP_PORT)
	[ -z "$out" ] && pass "$what: gw-$new made no new decision on the carried flows (they never reached its queue)" ||
		fail "$what: gw-$new made no new decision on the carried flows" "$out"
	ha_ctl "$new" flows >"$TG_TMP/flows-$new.txt" 2>&1
	grep -q "^kernel tcp 10.30.0.30 $IPERF_PORT 10.20.1.5 3389 accept" "$TG_TMP/flows-$new.txt" &&
		grep -q "^kernel udp 198.51.100.10 $UDP_PORT 10.10.1.5 5000 drop" "$TG_TMP/flows-$new.txt" &&
		pass "$what: gw-$new's ctl flows lists the synced stream (accept) and blocked flow (drop)" ||
		fail "$what: gw-$new's ctl flows lists the synced flows" "$(grep -E '^kernel|^#' "$TG_TMP/flows-$new.txt" | head -n 6)"
	# New flows: one accepted (SSH banner), one dropped (port 22 is no rule's), both decided by the new node.
	out=$(in_ns dmz nc -s 10.30.0.30 -p "$port" -w 3 10.20.1.6 3389 </dev/null 2>&1 | head -c 7)
	[ "$out" = SSH-2.0 ] && wait_for 3 has_event "$new" src_port="$port" node="gw-$new" verdict=accept &&
		pass "$what: a new flow is accepted by gw-$new (event node gw-$new)" ||
		fail "$what: a new flow is decided by gw-$new" "got '$out'; events: $(events_of "$new" src_port="$port")"
	out=$(in_ns dmz nc -s 10.30.0.30 -p $((port + 1)) -w 2 10.20.1.6 22 </dev/null 2>&1)
	[ $? -ne 0 ] && wait_for 3 has_event "$new" src_port=$((port + 1)) node="gw-$new" verdict=drop &&
		pass "$what: a new blocked flow is dropped by gw-$new (event node gw-$new, rule default)" ||
		fail "$what: a new blocked flow is dropped by gw-$new" "nc: $out; events: $(events_of "$new" src_port=$((port + 1)))"
	[ -n "$(events_of "$old" src_port="$port")" ] && fail "$what: gw-$old decided nothing new" "$(events_of "$old" src_port="$port")"
	return 0
}

snapshot() { echo "$(python3 -c 'import time; print(time.time())') $(stream_rx) $(ssh_lines) $(drop_count "$1")"; }

# --- 1: gw-a's tiergate-gw killed (kill -9) ------------------------------------------------------
read -r t0 rx0 l0 d0 <<<"$(snapshot b)"
FAILOVER_TIMES+=("$t0 kill-9")
kill -9 "$HA_GW_PID_a"
# Fail-closed on the dying node: a new flow sent at gw-a's own address passes nothing and is decided by nobody.
in_ns dmz ip route add 10.20.1.7/32 via 10.30.0.2
out=$(in_ns dmz nc -s 10.30.0.30 -p 41101 -w 2 10.20.1.7 3389 </dev/null 2>&1)
[ -z "$out" ] && [ -z "$(events_of a src_port=41101)$(events_of b src_port=41101)" ] &&
	pass "kill -9: fail-closed gw-a passes no new flow (nothing answered, no decision anywhere)" ||
	fail "kill -9: fail-closed gw-a passes no new flow" "got '$out'"
in_ns dmz ip route del 10.20.1.7/32 via 10.30.0.2
after_failover "kill -9" b a 41011 "$t0" "$rx0" "$l0" "$d0"
# The waiting flow is gw-b's to decide now: from its synced entry, as app Unknown (dmz-dns-out needs DNS).
has_event b src_port=41300 node=gw-b synced=True app=Unknown verdict=drop &&
	send_wait second && sleep 1 && ! grep -q second "$TG_TMP/dns-received" &&
	pass "kill -9: the flow that was waiting is decided by gw-b (synced, app Unknown, drop) and stays dropped" ||
	fail "kill -9: the waiting flow is decided by gw-b" "$(events_of b src_port=41300); received: $(cat "$TG_TMP/dns-received")"

# gw-a comes back as the standby: its gateway restarts, keepalived sees it healthy, nopreempt keeps gw-b active.
ha_start_gw a && wait_for 15 ha_told a backup && [ "$(ha_master)" = b ] &&
	pass "gw-a back as standby (gateway restarted, gate closed, gw-b stays active)" ||
	fail "gw-a back as standby" "master $(ha_master); $(tail -n 4 "$(ha_dir a)/notify.log")"
sleep 3   # gw-a's conntrackd gets gw-b's table (resync requested by the backup hook)

# --- 2: gw-b's link to LGWAN goes down ------------------------------------------------------------
read -r t0 rx0 l0 d0 <<<"$(snapshot a)"
FAILOVER_TIMES+=("$t0 link-down")
ha_in b ip link set lgw down
after_failover "link down" a b 41021 "$t0" "$rx0" "$l0" "$d0"
ha_in b ip link set lgw up
wait_for 15 ha_told b backup && [ "$(ha_master)" = a ] && pass "gw-b back as standby once its link is up" ||
	fail "gw-b back as standby once its link is up" "master $(ha_master)"
sleep 3

# --- 3: gw-a's whole namespace removed -------------------------------------------------------------
read -r t0 rx0 l0 d0 <<<"$(snapshot b)"
FAILOVER_TIMES+=("$t0 namespace-removed")
ha_ns_kill "$(ha_gw_ns a)"
ip netns del "$(ha_gw_ns a)"
after_failover "namespace removed" b a 41031 "$t0" "$rx0" "$l0" "$d0"

# --- the end: the long flows finish cleanly, every flow was decided once ------------------------------
wait "$IPERF_PID"
rc=$?
grep -q 'iperf Done' "$TG_TMP/iperf3.log" && [ $rc -eq 0 ] && ! grep -qi 'error' "$TG_TMP/iperf3.log" &&
	pass "iperf3 stream completed its ${DURATION} s without a reset ($(grep receiver "$TG_TMP/iperf3.log" | awk '{ print $5, $6 }'))" ||
	fail "iperf3 stream completed without a reset" "exit $rc: $(tail -n 4 "$TG_TMP/iperf3.log")"
wait "$SSH_PID"
rc=$?
[ $rc -eq 0 ] && [ "$(ssh_lines)" -eq $((DURATION * 5)) ] &&
	pass "SSH session ended normally with all $((DURATION * 5)) lines" ||
	fail "SSH session ended normally" "exit $rc, $(ssh_lines) lines: $(cat "$TG_TMP/ssh.err")"
[ ! -s "$TG_TMP/udp-received" ] && pass "the blocked UDP stream delivered nothing in ${DURATION} s" ||
	fail "the blocked UDP stream delivered nothing" "$(wc -c <"$TG_TMP/udp-received") bytes"

out=$(python3 - "$(ha_dir a)/events.json" "$(ha_dir b)/events.json" $IPERF_PORT "$SSH_SPORT" $UDP_PORT <<'PY'
import json, sys, collections
deciders = collections.defaultdict(list)
for path in sys.argv[1:3]:
    for line in open(path, errors="replace"):
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if ev.get("event") == "flow" and ev.get("final"):
            key = (ev["proto"], ev["src_ip"], ev["src_port"], ev["dst_ip"], ev["dst_port"])
            deciders[key].append(ev.get("node"))
twice = {k: v for k, v in deciders.items() if len(v) != 1}
carried = {int(p): None for p in sys.argv[3:]}
for k, v in deciders.items():
    if k[2] in carried:
        carried[k[2]] = v
bad = [p for p, v in carried.items() if v != ["gw-a"]]
print("%d flows, %d decided more than once %s; carried flows decided by %s" % (
    len(deciders), len(twice), sorted(twice.items())[:3], carried))
sys.exit(1 if twice or bad or not deciders else 0)
PY
)
[ $? -eq 0 ] && pass "events of both nodes decide every flow exactly once: $out" ||
	fail "events of both nodes decide every flow exactly once" "$out"

# --- fail-open on a dying node: undecided flows bypass its dead queue (nfqueue fail_open) ------------
# gw-b, alone now, is switched to fail-open queues (the admin's setting) and its gateway killed.
notes() { grep -c "fault: tiergate-gw" "$(ha_dir b)/notify.log"; }
sed -i 's/fail_open = false/fail_open = true/' "$(ha_dir b)/site/parts/nfqueue.conf"
kill "$HA_GW_PID_b"
wait "$HA_GW_PID_b" 2>/dev/null
if ha_start_gw b && wait_for 20 ha_told b master && ha_in b iptables -S TIERGATE | grep -q -- '--queue-bypass'; then
	n0=$(notes)
	kill -9 "$HA_GW_PID_b"
	wait "$HA_GW_PID_b" 2>/dev/null
	wait_for 10 _grows notes "$n0"
	in_ns dmz ip route add 10.20.1.7/32 via 10.30.0.3
	in_ns lgw ip route add 10.30.0.30/32 via 10.20.0.3
	out=$(in_ns dmz nc -s 10.30.0.30 -p 41201 -w 3 10.20.1.7 3389 </dev/null 2>&1)
	gate=$(ha_in b iptables -S TIERGATE-HA)
	[ "$out" = hello ] && ! echo "$gate" | grep -q DROP && [ -z "$(events_of b src_port=41201)" ] &&
		pass "kill -9, fail-open gw-b: a new flow bypasses the dead queue (gate left open in fault, no decision)" ||
		fail "kill -9, fail-open gw-b: a new flow bypasses the dead queue" "got '$out'; gate: $gate"
else
	fail "fail-open gw-b restarted as master" "$(tail -n 4 "$(ha_dir b)/notify.log")"
fi

# --- the figure: the stream's gap at each failover ---------------------------------------------------
ha_capture_stop
for i in "${!FAILOVER_TIMES[@]}"; do
	read -r t what <<<"${FAILOVER_TIMES[$i]}"
	read -r next _ <<<"${FAILOVER_TIMES[$((i + 1))]:-}"
	echo "gap: $what: the iperf3 stream's longest silence around the failover: $(ha_stream_gap "$TG_TMP/stream.pcap" "$t" "${next:-}") ms"
done

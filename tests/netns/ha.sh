# ha.sh -- sourced by the HA suite, bench and demo: two gateway namespaces (gw-a, gw-b) on shared zone segments, keepalived, conntrackd, tiergate-gw per node.
#
#   . tests/netns/ha.sh
#   ha_setup                    # namespaces torn down on exit; per-node dirs: ha_dir a|b
#   ha_node_conf a              # the node's site config (conf/alpha.conf + nfqueue.ha_pair), keepalived, conntrackd, ha.env
#   ha_start_node a             # conntrackd, tiergate-gw (--ha-role gw-a), keepalived
#   ha_master                   # "a" or "b": which node holds the VIPs
#   in_ns dmz iperf3 ...        # zone hosts as in tests/netns/lib.sh
#
# Each zone host namespace has a bridge br0 with one port to each gateway: the
# segment both nodes stand on. The hosts' default gateway is the VIP (the .1 of
# the address plan), held by whichever node keepalived made master; the nodes
# have .2 (gw-a) and .3 (gw-b), and a veth "sync" between them carries
# conntrackd's FTFW traffic. The configs are conf/ha/'s, with paths moved into
# the test's directory.
. "$ROOT/tests/netns/lib.sh"

# role | VIP/prefix | host addresses
HA_HOSTS=(
	"myn|10.10.0.1/16|10.10.1.5/16"
	"lgw|10.20.0.1/16|10.20.1.5/16 10.20.1.6/16 10.20.1.7/16"
	"dmz|10.30.0.1/24|10.30.0.20/24 10.30.0.30/24"
	"inet|198.51.100.1/24|198.51.100.10/24 198.51.100.11/24"
)

ha_gw_ns() { echo "${TOPO_PREFIX:?}-gw$1"; }
# Node directories live under /run, not $TG_TMP: keepalived (enable_script_security) runs no
# script whose path a non-root user could write, and /tmp is world-writable.
ha_dir() { echo "/run/tiergate-test/${TOPO_PREFIX:?}/gw-$1"; }

# The node's own address on a segment: VIP .1 -> .2 (gw-a) / .3 (gw-b).
ha_node_addr() {   # ha_node_addr a|b VIP/PREFIX
	local vip=${2%/*} len=${2#*/} last
	last=$([ "$1" = a ] && echo 2 || echo 3)
	echo "${vip%.*}.$last/$len"
}

_ha_host() {   # _ha_host ROLE VIP HOSTADDRS
	local role=$1 vip=$2 ns n
	ns=$(topo_ns "$role")
	ip netns add "$ns"
	_topo_etc "$ns"
	ip -n "$ns" link set lo up
	ip -n "$ns" link add br0 type bridge
	ip -n "$ns" link set br0 type bridge forward_delay 0
	for n in a b; do
		ip link add "$role" netns "$(ha_gw_ns $n)" type veth peer name "to-$n" netns "$ns"
		ip -n "$ns" link set "to-$n" master br0 up
		_topo_addrs "$(ha_gw_ns $n)" "$role" "$(ha_node_addr $n "$vip")"
		ip -n "$(ha_gw_ns $n)" link set "$role" up
	done
	# shellcheck disable=SC2086
	_topo_addrs "$ns" br0 $3
	ip -n "$ns" link set br0 up
	ip -n "$ns" route add default via "${vip%/*}"
}

ha_topo_up() {
	local n entry role vip hosts
	TOPO_PREFIX=$1
	for n in a b; do
		ip netns add "$(ha_gw_ns $n)" || return 1
		_topo_etc "$(ha_gw_ns $n)"
		ip -n "$(ha_gw_ns $n)" link set lo up
		ip netns exec "$(ha_gw_ns $n)" sysctl -qw net.ipv4.ip_forward=1
		ip -n "$(ha_gw_ns $n)" route add unreachable default
	done
	ip link add sync netns "$(ha_gw_ns a)" type veth peer name sync netns "$(ha_gw_ns b)"
	ip -n "$(ha_gw_ns a)" addr add 192.168.77.1/24 dev sync
	ip -n "$(ha_gw_ns b)" addr add 192.168.77.2/24 dev sync
	ip -n "$(ha_gw_ns a)" link set sync up
	ip -n "$(ha_gw_ns b)" link set sync up
	for entry in "${HA_HOSTS[@]}"; do
		IFS='|' read -r role vip hosts <<<"$entry"
		_ha_host "$role" "$vip" "$hosts" || return 1
	done
}

# Every process left in a namespace goes before the namespace (ip netns del alone keeps it alive).
ha_ns_kill() {   # ha_ns_kill NS
	local pids
	pids=$(ip netns pids "$1" 2>/dev/null)
	[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	return 0
}

ha_topo_down() {
	local ns
	TOPO_PREFIX=$1
	for ns in gwa gwb myn lgw dmz inet; do
		ha_ns_kill "$(topo_ns $ns)"
		ip netns del "$(topo_ns $ns)" 2>/dev/null
		rm -rf "/etc/netns/$(topo_ns $ns)"
	done
	return 0
}

ha_setup() {
	need_root
	local t
	for t in keepalived conntrackd conntrack; do
		command -v "$t" >/dev/null || { fail "ha-setup" "$t is not installed (scripts/deps.sh all)"; exit 1; }
	done
	TOPO_PREFIX="tgh$$"
	on_exit "rm -rf /run/tiergate-test/$TOPO_PREFIX; rmdir /run/tiergate-test 2>/dev/null"
	on_exit "ha_keep_logs"
	on_exit "ha_topo_down $TOPO_PREFIX"
	ha_topo_up "$TOPO_PREFIX" || { fail "ha-topology" "could not build the namespaces"; exit 1; }
	chmod 755 "$TG_TMP"
	ha_node_conf a && ha_node_conf b
}

# --- per-node configuration: conf/ha/ with its paths moved under $TG_TMP/gw-N ------------------

ha_node_conf() {   # ha_node_conf a|b [NFQUEUE-SED]
	local n=$1 d
	d=$(ha_dir "$n")
	mkdir -p "$d/run" "$d/site"
	cp -r conf/alpha.conf conf/parts "$d/site/"
	# The long flows of the tests are iperf3 and SSH from the screen-transfer server to staff PCs on the RDP port:
	# a rule of the test's own decides them by port (the site's rules want app RDP there). Both nodes get it.
	sed -i 's|^rules = ($|rules = (\n  { name = "ha-test-streams"; from = "dmz"; to = "lgwan"; src = [ "screen-transfer" ]; dst = [ "staff-pcs" ];\n    proto = "tcp"; dport = [ 3389 ]; action = "accept"; comment = "tests/netns/ha.sh: decided by port"; },|' \
		"$d/site/alpha.conf"
	# The pair setting, and the node's own control socket (both nodes may share a host in tests).
	sed -i -e "s|ha_pair = false;|ha_pair = true;|" \
		-e "s|control_socket = \"[^\"]*\"|control_socket = \"$d/run/gw.sock\"|" ${2:+-e "$2"} "$d/site/parts/nfqueue.conf"
	sed -e "s|/etc/tiergate/ha/|$d/|g" -e "s|/usr/sbin/tiergate-gw --config /etc/tiergate/tiergate.conf|$BIN/tiergate-gw --config $d/site/alpha.conf|" \
		"conf/ha/keepalived-gw-$n.conf" >"$d/keepalived.conf"
	sed -e "s|LockFile /var/lock/|LockFile $d/run/|" -e "s|Path /run/|Path $d/run/|" -e "s|/var/log/tiergate/|$d/|g" \
		"conf/ha/conntrackd-gw-$n.conf" >"$d/conntrackd.conf"
	sed -e "s|^TIERGATE_GW=.*|TIERGATE_GW=$BIN/tiergate-gw|" -e "s|^TIERGATE_CONF=.*|TIERGATE_CONF=$d/site/alpha.conf|" \
		-e "s|^CONNTRACKD_CONF=.*|CONNTRACKD_CONF=$d/conntrackd.conf|" -e "s|^CONNTRACKD_LOCK=.*|CONNTRACKD_LOCK=$d/run/conntrackd-tiergate.lock|" \
		-e "s|^HA_LOG=.*|HA_LOG=$d/notify.log|" conf/ha/ha.env >"$d/ha.env"
	cp conf/ha/notify.sh "$d/notify.sh"
	chmod -R a+rX "$d"
}

ha_in() {   # ha_in a|b CMD...: runs CMD in the node's namespace
	local n=$1
	shift
	ip netns exec "$(ha_gw_ns "$n")" "$@"
}

ha_conntrackd() { ha_in "$1" conntrackd -C "$(ha_dir "$1")/conntrackd.conf" "${@:2}"; }

ha_start_conntrackd() {   # ha_start_conntrackd a|b
	rm -f "$(ha_dir "$1")/run/conntrackd-tiergate.lock"
	ha_conntrackd "$1" -d >/dev/null 2>&1 </dev/null
	wait_for 5 ha_conntrackd "$1" -s
}

_ha_gw_ready() { [ "$(grep -c 'ready: queues' "$(ha_dir "$1")/gw.log" 2>/dev/null)" -gt "$2" ]; }

ha_start_gw() {   # ha_start_gw a|b [CONF]: rules (gate closed) and tiergate-gw --ha-role gw-N
	local n=$1 d before conf
	d=$(ha_dir "$n")
	conf=${2:-$d/site/alpha.conf}
	ha_in "$n" "$BIN/tiergate-gw" --config "$conf" --install-rules >>"$d/gw.log" 2>&1 || return 1
	before=$(grep -c 'ready: queues' "$d/gw.log" 2>/dev/null)
	# ip netns exec itself, not through a function: $! must be the gateway's pid (kill -9 in tests).
	ip netns exec "$(ha_gw_ns "$n")" "$BIN/tiergate-gw" --config "$conf" --ha-role "gw-$n" \
		--events "$d/events.json" --user "$GW_USER" >>"$d/gw.log" 2>&1 </dev/null &
	eval "HA_GW_PID_$n=$!"
	on_exit "kill $!"
	wait_for 10 _ha_gw_ready "$n" "${before:-0}"
}

ha_start_keepalived() {   # ha_start_keepalived a|b
	local n=$1 d
	d=$(ha_dir "$n")
	ip netns exec "$(ha_gw_ns "$n")" keepalived -n -l -D --vrrp -f "$d/keepalived.conf" -p "$d/run/ka.pid" -r "$d/run/vrrp.pid" \
		-c "$d/run/chk.pid" >>"$d/keepalived.log" 2>&1 </dev/null &
	on_exit "kill $!"
}

ha_start_node() {   # ha_start_node a|b: conntrackd, tiergate-gw, keepalived
	ha_start_conntrackd "$1" || { fail "ha-start-$1" "conntrackd did not start"; return 1; }
	ha_start_gw "$1" || { fail "ha-start-$1" "tiergate-gw did not start"; tail "$(ha_dir "$1")/gw.log"; return 1; }
	ha_start_keepalived "$1"
}

ha_has_vip() { ha_in "$1" ip -4 -o addr show dev dmz 2>/dev/null | grep -q ' 10\.30\.0\.1/'; }
ha_master() {   # prints a or b (the node holding the dmz VIP), nothing when none
	local n
	for n in a b; do
		ha_has_vip "$n" && { echo "$n"; return 0; }
	done
	return 1
}

# The node's last HA state as tiergate-gw was told it (ha_state events).
ha_told() {   # ha_told a|b STATE: true when the node's latest ha_state event says STATE
	python3 - "$(ha_dir "$1")/events.json" "$2" <<'PY'
import json, sys
last = None
for line in open(sys.argv[1], errors="replace"):
    try:
        ev = json.loads(line)
    except ValueError:
        continue
    if ev.get("event") == "ha_state":
        last = ev.get("state")
sys.exit(0 if last == sys.argv[2] else 1)
PY
}

ha_ctl() { ha_in "$1" "$BIN/tiergate-gw" --ctl-socket "$(ha_dir "$1")/run/gw.sock" ctl "${@:2}"; }

ha_keep_logs() {   # copies the nodes' logs to test-logs/ (they go with $TG_TMP)
	local n
	mkdir -p "$TIERGATE_BUILD/test-logs"
	for n in a b; do
		for f in gw.log keepalived.log notify.log conntrackd.log events.json; do
			[ -f "$(ha_dir $n)/$f" ] && cp "$(ha_dir $n)/$f" "$TIERGATE_BUILD/test-logs/${TG_SUITE:-ha}.gw-$n.$f"
		done
	done
	return 0
}

# --- the stream's gap at a failover -----------------------------------------------------------

# ha_capture_start PORT PCAP: tcpdump in the lgw host of the client->server packets of the stream
# from 10.30.0.30:PORT; sets HA_CAPTURE_PID.
ha_capture_start() {
	in_ns lgw tcpdump -i br0 -n -s 96 -U -w "$2" "src host 10.30.0.30 and tcp src port $1" \
		>"$2.log" 2>&1 </dev/null &
	HA_CAPTURE_PID=$!
	on_exit "kill $HA_CAPTURE_PID"
	wait_for 5 grep -q 'listening on' "$2.log"
}

ha_capture_stop() { kill "$HA_CAPTURE_PID" 2>/dev/null; wait "$HA_CAPTURE_PID" 2>/dev/null; }

# ha_stream_gap PCAP T0 [T1]: the longest silence (ms) of the captured stream that began between
# T0 - 1 s and T1 (the next failover; T0 + 15 s by default); -1 when the stream never sent again after T0.
ha_stream_gap() {
	tcpdump -r "$1" -n -tt 2>/dev/null | awk '{ print $1 }' | python3 -c '
import sys
t0 = float(sys.argv[1])
t1 = min(float(sys.argv[2]), t0 + 15) if len(sys.argv) > 2 and sys.argv[2] else t0 + 15
times = [float(x) for x in sys.stdin if x.strip()]
gaps = [b - a for a, b in zip(times, times[1:]) if t0 - 1 <= a < t1]
print("%d" % (max(gaps, default=0) * 1000) if any(t > t0 for t in times) else "-1")' "$2" "${3:-}"
}

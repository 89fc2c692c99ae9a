#!/usr/bin/env bash
# tiergate-gw as an active-standby pair (keepalived + conntrackd): the active node's gateway dies, an SSH session goes on, the standby decides what is new
set -u
: "${TIERGATE_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
TG_SUITE=demo-gw-ha
. "$TIERGATE_ROOT/tests/lib/harness.sh"
. "$ROOT/tests/netns/ha.sh"
if [ "$(id -u)" != 0 ]; then
	echo "skipped: the pair demo needs root (network namespaces, NFQUEUE)"
	exit 0
fi
say() { printf '\n== %s\n' "$*"; }
ha_setup >/dev/null
ssh-keygen -q -t ed25519 -N '' -f "$TG_TMP/id" && ssh-keygen -q -t ed25519 -N '' -f "$TG_TMP/hostkey" &&
	cp "$TG_TMP/id.pub" "$TG_TMP/authorized_keys" && mkdir -p /run/sshd
_bg lgw "$TG_TMP/sshd.log" /usr/sbin/sshd -D -e -f /dev/null -o ListenAddress=10.20.1.6:3389 \
	-o HostKey="$TG_TMP/hostkey" -o AuthorizedKeysFile="$TG_TMP/authorized_keys" \
	-o PermitRootLogin=yes -o StrictModes=no -o UsePAM=no -o PidFile=none >/dev/null
wait_for 5 _port_open lgw 10.20.1.6 3389 || { echo "sshd did not start"; exit 1; }

say "Two gateways, gw-a and gw-b, on the same zone segments; keepalived holds the zones' gateway addresses, conntrackd syncs over a link of its own (conf/ha/)"
ha_start_node a >/dev/null && wait_for 10 ha_has_vip a && ha_start_node b >/dev/null && wait_for 10 ha_told b backup ||
	{ echo "the pair did not come up"; exit 1; }
for n in a b; do
	printf '   gw-%s: %s\n' "$n" "$(ha_ctl "$n" stats | grep '^ha:')"
done
echo "   gw-a holds: $(ha_in a ip -4 -o addr show | awk '$2 != "lo" && $2 != "sync" && $4 ~ /\.1\// { printf "%s ", $4 }')"

say "An SSH session from the screen-transfer server to a staff PC on port 3389 (rule ha-test-streams of the demo's policy), through gw-a"
ssh_cmd dmz -b 10.30.0.30 -p 3389 10.20.1.6 'for i in $(seq 1 40); do date +"   staff PC says: %T"; sleep 0.5; done' \
	>"$TG_TMP/ssh.out" 2>&1 </dev/null &
SSH_PID=$!
on_exit "kill $SSH_PID"
sleep 3
tail -n 2 "$TG_TMP/ssh.out"
in_ns dmz nc -s 10.30.0.30 -w 2 10.20.1.6 22 </dev/null >/dev/null 2>&1   # a refused attempt, for the record
sleep 2

say "kill -9 of gw-a's tiergate-gw: keepalived's check fails, gw-b takes the addresses, its notify hook commits gw-a's flows"
t0=$(date +%s%N)
kill -9 "$HA_GW_PID_a"
wait "$HA_GW_PID_a" 2>/dev/null
wait_for 15 ha_has_vip b && echo "   gw-b holds the addresses after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
wait_for 10 ha_told b master
grep -E 'master:' "$(ha_dir b)/notify.log" | sed 's/^/   gw-b notify: /'
sleep 2
echo "   the SSH session goes on:"
tail -n 2 "$TG_TMP/ssh.out"

say "gw-b's ctl flows: the session arrived with its verdict (conntrack's connmark), gw-b never decided it"
ha_ctl b flows | grep -E '^# in the kernel|^kernel tcp 10.30.0.30 [0-9]+ 10.20.1.6' | sed 's/^/   /'

say "New flows are gw-b's to decide"
out=$(in_ns dmz nc -s 10.30.0.30 -w 2 10.20.1.6 3389 </dev/null 2>&1 | head -c 7)
echo "   screen-transfer -> staff PC 3389: ${out:-nothing}"
sleep 0.5
say "Both nodes' events together: every decision once, each with the node that made it"
python3 - "$(ha_dir a)/events.json" "$(ha_dir b)/events.json" <<'PY'
import json, sys
evs = []
for p in sys.argv[1:]:
    for line in open(p):
        ev = json.loads(line)
        if ev["event"] == "ha_state" or (ev["event"] == "flow" and ev.get("final")):
            evs.append(ev)
for ev in sorted(evs, key=lambda e: e["timestamp"]):
    if ev["event"] == "ha_state":
        print("   %s  %-5s ha_state %s (was %s)" % (ev["timestamp"][11:23], ev["node"], ev["state"], ev["previous_state"] or "-"))
    else:
        print("   %s  %-5s %-6s %s:%s -> %s:%s rule %s" % (ev["timestamp"][11:23], ev["node"], ev["verdict"].upper(),
              ev["src_ip"], ev["src_port"], ev["dst_ip"], ev["dst_port"], ev["rule"]))
PY
wait "$SSH_PID"
echo "   SSH session ended with status $? after $(grep -c 'staff PC says' "$TG_TMP/ssh.out") of 40 lines"
say "Namespaces torn down"

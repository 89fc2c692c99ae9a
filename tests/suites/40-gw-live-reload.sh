#!/usr/bin/env bash
# 40-gw-live-reload.sh -- SIGHUP and ctl reload under traffic (good file, broken file), flows cut by a new policy; gateway killed fail-closed and fail-open.
# tier: e2e
# timeout: 240
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/netns/lib.sh"
live_setup

mkdir -p "$TG_TMP/conf"
cp -r conf/alpha.conf conf/parts "$TG_TMP/conf/"
CONF="$TG_TMP/conf/alpha.conf"
# UDP flows idle out of the engine after 2 s (the kernel keeps forwarding them: offloaded).
sed -i 's/timeout_udp = 60;/timeout_udp = 2;/' "$TG_TMP/conf/parts/gateway.conf"
GOOD=$(cat "$CONF")
chmod -R a+rX "$TG_TMP/conf"

srv_sink lgw 10.20.1.5 3389 "$TG_TMP/ticks"
gw_start "$CONF" || exit 1

# A telework session (bridge -> staff PC 3389) that writes a line every 0.1 s, kept open.
# It opens with an RDP connection request (X.224 CR, as in pcap/make-fixtures.sh): the
# preset's telework-rdp accepts RDP only. The writer is bounded (60 s) so nothing outlives
# the suite even if a kill is missed.
(in_ns dmz sh -c 'printf "\003\000\000\023\016\340\000\000\000\000\000\001\000\010\000\003\000\000\000"; sleep 0.3
	for i in $(seq 1 600); do echo "tick $i"; sleep 0.1; done' |
	in_ns dmz socat -u STDIN "TCP:10.20.1.5:3389,bind=10.30.0.20" 2>/dev/null) &
SESSION=$!
on_exit "pkill -P $SESSION; kill $SESSION"
in_ns inet ping -i 0.05 -c 120 -W 1 10.30.0.10 >"$TG_TMP/ping.txt" 2>&1 &
PING=$!
sleep 1
ticks() { wc -l <"$TG_TMP/ticks"; }
t0=$(ticks)
[ "$t0" -gt 3 ] && pass "telework session flows ($t0 lines)" || fail "telework session flows" "$t0 lines"

# --- a broken file is refused, the old policy stays --------------------------------------
echo "this is not libconfig" >>"$CONF"
bad_line=$(wc -l <"$CONF")
kill -HUP "$GW_PID"
wait_for 5 grep -q 'reload refused' "$GW_LOG" && pass "SIGHUP with a broken file: reload refused" ||
	fail "SIGHUP with a broken file: reload refused" "$(tail -3 "$GW_LOG")"
check_grep "the log names file and line of the error" "alpha\.conf:$bad_line" "$GW_LOG"
sleep 0.5
t1=$(ticks)
sleep 0.5
[ "$(ticks)" -gt "$t1" ] && pass "old policy in force: the session still flows" || fail "old policy in force: the session still flows"
out=$(in_ns dmz nc -s 10.30.0.20 -w 2 10.20.1.5 3389 </dev/null; echo rc=$?)
echo "$out" | grep -q 'rc=0' && pass "old policy in force: a new telework connection opens" || fail "old policy: new connection" "$out"
out=$(gw_ctl reload 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "alpha.conf:$bad_line" && pass "ctl reload with a broken file: error with file:line" ||
	fail "ctl reload with a broken file" "$out"

# --- a good file that drops telework: verdicts change, the running session is cut --------
# (the drop needs no application: without app it is final at the first packet)
printf '%s\n' "$GOOD" | sed '/name = "telework-rdp"/,/action/ { s/ app = \[ "RDP" \];//; s/action = "accept"/action = "drop"/; }' >"$CONF"
grep -q 'action = "drop"; comment = "telework' "$CONF" || fail "test setup" "sed did not change the rule"
kill -HUP "$GW_PID"
wait_for 5 grep -q 'reloaded policy' "$GW_LOG" && pass "SIGHUP with a good file: reloaded" ||
	fail "SIGHUP with a good file: reloaded" "$(tail -3 "$GW_LOG")"
ev_has "the running session is cut and logged" flow_end src_ip=10.30.0.20 dst_ip=10.20.1.5 dst_port=3389 end_reason=cut
sleep 0.5
t2=$(ticks)
sleep 1
t3=$(ticks)
[ "$t3" = "$t2" ] && pass "cut session: no more data reaches the staff PC (connmark now drop)" ||
	fail "cut session stopped" "$t2 -> $t3 lines"
out=$(in_ns dmz nc -s 10.30.0.20 -w 2 10.20.1.5 3389 </dev/null; echo rc=$?)
echo "$out" | grep -q 'rc=0' && fail "new policy: new telework connection blocked" "it opened" ||
	pass "new policy: new telework connection blocked"
ev_has "new policy: event says telework-rdp drop" flow src_ip=10.30.0.20 dst_port=3389 rule=telework-rdp verdict=drop

# --- ctl reload back to the original -----------------------------------------------------
printf '%s\n' "$GOOD" >"$CONF"
out=$(gw_ctl reload 2>&1)
echo "$out" | grep -q '^reloaded policy' && pass "ctl reload: reloaded" || fail "ctl reload" "$out"
out=$(in_ns dmz nc -s 10.30.0.20 -w 2 10.20.1.5 3389 </dev/null; echo rc=$?)
echo "$out" | grep -q 'rc=0' && pass "after ctl reload: telework opens again" || fail "after ctl reload: telework opens again" "$out"

# --- a flow only the kernel still knows is cut too ------------------------------------
_bg lgw "$TG_TMP/ntp.log" socat -u UDP-RECV:123,bind=10.20.0.123 "OPEN:$TG_TMP/ntp,creat,append" >/dev/null
wait_for 5 _port_open lgw 10.20.0.123 123 udp
(in_ns myn sh -c 'for i in $(seq 1 150); do echo "ntp $i"; sleep 0.1; done' |
	in_ns myn socat -u STDIN UDP:10.20.0.123:123,bind=10.10.1.5:40123 2>/dev/null) &
NTP=$!
on_exit "pkill -P $NTP; kill $NTP"
ev_has "UDP NTP flow accepted and offloaded" flow src_ip=10.10.1.5 src_port=40123 rule=mynumber-ntp verdict=accept
wait_for 6 ev_find flow_end src_ip=10.10.1.5 src_port=40123 end_reason=timeout &&
	pass "the engine forgets it (flow_end timeout) while the kernel keeps it going" ||
	fail "engine forgets the offloaded UDP flow"
n1=$(wc -l <"$TG_TMP/ntp")
sleep 0.5
[ "$(wc -l <"$TG_TMP/ntp")" -gt "$n1" ] && pass "... and its packets still flow" || fail "offloaded UDP flow still flows"
printf '%s\n' "$GOOD" | sed '/name = "mynumber-ntp"/,/action/ s/action = "accept"/action = "drop"/' >"$CONF"
out=$(gw_ctl reload 2>&1)
echo "$out" | grep -q '(1 known only to the kernel)' && pass "reload cuts the flow only the kernel knew" ||
	fail "reload cuts the flow only the kernel knew" "$out"
check_grep "the log names the cut flow" 'offloaded flow 10\.10\.1\.5:40123 -> 10\.20\.0\.123:123 \(udp\) cut' "$GW_LOG"
sleep 0.3
n2=$(wc -l <"$TG_TMP/ntp")
sleep 1
[ "$(wc -l <"$TG_TMP/ntp")" = "$n2" ] && pass "no more NTP packets reach the server" || fail "cut UDP flow stopped"
printf '%s\n' "$GOOD" >"$CONF"
gw_ctl reload >/dev/null 2>&1

wait "$PING"
loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$TG_TMP/ping.txt")
[ "${loss%%.*}" -le 2 ] 2>/dev/null && pass "ping across three reloads: ${loss}% loss" || fail "ping across reloads" "${loss:-?}% loss"
drops=$(gw_kernel_drops)
[ "$drops" = "0 0" ] && pass "kernel queue drop counters stay zero" || fail "kernel queue drop counters" "$drops"

# --- every load and reload is an admin event: who (the kernel's uid), how, the file's SHA-256 ---
sha=$(sha256sum "$CONF" | cut -d' ' -f1)
ev_has "policy load at start is an admin event by root" admin action=policy_load via=start operator.uid=0 result=applied
ev_has "SIGHUP reload names its sender (uid 0) and the refusal" admin action=policy_reload via=SIGHUP operator.uid=0 \
	"result=refused; the old policy stays in force"
ev_has "SIGHUP reload applied" admin action=policy_reload via=SIGHUP result=applied
ev_has "ctl reload is attributed by SO_PEERCRED, with the file's SHA-256" admin action=policy_reload \
	"via=ctl reload" operator.uid=0 operator.name=root result=applied sha256="$sha"
check "the gateway's event file is an intact hash chain" "$BIN/tiergate-audit" verify "$GW_EVENTS"

# --- killed: fail-closed blocks new flows; fail-open lets them pass ------------------------
# With no gateway there is no event: what says the queue rule blocked a packet is that rule's
# own packet counter (and its lack of --queue-bypass), read before and after each attempt.
queue_rule_pkts() {
	ip netns exec "$GW_NS" iptables -w -L TIERGATE -v -x -n |
		awk '/NFQUEUE/ { s += $1; n++ } END { if (n) print s; else print "none" }'
}
gw_stop KILL
q0=$(queue_rule_pkts)
out=$(in_ns dmz nc -s 10.30.0.20 -w 2 10.20.1.5 3389 </dev/null; echo rc=$?)
q1=$(queue_rule_pkts)
echo "$out" | grep -q 'rc=0' && fail "gateway killed, fail-closed: new flows blocked" "a connection opened" ||
	pass "gateway killed, fail-closed: new flows blocked"
expect_fail "gateway killed, fail-closed: ping blocked" in_ns inet ping -c 1 -W 1 10.30.0.10
q2=$(queue_rule_pkts)
if [ "$q0" != none ] && [ "$q1" -gt "$q0" ] && [ "$q2" -gt "$q1" ] &&
	! ip netns exec "$GW_NS" iptables -S TIERGATE | grep -q -- '--queue-bypass'; then
	pass "fail-closed: both were taken by the queue rule (no --queue-bypass): its counter went $q0 -> $q1 -> $q2"
else
	fail "fail-closed: the queue rule took both" "counter $q0 -> $q1 -> $q2; rules: $(ip netns exec "$GW_NS" iptables -S TIERGATE | tr '\n' ' ')"
fi

sed -i 's/fail_open = false/fail_open = true/' "$TG_TMP/conf/parts/nfqueue.conf"
gw_start "$CONF" || exit 1
ip netns exec "$GW_NS" iptables -S TIERGATE | grep -q -- '--queue-bypass' && pass "fail-open: rule has --queue-bypass" ||
	fail "fail-open: rule has --queue-bypass"
check "fail-open: gateway up, ping passes" in_ns inet ping -c 1 -W 2 10.30.0.10
gw_stop KILL
out=$(in_ns dmz nc -s 10.30.0.20 -w 2 10.20.1.5 3389 </dev/null; echo rc=$?)
echo "$out" | grep -q 'rc=0' && pass "gateway killed, fail-open: new flows pass" || fail "gateway killed, fail-open: new flows pass" "$out"
gw_rules "$CONF" remove >/dev/null 2>&1

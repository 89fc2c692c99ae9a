#!/usr/bin/env bash
# 40-gw-live.sh -- tiergate-gw inline on NFQUEUE with conf/alpha.conf: real clients in zone namespaces, exactly what α allows passes.
# tier: e2e
# timeout: 240
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/netns/lib.sh"
live_setup

# --- rules: own chain only, idempotent, removal leaves no trace ---------------------------
ip netns exec "$GW_NS" iptables -A FORWARD -s 192.0.2.99 -j DROP   # somebody else's rule
before=$(ip netns exec "$GW_NS" iptables-save | grep -v '^#' | sed 's/\[[0-9:]*\]//')
gw_rules conf/alpha.conf install >/dev/null 2>&1
gw_rules conf/alpha.conf install >/dev/null 2>&1
n=$(ip netns exec "$GW_NS" iptables -S FORWARD | grep -c -- '-j TIERGATE')
[ "$n" = 1 ] && pass "install-rules twice: one jump" || fail "install-rules twice: one jump" "$n jumps"
ip netns exec "$GW_NS" iptables -S TIERGATE | grep -q -- '-j NFQUEUE --queue-balance 0:1' &&
	pass "install-rules: queue rule from nfqueue.conf" || fail "install-rules: queue rule from nfqueue.conf"
gw_rules conf/alpha.conf remove >/dev/null 2>&1
after=$(ip netns exec "$GW_NS" iptables-save | grep -v '^#' | sed 's/\[[0-9:]*\]//')
# (each listing must itself have worked: an empty one would show "no trace" too)
after6=$(ip netns exec "$GW_NS" ip6tables-save) && [ -n "$after6" ] && [ -n "$after" ] &&
	echo "$after" | grep -q -- '-A FORWARD -s 192.0.2.99/32 -j DROP' &&
	[ "$before" = "$after" ] && ! echo "$after6" | grep -q TIERGATE &&
	pass "remove-rules leaves no trace (others' rules kept)" || fail "remove-rules leaves no trace"
check "remove-rules again is a no-op" gw_rules conf/alpha.conf remove

# --- servers ----------------------------------------------------------------------------
srv_tls lgw 10.20.5.10 443 && srv_http lgw 10.20.5.10 80 && srv_http lgw 10.20.2.10 80 &&
	srv_dns lgw 10.20.0.53 && srv_smtp dmz 10.30.0.10 && srv_sshd dmz 10.30.0.30 &&
	srv_tcp lgw 10.20.1.5 3389 && srv_http inet 198.51.100.10 80 && srv_http inet 198.51.100.10 8080 ||
	{ fail "servers" "a server did not start"; exit 1; }
dd if=/dev/urandom of="$TG_TMP/www/big.bin" bs=1M count=8 status=none

gw_start conf/alpha.conf || exit 1

# --- start-up: privileges and clear errors ------------------------------------------------
status=$(cat "/proc/$(pgrep -P "$GW_PID" -x tiergate-gw || echo "$GW_PID")/status" 2>/dev/null)
echo "$status" | grep -Eq '^Uid:\s+65534\s' && echo "$status" | grep -Eq '^CapEff:\s+0+1000$' &&
	pass "runs as nobody with CAP_NET_ADMIN only" ||
	fail "runs as nobody with CAP_NET_ADMIN only" "$(echo "$status" | grep -E '^(Uid|CapEff)')"
out=$(ip netns exec "$GW_NS" timeout 5 "$BIN/tiergate-gw" --config conf/alpha.conf --events /dev/null --ctl-socket "$TG_TMP/x.sock" \
	--user nobody --metrics 127.0.0.1:9751 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q 'already bound' && pass "second gateway: queue already bound (EPERM) explained" ||
	fail "second gateway: queue already bound (EPERM) explained" "$out"
out=$(ip netns exec "$GW_NS" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$BIN/tiergate-gw" --config conf/alpha.conf 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q 'needs CAP_NET_ADMIN' && pass "no permission explained" ||
	fail "no permission explained" "$out"

# --- mynumber: the intermediate server over TLS, DNS; nothing else --------------------------
check "mynumber -> intermediate TLS 443 passes (curl)" in_ns myn curl -skf --max-time 5 https://10.20.5.10/
ev_has "event: TLS to intermediate accepted by its rule" flow src_ip=10.10.1.5 dst_ip=10.20.5.10 dst_port=443 \
	rule=mynumber-to-intermediate app=TLS verdict=accept final=true
expect_fail "mynumber -> intermediate HTTP 80 blocked (curl)" in_ns myn curl -sf --max-time 2 http://10.20.5.10/
ev_has "event: HTTP to intermediate dropped by default" flow src_ip=10.10.1.5 dst_ip=10.20.5.10 dst_port=80 \
	rule=default verdict=drop final=true
expect_fail "mynumber -> internet web blocked (curl)" in_ns myn curl -sf --max-time 2 http://198.51.100.10/
ev_has "event: mynumber -> internet dropped by the invariant" flow src_ip=10.10.1.5 dst_ip=198.51.100.10 dst_port=80 \
	src_zone=mynumber dst_zone=internet rule=invariant:mynumber-internet verdict=drop
out=$(in_ns myn dig +short +time=2 +tries=1 @10.20.0.53 intermediate.lgwan.test)
[ "$out" = 10.20.5.10 ] && pass "mynumber -> LGWAN DNS passes (dig)" || fail "mynumber -> LGWAN DNS passes (dig)" "got '$out'"
ev_has "event: DNS accepted as app DNS" flow dst_ip=10.20.0.53 dst_port=53 app=DNS rule=mynumber-dns verdict=accept

# --- internet: mail to the sanitizer only; LGWAN refused at once ----------------------------
check "internet -> mail sanitizer SMTP passes (swaks)" in_ns inet swaks --server 10.30.0.10 --timeout 5 \
	--from a@example.test --to b@hokuto.test --helo mx.example.test --body "test"
ev_has "event: SMTP accepted as app SMTP" flow dst_ip=10.30.0.10 dst_port=25 app=SMTP rule=internet-mail-in verdict=accept
start=$(date +%s%N)
out=$(in_ns inet curl -sS --max-time 5 http://10.20.2.10/ 2>&1)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "$out" | grep -Eq "Couldn't connect|Connection refused" && [ "$ms" -lt 1000 ] &&
	pass "internet -> LGWAN rejected at once with RST (curl: refused in ${ms} ms)" ||
	fail "internet -> LGWAN rejected at once with RST" "${ms} ms: $out"
ev_has "event: internet -> LGWAN HTTP rejected by its rule" flow dst_ip=10.20.2.10 dst_port=80 \
	src_zone=internet rule=internet-to-lgwan-refused verdict=reject
ev_has "event: reject answered with tcp-rst" reject dst_ip=10.20.2.10 dst_port=80 sent=tcp-rst
check "internet -> DMZ ping passes" in_ns inet ping -c 2 -i 0.2 -W 2 10.30.0.10
start=$(date +%s%N)
expect_fail "internet -> LGWAN ping refused" in_ns inet ping -c 1 -W 3 10.20.2.10
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 2000 ] && pass "internet -> LGWAN ping answered by ICMP unreachable (${ms} ms)" ||
	fail "internet -> LGWAN ping answered by ICMP unreachable" "took ${ms} ms"
ev_has "event: internet -> LGWAN ping rejected by its rule" flow dst_ip=10.20.2.10 proto=ICMP \
	rule=internet-to-lgwan-refused verdict=reject
ev_has "event: ... answered with icmp-unreachable" reject dst_ip=10.20.2.10 proto=ICMP sent=icmp-unreachable

# --- lgwan / dmz ------------------------------------------------------------------------
out=$(ssh_cmd lgw 10.30.0.30 true 2>&1)
echo "$out" | grep -q 'Connection refused' && pass "lgwan -> DMZ ssh refused (ssh: Connection refused)" ||
	fail "lgwan -> DMZ ssh refused" "$out"
ev_has "event: lgwan -> DMZ ssh rejected by its rule" flow src_zone=lgwan dst_ip=10.30.0.30 dst_port=22 \
	rule=lgwan-ssh-refused verdict=reject
out=$(ssh_cmd lgw -b fd00:20::15 fd00:30::10 true 2>&1)
echo "$out" | grep -q 'Connection refused' && pass "lgwan -> DMZ ssh over IPv6 refused (RST over IPv6)" ||
	fail "lgwan -> DMZ ssh over IPv6 refused" "$out"
ev_has "event: ... over IPv6 too, by the same rule" flow src_ip=fd00:20::15 dst_ip=fd00:30::10 dst_port=22 \
	rule=lgwan-ssh-refused verdict=reject
ev_has "event: ... answered with tcp-rst over IPv6" reject dst_ip=fd00:30::10 dst_port=22 sent=tcp-rst
out=$(in_ns dmz nc -s 10.30.0.20 -w 3 10.20.1.5 3389 </dev/null)
[ "$out" = hello ] && pass "bridge -> staff PC 3389 passes (nc)" || fail "bridge -> staff PC 3389 passes (nc)" "got '$out'"
out=$(in_ns dmz nc -s 10.30.0.10 -w 2 10.20.1.5 3389 </dev/null)
[ -z "$out" ] && pass "mail sanitizer -> staff PC 3389 blocked (nc)" || fail "mail sanitizer -> staff PC 3389 blocked" "got '$out'"
ev_has "event: mail sanitizer -> staff PC dropped by default" flow src_ip=10.30.0.10 dst_ip=10.20.1.5 dst_port=3389 \
	rule=default verdict=drop
check "screen transfer -> internet web passes (curl)" in_ns dmz curl -sf --max-time 5 --interface 10.30.0.30 http://198.51.100.10/
expect_fail "mail sanitizer -> internet web blocked (curl)" in_ns dmz curl -sf --max-time 2 --interface 10.30.0.10 http://198.51.100.10/
ev_has "event: mail sanitizer -> internet web dropped by default" flow src_ip=10.30.0.10 dst_ip=198.51.100.10 \
	dst_port=80 rule=default verdict=drop
expect_fail "screen transfer -> internet port 8080 blocked (curl)" in_ns dmz curl -sf --max-time 2 --interface 10.30.0.30 http://198.51.100.10:8080/
ev_has "event: screen transfer -> internet 8080 dropped by default" flow src_ip=10.30.0.30 dst_ip=198.51.100.10 \
	dst_port=8080 rule=default verdict=drop

# --- offload: a decided flow continues in the kernel ------------------------------------------
before=$(gw_ctl stats | awk '/^queue/ { s += $3 } END { print s }')
check "8 MB download through the gateway" in_ns dmz curl -sf --max-time 20 --interface 10.30.0.30 -o /dev/null http://198.51.100.10/big.bin
after=$(gw_ctl stats | awk '/^queue/ { s += $3 } END { print s }')
[ $((after - before)) -lt 100 ] && pass "offload: 8 MB flow cost $((after - before)) queued packets" ||
	fail "offload: decided flow leaves the queue" "$((after - before)) packets queued"

# --- control socket, metrics, kernel counters ----------------------------------------------
gw_ctl stats >"$TG_TMP/stats.txt" 2>&1
check_grep "ctl stats: per-queue counters" '^queue [01]: [0-9]+ packets' "$TG_TMP/stats.txt"
check_grep "ctl stats: the kernel's queue counters, read after the privilege drop" '^  kernel:  queue_dropped 0 user_dropped 0' "$TG_TMP/stats.txt"
gw_ctl flows >"$TG_TMP/flows.txt" 2>&1
check_grep "ctl flows: the TLS flow with zones and rule" '10\.10\.1\.5 [0-9]+ 10\.20\.5\.10 443 mynumber lgwan TLS mynumber-to-intermediate accept' "$TG_TMP/flows.txt"
ip netns exec "$GW_NS" curl -sf --max-time 3 http://127.0.0.1:9750/metrics >"$TG_TMP/metrics.txt"
check_grep "metrics: Prometheus text on 127.0.0.1:9750" '^tiergate_gw_verdicts_total\{queue="[01]",verdict="reject"\} [1-9]' "$TG_TMP/metrics.txt"
drops=$(gw_kernel_drops)
[ "$drops" = "0 0" ] && pass "kernel queue drop counters stay zero" || fail "kernel queue drop counters stay zero" "$drops"
gw_stop
check_grep "shutdown: flows end with end_reason shutdown" '"end_reason":"shutdown"' "$GW_EVENTS"

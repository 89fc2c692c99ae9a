#!/usr/bin/env bash
# 41-gw-live-asp.sh -- asp:passed live: an ASP whose check fails (or whose pass runs out) is cut while a TLS session is open; exception events.
# tier: e2e
# timeout: 180
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/netns/lib.sh"
live_setup

# The α preset, with the ASP state file the bridge's root side would write, and one written
# exception (the gateway logs it at start and at every reload).
mkdir -p "$TG_TMP/conf/bridge"
cp -r conf/alpha.conf conf/parts "$TG_TMP/conf/"
CONF="$TG_TMP/conf/alpha.conf"
STATE="$TG_TMP/conf/bridge/asp-state.json"
sed -i 's/max_result_age = 172800;/max_result_age = 60;/' "$TG_TMP/conf/parts/bridge.conf"
grep -q 'max_result_age = 60;' "$TG_TMP/conf/parts/bridge.conf" || fail "test setup" "max_result_age not set"
sed -i '/name = "mynumber-ntp"/,/action/ s/action = "accept"; },/action = "accept";\n    exception = { reason = "legacy NTP client"; approved_by = "CISO Tanaka"; until = "2099-03-31"; }; },/' "$CONF"
grep -q 'approved_by = "CISO Tanaka"' "$CONF" || fail "test setup" "exception not added"

# state KINTAI_PASSED AGE: the state file as the bridge writes it (atomically: new file, rename).
state() {
	printf '{"service":"kintai","passed":%s,"reason":"%s","tls_version":"TLSv1.3","cipher":"TLS_AES_128_GCM_SHA256","days_left":300,"checked_at":"x","checked_at_epoch":%s}\n' \
		"$1" "$([ "$1" = true ] || echo 'certificate expired')" "$(($(date +%s) - $2))" >"$STATE.tmp"
	chmod 644 "$STATE.tmp"
	mv "$STATE.tmp" "$STATE"
}
state true 0
chmod -R a+rX "$TG_TMP/conf"
check "the site with the state file loads" "$BIN/tiergate-policy" check "$CONF"

# The ASP: a TLS server (one process per session) that logs what each session sends.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=kintai.asp.test" -days 2 \
	-keyout "$TG_TMP/asp.key" -out "$TG_TMP/asp.pem" >/dev/null 2>&1
_bg asp "$TG_TMP/asp-server.log" socat -u "OPENSSL-LISTEN:443,bind=10.40.1.10,reuseaddr,fork,cert=$TG_TMP/asp.pem,key=$TG_TMP/asp.key,verify=0" \
	"OPEN:$TG_TMP/asp.log,creat,append"
wait_for 5 _port_open asp 10.40.1.10 443 || { fail "asp server" "not listening"; exit 1; }
gw_start "$CONF" || exit 1
ev_has "at start: an event for the written exception" policy_exception rule=mynumber-ntp \
	approved_by="CISO Tanaka" until=2099-03-31
logcount() { grep -c -- "$1" "$GW_LOG"; }
[ "$(logcount 'passed their check (asp:passed): kintai')" = 1 ] && pass "the log names the ASPs that passed" ||
	fail "the log names the ASPs that passed" "$(grep asp: "$GW_LOG")"

ticks() { grep -c '^tick' "$TG_TMP/asp.log" 2>/dev/null; }
# session: a TLS session from the LGWAN staff PC to the ASP writing "tick" every 0.1 s (bounded: 40 s).
session() {
	(in_ns lgw sh -c 'for i in $(seq 1 400); do echo "tick $i"; sleep 0.1; done' |
		in_ns lgw socat -u STDIN OPENSSL:10.40.1.10:443,verify=0 2>/dev/null) &
	SESSION=$!
	on_exit "pkill -P $SESSION; kill $SESSION"
}
grows() {   # grows SECONDS: the ASP received more ticks after that long
	local a b
	a=$(ticks)
	sleep "$1"
	b=$(ticks)
	[ "$b" -gt "$a" ]
}
# opens: a new TLS session to the ASP completes (bounded)
opens() { in_ns lgw timeout 4 socat -u /dev/null OPENSSL:10.40.1.10:443,verify=0,connect-timeout=3 2>/dev/null; }

# --- passed: the session flows ---------------------------------------------------------------
session
sleep 1.5
[ "$(ticks)" -gt 3 ] && pass "ASP passed: the TLS session flows ($(ticks) lines)" || fail "ASP passed: session flows" "$(ticks) lines"
ev_has "its flow is accepted by lgwan-to-asp as TLS" flow src_ip=10.20.1.5 dst_ip=10.40.1.10 dst_port=443 \
	app=TLS rule=lgwan-to-asp verdict=accept

# --- the check fails: the open session is cut at once, no new one opens -----------------------
state false 0
wait_for 5 grep -q 'asp-state.json: the file changed; reloading' "$GW_LOG" && pass "the gateway sees the state file change" ||
	fail "the gateway sees the state file change" "$(tail -3 "$GW_LOG")"
wait_for 5 grep -q 'passed their check (asp:passed): none' "$GW_LOG" &&
	pass "reloaded: no ASP passed now" || fail "reloaded: no ASP passed now" "$(tail -3 "$GW_LOG")"
ev_has "the open session is cut and logged" flow_end src_ip=10.20.1.5 dst_ip=10.40.1.10 end_reason=cut
sleep 0.5
grows 1 && fail "cut session: no more data reaches the ASP" "still growing" ||
	pass "cut session: no more data reaches the ASP"
n=$(grep -c '"event":"policy_exception"' "$GW_EVENTS")
[ "$n" -ge 2 ] && pass "the exception is announced again at the reload ($n events)" ||
	fail "the exception is announced again at the reload" "$n events"
opens && fail "a new session to the failed ASP does not open" "it opened" ||
	pass "a new session to the failed ASP does not open"
ev_has "... dropped by the default (lgwan-to-asp names only ASPs that passed)" flow src_ip=10.20.1.5 \
	dst_ip=10.40.1.10 rule=default verdict=drop

# --- passed again, then the pass runs out (max_result_age 60 s, checked 52 s ago) -------------
state true 52
kintai_twice() { [ "$(logcount 'passed their check (asp:passed): kintai')" = 2 ]; }
wait_for 5 kintai_twice &&
	pass "passed again: reloaded with kintai" || fail "passed again: reloaded with kintai" "$(tail -3 "$GW_LOG")"
session
sleep 1
grows 0.5 && pass "a new session flows again" || fail "a new session flows again"
wait_for 12 grep -q 'a pass ran out (asp.max_result_age); reloading' "$GW_LOG" &&
	pass "the pass runs out: the gateway reloads by itself" || fail "the pass runs out: reload" "$(tail -3 "$GW_LOG")"
sleep 1
grows 1 && fail "expired pass: the session is cut" "still growing" || pass "expired pass: the session is cut"
n=$(grep -c '"event":"flow_end".*"dst_ip":"10.40.1.10".*"end_reason":"cut"' "$GW_EVENTS")
[ "$n" -ge 2 ] && pass "both sessions ended as cut ($n)" || fail "both sessions ended as cut" "$n"

# --- a state file others may write is not believed ---------------------------------------------
state true 0
chmod 666 "$STATE"
wait_for 5 grep -q 'writable by its owner only' "$GW_LOG" && pass "a world-writable state file: warned, no ASP counts" ||
	fail "world-writable state file" "$(tail -3 "$GW_LOG")"
opens && fail "... and the ASP stays unreachable" "it opened" || pass "... and the ASP stays unreachable"
drops=$(gw_kernel_drops)
[ "$drops" = "0 0" ] && pass "kernel queue drop counters stay zero" || fail "kernel queue drop counters" "$drops"

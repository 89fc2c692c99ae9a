#!/usr/bin/env bash
# 30-gw-engine.sh -- the gateway engine's unit tests, tiergate-gw --pcap's error handling and outputs, the decode fuzz corpus.
# tier: unit
# timeout: 180
. "$(dirname "$0")/../lib/harness.sh"

GW="$BIN/tiergate-gw"
# The α preset with the ASP "kintai" passed just now (lgwan-to-asp reaches only ASPs that passed).
mkdir -p "$TG_TMP/site/bridge"
cp -r conf/alpha.conf conf/parts "$TG_TMP/site/"
printf '{"service":"kintai","passed":true,"reason":"","checked_at_epoch":%s}\n' "$(date +%s)" \
	>"$TG_TMP/site/bridge/asp-state.json"
CONF="$TG_TMP/site/alpha.conf"

run_unit test_gw
fuzz_replay decode

if [ ! -x "$GW" ]; then
	fail tiergate-gw "not built: $GW (run make)"
	exit 1
fi

# expect_message NAME PATTERN CMD...: CMD must fail (exit 1, not a crash) and say PATTERN on stderr.
expect_message() {
	local name=$1 pattern=$2 rc
	shift 2
	"$@" >"$TG_TMP/out" 2>"$TG_TMP/err"
	rc=$?
	if [ $rc -ne 1 ]; then
		fail "$name" "exit $rc (want 1) from: $*"
		sed 's/^/  | /' "$TG_TMP/err" | tail -n 5
	elif ! grep -Eq -- "$pattern" "$TG_TMP/err"; then
		fail "$name" "stderr does not say /$pattern/"
		sed 's/^/  | /' "$TG_TMP/err" | tail -n 5
	else
		pass "$name"
	fi
}

expect_message "pcap-missing-file" "nonexistent.pcap: No such file" \
	"$GW" --pcap "$TG_TMP/nonexistent.pcap" --config $CONF
expect_message "pcap-not-a-capture" "not-a-pcap.pcap: not a readable pcap" \
	"$GW" --pcap pcap/not-a-pcap.pcap --config $CONF
expect_message "pcap-truncated-file" "truncated-file.pcap: after [0-9]+ packets: .*truncated" \
	"$GW" --pcap pcap/truncated-file.pcap --config $CONF
expect_message "pcap-directory" "is a directory" "$GW" --pcap pcap --config $CONF
: >"$TG_TMP/empty.pcap"
expect_message "pcap-empty-file" "empty.pcap: not a readable" "$GW" --pcap "$TG_TMP/empty.pcap" --config $CONF
printf 'model = "alpha";\nzones = ( { name = "x" ; } ' >"$TG_TMP/broken.conf"
expect_message "pcap-broken-config" "broken.conf:[0-9]+" \
	"$GW" --pcap pcap/ping-internet-dmz.pcap --config "$TG_TMP/broken.conf"
if "$GW" --pcap pcap/ping-internet-dmz.pcap >/dev/null 2>"$TG_TMP/err"; then
	fail "pcap-usage" "no --config accepted"
else
	[ $? -eq 2 ] && grep -q "usage:" "$TG_TMP/err" && pass "pcap-usage" || fail "pcap-usage" "want exit 2 and usage"
fi

# A truncated file still reports the flows it saw before the damage.
"$GW" --pcap pcap/truncated-file.pcap --config $CONF --events "$TG_TMP/trunc.json" 2>/dev/null
check_grep "pcap-truncated-keeps-events" '"event":"flow_end".*"end_reason":"shutdown"' "$TG_TMP/trunc.json"

# --write-accepted holds exactly the packets the gateway lets through.
accepted_count() {   # PCAP -> packets in the accepted output
	rm -f "$TG_TMP/acc.pcap" "$TG_TMP/acc.txt"
	# (tcpdump must read the file: an unreadable one would count as "0 packets accepted")
	"$GW" --pcap "$1" --config $CONF --write-accepted "$TG_TMP/acc.pcap" --events "$TG_TMP/acc.json" &&
	tcpdump -nr "$TG_TMP/acc.pcap" >"$TG_TMP/acc.txt" 2>/dev/null && wc -l <"$TG_TMP/acc.txt"
}
n=$(accepted_count pcap/tls-lgwan-asp.pcap)
[ "$n" = 18 ] && pass "write-accepted-all-of-accepted-flow" || fail "write-accepted-all-of-accepted-flow" "got $n of 18"
n=$(accepted_count pcap/ssh-on-443.pcap)
[ "$n" = 3 ] && pass "write-accepted-stops-at-mid-flow-drop" || fail "write-accepted-stops-at-mid-flow-drop" "got $n, want the 3 handshake packets"
n=$(accepted_count pcap/telnet-internet-lgwan.pcap)
[ "$n" = 0 ] && pass "write-accepted-none-of-rejected" || fail "write-accepted-none-of-rejected" "got $n"
n=$(accepted_count pcap/frag-ping-internet-dmz.pcap)
[ "$n" = 12 ] && pass "write-accepted-keeps-fragments" || fail "write-accepted-keeps-fragments" "got $n of 12"
if "$GW" --pcap pcap/ping-internet-dmz.pcap --pcap pcap/ping-internet-lgwan.pcap --config $CONF \
	--write-accepted "$TG_TMP/x.pcap" 2>"$TG_TMP/err"; then
	fail "write-accepted-one-pcap-only" "two --pcap with --write-accepted accepted"
else
	[ $? -eq 2 ] && grep -q "usage:" "$TG_TMP/err" && pass "write-accepted-one-pcap-only" ||
		fail "write-accepted-one-pcap-only" "want exit 2 and usage"
fi

# Every flow ends exactly once; a replay of one file replaces its event file.
"$GW" --pcap pcap/dns-mynumber-lgwan.pcap --config $CONF --events "$TG_TMP/dns.json"
"$GW" --pcap pcap/dns-mynumber-lgwan.pcap --config $CONF --events "$TG_TMP/dns.json"
flows=$(grep -c '"event":"flow",' "$TG_TMP/dns.json")
ends=$(grep -c '"event":"flow_end"' "$TG_TMP/dns.json")
[ "$flows" = 2 ] && [ "$ends" = 2 ] && pass "pcap-flow-end-once-per-flow" ||
	fail "pcap-flow-end-once-per-flow" "flows=$flows flow_end=$ends (want 2 and 2)"

# --stats is a readable summary with the numbers an admin asks for.
"$GW" --pcap pcap/ssh-on-443.pcap --config $CONF --stats >"$TG_TMP/stats" 2>&1
check_grep "stats-packets" '^packets +42 read' "$TG_TMP/stats"
check_grep "stats-zone-pair" "^  dmz +internet +0 +1 +0 +0" "$TG_TMP/stats"
check_grep "stats-memory-per-flow" '^memory +[0-9]+ B per flow entry' "$TG_TMP/stats"
check_grep "stats-verdict-change" '1 changed verdict' "$TG_TMP/stats"

# Time follows the capture: a flow idle past its timeout in capture time (the second file was
# captured minutes later) ends as "timeout", not "shutdown".
cp -r conf/parts "$TG_TMP/parts"
grep -v '^@include "parts/gateway.conf"' $CONF >"$TG_TMP/short.conf"
echo 'gateway = { timeout_icmp = 1; };' >>"$TG_TMP/short.conf"
"$GW" --pcap pcap/ping-internet-dmz.pcap --pcap pcap/tls6-staff-web.pcap --config "$TG_TMP/short.conf" \
	--events "$TG_TMP/to.json" 2>"$TG_TMP/err"
check_grep "pcap-timeout-on-capture-time" '"dst_ip":"10.30.0.20".*"end_reason":"timeout"' "$TG_TMP/to.json"

# Files given out of time order: a flow of the earlier capture is not cut by the later one's clock.
"$GW" --pcap pcap/ssh-on-443.pcap --pcap pcap/tls-lgwan-asp.pcap --config $CONF --events "$TG_TMP/order.json"
check_grep "pcap-files-out-of-order" '"event":"flow_end".*"dst_ip":"10.40.1.10".*"pkts_toserver":9,"pkts_toclient":9' \
	"$TG_TMP/order.json"

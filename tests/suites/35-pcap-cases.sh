#!/usr/bin/env bash
# 35-pcap-cases.sh -- the project's own pcap cases (tests/pcap/*/case.conf) run through tiergate-verify, one line per case.
# tier: e2e
# timeout: 600
. "$(dirname "$0")/../lib/harness.sh"

V="$BIN/tiergate-verify"
if [ ! -x "$V" ] || [ ! -x "$BIN/tiergate-gw" ]; then
	fail pcap-cases "not built: $V and $BIN/tiergate-gw (run make)"
	exit 1
fi
if [ -z "$(find tests/pcap -name case.conf 2>/dev/null | head -n 1)" ]; then
	fail pcap-cases "no cases in tests/pcap/ (folders with case.conf): nothing was verified"
	exit 1
fi

"$V" --junit "$TG_TMP/pcap-cases.xml" tests/pcap >"$TG_TMP/out" 2>&1
status=$?

# Each case line becomes this suite's ok/FAIL line; the explanation lines under a
# FAIL line (indented) follow it, so run.sh shows them.
while IFS= read -r line; do
	case "$line" in
	"PASS "*) pass "pcap-case ${line#PASS }" ;;
	"FAIL "*) echo "FAIL pcap-case ${line#FAIL }" ;;
	"  "*) echo "$line" ;;
	esac
done <"$TG_TMP/out"

# Every case gave its line: a run that stopped early must not look like fewer cases.
ncases=$(find tests/pcap -name case.conf | wc -l)
nlines=$(grep -cE '^(PASS|FAIL) ' "$TG_TMP/out")
[ "$nlines" = "$ncases" ] && pass "pcap-cases: a line for each of the $ncases cases" ||
	fail "pcap-cases: a line for each case" "$nlines PASS/FAIL lines for $ncases case.conf files"

summary=$(tail -n 1 "$TG_TMP/out")
case "$status" in
0|1) echo "# $summary" ;;
*) fail pcap-cases "tiergate-verify could not run the cases (exit $status): $(head -n 3 "$TG_TMP/out" | tr '\n' ' ')" ;;
esac
if xmllint --noout "$TG_TMP/pcap-cases.xml" 2>"$TG_TMP/xml.err"; then
	pass "pcap-cases junit report parses"
else
	fail "pcap-cases junit report parses" "$(head -n 3 "$TG_TMP/xml.err")"
fi

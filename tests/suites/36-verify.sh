#!/usr/bin/env bash
# 36-verify.sh -- tiergate-verify itself: cases that must fail say why, JUnit parses, --update, --policy, usage.
# tier: e2e
# timeout: 300
. "$(dirname "$0")/../lib/harness.sh"

V="$BIN/tiergate-verify"
FAKE="$ROOT/tests/verify/fake-gw.sh"
W="$TG_TMP/w"
if [ ! -x "$V" ] || [ ! -x "$BIN/tiergate-gw" ]; then
	fail verify "not built: $V and $BIN/tiergate-gw (run make)"
	exit 1
fi

# The layout tests/verify/README.md describes: policy, pcap, then the case groups.
mkdir -p "$W/conf" "$W/pcap"
cp -r conf/alpha.conf conf/parts "$W/conf/"
cp -r tests/verify/pass tests/verify/must-fail tests/verify/fake tests/verify/update "$W/"
python3 tests/verify/mkpcap.py "$W/pcap/synthetic.pcap" || { fail verify "mkpcap.py failed"; exit 1; }

# run NAME ARGS...: runs tiergate-verify, output in $TG_TMP/NAME.out, status in $rc.
run() {
	local name=$1
	shift
	"$V" "$@" >"$TG_TMP/$name.out" 2>&1
	rc=$?
}

# expect_case_fails GROUP CASE [ARGS]: exit 1 and a FAIL line matching the case's expect file.
expect_case_fails() {
	local group=$1 c=$2 want
	shift 2
	want=$(cat "$W/$group/$c/expect")
	run "$c" "$@" "$W/$group/$c"
	if [ "$rc" -ne 1 ]; then
		fail "$group/$c fails" "exit $rc, wanted 1"
		sed 's/^/  | /' "$TG_TMP/$c.out" | head -n 10
	elif grep -Eq -- "^FAIL $c: .*$want" "$TG_TMP/$c.out"; then
		pass "$group/$c fails with its message: $(grep -Eo -- "$want" "$TG_TMP/$c.out" | head -n 1 |
			sed "s|$W/||g" | cut -c1-100)"
	else
		fail "$group/$c fails with the expected message" "no line /^FAIL $c: .*$want/"
		sed 's/^/  | /' "$TG_TMP/$c.out" | head -n 10
	fi
}

# --- a suite that must pass -------------------------------------------------
run pass "$W/pass"
if [ "$rc" -eq 0 ] && grep -q '^PASS alpha-synthetic (7 checks)$' "$TG_TMP/pass.out"; then
	pass "pass/alpha-synthetic passes (7 checks)"
else
	fail "pass/alpha-synthetic passes" "exit $rc"
	sed 's/^/  | /' "$TG_TMP/pass.out" | head -n 20
fi

# --- cases that must fail, each with its own clear message --------------------
for dir in "$W"/must-fail/*/; do
	expect_case_fails must-fail "$(basename "$dir")"
done
for dir in "$W"/fake/*/; do
	expect_case_fails fake "$(basename "$dir")" --gw "$FAKE" --timeout 1
done

# A failing case does not stop the others; one line per case, in order, and a summary.
run all -j 3 "$W/pass" "$W/must-fail"
npass=$(grep -c '^PASS ' "$TG_TMP/all.out")
nfail=$(grep -c '^FAIL ' "$TG_TMP/all.out")
nmust=$(ls -d "$W"/must-fail/*/ | wc -l)
if [ "$rc" -eq 1 ] && [ "$npass" -eq 1 ] && [ "$nfail" -eq "$nmust" ] &&
	grep -q "^$((nmust + 1)) cases: 1 passed, $nmust failed" "$TG_TMP/all.out"; then
	pass "mixed run: 1 PASS and $nmust FAIL lines and the summary, exit 1"
else
	fail "mixed run" "exit $rc, $npass PASS, $nfail FAIL lines (wanted 1, $nmust)"
	tail -n 5 "$TG_TMP/all.out" | sed 's/^/  | /'
fi
run serial -j 1 "$W/pass" "$W/must-fail"
if [ "$rc" = 1 ] && [ "$(grep -cE '^(PASS|FAIL) ' "$TG_TMP/serial.out")" -eq "$((nmust + 1))" ] && diff <(grep -E '^(PASS|FAIL) ' "$TG_TMP/all.out" | sed 's/tiergate-verify\.[A-Za-z0-9]*/WORK/g') \
	<(grep -E '^(PASS|FAIL) ' "$TG_TMP/serial.out" | sed 's/tiergate-verify\.[A-Za-z0-9]*/WORK/g') >/dev/null; then
	pass "-j 1 and -j 3 report the same lines in the same order"
else
	fail "-j 1 and -j 3 report the same lines in the same order"
fi

# Explanations: the rule, app and packet of the offending event, and its flow's other events.
check_grep "wrong verdict names rule, app and packet" \
	'expected verdict=drop, got verdict=accept \(verdict=accept rule=internet-telework app=null at packet 1 of synthetic.pcap\)' \
	"$TG_TMP/wrong-expectation.out"
check_grep "wrong verdict shows the flow's other events" 'flow_end TCP 203.0.113.5:40001 -> 10.30.0.20:8443' \
	"$TG_TMP/wrong-expectation.out"
check_grep "no match shows the nearest event and the field that differs" \
	'packet 1 of synthetic.pcap: dst_port=8443 -- flow TCP 203.0.113.5:40001' "$TG_TMP/no-match.out"
check_grep "broken policy shows tiergate-gw's own messages" '^    \| .*broken.conf: configuration refused' \
	"$TG_TMP/broken-policy.out"

# --- JUnit ------------------------------------------------------------------
run junit --junit "$TG_TMP/report.xml" "$W/pass" "$W/must-fail"
if [ "$rc" -eq 1 ] && xmllint --noout "$TG_TMP/report.xml" 2>"$TG_TMP/xmllint.err"; then
	pass "junit report is well-formed XML"
else
	fail "junit report is well-formed XML" "exit $rc; $(head -n 3 "$TG_TMP/xmllint.err" 2>/dev/null)"
fi
xpath() { xmllint --xpath "$1" "$TG_TMP/report.xml" 2>/dev/null; }
got="$(xpath 'count(//testsuite)') $(xpath 'count(//testcase)') $(xpath 'count(//testcase/failure)')"
got="$got $(xpath 'string(/testsuites/@failures)') $(xpath 'count(//testcase[@time])')"
want="2 $((nmust + 1)) $nmust $nmust $((nmust + 1))"
if [ "$got" = "$want" ]; then
	pass "junit: 2 testsuites, $((nmust + 1)) testcases with time, $nmust failures"
else
	fail "junit counts" "got '$got', wanted '$want' (suites cases failures attr timed)"
fi
msg=$(xpath 'string(//testcase[@name="wrong-expectation"]/failure/@message)')
body=$(xpath 'string(//testcase[@name="missing-pcap"]/failure/@message)')
case "$msg|$body" in
*"expected verdict=drop, got verdict=accept"*'|'*'pcap "../../pcap/not-there.pcap"'*)
	pass "junit failure messages carry the reason (quotes escaped)" ;;
*) fail "junit failure messages carry the reason" "got: $msg | $body" ;;
esac
details=$(xpath 'string(//testcase[@name="wrong-expectation"]/failure)')
case "$details" in
*"other events of the same flow"*) pass "junit failure text carries the details" ;;
*) fail "junit failure text carries the details" "got: $(printf '%s' "$details" | head -c 200)" ;;
esac

# --- --update: record, show the diff, rerun passes, kept checks stay ----------
run update --update "$W/update"
if [ "$rc" -eq 0 ] && grep -q '^UPDATED recorded: 1 check removed, 7 added' "$TG_TMP/update.out" &&
	grep -q '^  - flow TCP 203.0.113.5:40001 -> 10.30.0.20:8443 final=true => .*verdict=drop (count 1)$' "$TG_TMP/update.out" &&
	grep -q '^  + flow TCP 203.0.113.5:40001 -> 10.30.0.20:8443 final=true => .*verdict=accept (count 1)$' "$TG_TMP/update.out"; then
	pass "--update rewrites the stale check and shows - old / + new"
else
	fail "--update rewrites the stale check and shows - old / + new" "exit $rc"
	sed 's/^/  | /' "$TG_TMP/update.out" | head -n 20
fi
check_grep "--update keeps the hand-written (keep = true) check" 'keep = true; comment = "mynumber never reaches the internet"' \
	"$W/update/recorded/case.conf"
check_grep "--update keeps the file's leading comment" '^# recorded -- expectations recorded before' \
	"$W/update/recorded/case.conf"
check "rerun after --update passes" "$V" "$W/update"
run update2 --update "$W/update"
if [ "$rc" -eq 0 ] && grep -q '^SAME recorded (8 checks)$' "$TG_TMP/update2.out"; then
	pass "a second --update changes nothing"
else
	fail "a second --update changes nothing" "exit $rc: $(head -n 2 "$TG_TMP/update2.out")"
fi
# A kept guard that the traffic breaks makes --update fail: it never records a violation away.
mkdir -p "$W/update-guard/guard"
sed 's/dst_zone = "internet"; verdict = "accept"; }; count = 0/dst_zone = "internet"; verdict = "drop"; }; count = 0/' \
	"$W/update/recorded/case.conf" >"$W/update-guard/guard/case.conf"
run guard --update "$W/update-guard"
if [ "$rc" -eq 1 ] && grep -q '^FAIL guard: kept check fails after the update: ' "$TG_TMP/guard.out"; then
	pass "--update fails when a kept check does not hold"
else
	fail "--update fails when a kept check does not hold" "exit $rc: $(head -n 2 "$TG_TMP/guard.out")"
fi

# --- --policy: a candidate that changes a verdict fails the suite, naming case and rule ---
sed 's/dport = \[ 8443 \]; action = "accept"/dport = [ 8443 ]; action = "drop"/' "$W/conf/alpha.conf" \
	>"$W/conf/candidate.conf"
if cmp -s "$W/conf/alpha.conf" "$W/conf/candidate.conf"; then
	fail "--policy" "could not make the candidate (alpha.conf's internet-telework rule changed?)"
else
	run policy --policy "$W/conf/candidate.conf" --junit "$TG_TMP/policy.xml" "$W/pass"
	if [ "$rc" -eq 1 ] && grep -q '^FAIL alpha-synthetic: check 1 .*expected verdict=accept, got verdict=drop (verdict=drop rule=internet-telework' "$TG_TMP/policy.out" &&
		grep -q 'with candidate policy .*candidate.conf' "$TG_TMP/policy.out"; then
		pass "--policy candidate: the suite fails naming the case, the verdict and rule internet-telework"
	else
		fail "--policy candidate fails the suite naming case and rule" "exit $rc"
		sed 's/^/  | /' "$TG_TMP/policy.out" | head -n 10
	fi
	if xmllint --xpath 'string(//property[@name="candidate-policy"]/@value)' "$TG_TMP/policy.xml" 2>/dev/null |
		grep -q 'candidate.conf$'; then
		pass "--policy: the JUnit report names the candidate"
	else
		fail "--policy: the JUnit report names the candidate"
	fi
	check "--policy with the current policy passes" "$V" --policy "$W/conf/alpha.conf" "$W/pass"
fi

# --- usage errors exit 2 with a message -------------------------------------
mkdir -p "$W/empty"
for args in "" "$W/nope" "$W/empty" "--update --policy $W/conf/alpha.conf $W/pass" "--gw $W/nope $W/pass" \
	"-j 0 $W/pass" "--policy $W/nope.conf $W/pass"; do
	# shellcheck disable=SC2086
	run usage $args
	label="${args//$W\//}"
	if [ "$rc" -eq 2 ] && grep -q 'tiergate-verify' "$TG_TMP/usage.out"; then
		pass "usage error exits 2: '${label:-no arguments}'"
	else
		fail "usage error exits 2: '${label:-no arguments}'" "exit $rc"
	fi
done

# --- the shipped example suites pass against the shipped sites ---------------
for s in alpha beta beta-prime alpha-prime; do
	run "example-$s" "conf/verify/$s"
	if [ "$rc" -eq 0 ]; then
		pass "conf/verify/$s passes: $(tail -n 1 "$TG_TMP/example-$s.out" | sed 's/ in [0-9.]*s$//')"
	else
		fail "conf/verify/$s passes" "exit $rc"
		grep -A6 '^FAIL ' "$TG_TMP/example-$s.out" | head -n 20 | sed 's/^/  | /'
	fi
done

# --- a cancelled run (CI stops the job) leaves no process and no temp files ---
mkdir -p "$TG_TMP/tmp"
TMPDIR="$TG_TMP/tmp" "$V" --gw "$FAKE" --timeout 60 "$W/fake/gw-hang" >"$TG_TMP/cancel.out" 2>&1 &
vpid=$!
on_exit "kill -9 $vpid"
if wait_for 10 pgrep -f "fake-gw-hang $W/fake/gw-hang"; then
	kill -TERM "$vpid"
	wait "$vpid"
	rc=$?
	sleep 0.2
	if [ "$rc" -eq 143 ] && ! pgrep -f "fake-gw-hang $W/fake/gw-hang" >/dev/null &&
		[ -z "$(ls -A "$TG_TMP/tmp")" ] && grep -q 'stopped by signal 15' "$TG_TMP/cancel.out"; then
		pass "SIGTERM: exit 143, tiergate-gw killed, work directory removed"
	else
		fail "SIGTERM cleanup" "exit $rc; left: $(pgrep -fa "fake-gw-hang" | head -n 1) $(ls -A "$TG_TMP/tmp")"
	fi
else
	fail "SIGTERM cleanup" "the fake tiergate-gw never started"
fi

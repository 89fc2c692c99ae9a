#!/usr/bin/env bash
# 12-audit.sh -- event files as hash chains: many writers keep one chain, tiergate-audit finds every kind of tampering; its fuzz corpus.
# tier: unit
# timeout: 120
. "$(dirname "$0")/../lib/harness.sh"

GW="$BIN/tiergate-gw"
AUDIT="$BIN/tiergate-audit"
EV="$TG_TMP/events.jsonl"
replay() {   # replay FILE: one pcap replay appending its flow events to FILE
	"$GW" --pcap pcap/zone-matrix.pcap --config conf/alpha.conf --events "$1" >/dev/null 2>&1
}

replay "$EV"
n=$(wc -l <"$EV")
[ "$n" -gt 10 ] && pass "a replay wrote $n events" || fail "events written" "$n lines"
check_grep "line 1 starts the chain (64 zeros)" '"prev":"0{64}"\}$' <(head -n 1 "$EV")
check_grep "intact file: verify says so" "^$EV: $n lines, chain intact$" <("$AUDIT" verify "$EV")
check "intact file: exit 0" "$AUDIT" verify "$EV"

# Eight processes appending at once (the bridge's relays and auth process do): one chain.
CONC="$TG_TMP/concurrent.jsonl"
pids=()
for i in 1 2 3 4 5 6 7 8; do "$TIERGATE_BUILD/t/ev_append" 500 "$CONC" & pids+=($!); done
ok=1; for p in "${pids[@]}"; do wait "$p" || ok=0; done
m=$(wc -l <"$CONC")
[ $ok = 1 ] && [ "$m" = 4000 ] && pass "8 writers at once appended all $m lines" || fail "concurrent writers" "ok=$ok, $m lines, want 4000"
check "concurrent writers keep one intact chain" "$AUDIT" verify "$CONC"

# verdict FILE WANT-EXIT PATTERN NAME: tiergate-audit's answer on a tampered copy
verdict() {
	local out rc
	out=$("$AUDIT" verify "$1" 2>&1); rc=$?
	if [ "$rc" = "$2" ] && echo "$out" | grep -Eq "$3"; then pass "$4"; else fail "$4" "exit $rc: $out"; fi
}
cp "$EV" "$TG_TMP/edited"; sed -i '3s/"verdict":"[a-z]*"/"verdict":"accept"/; 3s/"rule":"[^"]*"/"rule":"forged"/' "$TG_TMP/edited"
cmp -s "$EV" "$TG_TMP/edited" && fail "edit made" "sed changed nothing"
verdict "$TG_TMP/edited" 1 "line 4: chain broken: line 3 was changed" "an edited line is found (the next line names it)"
sed '5d' "$EV" >"$TG_TMP/removed"
verdict "$TG_TMP/removed" 1 "line 5: chain broken: line 4 was changed, or lines were removed" "a removed line is found where it was"
{ head -n 6 "$EV"; sed -n 6p "$EV"; tail -n +7 "$EV"; } >"$TG_TMP/inserted"
verdict "$TG_TMP/inserted" 1 "line 7: chain broken" "a duplicated (replayed) line is found"
{ cat "$EV"; echo '{"timestamp":"2026-01-01T00:00:00.000000+0000","event":"flow","verdict":"accept"}'; } >"$TG_TMP/unchained"
verdict "$TG_TMP/unchained" 1 "line $((n + 1)): line carries no \"prev\"" "an appended line without a hash is found"
head -c -5 "$EV" >"$TG_TMP/torn"
verdict "$TG_TMP/torn" 1 "line $n: .*(no \"prev\"|no newline)" "a cut-off last line is found"
{ echo; cat "$EV"; } >"$TG_TMP/blank"
verdict "$TG_TMP/blank" 1 "line 1: line carries no \"prev\"" "a blank line is not a chained line"
: >"$TG_TMP/empty"
verdict "$TG_TMP/empty" 0 "no lines" "an empty file is no error"
tail -n +3 "$EV" >"$TG_TMP/rotated"
verdict "$TG_TMP/rotated" 0 "continues an earlier file" "a file that continues another is said to"
head -n 2 "$EV" >"$TG_TMP/before"
out=$("$AUDIT" verify --after "$TG_TMP/before" "$TG_TMP/rotated" 2>&1) && echo "$out" | grep -q "chain intact$" &&
	pass "--after links a rotated file to the one before it" || fail "--after" "$out"
expect_fail "--after with the wrong earlier file fails" "$AUDIT" verify --after "$TG_TMP/rotated" "$TG_TMP/rotated"
verdict /nonexistent/file 2 "No such file" "a missing file is a usage error (exit 2)"
expect_fail "no arguments is a usage error" "$AUDIT"

fuzz_replay audit

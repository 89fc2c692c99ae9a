#!/usr/bin/env bash
# 75-bridge-userdb-race.sh -- users.db rewritten by admin tools (enroll, passwd) in a loop while logins run: every login answered, no sanitizer report (run it on the ASan build: TIERGATE_BUILD=build-asan).
# tier: e2e
# timeout: 240
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/bridge/env.sh"

if grep -q __asan_init "$BIN/tiergate-bridge"; then
	echo "# $BIN/tiergate-bridge is an ASan build"
else
	echo "# $BIN/tiergate-bridge is not an ASan build: the race runs, memory errors show only as crashes"
fi
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
BR_MORE_STAFF=', "erin", "frank", "gina"'
bridge_suite_start bridge-userdb-race
WEB="http://127.0.0.1:$WEB_PORT/"
TB=("$BIN/tiergate-bridge" --config "$BR_CONF")
declare -A SECRET=([alice]=$ALICE_SECRET [bob]=$BOB_SECRET [dave]=$DAVE_SECRET)
for u in erin frank gina; do SECRET[$u]=$(enroll_user $u); done
declare -A DEV=([alice]=dev-good [bob]=dev-bob [dave]=dev-bob [erin]=dev-bob [frank]=dev-bob [gina]=dev-bob)

# The churn: admin tools rewrite users.db (temp file + rename under the lock) as fast as they
# can: two enroll loops (no scrypt: many writes) and a passwd loop.
churn() {
	local i=0
	while [ ! -e "$TG_TMP/stop" ]; do
		i=$((i + 1))
		if [ "$1" = passwd ]; then
			printf 'churn-password-%d\n' $i | "${TB[@]}" passwd "churn$((i % 3))" >/dev/null 2>&1
		else
			"${TB[@]}" enroll "churn$1$((i % 4))" >/dev/null 2>&1
		fi || echo "$1 failed" >>"$TG_TMP/churn.err"
		echo $i >"$TG_TMP/churn.count.$1"
	done
}
churn a & CHURN_A=$!
churn b & CHURN_B=$!
churn passwd & CHURN_P=$!
on_exit "touch $TG_TMP/stop; wait $CHURN_A $CHURN_B $CHURN_P"

for u in "${!DEV[@]}"; do mkdir -p "$TG_TMP/$u"; done
# The first login's code is one step old: start early in a 30 s step so it still lies within
# totp_window when a loaded machine gets to it (it did not once, crossing a step boundary).
while [ $(( $(date +%s) % 30 )) -ge 12 ]; do sleep 1; done
# Each user logs in three times with increasing TOTP steps (-30 s, now, +30 s: totp_window = 1),
# then with the token; all users at once.
for u in "${!DEV[@]}"; do
	(
		for off in -30 0 30; do
			code=$(TG_TMP="$TG_TMP/$u" bcurl "${DEV[$u]}" "$u" "pw-$u-secret$(otp "${SECRET[$u]}" $off)" "$WEB")
			echo "$code" >>"$TG_TMP/codes.$u"
		done
		tok=$(sed -n 's/^X-Tiergate-Token: *\([0-9a-f]*\).*/\1/ip' "$TG_TMP/$u/headers" | head -n1)
		for _ in 1 2 3; do
			TG_TMP="$TG_TMP/$u" bcurl "${DEV[$u]}" "$u" "token:$tok" "$WEB" >>"$TG_TMP/codes.$u"
			echo >>"$TG_TMP/codes.$u"
		done
	) &
done
wait_for 120 bash -c "[ \$(cat $TG_TMP/codes.* 2>/dev/null | wc -l) -ge $(( ${#DEV[@]} * 6 )) ]"
touch "$TG_TMP/stop"
wait $CHURN_A $CHURN_B $CHURN_P

churned=$(( $(cat "$TG_TMP"/churn.count.* 2>/dev/null | paste -sd+ | bc) + 0 ))
[ "$churned" -ge 5 ] && pass "users.db was rewritten $churned times during the logins" ||
	fail "users.db rewritten during the logins" "only $churned rounds"
[ ! -s "$TG_TMP/churn.err" ] && pass "every enroll and passwd of the churn succeeded" ||
	fail "every enroll and passwd of the churn succeeded" "$(sort "$TG_TMP/churn.err" | uniq -c | tr '\n' ' ')"
for u in "${!DEV[@]}"; do
	got=$(tr '\n' ' ' <"$TG_TMP/codes.$u" 2>/dev/null)
	want="200/200 200/200 200/200 200/200 200/200 200/200 "
	[ "$got" = "$want" ] && pass "$u: 3 OTP logins and 3 token logins answered 200 during the churn" ||
		fail "$u: 3 OTP logins and 3 token logins answered 200 during the churn" "got '$got'"
done
if kill -0 "$BR_PID" 2>/dev/null; then pass "the bridge is still running"; else fail "the bridge is still running"; fi
if grep -qE "AddressSanitizer|LeakSanitizer|runtime error|was killed by signal" "$TG_TMP/bridge.log"; then
	fail "no sanitizer report or crash in the bridge's log" "$(grep -m3 -E 'AddressSanitizer|runtime error|killed by signal' "$TG_TMP/bridge.log")"
else
	pass "no sanitizer report or crash in the bridge's log"
fi
bad=$(grep -c '^[a-z0-9._-]*:[^:]*:[^:]*:[0-9]*$' "$TG_TMP/users.db"); all=$(grep -vc '^#' "$TG_TMP/users.db")
[ "$bad" = "$all" ] && [ "$all" -ge 6 ] && pass "users.db whole after the churn ($all users, every line NAME:HASH:TOTP:STEP)" ||
	fail "users.db whole after the churn" "$bad of $all lines well-formed"

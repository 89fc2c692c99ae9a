#!/usr/bin/env bash
# 77-bridge-lockout-restart.sh -- locks made by real failed logins (curl, oathtool) survive a stop and start of the bridge; only unlock lets the account and the address in again.
# tier: e2e
# timeout: 120
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/bridge/env.sh"

bridge_suite_start bridge-lockout-restart
WEB="http://127.0.0.1:$WEB_PORT/"
expect() { [ "$3" = "$2" ] && pass "$1" || fail "$1" "want $2, got $3 ($(tail -n1 "$TG_TMP/curl.err" 2>/dev/null))"; }
last_event() { grep -E "$2" "$BR_EVENTS" | tail -n1 | grep -Eq "$3" && pass "$1" || { fail "$1" "no event /$2/ with /$3/"; tail -n 3 "$BR_EVENTS" | sed 's/^/  | /'; }; }

# The account: five wrong TOTP codes (oathtool, ten minutes off) with the right password.
SRC=127.0.0.4
for i in 1 2 3 4 5; do
	expect "alice, wrong TOTP $i: refused" "407/000" "$(bcurl dev-good alice "pw-alice-secret$(otp "$ALICE_SECRET" 600)" "$WEB")"
done
grep -q '"bridge_lockout","kind":"user","target":"alice"' "$BR_EVENTS" && pass "account lockout event" || fail "account lockout event"
# The address: twelve failures from 127.0.0.6 (unknown names).
SRC=127.0.0.6
for i in $(seq 12); do bcurl dev-bob "nobody$i" "whatever123456" "$WEB" >/dev/null; done
grep -q '"bridge_lockout","kind":"address","target":"127.0.0.6"' "$BR_EVENTS" && pass "address lockout event" || fail "address lockout event"

# Stop the bridge as the service manager does (SIGTERM), start it again.
kill "$BR_PID"
wait "$BR_PID"
status=$?
[ "$status" = 0 ] && pass "bridge stopped (exit 0)" || fail "bridge stopped" "exit status $status"
! bash -c "echo >/dev/tcp/127.0.0.1/$BR_PORT" 2>/dev/null && pass "... and its port is closed" || fail "bridge port still open after stop"
[ -s "$TG_TMP/users.db.lockout-user" ] && [ "$(stat -c %a "$TG_TMP/users.db.lockout-user")" = 600 ] \
	&& pass "the account lock is on disk (users.db.lockout-user, 0600)" || fail "account lock on disk" "$(ls -l "$TG_TMP"/users.db.lockout-* 2>&1)"
"$BIN/tiergate-bridge" --config "$BR_CONF" >>"$TG_TMP/bridge.log" 2>&1 &
BR_PID=$!
on_exit "kill $BR_PID; wait $BR_PID"
wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$BR_PORT" && pass "bridge started again" || fail "bridge started again"
grep -c '"event":"bridge_sandbox"' "$BR_EVENTS" | grep -qx 2 && pass "... a second start (two bridge_sandbox events)" \
	|| fail "second start" "$(grep -c bridge_sandbox "$BR_EVENTS") bridge_sandbox events"

SRC=127.0.0.4
expect "after the restart: alice with the right password and TOTP is still refused" "407/000" \
	"$(bcurl dev-good alice "pw-alice-secret$(otp "$ALICE_SECRET")" "$WEB")"
last_event "... because the account is locked out" '"bridge_login"' '"result":"failure".*"reason":"account locked out.*"user":"alice"'
SRC=127.0.0.6
expect "after the restart: bob from the locked address is refused" "407/000" \
	"$(bcurl dev-bob bob "pw-bob-secret$(otp "$BOB_SECRET")" "$WEB")"
last_event "... because the address is locked out" '"bridge_login"' '"reason":"source address locked out.*"src_ip":"127.0.0.6"'
# bob from another address is let in: the refusal above was the address, not the bridge.
SRC=127.0.0.8
expect "bob from another address logs in" "200/200" "$(bcurl dev-bob bob "pw-bob-secret$(otp "$BOB_SECRET" 30)" "$WEB")"

out=$("$BIN/tiergate-bridge" --config "$BR_CONF" unlock alice 2>&1)
grep -q "ok alice unlocked" <<<"$out" && pass "unlock alice (admin tool, control socket)" || fail "unlock alice" "$out"
grep -q '"bridge_unlock","kind":"user","target":"alice","was_counted":true' "$BR_EVENTS" \
	&& pass "... bridge_unlock says the restored lock was counting" || fail "unlock event" "$(grep bridge_unlock "$BR_EVENTS" | tail -n1)"
SRC=127.0.0.4
expect "unlocked: alice logs in" "200/200" "$(bcurl dev-good alice "pw-alice-secret$(otp "$ALICE_SECRET" 30)" "$WEB")"
out=$("$BIN/tiergate-bridge" --config "$BR_CONF" unlock 127.0.0.6 2>&1)
grep -q "ok 127.0.0.6 unlocked" <<<"$out" && pass "unlock 127.0.0.6" || fail "unlock 127.0.0.6" "$out"
SRC=127.0.0.6
TOKEN=$(sed -n 's/^X-Tiergate-Token: *\([0-9a-f]*\).*/\1/p' "$TG_TMP/headers" | head -n1)
expect "unlocked address: alice's token gets through" "200/200" "$(bcurl dev-good alice "token:$TOKEN" "$WEB")"

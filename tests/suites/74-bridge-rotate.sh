#!/usr/bin/env bash
# 74-bridge-rotate.sh -- logrotate while logins and tunnels go on: the bridge's auth process and its relay change to the new event file on SIGHUP (the relay handed it over SCM_RIGHTS), no line lost, the chain continued (issue 14.6).
# tier: e2e
# timeout: 180
#
# Two writers to one file: the auth process (bridge_login) and the relay (bridge_denied,
# bridge_session_end), the relay under seccomp and Landlock. A loop of token tunnels
# (200) and refused destinations (403) runs while the real logrotate rotates the file
# with the package's stanza (debian/tiergate.logrotate, pointed at the test's file, its
# systemctl replaced by kill -HUP). Then: every event the loop caused is in OLD or NEW,
# those caused after both processes changed over are in NEW, and verify --after passes.
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/bridge/env.sh"
. "$ROOT/tests/lib/rotate.sh"
command -v logrotate >/dev/null || { fail bridge-rotate "logrotate not installed"; exit 1; }

bridge_suite_start bridge-rotate
WEB="http://127.0.0.1:$WEB_PORT/"
OLD="$BR_EVENTS.1" NEW="$BR_EVENTS"
code=$(otp "$ALICE_SECRET")
first=$(bcurl dev-good alice "pw-alice-secret$code" "$WEB")
TOKEN=$(sed -n 's/^X-Tiergate-Token: *\([0-9a-f]*\).*/\1/p' "$TG_TMP/headers" | head -n1)
[ "$first" = 200/200 ] && [ ${#TOKEN} = 64 ] || { fail "bridge-rotate: first login" "$first"; exit 1; }
RELAYS=$(pgrep -P "$BR_PID" -x tg-bridge-relay | tr '\n' ' ')
[ -n "$RELAYS" ] || { fail "bridge-rotate: relay process found"; exit 1; }

# the load: a tunnel and a refused destination per round, each result with its phase
: >"$TG_TMP/results"
(
	while [ ! -e "$TG_TMP/stop" ]; do
		phase=1; [ -e "$TG_TMP/phase2" ] && phase=2
		echo "$phase $(bcurl dev-good alice "token:$TOKEN" "$WEB")" >>"$TG_TMP/results"
		echo "$phase $(bcurl dev-good alice "token:$TOKEN" "http://127.0.0.1:1/")" >>"$TG_TMP/results"
	done
) &
loop=$!
on_exit "touch $TG_TMP/stop; kill $loop"
wait_for 60 sh -c "[ \$(wc -l <'$TG_TMP/results') -ge 10 ]"

rotate_conf /var/log/tiergate/bridge.json "$BR_EVENTS" "kill -HUP $BR_PID" >"$TG_TMP/lr.conf"
if logrotate -f -s "$TG_TMP/lr.state" "$TG_TMP/lr.conf" >"$TG_TMP/lr.out" 2>&1 && [ -s "$OLD" ] && [ -e "$NEW" ]; then
	pass "logrotate -f with the package's bridge.json stanza (rename, create, SIGHUP)"
else fail "logrotate -f" "$(cat "$TG_TMP/lr.out"; ls -l "$TG_TMP")"; fi
rotate_fd_checks bridge-rotate "$OLD" "$NEW" "$BR_PID" $RELAYS
# the other children (key processes) hold no descriptor of the event file at all; the
# scheduled asp-check (it writes once an interval, then follows the path) is left out
holders=""
for pid in $(pgrep -P "$BR_PID"); do
	[ "$(cat /proc/"$pid"/comm 2>/dev/null)" = tg-bridge-asp ] && continue
	case " $RELAYS " in *" $pid "*) continue ;; esac
	rotate_holds "$pid" "$OLD" && holders="$holders $pid($(cat /proc/"$pid"/comm))"
done
[ -z "$holders" ] && pass "no key process holds the rotated file ($(pgrep -P "$BR_PID" | wc -l) children looked at)" ||
	fail "processes still holding the rotated file" "$holders"
touch "$TG_TMP/phase2"
n=$(wc -l <"$TG_TMP/results")
wait_for 60 sh -c "[ \$(wc -l <'$TG_TMP/results') -ge $((n + 12)) ]"
touch "$TG_TMP/stop"
wait "$loop"

ok=$(grep -c ' 200/200$' "$TG_TMP/results") refused=$(grep -c ' 403/000$' "$TG_TMP/results")
ok2=$(grep -c '^2 200/200$' "$TG_TMP/results") refused2=$(grep -c '^2 403/000$' "$TG_TMP/results")
other=$(grep -Evc ' (200/200|403/000)$' "$TG_TMP/results")
[ "$other" = 0 ] && [ "$ok2" -ge 3 ] && pass "load: $ok tunnels and $refused refusals ($ok2 and $refused2 after the change), nothing else" ||
	fail "load" "$other unexpected results: $(grep -Ev ' (200/200|403/000)$' "$TG_TMP/results" | sort | uniq -c | tr '\n' ';')"
# the relay writes session_end as the tunnel closes: wait for the last ones
ends() { rotate_count "$OLD" "$NEW" '"event":"bridge_session_end".*"user":"alice"'; }
wait_for 15 sh -c "[ \$(cat '$OLD' '$NEW' | grep -c '\"event\":\"bridge_session_end\"') -ge $((ok + 1)) ]"
e=$(ends) r=$(rotate_count "$OLD" "$NEW" '"event":"bridge_denied".*"user":"alice"')
l=$(rotate_count "$OLD" "$NEW" '"event":"bridge_login".*"result":"success".*"user":"alice"')
if [ "$e" = $((ok + 1)) ] && [ "$r" = "$refused" ] && [ "$l" = $((ok + refused + 1)) ]; then
	pass "no line lost: $e session ends (relay), $r refusals (relay), $l logins (auth) in OLD and NEW"
else fail "no line lost" "want $((ok + 1)) session ends, $refused refusals, $((ok + refused + 1)) logins; got $e, $r, $l"; fi
e2=$(rotate_count "$NEW" '"event":"bridge_session_end".*"user":"alice"') r2=$(rotate_count "$NEW" '"event":"bridge_denied".*"user":"alice"')
l2=$(rotate_count "$NEW" '"event":"bridge_login".*"result":"success".*"user":"alice"')
if [ "$e2" -ge "$ok2" ] && [ "$r2" -ge "$refused2" ] && [ "$l2" -ge $((ok2 + refused2)) ] && [ "$ok2" -gt 0 ]; then
	pass "after the change both writers are in the new file: $e2 session ends, $r2 refusals (relay), $l2 logins (auth)"
else fail "events after the change in the new file" "want >= $ok2, $refused2, $((ok2 + refused2)); got $e2, $r2, $l2"; fi
rotate_chain_checks bridge-rotate "$OLD" "$NEW"
check_grep "the auth process logged the reopening" "event file reopened, the relays handed it" "$TG_TMP/bridge.log"
if grep -q '"event":"bridge_sandbox".*"seccomp":true' "$OLD" "$NEW" && ! grep -Eq 'killed by signal|SIGSYS' "$TG_TMP/bridge.log" &&
	kill -0 $RELAYS 2>/dev/null; then
	pass "the relay took the descriptor under its sandbox (still running, not killed)"
else fail "relay after the handover" "$(grep -E 'killed|sandbox' "$TG_TMP/bridge.log" | tail -n 3)"; fi

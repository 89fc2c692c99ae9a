#!/usr/bin/env bash
# 75-bridge-priv.sh -- what the relay's user (nobody) can touch: the ASP state is written by root only, in root's directory; the bridge refuses to start when nobody could write what it trusts.
# tier: e2e
# timeout: 180
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/bridge/env.sh"

bridge_suite_start bridge-priv
# The state file as asp-check (root) and the scheduled check (the root side) write it.
"$BIN/tiergate-bridge" --config "$BR_CONF" asp-check >/dev/null 2>&1
STATE="$TG_TMP/state/asp-state.json"
[ -s "$STATE" ] && [ "$(stat -c %u "$STATE")" = 0 ] && pass "the ASP state file is root's" \
	|| fail "ASP state written" "$(ls -l "$STATE" 2>&1)"
before=$(sha256sum <"$STATE")
# A compromised relay (uid nobody) forges a pass for the failing service: it cannot.
out=$(runuser -u nobody -- sh -c "echo '{\"services\":[{\"name\":\"expired\",\"passed\":true}]}' >'$STATE'" 2>&1)
status=$?
[ "$status" != 0 ] && grep -qi "permission denied" <<<"$out" && pass "nobody cannot overwrite the ASP state file ($out)" \
	|| fail "nobody cannot overwrite the ASP state file" "status $status: $out"
out=$(runuser -u nobody -- sh -c "echo forged >'$TG_TMP/state/forged.json'" 2>&1)
status=$?
[ "$status" != 0 ] && [ ! -e "$TG_TMP/state/forged.json" ] && pass "nobody cannot create files in the state directory" \
	|| fail "nobody cannot create files in the state directory" "status $status: $out"
[ "$(sha256sum <"$STATE")" = "$before" ] && pass "the state file is unchanged" || fail "the state file is unchanged"
code=$(bcurl dev-good alice "pw-alice-secret$(otp "$ALICE_SECRET")" "https://asp-expired.test:$ASP_EXPIRED_PORT/" -k)
[ "$code" = "403/000" ] && pass "the failing ASP stays unroutable" || fail "the failing ASP stays unroutable" "$code"
grep -E '"bridge_denied"' "$BR_EVENTS" | tail -n1 | grep -q '"asp":"expired".*"reason":"ASP service failed its connection check"' \
	&& pass "... its event" || fail "... its event" "$(tail -n 2 "$BR_EVENTS")"

# The checker is a child of the root parent, runs as root, and the relay as nobody.
asp=$(ps -o pid=,comm= --ppid "$BR_PID" | awk '$2 == "tg-bridge-asp" {print $1}')
relay=$(ps -o pid=,comm= --ppid "$BR_PID" | awk '$2 == "tg-bridge-relay" {print $1}')
[ -n "$asp" ] && [ "$(ps -o user= -p "$asp")" = root ] && [ "$(ps -o user= -p "$relay")" = nobody ] \
	&& pass "the ASP checker runs on the root side ($asp as root), the relay as nobody" \
	|| fail "ASP checker on the root side" "$(ps -o pid,user,comm --ppid "$BR_PID")"
# The relay runs under its seccomp filter (mode 2), without new privileges.
grep -q '^Seccomp:[[:space:]]*2$' "/proc/$relay/status" && grep -q '^NoNewPrivs:[[:space:]]*1$' "/proc/$relay/status" \
	&& pass "the relay runs under seccomp (filter mode) with no_new_privs" \
	|| fail "relay under seccomp" "$(grep -E '^(Seccomp|NoNewPrivs)' "/proc/$relay/status" | tr '\n' ' ')"
# Any process dies, the rest follow: the ASP checker too.
kill -9 "$asp"
timeout 10 tail --pid="$BR_PID" -f /dev/null
wait "$BR_PID"
status=$?
[ "$status" = 1 ] && pass "ASP checker killed: the bridge exits 1 (the service manager restarts it)" || fail "ASP checker killed" "exit status $status"

# Start-time checks: a directory or file nobody could write is refused, with what and why.
refuses() {   # NAME EXPECTED-MESSAGE: the bridge on $TG_TMP/bad.conf must exit non-zero with it
	timeout 10 "$BIN/tiergate-bridge" --config "$TG_TMP/bad.conf" >"$TG_TMP/bad.log" 2>&1
	local st=$?
	[ "$st" != 0 ] && [ "$st" != 124 ] && grep -q -- "$2" "$TG_TMP/bad.log" && pass "$1" \
		|| fail "$1" "status $st: $(tail -n 2 "$TG_TMP/bad.log")"
}
mkdir -p "$TG_TMP/nobody-state" && chown nobody "$TG_TMP/nobody-state"
sed "s|state/asp-state.json|nobody-state/asp-state.json|" "$BR_CONF" >"$TG_TMP/bad.conf"
refuses "ASP state directory owned by nobody: refused" "the directory of asp.state_file .*nobody-state/asp-state.json is writable by nobody"
mkdir -p "$TG_TMP/group-state" && chmod 775 "$TG_TMP/group-state"
sed "s|state/asp-state.json|group-state/asp-state.json|" "$BR_CONF" >"$TG_TMP/bad.conf"
refuses "ASP state directory group-writable: refused" "must be root's, not group or world writable (owner uid 0, mode 775)"
mkdir -p "$TG_TMP/users-dir" && chmod 1777 "$TG_TMP/users-dir" && cp "$TG_TMP/users.db" "$TG_TMP/users-dir/"
sed 's|users = "users.db"|users = "users-dir/users.db"|' "$BR_CONF" >"$TG_TMP/bad.conf"
refuses "users.db in a world-writable directory: refused" "the directory of users .*users-dir/users.db is writable by nobody"
cp "$TG_TMP/devices.conf" "$TG_TMP/devices-nobody.conf" && chown nobody "$TG_TMP/devices-nobody.conf"
sed 's|devices = "devices.conf"|devices = "devices-nobody.conf"|' "$BR_CONF" >"$TG_TMP/bad.conf"
refuses "devices file owned by nobody: refused" "devices .*devices-nobody.conf is writable by nobody"
mkdir -p "$TG_TMP/sock-dir" && chown nobody "$TG_TMP/sock-dir"
sed 's|"control.sock"|"sock-dir/control.sock"|' "$BR_CONF" >"$TG_TMP/bad.conf"
refuses "control socket in nobody's directory: refused" "the directory of control_socket .*sock-dir/control.sock is writable by nobody"

# A compromised relay tries to start a shell (the test build's probe, after the filter is
# loaded): the kernel kills it with SIGSYS, nothing runs, and the bridge exits 1.
HOOKS="$TIERGATE_BUILD/t/tiergate-bridge-hooks"
sed -e "s/127.0.0.1:$BR_PORT/127.0.0.1:$(free_port)/; s|\"control.sock\"|\"control-probe.sock\"|" "$BR_CONF" >"$TG_TMP/probe.conf"
TIERGATE_TEST_SANDBOX_PROBE=1 timeout 20 "$HOOKS" --config "$TG_TMP/probe.conf" >"$TG_TMP/probe.log" 2>&1
status=$?
[ "$status" = 1 ] && grep -q "relay [0-9]* was killed by signal 31" "$TG_TMP/probe.log" && ! grep -q escaped "$TG_TMP/probe.log" \
	&& pass "the relay's execve is killed by its seccomp filter (SIGSYS); the bridge exits 1" \
	|| fail "seccomp kills the relay's execve" "status $status: $(tail -n 3 "$TG_TMP/probe.log")"

# Landlock: the first bridge said what its relay's domain is (bridge_sandbox event).
sb=$(grep '"event":"bridge_sandbox"' "$BR_EVENTS" | head -n1)
abi=$(sed -n 's/.*"landlock_abi":\([0-9]*\).*/\1/p' <<<"$sb")
grep -q '"landlock":"applied"' <<<"$sb" && grep -q '"seccomp":true' <<<"$sb" && grep -q '"relay_landlock":"require"' <<<"$sb" &&
	grep -q "\"fs_read\":\[[^]]*\"$TG_TMP/state\"" <<<"$sb" && grep -q "\"fs_read\":\[[^]]*\"$TG_TMP/pki\"" <<<"$sb" &&
	grep -q '"fs_rights_handled":1[3-9]' <<<"$sb" \
	&& pass "bridge_sandbox event: Landlock ABI $abi applied, reads only beneath the state and CRL directories, seccomp on" \
	|| fail "bridge_sandbox event" "${sb:-no event}"
if [ "${abi:-0}" -ge 4 ]; then
	grep -q "\"tcp_bind\":\[$BR_PORT\]" <<<"$sb" && grep -q "\"tcp_connect\":\[[^]]*\b$WEB_PORT\b" <<<"$sb" &&
		grep -q "\"tcp_connect\":\[[^]]*\b$ASP_GOOD_PORT\b" <<<"$sb" \
		&& pass "ABI $abi: TCP bind only to the listen port, connect to the grants' and ASP services' ports" \
		|| fail "Landlock TCP rules in the event" "$sb"
fi

# A compromised relay (the test build's probe, after the sandbox is on) reads /etc/passwd and
# connects to a port no grant names: both EACCES; the ASP state file and a granted port are
# let through; and the bridge goes on serving logins and CONNECTs.
PROBE_PORT=$(free_port)
for p in $WEB_PORT $CLOSED_PORT $RDP_PORT $VNC_PORT $WEB6_PORT 3389 80 $ASP_GOOD_PORT; do
	[ "$p" = "$PROBE_PORT" ] && PROBE_PORT=$(free_port)
done
LL_PORT=$(free_port)
sed -e "s/127.0.0.1:$BR_PORT/127.0.0.1:$LL_PORT/; s|\"control.sock\"|\"control-ll.sock\"|" "$BR_CONF" >"$TG_TMP/ll.conf"
TIERGATE_TEST_SANDBOX_PROBE=landlock TIERGATE_TEST_PROBE_PORTS="$PROBE_PORT $WEB_PORT" \
	"$HOOKS" --config "$TG_TMP/ll.conf" >"$TG_TMP/ll.log" 2>&1 &
LL_PID=$!
on_exit "kill $LL_PID 2>/dev/null; wait $LL_PID 2>/dev/null"
wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$LL_PORT" && wait_for 10 grep -q "sandbox probe: connect 127.0.0.1:$WEB_PORT" "$TG_TMP/ll.log"
grep -q "sandbox probe: open /etc/passwd: Permission denied" "$TG_TMP/ll.log" \
	&& pass "sandboxed relay: open /etc/passwd fails with EACCES (Landlock)" \
	|| fail "sandboxed relay cannot read /etc/passwd" "$(grep 'sandbox probe' "$TG_TMP/ll.log" | head -n 4)"
grep -q "sandbox probe: open $TG_TMP/state/asp-state.json: allowed" "$TG_TMP/ll.log" \
	&& pass "... while the ASP state file it re-reads opens" || fail "relay reads the ASP state file" "$(grep 'sandbox probe' "$TG_TMP/ll.log")"
if [ "${abi:-0}" -ge 4 ]; then
	grep -q "sandbox probe: connect 127.0.0.1:$PROBE_PORT: Permission denied" "$TG_TMP/ll.log" \
		&& pass "sandboxed relay: connect to a port no grant names fails with EACCES" \
		|| fail "relay cannot connect to an unnamed port" "$(grep 'sandbox probe' "$TG_TMP/ll.log")"
	grep -q "sandbox probe: connect 127.0.0.1:$WEB_PORT: allowed" "$TG_TMP/ll.log" \
		&& pass "... while a granted port connects" || fail "relay connects to a granted port" "$(grep 'sandbox probe' "$TG_TMP/ll.log")"
fi
code=$(BR_PORT=$LL_PORT bcurl dev-good alice "pw-alice-secret$(otp "$ALICE_SECRET" 30)" "http://127.0.0.1:$WEB_PORT/")
[ "$code" = "200/200" ] && grep -q "hello from lgwan" "$TG_TMP/body" && pass "the sandboxed bridge serves a login and a CONNECT" \
	|| fail "sandboxed bridge serves" "$code: $(cat "$TG_TMP/curl.err")"
code=$(BR_PORT=$LL_PORT bcurl dev-good alice "token:$(sed -n 's/^X-Tiergate-Token: *\([^[:space:]]*\).*/\1/p' "$TG_TMP/headers")" \
	"https://asp-good.test:$ASP_GOOD_PORT/" -k)
[ "$code" = "200/200" ] && pass "... and a token login to the ASP service that passed" || fail "sandboxed bridge: ASP CONNECT" "$code"
kill -0 "$LL_PID" 2>/dev/null && ! grep -q "was killed by signal" "$TG_TMP/ll.log" && pass "the sandboxed relay is still running" \
	|| fail "sandboxed relay still running" "$(tail -n 3 "$TG_TMP/ll.log")"

# relay_landlock takes "require" or "best-effort"; anything else is refused with file:line.
sed 's/^  crl = .*/&\n  relay_landlock = "sometimes";/' "$BR_CONF" >"$TG_TMP/bad.conf"
"$BIN/tiergate-bridge" -n --config "$TG_TMP/bad.conf" >"$TG_TMP/bad.out" 2>&1; rc=$?
[ $rc != 0 ] && grep -q "bad.conf:[0-9]*:.*relay_landlock = \"sometimes\": expected \"require\" or \"best-effort\"" "$TG_TMP/bad.out" \
	&& pass "relay_landlock = \"sometimes\" refused with file:line" || fail "relay_landlock bad value" "exit $rc: $(head -n2 "$TG_TMP/bad.out")"
sed 's/^  crl = .*/&\n  relay_landlock = "best-effort";/' "$BR_CONF" >"$TG_TMP/good.conf"
"$BIN/tiergate-bridge" -n --config "$TG_TMP/good.conf" >"$TG_TMP/good.out" 2>&1 \
	&& pass "relay_landlock = \"best-effort\" accepted" || fail "relay_landlock best-effort" "$(head -n2 "$TG_TMP/good.out")"

# A kernel without Landlock (the test preload makes landlock_create_ruleset fail with ENOSYS,
# in the production binary): relay_landlock = "require" (the default) stops the bridge, saying
# why; "best-effort" serves, under seccomp only, and says that loudly.
NOLL="$TIERGATE_BUILD/t/no_landlock.so"
asan_opts=
ldd "$BIN/tiergate-bridge" | grep -q libasan && asan_opts=verify_asan_link_order=0
NL_PORT=$(free_port)
sed -e "s/127.0.0.1:$BR_PORT/127.0.0.1:$NL_PORT/; s|\"control.sock\"|\"control-nl.sock\"|" "$BR_CONF" >"$TG_TMP/nl.conf"
before=$(grep -c '"landlock":"unavailable"' "$BR_EVENTS")
LD_PRELOAD="$NOLL" ASAN_OPTIONS=$asan_opts timeout 20 "$BIN/tiergate-bridge" --config "$TG_TMP/nl.conf" >"$TG_TMP/nl.log" 2>&1
status=$?
[ "$status" = 1 ] && grep -q "the kernel has no Landlock .*the relay does not run without it (bridge.relay_landlock = \"require\")" "$TG_TMP/nl.log" \
	&& pass "no Landlock, relay_landlock = \"require\" (default): the bridge exits 1 and says why" \
	|| fail "no Landlock + require" "status $status: $(tail -n 3 "$TG_TMP/nl.log")"
grep '"landlock":"unavailable"' "$BR_EVENTS" | tail -n1 | grep -q '"relay_landlock":"require".*"running":false' \
	&& [ "$(grep -c '"landlock":"unavailable"' "$BR_EVENTS")" -gt "$before" ] \
	&& pass "... its bridge_sandbox event: landlock unavailable, running false" || fail "require event" "$(grep bridge_sandbox "$BR_EVENTS" | tail -n1)"
sed -i 's/^  crl = .*/&\n  relay_landlock = "best-effort";/' "$TG_TMP/nl.conf"
LD_PRELOAD="$NOLL" ASAN_OPTIONS=$asan_opts "$BIN/tiergate-bridge" --config "$TG_TMP/nl.conf" >"$TG_TMP/nl.log" 2>&1 &
NL_PID=$!
on_exit "kill $NL_PID 2>/dev/null; wait $NL_PID 2>/dev/null"
wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$NL_PORT"
code=$(BR_PORT=$NL_PORT bcurl dev-bob bob "pw-bob-secret$(otp "$BOB_SECRET")" "http://127.0.0.1:$WEB_PORT/")
[ "$code" = "200/200" ] && pass "no Landlock, relay_landlock = \"best-effort\": the bridge serves" || fail "best-effort serves" "$code: $(tail -n 3 "$TG_TMP/nl.log")"
grep -q "THE KERNEL HAS NO LANDLOCK: the relay runs under seccomp only" "$TG_TMP/nl.log" \
	&& grep '"landlock":"unavailable"' "$BR_EVENTS" | tail -n1 | grep -q '"landlock_error":"Function not implemented".*"relay_landlock":"best-effort","seccomp":true,"running":true' \
	&& pass "... and says so loudly (log and bridge_sandbox event)" || fail "best-effort says so" "$(grep bridge_sandbox "$BR_EVENTS" | tail -n1)"

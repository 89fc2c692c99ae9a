#!/usr/bin/env bash
# 75-bridge-priv.sh -- what the relay's user (nobody) can touch: the ASP state is written by root only, in root's directory; the bridge refuses to start when nobody could write what it trusts.
# tier: e2e
# timeout: 120
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/bridge/env.sh"

if [ "$(id -u)" != 0 ]; then
	fail bridge-priv "needs root (the relay drops to the user nobody)"
	exit 0
fi
if ! bridge_env_start; then
	fail bridge-start "bridge did not come up"
	sed 's/^/  | /' "$TG_TMP/bridge.log"
	exit 0
fi
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

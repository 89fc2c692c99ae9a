#!/usr/bin/env bash
# 72-bridge-oom.sh -- an allocation failure in the relay fails only its own session: the relay and the other sessions go on.
# tier: e2e
# timeout: 120
#
# Runs the test build of the daemon (build/t/tiergate-bridge-hooks: relay.c compiled with
# TIERGATE_TEST_HOOKS) with TIERGATE_TEST_FAIL_ALLOC="dest:3": the third CONNECT's copy of
# its destination fails to allocate. Login (1) gets a token; tunnel A (2) is held open;
# tunnel B (3) must get 503 and an event; A must still carry bytes; tunnel C (4) works;
# the relay is the same process throughout.
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/bridge/env.sh"
need_root
HOOKS="$TIERGATE_BUILD/t/tiergate-bridge-hooks"
[ -x "$HOOKS" ] || { fail bridge-oom "not built: $HOOKS (make)"; exit 1; }
for tool in curl oathtool python3; do
	command -v $tool >/dev/null || { fail bridge-oom "$tool not installed"; exit 1; }
done

# The hook exists only in the test build (the same grep finds it there, so it can find it).
prod="$TIERGATE_BUILD/bin/tiergate-bridge"
if [ -r "$prod" ] && grep -q TIERGATE_TEST_FAIL_ALLOC "$HOOKS"; then
	grep -q TIERGATE_TEST_FAIL_ALLOC "$prod" && fail "the daemon has no allocation hook" "found in $prod" \
		|| pass "the daemon has no allocation hook (the hooks build has)"
else
	fail "the daemon has no allocation hook" "cannot read $prod, or the hooks build lacks the hook"
fi

# The env's helpers call "$BIN/tiergate-bridge": here that is the hooks build.
mkdir -p "$TG_TMP/hooks-bin"
ln -s "$(readlink -f "$HOOKS")" "$TG_TMP/hooks-bin/tiergate-bridge"
BIN="$TG_TMP/hooks-bin"
export TIERGATE_TEST_FAIL_ALLOC="dest:3"
BR_IDLE=30
if ! bridge_env_start; then
	fail bridge-oom "bridge did not come up"
	sed 's/^/  | /' "$TG_TMP/bridge.log"
	exit 1
fi
relays_before=$(pgrep -P "$BR_PID" | sort | tr '\n' ' ')

code=$(otp "$ALICE_SECRET")
got=$(bcurl dev-good alice "pw-alice-secret$code" "http://127.0.0.1:$WEB_PORT/")
[ "$got" = 200/200 ] && pass "login through the hooks build (allocation 1)" || fail "login through the hooks build" "got $got"
TOKEN=$(sed -n 's/^X-Tiergate-Token: *\([0-9a-f]*\).*/\1/p' "$TG_TMP/headers" | tr -d '\r' | head -n1)

python3 - "$BR_PORT" "$PKI" "$TOKEN" "$WEB_PORT" >"$TG_TMP/tunnels.out" 2>&1 <<'PY'
import base64, socket, ssl, sys
port, pki, token, web = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=pki + "/device-ca.pem")
ctx.load_cert_chain(pki + "/dev-good.pem", pki + "/dev-good.key")
ctx.check_hostname = False
auth = base64.b64encode(("alice:token:%s" % token).encode()).decode()

def tunnel():
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(port)), timeout=10))
    s.sendall(("CONNECT 127.0.0.1:%s HTTP/1.1\r\nProxy-Authorization: Basic %s\r\n\r\n" % (web, auth)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        got = s.recv(1)
        if not got:
            break
        head += got
    return s, head.split(b" ")[1].decode() if b" " in head else "none"

def fetch(s):
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    body = b""
    while True:
        got = s.recv(4096)
        if not got:
            return body
        body += got

a, code_a = tunnel()
print("A", code_a)
b, code_b = tunnel()
rest = b.recv(4096)   # the 503's body, then the close
closed = b.recv(4096) == b""
print("B", code_b, "closed" if closed else "open")
print("A-after-B", "hello from lgwan" in fetch(a).decode(errors="replace"))
c, code_c = tunnel()
print("C", code_c, "hello from lgwan" in fetch(c).decode(errors="replace"))
PY
status=$?
sed 's/^/  | /' "$TG_TMP/tunnels.out"
[ $status -eq 0 ] && pass "tunnel client ran" || fail "tunnel client ran" "exit $status"
check_grep "tunnel A opens (allocation 2)" '^A 200$' "$TG_TMP/tunnels.out"
check_grep "tunnel B: its failed allocation answers 503 and closes it" '^B 503 closed$' "$TG_TMP/tunnels.out"
wait_for 5 grep -q '"reason":"out of memory"' "$BR_EVENTS"
check_grep "tunnel B's refusal is an event with its reason" \
	'"event":"bridge_denied".*"device":"[0-9a-f]{64}".*"reason":"out of memory","status":503' "$BR_EVENTS"
check_grep "tunnel A still carries bytes after B failed" '^A-after-B True$' "$TG_TMP/tunnels.out"
check_grep "tunnel C opens and carries bytes" '^C 200 True$' "$TG_TMP/tunnels.out"
n_denied=$(grep -c '"reason":"out of memory"' "$BR_EVENTS")
[ "$n_denied" = 1 ] && pass "exactly one session failed" || fail "exactly one session failed" "$n_denied out-of-memory events"
wait_for 5 bash -c "[ \$(grep -c '\"bridge_session_end\"' '$BR_EVENTS') -ge 3 ]"
check_grep "tunnel A ends normally" '"bridge_session_end".*"bytes_toclient":[1-9]' "$BR_EVENTS"
relays_after=$(pgrep -P "$BR_PID" | sort | tr '\n' ' ')
if kill -0 "$BR_PID" 2>/dev/null && [ -n "$relays_before" ] && [ "$relays_before" = "$relays_after" ]; then
	pass "the relay did not exit (same processes: $relays_after)"
else
	fail "the relay did not exit" "children before: '$relays_before', after: '$relays_after'"
fi

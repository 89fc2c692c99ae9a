#!/usr/bin/env bash
# 79-bridge-idle.sh -- an idle tunnel holds no TLS record buffer, no relay buffer and no bufferevent (issue 14.7), from its 200 on or after carrying bytes, and wakes up.
# tier: e2e
# timeout: 120
#
# Runs the test build of the daemon (build/t/tiergate-bridge-hooks): its relay counts what
# OpenSSL and libevent hold (relay_memcount.c: allocations of record size, 16 KB or more,
# and libevent chains of 4 KB or more) and logs the counts on SIGUSR2. One login, then
# N tunnels to an echo server: half are left idle right after their 200 (as the bench's
# idle sessions), half first send and read back 40 KB (several TLS records each way).
# The counts with the N tunnels idle are compared with those before them: before the fix
# each tunnel idle from its 200 on kept OpenSSL's 16.7 KB write buffer (the write that
# carried the session ticket too was never followed by the one that would free it).
. "$(dirname "$0")/../lib/harness.sh"
need_root
HOOKS="$TIERGATE_BUILD/t/tiergate-bridge-hooks"
BIN="$TIERGATE_BUILD/bin"
[ -x "$HOOKS" ] || { fail bridge-idle "not built: $HOOKS (make)"; exit 1; }
for tool in curl oathtool python3; do
	command -v $tool >/dev/null || { fail bridge-idle "$tool not installed"; exit 1; }
done
N=16

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
T="$TG_TMP"
chmod 755 "$T"
"$ROOT/tests/bridge/pki.sh" "$T/pki" >/dev/null || { fail bridge-idle "pki.sh failed"; exit 1; }
BR=$(free_port); ECHO=$(free_port)
FP=$("$BIN/tiergate-bridge" fingerprint "$T/pki/dev-good.pem")
echo "devices = ( { fingerprint = \"$FP\"; owner = \"alice\"; label = \"idle\"; } );" >"$T/devices.conf"
cat >"$T/site.conf" <<CONF
bridge = {
  listen = "127.0.0.1:$BR";
  certificates = ( { cert = "pki/bridge-ec.pem"; key = "pki/bridge-ec.key"; } );
  ca = "pki/device-ca.pem"; devices = "devices.conf"; users = "users.db";
  events = "events.json"; user = "nobody"; workers = 1; idle_timeout = 60;
  max_sessions_per_user = 100;
  grants = ( { name = "echo"; class = "admin"; who = [ "alice" ]; to = [ "127.0.0.1:$ECHO" ]; } );
};
CONF
echo "idle-password" | "$BIN/tiergate-bridge" --config "$T/site.conf" passwd alice >/dev/null
SECRET=$("$BIN/tiergate-bridge" --config "$T/site.conf" enroll alice | sed -n 's/.*secret=\([A-Z2-7]*\).*/\1/p' | head -n1)
[ -n "$SECRET" ] || { fail bridge-idle "enroll gave no secret"; exit 1; }

python3 - "$ECHO" >/dev/null 2>&1 <<'PY' &
import socket, sys, threading
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1]))); srv.listen(64)
def echo(c):
    while True:
        b = c.recv(65536)
        if not b:
            return c.close()
        c.sendall(b)
while True:
    threading.Thread(target=echo, args=(srv.accept()[0],), daemon=True).start()
PY
on_exit "kill $!"
"$HOOKS" --config "$T/site.conf" >"$T/bridge.log" 2>&1 &
BR_PID=$!
on_exit "kill $BR_PID; wait $BR_PID"
wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$BR" && wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$ECHO" ||
	{ fail bridge-idle "bridge or echo server did not come up"; sed 's/^/  | /' "$T/bridge.log"; exit 1; }
RELAY=$(pgrep -P "$BR_PID" -x tg-bridge-relay)
[ -n "$RELAY" ] && pass "the relay runs ($RELAY)" || { fail "the relay runs" "no tg-bridge-relay child"; exit 1; }

curl -sS -p -o /dev/null -D "$T/h" --proxy "https://127.0.0.1:$BR" --proxy-insecure \
	--proxy-cert "$T/pki/dev-good.pem" --proxy-key "$T/pki/dev-good.key" \
	--proxy-user "alice:idle-password$(oathtool --totp -b "$SECRET")" "telnet://127.0.0.1:$ECHO" --max-time 2 2>/dev/null
TOKEN=$(sed -n 's/^X-Tiergate-Token: *\([0-9a-f]*\).*/\1/p' "$T/h" | tr -d '\r')
[ -n "$TOKEN" ] && pass "login (token for the tunnels)" || { fail "login" "no token"; sed 's/^/  | /' "$T/bridge.log"; exit 1; }

# memstat LABEL: the relay's counts line (SIGUSR2), its fields as shell variables prefixed LABEL_.
memstat() {
	local before line
	before=$(grep -c 'relay memory:' "$T/bridge.log")
	kill -USR2 "$RELAY"
	wait_for 5 bash -c "[ \$(grep -c 'relay memory:' '$T/bridge.log') -gt $before ]" || return 1
	line=$(grep 'relay memory:' "$T/bridge.log" | tail -n1)
	echo "  | $1: ${line#*relay memory: }"
	eval "$(echo "${line#*relay memory: }" | tr ' ' '\n' | grep -E '^[a-z_]+=[0-9]+$' | sed "s/^/$1_/")"
}
sleep 1   # the login's session has ended
memstat before || { fail "the relay logs its memory counts on SIGUSR2" "no line"; exit 1; }
[ -n "${before_openssl_record_buffers:-}" ] && pass "the relay's memory counts are on (hooks installed)" ||
	{ fail "the relay's memory counts are on" "$(grep 'relay memory:' "$T/bridge.log" | tail -n1)"; exit 1; }

mkfifo "$T/hold"
python3 - "$BR" "$T/pki" "$TOKEN" "$ECHO" "$N" "$T/hold" >"$T/tunnels.out" 2>&1 <<'PY' &
import base64, socket, ssl, sys
port, pki, token, echo, n, hold = sys.argv[1:7]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.load_cert_chain(pki + "/dev-good.pem", pki + "/dev-good.key")
auth = base64.b64encode(("alice:token:%s" % token).encode()).decode()
def echoes(s, data):
    s.sendall(data)
    back = b""
    while len(back) < len(data):
        got = s.recv(65536)
        if not got:
            break
        back += got
    return back == data
held, ok = [], 0
for i in range(int(n)):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(port)), timeout=10))
    s.sendall(("CONNECT 127.0.0.1:%s HTTP/1.1\r\nProxy-Authorization: Basic %s\r\n\r\n" % (echo, auth)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        got = s.recv(1)
        if not got:
            break
        head += got
    if not head.startswith(b"HTTP/1.1 200"):
        print("tunnel", i, "refused:", head[:40])
        continue
    if i % 2 == 0:
        held.append(s)   # idle from its 200 on
        ok += 1
        continue
    ok += echoes(s, bytes([i]) * 40000)
    held.append(s)
print("echoed", ok, flush=True)
open(hold).read()   # held idle until the test has its counts
# Parked sessions wake up: each tunnel echoes again, both directions through its new bufferevents.
again = sum(echoes(s, bytes([255 - i]) * 20000) for i, s in enumerate(held))
print("after idle echoed", again, flush=True)
open(hold).read()   # held again until the test has its counts
PY
LOADER=$!
on_exit "kill $LOADER 2>/dev/null"
wait_for 60 grep -q '^echoed' "$T/tunnels.out"
sed 's/^/  | /' "$T/tunnels.out"
check_grep "$N tunnels open, every second one echoed 40 KB through the relay" "^echoed $N\$" "$T/tunnels.out"
sleep 1   # idle now
memstat idle || fail "the relay logs its memory counts with the tunnels idle" "no line"
echo >"$T/hold"
wait_for 60 grep -q '^after idle echoed' "$T/tunnels.out"
check_grep "every idle tunnel carries 20 KB each way again (parked sessions wake up)" "^after idle echoed $N\$" "$T/tunnels.out"
sleep 1
memstat again || fail "the relay logs its memory counts with the tunnels idle again" "no line"
echo >"$T/hold"
wait "$LOADER"

[ "${idle_sessions:-0}" = "$N" ] && pass "the relay holds $N established sessions while the counts are taken" ||
	fail "the relay holds $N established sessions while the counts are taken" "sessions=${idle_sessions:-none}"
rec=$(( ${idle_openssl_record_buffers:-999} - ${before_openssl_record_buffers:-0} ))
chains=$(( ${idle_libevent_chains:-999} - ${before_libevent_chains:-0} ))
# A job of the handshakes' async pool (a 32 KB stack) may stay; before the fix: one per tunnel idle from its 200.
[ "$rec" -lt $((N / 4)) ] && pass "idle tunnels hold no TLS record buffer ($rec more record-sized OpenSSL allocations for $N tunnels)" ||
	fail "idle tunnels hold no TLS record buffer" "$rec more record-sized OpenSSL allocations for $N idle tunnels"
[ "$chains" -lt $((N / 4)) ] && pass "idle tunnels hold no relay buffer ($chains more libevent chains for $N tunnels)" ||
	fail "idle tunnels hold no relay buffer" "$chains more libevent chains of 4 KB or more for $N idle tunnels"
# Parking (relay_pump.c): an idle session gives back its two bufferevents and their evbuffers
# (about 1.9 KB of libevent's per session before); what stays is the session's timer event.
for when in idle again; do
	eval "ev=\${${when}_libevent_bytes:-999999}"
	per=$(( (ev - ${before_libevent_bytes:-0}) / N ))
	[ "$per" -lt 400 ] && pass "idle tunnels hold no bufferevent ($when: $per bytes of libevent's per tunnel)" ||
		fail "idle tunnels hold no bufferevent" "$when: $per bytes of libevent's per idle tunnel (a bufferevent pair is about 1,900)"
done

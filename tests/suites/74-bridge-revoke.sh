#!/usr/bin/env bash
# 74-bridge-revoke.sh -- revocation takes effect at once: tokens and open tunnels end on passwd, user removal, re-enrolment, unlock, revoke, device removal.
# tier: e2e
# timeout: 180
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/bridge/env.sh"

BR_IDLE=30
BR_MORE_STAFF=', "erin", "frank", "gina"'
bridge_suite_start bridge-revoke
WEB="http://127.0.0.1:$WEB_PORT/"
ERIN_SECRET=$(enroll_user erin); FRANK_SECRET=$(enroll_user frank); GINA_SECRET=$(enroll_user gina)

# A granted destination that sends 1 KB every 50 ms for a minute: a long-running transfer.
DRIP_PORT=$CLOSED_PORT
python3 - "$DRIP_PORT" <<'PY' >/dev/null 2>&1 &
import socket, sys, threading, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1]))); srv.listen(16)
def drip(c):
    try:
        for _ in range(1200):
            c.sendall(b"x" * 1024); time.sleep(0.05)
    except OSError:
        pass
    c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=drip, args=(c,), daemon=True).start()
PY
on_exit "kill $!"
wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$DRIP_PORT"
TB=("$BIN/tiergate-bridge" --config "$BR_CONF")

expect() {
	if [ "$3" = "$2" ]; then pass "$1"; else fail "$1" "want $2, got $3 ($(tail -n1 "$TG_TMP/curl.err" 2>/dev/null))"; fi
}
last_event() { grep -E "$2" "$BR_EVENTS" | tail -n1 | grep -Eq "$3" && pass "$1" || { fail "$1" "no event /$2/ with /$3/"; tail -n 3 "$BR_EVENTS" | sed 's/^/  | /'; }; }

# login USER SECRET_B32 [DEVICE]: a password+OTP login; sets T to the token (empty when refused).
# Waits for the next TOTP step first: a step is accepted once per user.
login() {
	T=$(login_once "$@")
}
login_once() {
	local step=$(( $(date +%s) / 30 ))
	[ -f "$TG_TMP/step.$1" ] && LAST_STEP[$1]=$(cat "$TG_TMP/step.$1")
	[ -n "${LAST_STEP[$1]:-}" ] && [ "${LAST_STEP[$1]}" -ge "$step" ] && { sleep $(( 30 - $(date +%s) % 30 + 1 )); step=$(( $(date +%s) / 30 )); }
	LAST_STEP[$1]=$step
	echo "$step" >"$TG_TMP/step.$1"
	local code
	code=$(bcurl "${3:-dev-good}" "$1" "pw-$1-secret$(otp "$2")" "$WEB")
	[ "$code" = 200/200 ] || { echo "login of $1 failed: $code" >&2; return 1; }
	sed -n 's/^X-Tiergate-Token: *\([0-9a-f]*\).*/\1/ip' "$TG_TMP/headers" | head -n1
}
declare -A LAST_STEP

# --- a token ends with the password --------------------------------------------
login alice "$ALICE_SECRET"
expect "token works before the change" "200/200" "$(bcurl dev-good alice "token:$T" "$WEB")"
printf 'pw-alice-secret\n' | "${TB[@]}" passwd alice >/dev/null && pass "passwd ran" || fail "passwd ran"
expect "token refused after passwd" "407/000" "$(bcurl dev-good alice "token:$T" "$WEB")"
last_event "passwd ended the token (event)" '"bridge_token_revoked"' '"user":"alice".*"reason":"password or TOTP secret changed"'

# transfer NAME DEVICE USER SECRET: a tunnel (python ssl) to the drip server in the background;
# $TG_TMP/NAME.log gets "connect CODE", then "eof BYTES" when the bridge ends it (or "timeout").
transfer() {
	python3 - "$BR_PORT" "$PKI" "$2" "$3" "$4" "$DRIP_PORT" >"$TG_TMP/$1.log" 2>&1 <<'PY' &
import base64, socket, ssl, sys, time
port, pki, dev, user, secret, dest = sys.argv[1:7]
ctx = ssl.create_default_context(cafile=pki + "/device-ca.pem")
ctx.load_cert_chain(pki + "/%s.pem" % dev, pki + "/%s.key" % dev)
ctx.check_hostname = False
auth = base64.b64encode(("%s:%s" % (user, secret)).encode()).decode()
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(port)), timeout=20))
s.sendall(("CONNECT 127.0.0.1:%s HTTP/1.1\r\nProxy-Authorization: Basic %s\r\n\r\n" % (dest, auth)).encode())
head = b""
while b"\r\n\r\n" not in head:
    head += s.recv(1)
print("connect", head.split(b" ")[1].decode(), flush=True)
got = 0
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += len(b)
        if got >= 8192 and got - len(b) < 8192:
            print("flowing", flush=True)
    print("eof", got, flush=True)
except (socket.timeout, TimeoutError):
    print("timeout", got, flush=True)
except (ssl.SSLError, OSError) as e:
    print("eof", got, e, flush=True)
PY
	echo $!
}

# cut_check NAME PID WHAT REASON: the transfer was flowing, then ended by the bridge (not by
# the drip server, which runs a minute, nor by the idle timeout of 30 s) with REASON in its event.
cut_check() {
	if wait_for 10 grep -q '^eof' "$TG_TMP/$1.log" && grep -q '^flowing' "$TG_TMP/$1.log"; then
		pass "$3: the running transfer stopped"
	else
		fail "$3: the running transfer stopped" "$(tr '\n' ' ' <"$TG_TMP/$1.log")"
		kill "$2" 2>/dev/null
	fi
	wait "$2" 2>/dev/null
	last_event "$3: session end event says why" '"bridge_session_end"' "\"end_reason\":\"revoked: $4\""
}

# start_transfer NAME DEVICE USER SECRET: as transfer, and waits until data flows.
start_transfer() {
	local pid
	pid=$(transfer "$@")
	if wait_for 10 grep -q '^flowing' "$TG_TMP/$1.log"; then
		pass "$1: tunnel open and data flowing"
	else
		fail "$1: tunnel open and data flowing" "$(tr '\n' ' ' <"$TG_TMP/$1.log")"
	fi
	echo "$pid" >"$TG_TMP/$1.pid"
}

# --- a token ends when the user is removed (by hand, from the file) -----------
login dave "$DAVE_SECRET" dev-bob
expect "dave's token works" "200/200" "$(bcurl dev-bob dave "token:$T" "$WEB")"
sed -i '/^dave:/d' "$TG_TMP/users.db"
grep -q '^dave:' "$TG_TMP/users.db" && fail "dave removed from users.db" || pass "dave removed from users.db"
expect "token refused after user removal" "407/000" "$(bcurl dev-bob dave "token:$T" "$WEB")"
last_event "user removal ended the token (event)" '"bridge_token_revoked"' '"user":"dave".*"reason":"user removed"'

# --- revoke USER: the token and a running transfer end at once ----------------
login bob "$BOB_SECRET" dev-bob
start_transfer bob-drip dev-bob bob "token:$T"
out=$("${TB[@]}" revoke bob); rc=$?
[ $rc = 0 ] && pass "revoke bob ran ($out)" || fail "revoke bob ran" "exit $rc: $out"
cut_check bob-drip "$(cat "$TG_TMP/bob-drip.pid")" "revoke" "revoked by admin"
expect "token refused after revoke" "407/000" "$(bcurl dev-bob bob "token:$T" "$WEB")"
last_event "revoke ended the token (event)" '"bridge_token_revoked"' '"user":"bob".*"reason":"revoked by admin"'
last_event "revoke is an admin event with the operator" '"admin_action"|"admin"' '"revoke"'

# --- passwd cuts a running transfer too -----------------------------------------
login erin "$ERIN_SECRET" dev-bob
start_transfer erin-drip dev-bob erin "token:$T"
printf 'pw-erin-secret\n' | "${TB[@]}" passwd erin >/dev/null && pass "passwd erin ran" || fail "passwd erin ran"
cut_check erin-drip "$(cat "$TG_TMP/erin-drip.pid")" "passwd" "password or TOTP secret changed"

# --- re-enrolling TOTP, and unlock, end tokens ------------------------------------
login frank "$FRANK_SECRET" dev-bob
"${TB[@]}" enroll frank >/dev/null && pass "enroll frank ran" || fail "enroll frank ran"
expect "token refused after TOTP re-enrolment" "407/000" "$(bcurl dev-bob frank "token:$T" "$WEB")"
login gina "$GINA_SECRET" dev-bob
out=$("${TB[@]}" unlock gina) && pass "unlock gina ran ($out)" || fail "unlock gina ran" "$out"
expect "token refused after unlock" "407/000" "$(bcurl dev-bob gina "token:$T" "$WEB")"
last_event "unlock ended the token (event)" '"bridge_token_revoked"' '"user":"gina".*"reason":"unlocked by admin"'

# --- device removed from the registry: its sessions end ---------------------------
login alice "$ALICE_SECRET" dev-good
start_transfer alice-drip dev-good alice "token:$T"
grep -v "$(fp_of dev-good)" "$TG_TMP/devices.conf" >"$TG_TMP/devices.new" && mv "$TG_TMP/devices.new" "$TG_TMP/devices.conf"
cut_check alice-drip "$(cat "$TG_TMP/alice-drip.pid")" "device removal" "device not registered"
expect "token refused once the device is gone" "407/000" "$(bcurl dev-good alice "token:$T" "$WEB")"
last_event "refusal says why" '"bridge_login"' '"result":"failure","reason":"device not registered","user":"alice","method":"token"' 
last_event "device removal ended the token (event)" '"bridge_token_revoked"' '"user":"alice".*"reason":"device not registered"'

# --- control socket: unknown commands and names refused ----------------------------
out=$("${TB[@]}" revoke 'bad/name' 2>&1); rc=$?
[ $rc = 2 ] && pass "revoke of a bad name refused ($out)" || fail "revoke of a bad name refused" "exit $rc: $out"

# --- enroll --png: a new file only, mode 0600, never through a symlink ---------------
echo "keep me" >"$TG_TMP/victim"
ln -s "$TG_TMP/victim" "$TG_TMP/planted.png"
out=$("${TB[@]}" enroll hank --png "$TG_TMP/planted.png" 2>&1); rc=$?
[ $rc != 0 ] && [ "$(cat "$TG_TMP/victim")" = "keep me" ] && pass "enroll --png does not follow a planted symlink (exit $rc)" ||
	fail "enroll --png does not follow a planted symlink" "exit $rc, victim now $(head -c 20 "$TG_TMP/victim" | od -c | head -1)"
grep -q '^hank:' "$TG_TMP/users.db" && fail "refused enrolment left no secret" "hank is in users.db" || pass "refused enrolment left no secret"
echo "old code" >"$TG_TMP/old.png"
out=$("${TB[@]}" enroll hank --png "$TG_TMP/old.png" 2>&1); rc=$?
[ $rc != 0 ] && [ "$(cat "$TG_TMP/old.png")" = "old code" ] && pass "enroll --png does not overwrite a file ($out)" ||
	fail "enroll --png does not overwrite a file" "exit $rc: $out"
out=$(umask 000; "${TB[@]}" enroll hank --png "$TG_TMP/new.png" 2>&1); rc=$?
[ $rc = 0 ] && [ "$(stat -c %a "$TG_TMP/new.png")" = 600 ] && head -c 4 "$TG_TMP/new.png" | grep -q PNG &&
	pass "enroll --png writes a new PNG with mode 0600 (even with umask 000)" ||
	fail "enroll --png writes a new PNG with mode 0600" "exit $rc, mode $(stat -c %a "$TG_TMP/new.png" 2>&1): $out"

# --- tiergate-connect sends exactly what it formatted, whatever the lengths --------
# A stand-in bridge (python ssl, the bridge's certificate) records the request bytes.
FAKE_PORT=$(free_port)
python3 - "$FAKE_PORT" "$PKI" "$TG_TMP/fake.bin" <<'PY' >"$TG_TMP/fake.log" 2>&1 &
import socket, ssl, sys
port, pki, out = sys.argv[1:4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(pki + "/bridge-ec.pem", pki + "/bridge-ec.key")
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(port))); srv.listen(4)
n = 0
while True:
    raw, _ = srv.accept()
    try:
        s = ctx.wrap_socket(raw, server_side=True)
        s.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            b = s.recv(4096)
            if not b:
                break
            data += b
        try:                       # anything sent after the head arrives within 0.5 s
            s.settimeout(0.5)
            while True:
                b = s.recv(4096)
                if not b:
                    break
                data += b
        except (socket.timeout, ssl.SSLError, OSError):
            pass
        n += 1
        open("%s.%d" % (out, n), "wb").write(data)
        s.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
        s.close()
    except (ssl.SSLError, OSError) as e:
        print("tls:", e, flush=True)
PY
on_exit "kill $!"
wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$FAKE_PORT"
# connect_long N USER DEST PASSWORD_LEN: runs tiergate-connect once against the stand-in.
connect_long() {
	head -c "$4" /dev/zero | tr '\0' p >"$TG_TMP/long.pw"
	timeout 20 "$BIN/tiergate-connect" -b "127.0.0.1:$FAKE_PORT" --ca "$PKI/device-ca.pem" --cert "$PKI/dev-bob.pem" \
		--key "$PKI/dev-bob.key" -u "$2" --password-file "$TG_TMP/long.pw" --otp 123456 \
		-L "$(free_port):$3" >"$TG_TMP/long.$1.log" 2>&1
}
LONGHOST=$(printf 'h%.0s' $(seq 290)); LONGUSER=$(printf 'u%.0s' $(seq 60))
connect_long 1 "$LONGUSER" "$LONGHOST:3389" 250; rc=$?
f="$TG_TMP/fake.bin.1"
if [ $rc = 1 ] && [ -f "$f" ] && python3 - "$f" "$LONGHOST:3389" <<'PY'
import base64, sys
data, dest = open(sys.argv[1], "rb").read(), sys.argv[2].encode()
head = data.split(b"\r\n\r\n")[0]
assert data.endswith(b"\r\n\r\n") and data.count(b"\r\n\r\n") == 1, "bytes after the request"
assert head.startswith(b"CONNECT " + dest + b" HTTP/1.1\r\nHost: " + dest + b"\r\n"), "destination cut"
cred = [l for l in head.split(b"\r\n") if l.startswith(b"Proxy-Authorization: Basic ")][0].split(b" ")[2]
user, secret = base64.b64decode(cred).split(b":", 1)
assert len(user) == 60 and secret == b"p" * 250 + b"123456", "credentials cut"
PY
then
	pass "tiergate-connect with a 290-byte host, 60-byte user, 250-byte password sends the whole request and nothing after it"
else
	fail "tiergate-connect long request sent whole" "exit $rc; $(tail -n2 "$TG_TMP/long.1.log" | tr '\n' ' ')"
fi
rm -f "$TG_TMP"/fake.bin.*
connect_long 2 "$(printf 'u%.0s' $(seq 400))" "127.0.0.1:3389" 20; rc=$?
[ $rc = 1 ] && grep -q "too long" "$TG_TMP/long.2.log" && ! find "$TG_TMP" -name "fake.bin.*" -size +0 | grep -q . &&
	pass "tiergate-connect refuses a 400-byte user name before sending anything" ||
	fail "tiergate-connect refuses a 400-byte user name" "exit $rc; sent: $(ls "$TG_TMP"/fake.bin.* 2>/dev/null); $(tail -n2 "$TG_TMP/long.2.log" | tr '\n' ' ')"
connect_long 3 alice "127.0.0.1:3389" 400; rc=$?
[ $rc = 1 ] && grep -q "password longer" "$TG_TMP/long.3.log" && ! find "$TG_TMP" -name "fake.bin.*" -size +0 | grep -q . &&
	pass "tiergate-connect refuses a 400-byte password instead of cutting it" ||
	fail "tiergate-connect refuses a 400-byte password" "exit $rc; $(tail -n2 "$TG_TMP/long.3.log" | tr '\n' ' ')"

if grep -qE "AddressSanitizer|LeakSanitizer|runtime error|was killed by signal" "$TG_TMP/bridge.log"; then
	fail "no sanitizer report or crash in the bridge's log" "$(grep -m3 -E 'AddressSanitizer|runtime error|killed by signal' "$TG_TMP/bridge.log")"
else
	pass "no sanitizer report or crash in the bridge's log"
fi

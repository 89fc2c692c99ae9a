#!/usr/bin/env bash
# 76-bridge-crl.sh -- the device CRL is re-read on SIGHUP and when its file changes; resumed TLS sessions meet the current CRL; an expired CRL refuses (default) or warns.
# tier: e2e
# timeout: 180
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/bridge/env.sh"

bridge_suite_start bridge-crl
WEB="http://127.0.0.1:$WEB_PORT/"
expect() {
	if [ "$3" = "$2" ]; then pass "$1"; else fail "$1" "want $2, got $3 ($(tail -n1 "$TG_TMP/curl.err" 2>/dev/null))"; fi
}
last_event() { grep -E "$2" "$BR_EVENTS" | tail -n1 | grep -Eq "$3" && pass "$1" || { fail "$1" "no event /$2/ with /$3/"; tail -n 3 "$BR_EVENTS" | sed 's/^/  | /'; }; }
token_of() { sed -n 's/^X-Tiergate-Token: *\([0-9a-f]*\).*/\1/ip' "$TG_TMP/headers" | head -n1; }

# resumer NAME DEVICE USER TOKEN: a full handshake + CONNECT (prints "first CODE resumed?"), then
# waits for $TG_TMP/NAME.go and connects again resuming that TLS session ("second CODE resumed?").
resumer() {
	python3 - "$BR_PORT" "$PKI" "$2" "$3" "$4" "$WEB_PORT" "$TG_TMP/$1.go" >"$TG_TMP/$1.log" 2>&1 <<'PY' &
import base64, os, socket, ssl, sys, time
port, pki, dev, user, token, web, go = sys.argv[1:8]
ctx = ssl.create_default_context(cafile=pki + "/device-ca.pem")
ctx.load_cert_chain(pki + "/%s.pem" % dev, pki + "/%s.key" % dev)
ctx.check_hostname = False
auth = base64.b64encode(("%s:token:%s" % (user, token)).encode()).decode()
def once(session, label):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(port)), timeout=10), session=session)
    s.sendall(("CONNECT 127.0.0.1:%s HTTP/1.1\r\nProxy-Authorization: Basic %s\r\n\r\n" % (web, auth)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(1)
        if not b:
            break
        head += b
    code = head.split(b" ")[1].decode() if head else "none"
    if code == "200":            # the ticket comes after the 200: read a page to receive it
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        while s.recv(4096):
            pass
    print(label, code, "resumed" if s.session_reused else "full", flush=True)
    sess = s.session
    s.close()
    return sess
sess = once(None, "first")
for _ in range(600):
    if os.path.exists(go):
        break
    time.sleep(0.1)
once(sess, "second")
PY
	echo $!
}

bcurl dev-bob bob "pw-bob-secret$(otp "$BOB_SECRET")" "$WEB" >/dev/null; TB_=$(token_of)
bcurl dev-good alice "pw-alice-secret$(otp "$ALICE_SECRET")" "$WEB" >/dev/null; TA=$(token_of)
[ ${#TB_} = 64 ] && [ ${#TA} = 64 ] && pass "bob and alice logged in" || fail "bob and alice logged in" "tokens '$TB_' '$TA'"

# --- SIGHUP: dev-bob revoked; the file keeps its inode and mtime, so only the signal reloads ---
pid=$(resumer bob dev-bob bob "$TB_")
wait_for 10 grep -q '^first' "$TG_TMP/bob.log"
grep -q '^first 200 full' "$TG_TMP/bob.log" && pass "dev-bob: a tunnel before the revocation" || fail "dev-bob: a tunnel before the revocation" "$(cat "$TG_TMP/bob.log")"
(cd "$PKI" && cp -p device-ca.crl device-ca.crl.old &&
	openssl ca -batch -config device-ca.cnf -revoke dev-bob.pem &&
	openssl ca -batch -config device-ca.cnf -gencrl -out device-ca.crl.new &&
	cat device-ca.crl.new >device-ca.crl && touch -r device-ca.crl.old device-ca.crl) >/dev/null 2>&1 &&
	pass "dev-bob revoked in the CRL (same inode and mtime)" || fail "dev-bob revoked in the CRL"
sleep 2
expect "before SIGHUP the relay still has the old CRL (the file looks unchanged)" "200/200" "$(bcurl dev-bob bob "token:$TB_" "$WEB")"
kill -HUP "$BR_PID"
wait_for 10 grep -q '"bridge_crl".*"reloaded"' "$BR_EVENTS" && pass "SIGHUP: the relay re-read the CRL (event)" || fail "SIGHUP: the relay re-read the CRL (event)"
expect "dev-bob refused on a new connection" "403/000" "$(bcurl dev-bob bob "token:$TB_" "$WEB")"
last_event "dev-bob refusal says revoked" '"bridge_login"' '"reason":"certificate revoked'
touch "$TG_TMP/bob.go"
wait_for 10 grep -q '^second' "$TG_TMP/bob.log"
wait "$pid" 2>/dev/null
grep -q '^second 403 resumed' "$TG_TMP/bob.log" && pass "dev-bob: a resumed TLS session is refused too" ||
	fail "dev-bob: a resumed TLS session is refused too" "$(tr '\n' ' ' <"$TG_TMP/bob.log")"
last_event "resumed refusal says the current CRL" '"bridge_login"' '"resumed":true.*"reason":"certificate revoked \(current CRL\)"'

# --- the file changes (a new CRL moved in place): dev-good revoked without a signal ---------
reloads=$(grep -c '"bridge_crl".*"reloaded"' "$BR_EVENTS")
pid=$(resumer alice dev-good alice "$TA")
wait_for 10 grep -q '^first' "$TG_TMP/alice.log"
grep -q '^first 200 full' "$TG_TMP/alice.log" && pass "dev-good: a tunnel before the revocation" || fail "dev-good: a tunnel before the revocation" "$(cat "$TG_TMP/alice.log")"
(cd "$PKI" && openssl ca -batch -config device-ca.cnf -revoke dev-good.pem &&
	openssl ca -batch -config device-ca.cnf -gencrl -out device-ca.crl.new && mv device-ca.crl.new device-ca.crl) >/dev/null 2>&1 &&
	pass "dev-good revoked in a new CRL file" || fail "dev-good revoked in a new CRL file"
wait_for 10 bash -c "[ \$(grep -c '\"bridge_crl\".*\"reloaded\"' '$BR_EVENTS') -gt $reloads ]" && pass "file change: the relay re-read the CRL (event)" || fail "file change: the relay re-read the CRL (event)"
expect "dev-good refused on a new connection" "403/000" "$(bcurl dev-good alice "token:$TA" "$WEB")"
touch "$TG_TMP/alice.go"
wait_for 10 grep -q '^second' "$TG_TMP/alice.log"
wait "$pid" 2>/dev/null
grep -q '^second 403 resumed' "$TG_TMP/alice.log" && pass "dev-good: a resumed TLS session is refused too" ||
	fail "dev-good: a resumed TLS session is refused too" "$(tr '\n' ' ' <"$TG_TMP/alice.log")"

# --- a CRL past its nextUpdate: refuse (default), then warn ------------------------------
# A fresh CRL with only dev-revoked (the first one), but valid for one second.
(cd "$PKI" && cp device-ca.crl.old device-ca.crl.keep &&
	sed -i 's/^default_crl_days.*/default_crl_days = 0/' device-ca.cnf &&
	printf '%s\n' "$(sed -n '/^V/p;/^R.*device-revoked/p' device-ca.db/index.txt 2>/dev/null)" >/dev/null;
	awk -F'\t' 'BEGIN{OFS="\t"} /device-(good|bob)/ { $1="V"; $3="" } { print }' device-ca.db/index.txt >index.new && mv index.new device-ca.db/index.txt &&
	openssl ca -batch -config device-ca.cnf -gencrl -crlsec 1 -out device-ca.crl.new && mv device-ca.crl.new device-ca.crl) >/dev/null 2>&1 &&
	pass "a CRL valid for one second written" || fail "a CRL valid for one second written"
sleep 3
wait_for 10 grep -q '"bridge_crl".*"expired".*"refuse"' "$BR_EVENTS" && pass "expired CRL: an event says so (refuse)" || fail "expired CRL: an event says so (refuse)"
grep -q "THE DEVICE CRL IS PAST ITS nextUpdate" "$TG_TMP/bridge.log" && pass "expired CRL: the log says so loudly" || fail "expired CRL: the log says so loudly"
expect "expired CRL, crl_expired default: a device is refused" "403/000" "$(bcurl dev-bob bob "pw-bob-secret$(otp "$BOB_SECRET" 30)" "$WEB")"
last_event "refusal says the CRL expired" '"bridge_login"' '"reason":"CRL has expired"'

kill "$BR_PID"; wait "$BR_PID" 2>/dev/null
sed -i 's/^  crl = .*/&\n  crl_expired = "warn";/' "$BR_CONF"
"$BIN/tiergate-bridge" --config "$BR_CONF" >>"$TG_TMP/bridge.log" 2>&1 &
BR_PID=$!
on_exit "kill $BR_PID; wait $BR_PID"
wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$BR_PORT" && pass "bridge restarted with crl_expired = \"warn\"" || fail "bridge restarted with crl_expired = warn"
wait_for 10 grep -q '"bridge_crl".*"expired".*"warn"' "$BR_EVENTS" && pass "expired CRL: an event says so (warn)" || fail "expired CRL: an event says so (warn)"
expect "expired CRL, crl_expired = warn: a device is let in" "200/200" "$(bcurl dev-bob bob "pw-bob-secret$(otp "$BOB_SECRET" 30)" "$WEB")"
expect "expired CRL, warn: a revoked device is still refused" "403/000" "$(bcurl dev-revoked alice "token:$TA" "$WEB")"
last_event "revoked device under warn: the reason" '"bridge_login"' '"device":"[0-9a-f]*".*"reason":"certificate revoked'
"$BIN/tiergate-bridge" -n --config <(sed 's/crl_expired = "warn"/crl_expired = "maybe"/' "$BR_CONF") >"$TG_TMP/bad.out" 2>&1; rc=$?
[ $rc != 0 ] && grep -q 'crl_expired' "$TG_TMP/bad.out" && pass "crl_expired = \"maybe\" refused with the key named" ||
	fail "crl_expired = maybe refused" "exit $rc: $(head -n2 "$TG_TMP/bad.out")"

if grep -qE "AddressSanitizer|LeakSanitizer|runtime error|was killed by signal" "$TG_TMP/bridge.log"; then
	fail "no sanitizer report or crash in the bridge's log" "$(grep -m3 -E 'AddressSanitizer|runtime error|killed by signal' "$TG_TMP/bridge.log")"
else
	pass "no sanitizer report or crash in the bridge's log"
fi

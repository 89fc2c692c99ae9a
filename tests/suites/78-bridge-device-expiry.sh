#!/usr/bin/env bash
# 78-bridge-device-expiry.sh -- a device whose registration (not_after) or client certificate (notAfter) ends during an open tunnel is cut when the time passes, with its event; its token and a resumed TLS session are refused afterwards.
# tier: e2e
# timeout: 150
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/bridge/env.sh"

BR_IDLE=120   # idle tunnels stay open: only the expiry may end them
bridge_suite_start bridge-device-expiry
WEB="http://127.0.0.1:$WEB_PORT/"

# A device certificate that ends a few seconds from now (openssl ca -enddate), and a
# registration that does: dev-bob's not_after, to the second.
LEAD=8
end=$(($(date +%s) + LEAD))
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$PKI/dev-short.key" \
	-subj "/CN=device-short" -out "$PKI/dev-short.csr" 2>/dev/null &&
openssl ca -batch -config "$PKI/device-ca.cnf" -extensions client -in "$PKI/dev-short.csr" -out "$PKI/dev-short.pem" \
	-notext -enddate "$(date -u -d "@$end" +%Y%m%d%H%M%SZ)" 2>/dev/null
status=$?
[ "$status" = 0 ] && openssl x509 -in "$PKI/dev-short.pem" -noout -enddate | grep -q "$(date -u -d "@$end" '+%H:%M:%S')" \
	&& pass "device certificate made with notAfter now+${LEAD}s" || fail "short certificate" "openssl exit $status"
bob_end=$(date -u -d "@$end" +%Y-%m-%dT%H:%M:%SZ)
sed -i "s|label = \"shared staff laptop\"; }|label = \"shared staff laptop\"; not_after = \"$bob_end\"; }|" "$TG_TMP/devices.conf"
sed -i "s|^);|  ,{ fingerprint = \"$(fp_of dev-short)\"; owner = \"alice\"; label = \"short certificate\"; }\n);|" "$TG_TMP/devices.conf"
sed -i -z 's/}\n  ,{/},\n  {/' "$TG_TMP/devices.conf"
grep -q "not_after = \"$bob_end\"" "$TG_TMP/devices.conf" && pass "registry: dev-bob not_after = $bob_end" || fail "registry edited" "$(cat "$TG_TMP/devices.conf")"

# hold DEVICE USER SECRET: a tunnel held open (python ssl); prints the CONNECT status, the
# token, then when and how it ended; then resumes the TLS session and prints that answer.
hold() {
	python3 - "$BR_PORT" "$PKI" "$1" "$2" "$3" "$WEB_PORT" <<'PY'
import base64, socket, ssl, sys, time
port, pki, dev, user, secret, web = sys.argv[1:7]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(pki + "/device-ca.pem")
ctx.load_cert_chain(pki + "/" + dev + ".pem", pki + "/" + dev + ".key")
ctx.check_hostname = False
def tunnel(auth, session=None):
    raw = socket.create_connection(("127.0.0.1", int(port)), timeout=60)
    s = ctx.wrap_socket(raw, session=session)
    s.sendall(("CONNECT 127.0.0.1:%s HTTP/1.1\r\nProxy-Authorization: Basic %s\r\n\r\n"
               % (web, base64.b64encode(auth.encode()).decode())).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        got = s.recv(4096)
        if not got:
            break
        head += got
    return s, head.decode(errors="replace")
s, head = tunnel("%s:%s" % (user, secret))
code = head.split(" ")[1] if " " in head else "none"
token = ""
for line in head.split("\r\n"):
    if line.lower().startswith("x-tiergate-token:"):
        token = line.split(":", 1)[1].strip()
print("connect", code, token, flush=True)
t0 = time.time()
s.settimeout(40)
try:
    while s.recv(4096):
        pass
    print("ended after %.0f s" % (time.time() - t0), flush=True)
except socket.timeout:
    print("still open after 40 s", flush=True)
session = s.session
s.close()
try:
    s2, head2 = tunnel("%s:token:%s" % (user, token), session)
    print("resumed", s2.session_reused, head2.split(" ")[1] if " " in head2 else "none", flush=True)
except (ssl.SSLError, OSError) as e:
    print("resumed error", type(e).__name__, flush=True)
PY
}
# Both tunnels open before the time passes (the logins take well under a second each).
hold dev-short alice "pw-alice-secret$(otp "$ALICE_SECRET")" >"$TG_TMP/short.out" 2>&1 &
h1=$!
hold dev-bob bob "pw-bob-secret$(otp "$BOB_SECRET")" >"$TG_TMP/bob.out" 2>&1 &
h2=$!
wait_for 10 grep -q "^connect" "$TG_TMP/short.out"
wait_for 10 grep -q "^connect" "$TG_TMP/bob.out"
[ "$(date +%s)" -lt "$end" ] && opened_in_time=yes || opened_in_time=no
grep -q "^connect 200 [0-9a-f]\{64\}" "$TG_TMP/short.out" && [ $opened_in_time = yes ] \
	&& pass "tunnel open through the device whose certificate ends at now+${LEAD}s" || fail "short-cert tunnel" "$(cat "$TG_TMP/short.out") (in time: $opened_in_time)"
grep -q "^connect 200 [0-9a-f]\{64\}" "$TG_TMP/bob.out" && [ $opened_in_time = yes ] \
	&& pass "tunnel open through the device whose registration ends at now+${LEAD}s" || fail "bob tunnel" "$(cat "$TG_TMP/bob.out") (in time: $opened_in_time)"

# Cut when the time passes (waited for up to 30 s past it), each with its event.
wait_for $((LEAD + 30)) grep -q "^ended after" "$TG_TMP/short.out"
grep -q "^ended after" "$TG_TMP/short.out" && pass "certificate expiry: the tunnel is cut ($(grep ended "$TG_TMP/short.out"))" \
	|| fail "certificate expiry cuts the tunnel" "$(cat "$TG_TMP/short.out")"
grep '"bridge_session_end"' "$BR_EVENTS" | grep "\"device\":\"$(fp_of dev-short)\"" | grep -q '"end_reason":"device certificate expired"' \
	&& pass "... bridge_session_end end_reason \"device certificate expired\"" || fail "cert expiry event" "$(grep bridge_session_end "$BR_EVENTS" | tail -n 2)"
wait_for $((LEAD + 30)) grep -q "^ended after" "$TG_TMP/bob.out"
grep -q "^ended after" "$TG_TMP/bob.out" && pass "registration expiry: the tunnel is cut ($(grep ended "$TG_TMP/bob.out"))" \
	|| fail "registration expiry cuts the tunnel" "$(cat "$TG_TMP/bob.out")"
grep '"bridge_session_end"' "$BR_EVENTS" | grep "\"device\":\"$(fp_of dev-bob)\"" | grep -q '"end_reason":"revoked: device registration expired"' \
	&& pass "... bridge_session_end end_reason \"revoked: device registration expired\"" || fail "registration expiry event" "$(grep bridge_session_end "$BR_EVENTS" | tail -n 2)"
grep '"bridge_device_expired"' "$BR_EVENTS" | grep -q "\"device\":\"$(fp_of dev-bob)\".*\"not_after\":\"${bob_end%Z}" \
	&& pass "... bridge_device_expired with the device and its not_after" || fail "bridge_device_expired" "$(grep device_expired "$BR_EVENTS")"
grep '"bridge_token_revoked"' "$BR_EVENTS" | grep -q "\"user\":\"bob\",\"device\":\"$(fp_of dev-bob)\",\"reason\":\"device registration expired\"" \
	&& pass "... and bob's token on it revoked" || fail "token revoked on expiry" "$(grep token_revoked "$BR_EVENTS")"

# Afterwards: the resumed TLS session of the expired certificate and the token of the
# expired registration are refused.
wait $h1 $h2
grep -q "^resumed True 403" "$TG_TMP/short.out" && pass "resumed TLS session with the expired certificate: 403" \
	|| fail "resumed session refused" "$(tail -n1 "$TG_TMP/short.out")"
grep '"bridge_login"' "$BR_EVENTS" | tail -n 3 | grep -q '"reason":"device certificate expired"' \
	&& pass "... its event says \"device certificate expired\"" || fail "resumed refusal event" "$(grep bridge_login "$BR_EVENTS" | tail -n 2)"
grep -q "^resumed .* 40[37]" "$TG_TMP/bob.out" && pass "bob's token on the expired registration: refused ($(tail -n1 "$TG_TMP/bob.out"))" \
	|| fail "token on expired registration refused" "$(tail -n1 "$TG_TMP/bob.out")"
grep '"bridge_login"' "$BR_EVENTS" | grep '"user":"bob"' | tail -n1 | grep -q '"reason":"device registration expired"' \
	&& pass "... its event says \"device registration expired\"" || fail "token refusal event" "$(grep bridge_login "$BR_EVENTS" | tail -n 1)"
# A fresh handshake with the expired certificate fails its verification.
code=$(bcurl dev-short alice "pw-alice-secret$(otp "$ALICE_SECRET" 30)" "$WEB")
[ "$code" = 403/000 ] || [ "$code" = 000/000 ] && pass "a new login with the expired certificate is refused ($code)" \
	|| fail "new login with expired certificate" "$code"
# The others are untouched: alice on her own laptop.
expect_code=$(bcurl dev-good alice "pw-alice-secret$(otp "$ALICE_SECRET" 30)" "$WEB")
[ "$expect_code" = 200/200 ] && pass "another device of the same user still logs in" || fail "dev-good login" "$expect_code"

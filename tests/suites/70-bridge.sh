#!/usr/bin/env bash
# 70-bridge.sh -- the bridge end to end: curl and openssl s_client through it, oathtool codes, openssl certificates.
# tier: e2e
# timeout: 240
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/bridge/env.sh"

bridge_suite_start bridge-e2e
WEB="http://127.0.0.1:$WEB_PORT/"

# expect NAME WANT GOT: compares a bcurl result.
expect() {
	if [ "$3" = "$2" ]; then pass "$1"; else fail "$1" "want $2, got $3 ($(tail -n1 "$TG_TMP/curl.err" 2>/dev/null))"; fi
}
# event_has NAME JQ-LIKE-ERE: the last events match.
last_event() { grep -E "$2" "$BR_EVENTS" | tail -n1 | grep -Eq "$3" && pass "$1" || { fail "$1" "no event /$2/ with /$3/"; tail -n 3 "$BR_EVENTS" | sed 's/^/  | /'; }; }

check_grep "configuration check" "configuration OK" <("$BIN/tiergate-bridge" -n --config "$BR_CONF" 2>&1)

# --- a good login, and what it leaves behind ---------------------------------
code=$(otp "$ALICE_SECRET")
expect "login: device cert + password + TOTP" "200/200" "$(bcurl dev-good alice "pw-alice-secret$code" "$WEB")"
check_grep "tunnelled body arrives" "hello from lgwan" "$TG_TMP/body"
TOKEN=$(sed -n 's/^X-Tiergate-Token: *\([0-9a-f]*\).*/\1/p' "$TG_TMP/headers" | head -n1)
[ ${#TOKEN} = 64 ] && pass "session token returned in X-Tiergate-Token" || fail "session token returned" "got '$TOKEN'"
last_event "login success event" '"event":"bridge_login"' '"result":"success".*"user":"alice".*"device_label":"alice laptop"'
wait_for 5 grep -q '"bridge_session_end"' "$BR_EVENTS"
last_event "session end event with bytes" '"bridge_session_end"' '"user":"alice".*"bytes_toserver":[1-9][0-9]*,"bytes_toclient":[1-9]'

# --- TOTP replay, wrong password, wrong code (from their own address: lockouts count per source) ---
SRC=127.0.0.2
expect "replayed OTP refused" "407/000" "$(bcurl dev-good alice "pw-alice-secret$code" "$WEB")"
last_event "replay logged" '"bridge_login"' '"reason":"OTP replayed"'
expect "wrong password refused" "407/000" "$(bcurl dev-good alice "wrong-password$(otp "$ALICE_SECRET" 30)" "$WEB")"
last_event "wrong password logged" '"bridge_login"' '"reason":"wrong password"'
expect "wrong OTP refused" "407/000" "$(bcurl dev-good alice "pw-alice-secret$(otp "$ALICE_SECRET" 600)" "$WEB")"
last_event "wrong OTP logged" '"bridge_login"' '"reason":"wrong OTP"'
expect "no credentials: 407" "407/000" "$(curl -sS -o /dev/null -p -w "%{http_connect}/%{http_code}" --proxy "https://127.0.0.1:$BR_PORT" \
	--proxy-cacert "$PKI/device-ca.pem" --proxy-cert "$PKI/dev-good.pem" --proxy-key "$PKI/dev-good.key" "$WEB" 2>/dev/null)"
last_event "no credentials logged" '"bridge_login"' '"reason":"no credentials"'
grep -qi '^Proxy-Authenticate: Basic' <(curl -sS -p -D - -o /dev/null --proxy "https://127.0.0.1:$BR_PORT" \
	--proxy-cacert "$PKI/device-ca.pem" --proxy-cert "$PKI/dev-good.pem" --proxy-key "$PKI/dev-good.key" "$WEB" 2>/dev/null) \
	&& pass "407 carries Proxy-Authenticate" || fail "407 carries Proxy-Authenticate"

# --- token reconnect -----------------------------------------------------------
expect "token reconnect without a new OTP" "200/200" "$(bcurl dev-good alice "token:$TOKEN" "$WEB")"
last_event "token login logged" '"bridge_login"' '"result":"success".*"method":"token"'
expect "IPv6 destination granted as [::1/128]:port" "200/200" "$(bcurl dev-good alice "token:$TOKEN" "http://[::1]:$WEB6_PORT/")"
expect "IPv6 port not granted" "403/000" "$(bcurl dev-good alice "token:$TOKEN" "http://[::1]:$WEB_PORT/")"
last_event "IPv6 port refusal logged" '"bridge_denied"' "\"dest\":\"\\[::1\\]:$WEB_PORT\".*\"reason\":\"destination not granted to this user\""
expect "token from another device refused" "407/000" "$(bcurl dev-bob alice "token:$TOKEN" "$WEB")"
last_event "token device binding logged" '"bridge_login"' '"reason":"token used from another device"'
expect "made-up token refused" "407/000" "$(bcurl dev-good alice "token:$(printf '%064d' 7)" "$WEB")"
last_event "made-up token logged" '"bridge_login"' '"reason":"unknown or expired token"' 

SRC=
# --- device checks ---------------------------------------------------------------
expect "no client certificate refused" "403/000" "$(bcurl none alice "token:$TOKEN" "$WEB")"
last_event "no cert logged" '"bridge_login"' '"reason":"no client certificate"'
expect "unknown CA certificate refused" "403/000" "$(bcurl dev-unknown alice "token:$TOKEN" "$WEB")"
last_event "unknown cert logged" '"bridge_login"' '"reason":"unable to (get local issuer|verify the first) certificate"'
expect "revoked certificate refused (CRL)" "403/000" "$(bcurl dev-revoked alice "token:$TOKEN" "$WEB")"
last_event "revoked cert logged" '"bridge_login"' '"reason":"certificate revoked"'
expect "expired certificate refused" "403/000" "$(bcurl dev-expired alice "token:$TOKEN" "$WEB")"
last_event "expired cert logged" '"bridge_login"' '"reason":"certificate has expired"'
expect "device of another user refused" "407/000" "$(SRC=127.0.0.2 bcurl dev-good bob "pw-bob-secret$(otp "$BOB_SECRET")" "$WEB")"
last_event "ownership logged" '"bridge_login"' '"reason":"device belongs to another user"'

# --- destinations ----------------------------------------------------------------
expect "forbidden destination: 403" "403/000" "$(bcurl dev-good alice "token:$TOKEN" "http://127.0.0.1:1/")"
last_event "forbidden destination logged" '"bridge_denied"' '"user":"alice".*"dest":"127.0.0.1:1".*"reason":"destination not granted to this user"'
expect "mynumber zone refused even when a grant covers it" "403/000" "$(bcurl dev-good alice "token:$TOKEN" "http://10.10.1.5/")"
last_event "mynumber refusal logged" '"bridge_denied"' '"dest":"10.10.1.5:80".*"reason":"destination is in the mynumber zone'
expect "host names that are not ASP services: 403" "403/000" "$(bcurl dev-good alice "token:$TOKEN" "http://example.com/")"
last_event "host name refusal logged" '"bridge_denied"' '"dest":"example.com:80".*"reason":"destination is neither an IP address nor a registered ASP service"' 
expect "ASP not yet checked: 403" "403/000" "$(bcurl dev-good alice "token:$TOKEN" "https://asp-good.test:$ASP_GOOD_PORT/" --cacert "$PKI/asp-ca.pem")"
last_event "ASP not checked logged" '"bridge_denied"' '"asp":"good".*"reason":"ASP service not checked yet"'

expect "granted destination that refuses: 502" "502/000" "$(bcurl dev-good alice "token:$TOKEN" "http://127.0.0.1:$CLOSED_PORT/")"
last_event "upstream failure logged" '"bridge_upstream_failed"' '"reason":"connect failed","status":502'

# --- limits ----------------------------------------------------------------------
codes=$(hold_tunnels alice "token:$TOKEN" 5 127.0.0.1)
[ "$codes" = "200 200 200 200 429" ] && pass "max_sessions_per_user: the 5th session is refused" || fail "max_sessions_per_user" "got '$codes'"
last_event "max_sessions_per_user refusal logged" '"bridge_denied"' '"reason":"too many sessions for this user"' 
python3 - "$BR_PORT" <<'PY' &
import socket, sys, time
held = []
for _ in range(40):
    s = socket.socket(); s.bind(("127.0.0.9", 0)); s.connect(("127.0.0.1", int(sys.argv[1]))); held.append(s)
time.sleep(2)
PY
holder=$!
wait_for 5 grep -q '"bridge_refused".*"src_ip":"127.0.0.9".*too many connections from this address' "$BR_EVENTS" \
	&& pass "max_conns_per_source: the 33rd connection from one address is refused" || fail "max_conns_per_source"
wait "$holder"

# --- asp-check -------------------------------------------------------------------
"$BIN/tiergate-bridge" --config "$BR_CONF" asp-check >"$TG_TMP/asp.txt" 2>&1
[ $? = 1 ] && pass "asp-check exits 1 when some service fails" || fail "asp-check exit status"
check_grep "asp-check: good passes" '^good .* PASS' "$TG_TMP/asp.txt"
check_grep "asp-check: expired certificate fails" '^expired .*FAIL .*certificate has expired' "$TG_TMP/asp.txt"
check_grep "asp-check: self-signed fails" '^selfsigned .*FAIL .*self-signed' "$TG_TMP/asp.txt"
check_grep "asp-check: wrong host fails" '^wronghost .*FAIL .*host name' "$TG_TMP/asp.txt"
check_grep "asp-check: expiring soon fails" '^soon .*FAIL .*expires within 30 days' "$TG_TMP/asp.txt"
check_grep "asp-check: unreachable fails" '^unchecked .*FAIL .*not reachable' "$TG_TMP/asp.txt"
check "asp state file is JSON" python3 -c "import json,sys; d=json.load(open('$TG_TMP/state/asp-state.json')); assert len(d['services'])==6"
check_grep "asp check events" '"bridge_asp_check".*"service":"wronghost","passed":false' "$BR_EVENTS"
expect "ASP that passed is routable" "200/200" "$(bcurl dev-good alice "token:$TOKEN" "https://asp-good.test:$ASP_GOOD_PORT/" --cacert "$PKI/asp-ca.pem")"
expect "ASP that failed is not" "403/000" "$(bcurl dev-good alice "token:$TOKEN" "https://asp-expired.test:$ASP_EXPIRED_PORT/" -k)"
last_event "ASP failed logged" '"bridge_denied"' '"asp":"expired".*"reason":"ASP service failed its connection check"'

# A second bridge on the same files with a 1-second schedule: it checks the ASP services itself.
SCHED_PORT=$(free_port)
sed -e "s/127.0.0.1:$BR_PORT/127.0.0.1:$SCHED_PORT/; s/check_interval = 3600/check_interval = 1/" \
	-e 's/max_session = 60;/max_session = 2;/; s/idle_timeout = 3;/idle_timeout = 30;/' \
	-e 's|state/asp-state.json|state/sched.json|; s|events.json|events-sched.json|; s|"control.sock"|"control-sched.sock"|' \
	"$BR_CONF" >"$TG_TMP/sched.conf"
"$BIN/tiergate-bridge" --config "$TG_TMP/sched.conf" >"$TG_TMP/sched.log" 2>&1 &
sched=$!
wait_for 10 grep -q '"service":"good","passed":true' "$TG_TMP/state/sched.json" \
	&& [ "$(stat -c %u "$TG_TMP/state/sched.json")" = 0 ] \
	&& pass "the bridge re-checks ASP services on its schedule; root writes the state file, not the relay user" \
	|| fail "scheduled ASP check" "$(cat "$TG_TMP/sched.log")"
# ... and it ends sessions at max_session (2 s here) even when they are not idle.
python3 -c 'import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4)
def drain(c):
    while c.recv(4096): pass
while True: threading.Thread(target=drain, args=(s.accept()[0],), daemon=True).start()' "$CLOSED_PORT" &
holder=$!
wait_for 5 bash -c "echo >/dev/tcp/127.0.0.1/$CLOSED_PORT"
auth=$(printf 'alice:pw-alice-secret%s' "$(otp "$ALICE_SECRET" 30)" | base64 -w0)
(printf 'CONNECT 127.0.0.1:%s HTTP/1.1\r\nProxy-Authorization: Basic %s\r\n\r\n' "$CLOSED_PORT" "$auth"
 for _ in 1 2 3 4 5 6; do sleep 1; printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'; done) |
	timeout 10 openssl s_client -quiet -connect "127.0.0.1:$SCHED_PORT" -cert "$PKI/dev-good.pem" \
	-key "$PKI/dev-good.key" >"$TG_TMP/maxsess.out" 2>&1 &
ms=$!
wait_for 8 grep -q '"end_reason":"max session length"' "$TG_TMP/events-sched.json" \
	&& pass "max_session ends a busy session" || fail "max_session" "$(grep -v asp_check "$TG_TMP/events-sched.json" | tail -n 2; head -c 300 "$TG_TMP/maxsess.out")"
kill $ms $holder 2>/dev/null; wait $ms $holder 2>/dev/null
kill $sched; wait $sched 2>/dev/null

# --- lockout per account and per address, and unlock ---------------------------------
SRC=127.0.0.3
for i in 1 2 3 4 5; do bcurl dev-bob dave "bad-password$(otp "$DAVE_SECRET")" "$WEB" >/dev/null; done
check_grep "account lockout event" '"bridge_lockout","kind":"user","target":"dave"' "$BR_EVENTS"
expect "locked account refused with the right password" "407/000" "$(bcurl dev-bob dave "pw-dave-secret$(otp "$DAVE_SECRET")" "$WEB")"
last_event "lockout reason logged" '"bridge_login"' '"reason":"account locked out.*"user":"dave"'
check_grep "unlock through the control socket" "ok dave unlocked" <("$BIN/tiergate-bridge" --config "$BR_CONF" unlock dave 2>&1)
expect "unlocked account logs in" "200/200" "$(bcurl dev-bob dave "pw-dave-secret$(otp "$DAVE_SECRET")" "$WEB")"
SRC=127.0.0.7
for i in $(seq 12); do bcurl dev-good "nobody$i" "whatever123456" "$WEB" >/dev/null; done
check_grep "address lockout event" '"bridge_lockout","kind":"address","target":"127.0.0.7"' "$BR_EVENTS"
expect "locked source address refused even with a token" "407/000" "$(bcurl dev-good alice "token:$TOKEN" "$WEB")"
last_event "address lockout logged" '"bridge_login"' '"reason":"source address locked out.*"src_ip":"127.0.0.7"'
check_grep "unlock an address" "ok 127.0.0.7 unlocked" <("$BIN/tiergate-bridge" --config "$BR_CONF" unlock 127.0.0.7 2>&1)
check_grep "unlock over the control socket is an admin event by uid 0 (SO_PEERCRED)" \
	'"event":"admin","action":"unlock","operator":\{"uid":0,"name":"root"\},"target":"dave","result":"unlocked"' "$BR_EVENTS"
check_grep "passwd is an admin event by the uid that ran it" \
	'"event":"admin","action":"password_set","operator":\{"uid":0,"name":"root"\},"target":"alice","result":"set"' "$BR_EVENTS"
check_grep "enroll is an admin event" '"event":"admin","action":"totp_enroll","operator":\{"uid":0,.*"target":"bob","result":"enrolled"' "$BR_EVENTS"
check_grep "asp-check run is an admin event" '"event":"admin","action":"asp_check","operator":\{"uid":0,' "$BR_EVENTS"
expect "unlocked address gets through" "200/200" "$(bcurl dev-good alice "token:$TOKEN" "$WEB")"
SRC=

# --- openssl s_client: idle timeout, bad requests, TLS versions, RSA ------------------
auth=$(printf 'alice:token:%s' "$TOKEN" | base64 -w0)
(printf 'CONNECT 127.0.0.1:%s HTTP/1.1\r\nProxy-Authorization: Basic %s\r\n\r\n' "$WEB_PORT" "$auth"; sleep 8) |
	timeout 10 openssl s_client -quiet -connect "127.0.0.1:$BR_PORT" -cert "$PKI/dev-good.pem" -key "$PKI/dev-good.key" \
	-CAfile "$PKI/device-ca.pem" >"$TG_TMP/sclient.out" 2>&1 &
sc=$!
wait_for 8 grep -q '"end_reason":"idle timeout"' "$BR_EVENTS" && pass "idle session closed after idle_timeout" || fail "idle timeout" "no session end with idle timeout"
kill $sc 2>/dev/null; wait $sc 2>/dev/null
check_grep "s_client saw the tunnel open" "200 Connection established" "$TG_TMP/sclient.out"
# A request dripped a byte at a time is cut at request_timeout (2 s), not kept alive by each byte.
python3 - "$BR_PORT" "$PKI" >"$TG_TMP/drip.out" <<'PY'
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2] + "/device-ca.pem")
ctx.load_cert_chain(sys.argv[2] + "/dev-good.pem", sys.argv[2] + "/dev-good.key")
ctx.check_hostname = False
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10))
start = time.time()
try:
    for ch in b"CONNECT 127.0.0.1:1 HTTP/1.1\r\nX-Padding: " + b"a" * 100:
        s.send(bytes([ch])); time.sleep(0.2)
        if time.time() - start > 8: break
    print("not cut")
except OSError:
    print("cut after %.0f s" % (time.time() - start))
PY
check_grep "slow request cut at request_timeout" "^cut after [2-4] s" "$TG_TMP/drip.out"
printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' | timeout 5 openssl s_client -quiet -connect "127.0.0.1:$BR_PORT" \
	-cert "$PKI/dev-good.pem" -key "$PKI/dev-good.key" >"$TG_TMP/get.out" 2>&1
check_grep "non-CONNECT answered 405" "405 Method Not Allowed" "$TG_TMP/get.out"
# refused by the bridge for its version: s_client reached it and got a protocol-version alert
timeout 5 openssl s_client -tls1_1 -connect "127.0.0.1:$BR_PORT" </dev/null >"$TG_TMP/tls11.out" 2>&1
tls11=$?
[ "$tls11" -ne 0 ] && [ "$tls11" -ne 124 ] && grep -qiE "alert protocol version|unsupported protocol" "$TG_TMP/tls11.out" &&
	pass "TLS 1.1 refused (protocol version alert)" ||
	fail "TLS 1.1 refused" "exit $tls11: $(grep -iE 'alert|error|connect' "$TG_TMP/tls11.out" | head -n 2 | tr '\n' ' ')"
timeout 5 openssl s_client -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 -connect "127.0.0.1:$BR_PORT" </dev/null >"$TG_TMP/rsa.out" 2>&1
check_grep "RSA certificate served to RSA-only clients" "Server public key is 2048 bit" "$TG_TMP/rsa.out"
timeout 5 openssl s_client -tls1_3 -connect "127.0.0.1:$BR_PORT" </dev/null >"$TG_TMP/ec.out" 2>&1
check_grep "ECDSA certificate by default" "Server public key is 256 bit" "$TG_TMP/ec.out"

# --- TLS 1.3 session tickets: only a session let through gets one, and it resumes -------
# s_client PREFIX OUT [ARGS...]: TLS 1.3 with alice's device certificate; stdin stays
# open a second so the tickets (if any) arrive.
s_client13() {
	local input=$1 out=$2
	shift 2
	(printf '%b' "$input"; sleep 1) | timeout 8 openssl s_client -tls1_3 -msg -connect "127.0.0.1:$BR_PORT" \
		-cert "$PKI/dev-good.pem" -key "$PKI/dev-good.key" -CAfile "$PKI/device-ca.pem" "$@" >"$out" 2>&1
}
CONNECT_REQ="CONNECT 127.0.0.1:$WEB_PORT HTTP/1.1\r\nProxy-Authorization: Basic $auth\r\n\r\n"
s_client13 "" "$TG_TMP/t-none.out"
if grep -q "Server public key is 256 bit" "$TG_TMP/t-none.out" && ! grep -q NewSessionTicket "$TG_TMP/t-none.out"; then
	pass "a handshake that never logs in gets no session ticket"
else
	fail "no ticket before a login" "$(grep -c NewSessionTicket "$TG_TMP/t-none.out") ticket(s)"
fi
s_client13 "$CONNECT_REQ" "$TG_TMP/t-one.out" -sess_out "$TG_TMP/t.sess"
expect "a session let through gets one ticket" "1" "$(grep -c '<<< .*NewSessionTicket' "$TG_TMP/t-one.out")"
s_client13 "$CONNECT_REQ" "$TG_TMP/t-resumed.out" -sess_in "$TG_TMP/t.sess"
check_grep "its ticket resumes the session (no full handshake)" "^Reused, TLSv1.3" "$TG_TMP/t-resumed.out"
check_grep "the resumed session is let through" "200 Connection established" "$TG_TMP/t-resumed.out"
last_event "the resumed session keeps its device and says it resumed" '"bridge_session_start"' \
	'"user":"alice","device":"[0-9a-f]{64}".*"resumed":true'

# --- tiergate-connect -------------------------------------------------------------
LPORT=$(free_port)
echo "pw-bob-secret" >"$TG_TMP/bob.pw"
"$BIN/tiergate-connect" -b "127.0.0.1:$BR_PORT" --ca "$PKI/device-ca.pem" --cert "$PKI/dev-bob.pem" \
	--key "$PKI/dev-bob.key" -u bob --password-file "$TG_TMP/bob.pw" --otp "$(otp "$BOB_SECRET" 30)" \
	-L "$LPORT:127.0.0.1:$WEB_PORT" >"$TG_TMP/connect.log" 2>&1 &
tc=$!
on_exit "kill $tc"
if wait_for 10 grep -q "logged in" "$TG_TMP/connect.log"; then
	check_grep "tiergate-connect forwards a local port" "hello from lgwan" <(curl -sS --max-time 5 "http://127.0.0.1:$LPORT/")
	check_grep "second forwarded connection uses the token" "hello from lgwan" <(curl -sS --max-time 5 "http://127.0.0.1:$LPORT/")
	last_event "tiergate-connect used the token" '"bridge_login"' '"user":"bob".*"method":"token"'
	last_event "tiergate-connect resumes the login's TLS session" '"bridge_session_start"' '"user":"bob".*"resumed":true'
else
	fail "tiergate-connect login" "$(tail -n 3 "$TG_TMP/connect.log")"
fi

# --- admin tools ---------------------------------------------------------------------
echo short | "$BIN/tiergate-bridge" --config "$BR_CONF" passwd erin >"$TG_TMP/passwd.out" 2>&1
[ $? -ne 0 ] && grep -q "password too short (at least 8 characters)" "$TG_TMP/passwd.out" &&
	pass "passwd refuses a short password, saying why" ||
	fail "passwd refuses a short password, saying why" "$(head -n 2 "$TG_TMP/passwd.out")"
"$BIN/tiergate-bridge" --config "$BR_CONF" enroll erin --png "$TG_TMP/erin.png" >"$TG_TMP/erin.txt"
check_grep "enroll prints an otpauth URI" '^otpauth://totp/tiergate:erin\?secret=[A-Z2-7]{32}&issuer=tiergate' "$TG_TMP/erin.txt"
check "enroll writes a PNG QR code" bash -c "head -c 8 '$TG_TMP/erin.png' | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a'"
check_grep "the user database is 0600" '^-rw-------' <(ls -l "$TG_TMP/users.db")
printf 'bridge = { ca = "x"; devices = "d"; users = "u"; certificates = ( { cert = "c"; key = "k"; } );\n  colour = "blue"; grants = ( { who = [ "a" ]; to = [ "10.0.0.1/8:22" ]; } ); };\n' >"$TG_TMP/bad.conf"
"$BIN/tiergate-bridge" -n --config "$TG_TMP/bad.conf" >"$TG_TMP/bad.out" 2>&1
check_grep "bad config refused with FILE:LINE" "bad.conf:2: error: grant destination" "$TG_TMP/bad.out"
check_grep "unknown setting warned about" "bad.conf:2: warning: unknown setting 'colour'" "$TG_TMP/bad.out"

# --- privilege separation and secrecy -------------------------------------------------
relay_user=$(ps -o user= --ppid "$BR_PID" | sort -u | head -n1)
[ "$relay_user" = nobody ] && pass "relay process runs as nobody" || fail "relay runs unprivileged" "user '$relay_user'"
[ "$(ps -o user= -p "$BR_PID")" = root ] && pass "auth process stays root (holds the secrets)" || fail "auth process user"
grep -n -e "pw-alice-secret" -e "$ALICE_SECRET" -e "$TOKEN" "$BR_EVENTS" "$TG_TMP/bridge.log" | head -3
# (both files must be there with the logins in them, and the token known, for "not found" to mean anything)
if [ ${#TOKEN} != 64 ] || [ -z "$ALICE_SECRET" ] || [ ! -s "$TG_TMP/bridge.log" ] ||
	! grep -q '"bridge_login".*"result":"success".*"user":"alice"' "$BR_EVENTS"; then
	fail "no password, TOTP secret or token in events or logs" "nothing to search: token '$TOKEN', files $(ls -l "$BR_EVENTS" "$TG_TMP/bridge.log" 2>&1 | tr '\n' ' ')"
elif grep -q -e "pw-alice-secret" -e "$ALICE_SECRET" -e "$TOKEN" "$BR_EVENTS" "$TG_TMP/bridge.log"; then
	fail "no password, TOTP secret or token in events or logs"
else
	pass "no password, TOTP secret or token in events or logs"
fi
check "every event line is JSON (and there are events)" python3 -c "import json; assert len([json.loads(l) for l in open('$BR_EVENTS')]) > 20"
check "the event file (relays, auth process and admin tools writing to it) is an intact hash chain" "$BIN/tiergate-audit" verify "$BR_EVENTS"

# --- events forwarded to syslog (RFC 5424 over UDP, and TCP with octet counting) -------------
syslog_listen() {   # PROTO OUT: a collector on a free port, its port in SYSLOG_PORT
	SYSLOG_PORT=$(free_port)
	python3 - "$1" "$SYSLOG_PORT" "$2" <<'PY' &
import socket, sys
proto, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.settimeout(20)
if proto == "tcp":
    s.listen(1)
open(out + ".ready", "w").close()
if proto == "udp":
    data = s.recv(65536)
else:
    c, _ = s.accept(); c.settimeout(20); data = b""
    while not data.endswith(b"}"):
        chunk = c.recv(65536)
        if not chunk: break
        data += chunk
open(out, "wb").write(data)
PY
	on_exit "kill $!"
	wait_for 10 test -e "$2.ready" || fail "syslog collector ($1)" "did not start"
}
for proto in udp tcp; do
	syslog_listen $proto "$TG_TMP/syslog-$proto.txt"
	{ cat "$BR_CONF"; printf 'events = { syslog = "%s:127.0.0.1:%s"; facility = "local3"; };\n' $proto "$SYSLOG_PORT"; } \
		>"$TG_TMP/site-syslog.conf"
	printf 'pw-carol-secret\n' | "$BIN/tiergate-bridge" --config "$TG_TMP/site-syslog.conf" passwd carol >/dev/null 2>&1
	wait_for 5 test -s "$TG_TMP/syslog-$proto.txt"
	check "syslog over $proto: an RFC 5424 message carrying the admin event" python3 - "$TG_TMP/syslog-$proto.txt" $proto <<'PY'
import json, re, sys
data, proto = open(sys.argv[1], "rb").read().decode(), sys.argv[2]
if proto == "tcp":   # RFC 6587 octet counting: "LEN SP MSG"
    n, _, data = data.partition(" ")
    assert int(n) == len(data.encode()), (n, len(data.encode()))
m = re.match(r"<158>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z \S+ tiergate-bridge \d+ admin - (\{.*\})$", data)
assert m, data
ev = json.loads(m.group(1))
assert ev["action"] == "password_set" and ev["operator"] == {"uid": 0, "name": "root"} and ev["target"] == "carol", ev
PY
done
{ cat "$BR_CONF"; echo 'events = { syslog = "udp:127.0.0.1"; };'; } >"$TG_TMP/site-badsyslog.conf"
out=$("$BIN/tiergate-bridge" -n --config "$TG_TMP/site-badsyslog.conf" 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q 'site-badsyslog.conf:[0-9]*: error: events.syslog "udp:127.0.0.1" is not udp:HOST:PORT' &&
	pass "a bad events.syslog is refused with file and line" || fail "bad events.syslog refused" "rc=$rc: $out"

# --- signatures: the key process signs while the relay goes on -------------------------------
child_named() { ps -o pid=,comm= --ppid "$1" | awk -v n="$2" '$2 == n {print $1}'; }
# hs_client PORT NAME tls1_2|tls1_3 ec|rsa: a handshake with a device certificate, then a GET
# (answered 405 by the relay); s_client's summary and the answer go to $TG_TMP/hs-NAME.out.
hs_client() {
	local opts=(-"$3")
	case "$3/$4" in
	tls1_3/rsa) opts+=(-sigalgs rsa_pss_rsae_sha256) ;;
	tls1_2/rsa) opts+=(-cipher ECDHE-RSA-AES128-GCM-SHA256) ;;
	tls1_2/ec) opts+=(-cipher ECDHE-ECDSA-AES128-GCM-SHA256) ;;
	esac
	printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' | timeout 15 openssl s_client -brief -ign_eof \
		-connect "127.0.0.1:$1" -cert "$PKI/dev-good.pem" -key "$PKI/dev-good.key" "${opts[@]}" \
		>"$TG_TMP/hs-$2.out" 2>&1
}
KEYS=$(child_named "$BR_PID" tg-bridge-keys)
RELAY=$(child_named "$BR_PID" tg-bridge-relay)
# 24 handshakes (TLS 1.2 and 1.3, ECDSA and RSA) arrive while the key process is stopped: the
# relay sends their signatures and keeps serving (a TLS 1.1 client is refused at once) instead
# of waiting on the first one; once the key process goes on, every handshake completes.
kill -STOP "$KEYS"
hs=()
for i in $(seq 24); do
	set -- tls1_3 ec tls1_3 rsa tls1_2 ec tls1_2 rsa
	shift $(( (i % 4) * 2 ))
	hs_client "$BR_PORT" "c$i-$1-$2" "$1" "$2" &
	hs+=($!)
done
sleep 0.6
# A relay blocked on the first signature would not answer before the 10 s bound (24 signatures
# of 2 s each are ahead of the probe); the probe must be refused while the keys are stopped.
timeout 10 openssl s_client -tls1_1 -connect "127.0.0.1:$BR_PORT" </dev/null >"$TG_TMP/probe.out" 2>&1
probe_status=$?
keys_state=$(ps -o stat= -p "$KEYS" | cut -c1)
kill -CONT "$KEYS"
wait "${hs[@]}"
[ "$probe_status" != 124 ] && [ "$keys_state" = T ] && grep -qi "alert protocol version" "$TG_TMP/probe.out" \
	&& pass "relay serves on while signatures wait in a stopped key process (TLS 1.1 refused)" \
	|| fail "relay serves on while signatures wait" "probe status $probe_status, key process state $keys_state: $(tail -n 2 "$TG_TMP/probe.out" | tr '\n' ' ')"
good=0
for f in "$TG_TMP"/hs-c*.out; do
	name=${f##*/hs-}
	case "$name" in *-tls1_3-*) proto=TLSv1.3 ;; *) proto=TLSv1.2 ;; esac
	case "$name" in *-rsa.out) sig='RSA(-PSS)?' ;; *) sig=ECDSA ;; esac
	if grep -q "^Protocol version: $proto" "$f" && grep -Eq "^Signature type: $sig\$" "$f" &&
		grep -q "405 Method Not Allowed" "$f"; then
		good=$((good + 1))
	else
		echo "  | $name: $(grep -E 'Protocol|Signature type|HTTP/|error' "$f" | tr '\n' ' ')"
	fi
done
[ "$good" = 24 ] && pass "24 concurrent handshakes, TLS 1.2/1.3 x ECDSA/RSA, all signed by the key process" \
	|| fail "24 concurrent handshakes" "$good of 24 completed"
# The relay's memory (after all those signatures) holds neither key; the key process's does
# (which shows the scan would find them).
python3 "$ROOT/tests/bridge/keyscan.py" "$RELAY" "$PKI/bridge-ec.key" "$PKI/bridge-rsa.key" >"$TG_TMP/scan-relay.txt" 2>&1
# exit 1 is also what a Python traceback gives: the scan must also say it read the relay's memory
[ $? = 1 ] && [ -n "$RELAY" ] && grep -Eq "^scanned [1-9][0-9]* KB of $RELAY\$" "$TG_TMP/scan-relay.txt" && pass "no private key in the relay's memory ($(head -n1 "$TG_TMP/scan-relay.txt"))" \
	|| fail "no private key in the relay's memory" "$(cat "$TG_TMP/scan-relay.txt")"
python3 "$ROOT/tests/bridge/keyscan.py" "$KEYS" "$PKI/bridge-ec.key" "$PKI/bridge-rsa.key" >"$TG_TMP/scan-keys.txt" 2>&1
check_grep "the same scan finds both keys in the key process" "bridge-rsa.key: (prime1|prime2|privateExponent)" "$TG_TMP/scan-keys.txt"
check_grep "... the ECDSA key too" "bridge-ec.key: priv" "$TG_TMP/scan-keys.txt"

# The key process dies while handshakes wait for it: they fail at once (not at a timeout),
# the relay stops without crashing, and the bridge exits 1 for the service manager.
# variant_start NAME "SETTING;": the suite's bridge on a port of its own, with its own events,
# control socket and log ($TG_TMP/NAME.log), one setting added; sets VPORT and VPID.
variant_start() {
	VPORT=$(free_port)
	sed -e "s/127.0.0.1:$BR_PORT/127.0.0.1:$VPORT/; s|events.json|events-$1.json|; s|\"control.sock\"|\"control-$1.sock\"|" \
		-e "s/^bridge = {/bridge = {\n  $2/" "$BR_CONF" >"$TG_TMP/$1.conf"
	"$BIN/tiergate-bridge" --config "$TG_TMP/$1.conf" >"$TG_TMP/$1.log" 2>&1 &
	VPID=$!
	wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$VPORT"
}
variant_start kill ""
KILL_PORT=$VPORT kb=$VPID
kkeys=$(child_named "$kb" tg-bridge-keys)
kill -STOP "$kkeys"
hs=()
for i in 1 2 3 4 5 6; do
	set -- tls1_3 ec tls1_2 rsa tls1_3 rsa
	shift $(( (i % 3) * 2 ))
	hs_client "$KILL_PORT" "k$i" "$1" "$2" &
	hs+=($!)
done
sleep 0.6
kill -KILL "$kkeys"
wait "${hs[@]}"
timeout 10 tail --pid="$kb" -f /dev/null
wait "$kb"
status=$?
established=$(cat "$TG_TMP"/hs-k*.out | grep -c "CONNECTION ESTABLISHED")
# "at once": failed because the key process is gone, not by the 2 s signature timeout (which logs)
[ "$established" = 0 ] && [ "$(ls "$TG_TMP"/hs-k*.out | wc -l)" = 6 ] && grep -q "key process has gone" "$TG_TMP/kill.log" &&
	! grep -q "did not answer" "$TG_TMP/kill.log" \
	&& pass "key process killed mid-handshake: the 6 waiting handshakes fail at once (no signature timeout)" \
	|| fail "key process killed mid-handshake" "$established established; $(grep 'did not answer' "$TG_TMP/kill.log")"
check_grep "... the relay says why it stops" "key process has gone; stopping" "$TG_TMP/kill.log"
if ! grep -q "key process has gone; stopping" "$TG_TMP/kill.log"; then
	fail "... the relay does not crash" "the log does not show the relay stopping at all"
elif grep -q "relay .* was killed by signal" "$TG_TMP/kill.log"; then
	fail "... the relay does not crash" "$(grep 'killed by signal' "$TG_TMP/kill.log")"
else
	pass "... the relay does not crash"
fi
[ "$status" = 1 ] && pass "... and the bridge exits 1" || fail "... bridge exit status" "$status"

# --- process supervision: any process dies, the rest follow (the service manager restarts) ---
children_of() { ps -o pid= --ppid "$1" | tr -d ' '; }
[ "$(children_of "$BR_PID" | wc -l)" = 3 ] && pass "three children: one relay, the key process, the ASP checker (root side)" \
	|| fail "two children" "$(ps -o pid,user,args --ppid "$BR_PID")"

# --- placement (bridge.cpu_affinity, on by default): relay i and its own key process share
# one CPU, so a signature is a switch on that core and not a wake-up of another ---------------
cpus_of() { awk '/^Cpus_allowed_list/ {print $2}' "/proc/$1/status"; }
ALLOWED=$(cpus_of $$)
relay=$(child_named "$BR_PID" tg-bridge-relay)
keys=$(child_named "$BR_PID" tg-bridge-keys)
if [ "$(nproc)" -ge 2 ]; then
	[[ "$(cpus_of "$relay")" =~ ^[0-9]+$ ]] && [ "$(cpus_of "$relay")" = "$(cpus_of "$keys")" ] \
		&& pass "relay and its key process bound to one and the same CPU ($(cpus_of "$relay") of $ALLOWED)" \
		|| fail "relay and key process on one CPU" "relay $(cpus_of "$relay"), key process $(cpus_of "$keys"), allowed $ALLOWED"
else
	[ "$(cpus_of "$relay")" = "$ALLOWED" ] && [ "$(cpus_of "$keys")" = "$ALLOWED" ] \
		&& pass "one CPU only: relay and key process left where they may run ($ALLOWED)" \
		|| fail "one CPU: placement" "relay $(cpus_of "$relay"), key process $(cpus_of "$keys")"
fi
check_grep "... the log says where" "relay 0 and its key process on CPU" "$TG_TMP/bridge.log"
# Two relays: a key process each, each pair on its own CPU.
variant_start w2 "workers = 2;"
W2_PORT=$VPORT w2=$VPID
cpus_named() { for p in $(child_named "$w2" "$1"); do cpus_of "$p"; done | sort | tr '\n' ' '; }
relay_cpus=$(cpus_named tg-bridge-relay) key_cpus=$(cpus_named tg-bridge-keys)
n_keys=$(child_named "$w2" tg-bridge-keys | wc -l)
if [ "$(nproc)" -ge 2 ]; then
	# the same CPUs for relays and key processes, and two different ones for the relays
	[ "$n_keys" = 2 ] && [ "$relay_cpus" = "$key_cpus" ] && [ "$(echo $relay_cpus | tr ' ' '\n' | sort -u | wc -l)" = 2 ] \
		&& pass "workers = 2: a key process per relay, each pair on its own CPU (relays $relay_cpus; keys $key_cpus)" \
		|| fail "workers = 2: placement" "$n_keys key processes; relays on $relay_cpus; keys on $key_cpus"
else
	[ "$n_keys" = 2 ] && pass "workers = 2: a key process per relay" || fail "workers = 2: key processes" "$n_keys"
fi
good=0
for i in 1 2 3 4 5 6 7 8; do
	set -- tls1_3 ec tls1_2 rsa
	shift $(( (i % 2) * 2 ))
	hs_client "$W2_PORT" "w2-$i" "$1" "$2"
	grep -Eq "^Signature type: (ECDSA|RSA(-PSS)?)$" "$TG_TMP/hs-w2-$i.out" &&
		grep -q "405 Method Not Allowed" "$TG_TMP/hs-w2-$i.out" && good=$((good + 1))
done
[ "$good" = 8 ] && pass "workers = 2: 8 handshakes (ECDSA and RSA) signed by the key processes" \
	|| fail "workers = 2: handshakes" "$good of 8: $(grep -hE 'Signature type|HTTP/|error' "$TG_TMP"/hs-w2-*.out | sort | uniq -c | tr '\n' ' ')"
kill "$w2"; wait "$w2" 2>/dev/null
# cpu_affinity = false: the scheduler places them.
variant_start na "cpu_affinity = false;"
na=$VPID
[ "$(cpus_of "$(child_named "$na" tg-bridge-relay)")" = "$ALLOWED" ] && [ "$(cpus_of "$(child_named "$na" tg-bridge-keys)")" = "$ALLOWED" ] \
	&& pass "cpu_affinity = false: relay and key process may run on every CPU ($ALLOWED)" \
	|| fail "cpu_affinity = false" "relay $(cpus_of "$(child_named "$na" tg-bridge-relay)")"
kill "$na"; wait "$na" 2>/dev/null
for victim in first last; do
	if [ "$victim" = last ]; then
		"$BIN/tiergate-bridge" --config "$BR_CONF" >>"$TG_TMP/bridge.log" 2>&1 &
		BR_PID=$!
		wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$BR_PORT"
	fi
	pid=$(children_of "$BR_PID" | { [ $victim = first ] && head -n1 || tail -n1; })
	kill -9 "$pid"
	timeout 10 tail --pid="$BR_PID" -f /dev/null
	wait "$BR_PID"
	status=$?
	[ "$status" = 1 ] && pass "child $victim ($pid) killed: the bridge exits 1" || fail "child $victim killed" "exit status $status"
done
"$BIN/tiergate-bridge" --config "$BR_CONF" >"$TG_TMP/bridge2.log" 2>&1 &
BR2=$!
wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$BR_PORT"
kids=$(children_of "$BR2")
[ "$(echo $kids | wc -w)" = 3 ] || fail "auth killed: the others stop too" "the new bridge had children '$kids', wanted 3"
kill -9 "$BR2"
wait "$BR2" 2>/dev/null
wait_for 5 bash -c "for p in $(echo $kids); do kill -0 \$p 2>/dev/null && exit 1; done; exit 0" \
	&& pass "auth killed: relay, key process and ASP checker stop too" || { fail "auth killed: the others stop too"; kill $kids; }

#!/usr/bin/env bash
# 74-bridge-screen.sh -- telework tunnels carry screen protocols only: an RDP connection request (openssl s_client) and a VNC client pass, curl's HTTP through the same grant is cut, with its event.
# tier: e2e
# timeout: 120
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/bridge/env.sh"

bridge_suite_start bridge-screen
# The desk PCs: an "RDP server" that answers with the hex of what it got first, and a VNC
# server that speaks first (RFB banner), as RFB servers do. Each logs what it received.
python3 - "$RDP_PORT" "$VNC_PORT" "$TG_TMP/desk.log" <<'PY' &
import socket, sys, threading
rdp, vnc, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def note(what):
    with open(log, "a") as f: f.write(what + "\n")
def serve(port, handler):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(8)
    while True:
        c, _ = s.accept(); threading.Thread(target=handler, args=(c,), daemon=True).start()
def rdp_desk(c):
    got = c.recv(64); note("rdp got " + got.hex())
    c.sendall(b"RDP-DESK-GOT " + got[:6].hex().encode() + b"\n"); c.close()
def vnc_desk(c):
    c.sendall(b"RFB 003.008\n"); got = c.recv(64); note("vnc got " + got.hex())
    c.sendall(b"VNC-DESK-OK\n"); c.close()
threading.Thread(target=serve, args=(vnc, vnc_desk), daemon=True).start()
serve(rdp, rdp_desk)
PY
desks=$!
on_exit "kill $desks"
wait_for 5 bash -c "echo >/dev/tcp/127.0.0.1/$RDP_PORT" && : >"$TG_TMP/desk.log"
last_event() { grep -E "$2" "$BR_EVENTS" | tail -n1 | grep -Eq "$3" && pass "$1" || { fail "$1" "no event /$2/ with /$3/"; tail -n 3 "$BR_EVENTS" | sed 's/^/  | /'; }; }
auth() { printf '%s:%s' "$1" "$2" | base64 -w0; }

# 1. An RDP-like client: CONNECT, then the X.224 connection request (TPKT v3, CR 0xE0).
(printf 'CONNECT 127.0.0.1:%s HTTP/1.1\r\nProxy-Authorization: Basic %s\r\n\r\n' "$RDP_PORT" \
	"$(auth alice "pw-alice-secret$(otp "$ALICE_SECRET")")"; sleep 0.5
 printf "\003\000\000\023\016\340\000\000\000\000\000\001\000\010\000\003\000\000\000"; sleep 1.5) |
	timeout 10 openssl s_client -quiet -connect "127.0.0.1:$BR_PORT" -cert "$PKI/dev-good.pem" \
	-key "$PKI/dev-good.key" >"$TG_TMP/rdp.out" 2>&1
check_grep "RDP-like client: the tunnel opens (telework grant)" "200 Connection established" "$TG_TMP/rdp.out"
check_grep "RDP-like client: the desk gets the X.224 connection request and answers" "RDP-DESK-GOT 03000013 *0ee0" "$TG_TMP/rdp.out"
last_event "... a session, not a denial" '"bridge_session_(start|end)"' "\"user\":\"alice\".*\"dest\":\"127.0.0.1:$RDP_PORT\""

# 2. curl (HTTP) through the same telework grant: the tunnel opens, the GET is cut before the desk sees it.
code=$(curl -sS -p -o /dev/null -w '%{http_connect}/%{http_code}' --max-time 10 \
	--proxy "https://127.0.0.1:$BR_PORT" --proxy-cacert "$PKI/device-ca.pem" \
	--proxy-cert "$PKI/dev-bob.pem" --proxy-key "$PKI/dev-bob.key" \
	--proxy-user "bob:pw-bob-secret$(otp "$BOB_SECRET")" "http://127.0.0.1:$RDP_PORT/" 2>"$TG_TMP/curl.err")
[ "$code" = "200/000" ] && pass "curl through the telework grant: tunnel opens, the HTTP request gets no answer" \
	|| fail "curl through the telework grant is cut" "got $code: $(cat "$TG_TMP/curl.err")"
check_grep "curl's login itself succeeded (so the cut is the protocol check)" \
	'"bridge_login","result":"success".*"user":"bob"' "$BR_EVENTS"
last_event "the cut is a bridge_denied event with the reason" '"bridge_denied"' \
	"\"user\":\"bob\".*\"dest\":\"127.0.0.1:$RDP_PORT\".*\"reason\":\"not a screen protocol: first bytes 47 45 54 20"
last_event "... and the session ends as cut" '"bridge_session_end"' '"user":"bob".*"bytes_toserver":0,.*"end_reason":"cut: not a screen protocol"'
! grep -q "rdp got 474554" "$TG_TMP/desk.log" && grep -q "rdp got 0300" "$TG_TMP/desk.log" \
	&& pass "the desk never saw the GET (it did see the RDP request)" || fail "the desk never saw the GET" "$(cat "$TG_TMP/desk.log")"

# 3. VNC (protocols = [ "vnc" ]): the server's banner comes through before the client's first byte.
python3 - "$BR_PORT" "$PKI" "$VNC_PORT" "dave:pw-dave-secret$(otp "$DAVE_SECRET")" >"$TG_TMP/vnc.out" 2>&1 <<'PY'
import base64, socket, ssl, sys
port, pki, vnc, cred = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=pki + "/device-ca.pem")
ctx.load_cert_chain(pki + "/dev-bob.pem", pki + "/dev-bob.key")
ctx.check_hostname = False
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(port)), timeout=5))
s.sendall(("CONNECT 127.0.0.1:%s HTTP/1.1\r\nProxy-Authorization: Basic %s\r\n\r\n" % (vnc, base64.b64encode(cred.encode()).decode())).encode())
head = b""
while b"\r\n\r\n" not in head:
    head += s.recv(1)
print(head.split(b"\r\n")[0].decode())
banner = s.recv(12); print("banner", banner)
s.sendall(b"RFB 003.008\n"); print("answer", s.recv(64))
PY
check_grep "VNC client: the server's RFB banner comes through first" "banner b'RFB 003.008" "$TG_TMP/vnc.out"
check_grep "VNC client: its version reply passes, the desk answers" "answer b'VNC-DESK-OK" "$TG_TMP/vnc.out"

# 4. The grant's list is what counts: the RDP request through the VNC-only grant is cut.
(printf 'CONNECT 127.0.0.1:%s HTTP/1.1\r\nProxy-Authorization: Basic %s\r\n\r\n' "$VNC_PORT" \
	"$(auth alice "pw-alice-secret$(otp "$ALICE_SECRET" 30)")"; sleep 0.5
 printf "\003\000\000\023\016\340\000\000\000\000\000\001\000\010\000\003\000\000\000"; sleep 1.5) |
	timeout 10 openssl s_client -quiet -connect "127.0.0.1:$BR_PORT" -cert "$PKI/dev-good.pem" \
	-key "$PKI/dev-good.key" >"$TG_TMP/rdp-vnc.out" 2>&1
check_grep "RDP through a VNC-only grant: the tunnel opened" "200 Connection established" "$TG_TMP/rdp-vnc.out"
last_event "... and is cut, with the allowed list in the reason" '"bridge_denied"' \
	"\"user\":\"alice\".*\"dest\":\"127.0.0.1:$VNC_PORT\".*\"reason\":\"not a screen protocol: first bytes 03 00 00 13 0e e0.*allowed: vnc"
! grep -q "VNC-DESK-OK" "$TG_TMP/rdp-vnc.out" && pass "... the VNC desk never answered it" || fail "RDP through VNC grant reached the desk"

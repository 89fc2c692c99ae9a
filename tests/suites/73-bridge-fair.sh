#!/usr/bin/env bash
# 73-bridge-fair.sh -- the bridge under a slow-connection attack: 8 addresses hold all the silent TLS connections they may, a login from a 9th still succeeds.
# tier: e2e
# timeout: 120
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/bridge/env.sh"

# Silent connections must outlive the test: a long handshake deadline (the default is 5 s).
# The default limits: 256 handshake slots, 32 per address, the last 32 only for addresses holding none.
BR_HS_TIMEOUT=60 bridge_suite_start bridge-fair
FAIR_PORT=$(free_port)
sed -e "s/127.0.0.1:$BR_PORT/127.0.0.1:$FAIR_PORT/; s|events.json|events-fair.json|; s|\"control.sock\"|\"control-fair.sock\"|" \
	"$BR_CONF" >"$TG_TMP/fair.conf"
"$BIN/tiergate-bridge" --config "$TG_TMP/fair.conf" >"$TG_TMP/fair.log" 2>&1 &
FAIR=$!
on_exit "kill $FAIR 2>/dev/null; wait $FAIR 2>/dev/null"
EV="$TG_TMP/events-fair.json"
wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$FAIR_PORT" || { fail "fair bridge starts" "$(cat "$TG_TMP/fair.log")"; exit 1; }

# 8 attackers, 40 silent TCP connections each (no ClientHello), opened one address after the
# other; held until $TG_TMP/go appears, then each address's count of connections still open.
python3 - "$FAIR_PORT" "$TG_TMP/go" >"$TG_TMP/held.out" 2>&1 <<'PY' &
import os, socket, sys, time
port, go = int(sys.argv[1]), sys.argv[2]
held = {}
for i in range(2, 10):
    src = "127.0.0.%d" % i
    held[src] = []
    for _ in range(40):
        s = socket.socket(); s.bind((src, 0)); s.connect(("127.0.0.1", port)); held[src].append(s)
    time.sleep(0.2)
def still_open(s):
    try:
        return s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
time.sleep(1)
print("ready", " ".join("%s=%d" % (a, sum(map(still_open, l))) for a, l in held.items()), flush=True)
end = time.time() + 40
while not os.path.exists(go) and time.time() < end:
    time.sleep(0.1)
print("after", " ".join("%s=%d" % (a, sum(map(still_open, l))) for a, l in held.items()), flush=True)
PY
attackers=$!
wait_for 15 grep -q '^ready' "$TG_TMP/held.out" || fail "attackers connected" "$(cat "$TG_TMP/held.out")"
ready=$(grep '^ready' "$TG_TMP/held.out")
for i in 2 3 4 5 6 7 8 9; do
	n=$(sed -n "s/.*127\.0\.0\.$i=\([0-9]*\).*/\1/p" <<<"$ready")
	[ -n "$n" ] && [ "$n" -ge 1 ] && [ "$n" -le 32 ] && pass "127.0.0.$i holds $n silent connection(s) (at most 32 per address)" \
		|| fail "127.0.0.$i holds 1..32 silent connections" "$ready"
done
total=$(grep -o '=[0-9]*' <<<"$ready" | tr -d = | awk '{ n += $1 } END { print n + 0 }')
[ "$total" -gt 224 ] && [ "$total" -lt 256 ] && pass "the attackers hold $total of 256 handshake slots: past 224 only an address holding none gets one" \
	|| fail "slots held" "$total: $ready"
check_grep "a 33rd connection from one address is refused, with its event" \
	'"bridge_refused".*"src_ip":"127.0.0.2".*"reason":"too many (connections|TLS handshakes) from this address"' "$EV"
check_grep "an address already holding one is kept out of the reserve, with its event" \
	'"bridge_refused".*"reason":"handshake slots reserved for other addresses"' "$EV"

# The legitimate user, from an address holding nothing: device certificate + password + TOTP.
code=$(curl -sS -p -o "$TG_TMP/body" -w '%{http_connect}/%{http_code}' --max-time 10 --interface 127.0.0.10 \
	--proxy "https://127.0.0.1:$FAIR_PORT" --proxy-cacert "$PKI/device-ca.pem" \
	--proxy-cert "$PKI/dev-good.pem" --proxy-key "$PKI/dev-good.key" \
	--proxy-user "alice:pw-alice-secret$(otp "$ALICE_SECRET")" "http://127.0.0.1:$WEB_PORT/" 2>"$TG_TMP/curl.err")
[ "$code" = "200/200" ] && pass "a login from 127.0.0.10 succeeds while the 8 addresses hold their connections" \
	|| fail "legitimate login under attack" "got $code: $(tail -n1 "$TG_TMP/curl.err"); $(grep bridge_refused "$EV" | tail -n 2)"
check_grep "... its login event" '"bridge_login","result":"success".*"user":"alice".*"src_ip":"127.0.0.10"' "$EV"
touch "$TG_TMP/go"
wait "$attackers"
after=$(grep '^after' "$TG_TMP/held.out")
[ "${after#after }" = "${ready#ready }" ] && pass "the attackers' connections were still held during the login ($after)" \
	|| fail "attackers held their connections during the login" "before: $ready; after: $after"

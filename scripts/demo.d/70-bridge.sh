#!/usr/bin/env bash
# vpn-bridge: enrol a teleworker, log in with device certificate + password + TOTP, refusals, ASP checks
set -u
: "${TIERGATE_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TIERGATE_BUILD:=$TIERGATE_ROOT/build}"
cd "$TIERGATE_ROOT" || exit 2
BIN="$TIERGATE_BUILD/bin"
T=$(mktemp -d /tmp/tg-demo-bridge.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

# The example site, unchanged but for ports on this machine, a demo web server and a demo ASP.
cp -r conf "$T/conf"
chmod 755 "$T"
C="$T/conf/alpha.conf" B="$T/conf/parts/bridge.conf" PKI="$T/conf/bridge/pki"
tests/bridge/pki.sh "$PKI" >/dev/null
BR=$(free_port) WEB=$(free_port) ASP=$(free_port) KINTAI=$(free_port)
# The example's ASP address (10.40.1.10) is not on this machine: the demo checks it
# on a loopback port where nothing listens, so asp-check shows it unreachable
# and no packet leaves the host.
sed -i "s/address = \"10.40.1.10\"; port = 443;/address = \"127.0.0.1\"; port = $KINTAI;/" "$B"
grep -q "port = $KINTAI;" "$B" || { echo "demo: could not point the example ASP at loopback" >&2; exit 1; }
# Telework reaches screen-transfer hosts only (tiergate-policy check refuses other grants), and
# its tunnels carry RDP only (the bridge cuts anything else): the demo's web server stands in
# for a desk PC, declared as one on this machine's loopback, through an admin grant.
sed -i "s/0.0.0.0:8443/127.0.0.1:$BR/; s|\(name = \"telework-rdp\".*\)$|\1,\n    { name = \"demo-desk-web\"; class = \"admin\"; who = [ \"@soumu\" ]; to = [ \"127.0.0.1:$WEB\" ]; }|" "$B"
sed -i 's|^hosts = (|hosts = (\n  { name = "demo-desktop"; address = "127.0.0.1"; roles = [ "screen-transfer" ]; },|' "$C"
grep -q "127.0.0.1:$WEB" "$B" && grep -q 'name = "demo-desktop"' "$C" || { echo "demo: could not grant the demo desktop" >&2; exit 1; }
sed -i "s|^  services = (|  services = (\n    { name = \"demo-asp\"; vendor = \"demo\"; host = \"asp-good.test\"; address = \"127.0.0.1\"; port = $ASP; ca = \"../bridge/pki/asp-ca.pem\"; who = [ \"@soumu\" ]; },|" "$B"
# conf/bridge stays root's: the bridge refuses to start if its user (nobody) could write what it trusts
FP=$("$BIN/tiergate-bridge" fingerprint "$PKI/dev-good.pem")
sed -i "s/0000000000000000000000000000000000000000000000000000000000000000/$FP/" "$T/conf/bridge/devices.conf"
mkdir -p "$T/www" && echo "北斗市 LGWAN groupware: hello, sato" >"$T/www/index.html"
python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$WEB" >/dev/null 2>&1 & pids+=($!)
# a well-configured ASP (AEAD suites with forward secrecy), and the same server on OpenSSL's defaults
openssl s_server -quiet -www -accept "$ASP" -cert "$PKI/asp-good.pem" -key "$PKI/asp-good.key" \
	-cipher 'ECDHE+AESGCM:ECDHE+CHACHA20' </dev/null >/dev/null 2>&1 & pids+=($!)
ASP_CBC=$(free_port)
openssl s_server -quiet -www -accept "$ASP_CBC" -cert "$PKI/asp-good.pem" -key "$PKI/asp-good.key" \
	</dev/null >/dev/null 2>&1 & pids+=($!)

say "enrol sato: a password (from stdin, never echoed) and a TOTP secret for an authenticator app"
echo "Sato-telework-2026" | "$BIN/tiergate-bridge" --config "$C" passwd sato
"$BIN/tiergate-bridge" --config "$C" enroll sato --issuer "Hokuto City" --png "$T/sato-totp.png" | tee "$T/enroll.txt"
SECRET=$(sed -n 's/.*secret=\([A-Z2-7]*\).*/\1/p' "$T/enroll.txt" | head -n1)
file "$T/sato-totp.png" 2>/dev/null | sed "s|$T/||"

say "start the bridge: the auth process keeps the user secrets, a key process the TLS keys; the relay runs as nobody"
run "$BIN/tiergate-bridge" -n --config "$C"
"$BIN/tiergate-bridge" --config "$C" 2>"$T/bridge.log" & pids+=($!)
for port in "$BR" "$WEB" "$ASP"; do
	for _ in $(seq 50); do bash -c "echo >/dev/tcp/127.0.0.1/$port" 2>/dev/null && break; sleep 0.1; done
done
ps -o user=,pid=,comm= --ppid $! | sed 's/^/  /'
say "the relay's sandbox once it listens: Landlock (read only where it re-reads files, TCP only to its ports), then seccomp"
for _ in $(seq 30); do grep -q '"bridge_sandbox"' "$T/conf/bridge/events.json" 2>/dev/null && break; sleep 0.1; done
grep '"bridge_sandbox"' "$T/conf/bridge/events.json" | head -n1 | python3 -c '
import json, sys
e = json.loads(sys.stdin.read())
for k in ("landlock", "landlock_abi", "relay_landlock", "fs_read", "tcp_bind", "tcp_connect", "seccomp"):
    print("  %-15s %s" % (k, json.dumps(e.get(k), ensure_ascii=False).replace(sys.argv[1], "")))' "$T/"

bcurl() {
	curl -sS -p --max-time 10 --proxy "https://127.0.0.1:$BR" --proxy-cacert "$PKI/device-ca.pem" \
		--proxy-cert "$PKI/dev-good.pem" --proxy-key "$PKI/dev-good.key" "$@"
}
CODE=$(oathtool --totp -b "$SECRET")
say "log in: device certificate + password + TOTP code $CODE (from oathtool) -> the desk PC (a web server here)"
printf '$ curl --proxy https://127.0.0.1:%s --proxy-cert dev.pem --proxy-key dev.key --proxy-user sato:PASSWORD%s http://127.0.0.1:%s/\n' "$BR" "$CODE" "$WEB"
bcurl -D "$T/h" --proxy-user "sato:Sato-telework-2026$CODE" "http://127.0.0.1:$WEB/"
grep -i '^HTTP/1.1 200 Connection\|^X-Tiergate' "$T/h" | tr -d '\r' | sed 's/\(Token: .\{12\}\).*/\1... (bound to this device)/'
TOKEN=$(sed -n 's/^X-Tiergate-Token: *\([0-9a-f]*\).*/\1/p' "$T/h" | tr -d '\r')

say "the same code again (a replay) is refused"
bcurl -o /dev/null -w 'CONNECT answered %{http_connect}\n' --proxy-user "sato:Sato-telework-2026$CODE" "http://127.0.0.1:$WEB/" 2>/dev/null

say "a destination no grant opens (the mynumber zone's records server) is refused and logged"
bcurl -o /dev/null -w 'CONNECT answered %{http_connect}\n' --proxy-user "sato:token:$TOKEN" "http://10.10.1.5:80/" 2>/dev/null

say "reconnect with the session token: no new OTP"
bcurl --proxy-user "sato:token:$TOKEN" "http://127.0.0.1:$WEB/"

say "LGWAN-ASP: not routable before its connection check"
bcurl -o /dev/null -w 'CONNECT answered %{http_connect}\n' --proxy-user "sato:token:$TOKEN" --cacert "$PKI/asp-ca.pem" "https://asp-good.test:$ASP/" 2>/dev/null
run "$BIN/tiergate-bridge" --config "$C" asp-check
say "an ASP vendor runs the same check on its own, no site file: every accepted cipher judged by its properties"
run "$BIN/tiergate-bridge" asp-check --target "127.0.0.1:$ASP" --servername asp-good.test --ca "$PKI/asp-ca.pem"
say "the same server on OpenSSL's default cipher list still accepts CBC suites: it fails, and says which"
"$BIN/tiergate-bridge" asp-check --target "127.0.0.1:$ASP_CBC" --servername asp-good.test --ca "$PKI/asp-ca.pem" |
	grep -E '^FAIL|^result'
say "after passing, it is"
bcurl -o /dev/null -w 'CONNECT answered %{http_connect}, ASP answered %{http_code}\n' --proxy-user "sato:token:$TOKEN" --cacert "$PKI/asp-ca.pem" "https://asp-good.test:$ASP/"

say "revoke sato (a lost laptop): the token ends at once, and so would any open tunnel"
run "$BIN/tiergate-bridge" --config "$C" revoke sato
bcurl -o /dev/null -w 'the old token: CONNECT answered %{http_connect}\n' --proxy-user "sato:token:$TOKEN" "http://127.0.0.1:$WEB/" 2>/dev/null

say "the audit trail (JSON events)"
python3 - "$T/conf/bridge/events.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    keys = [k for k in ("user", "result", "reason", "method", "dest", "asp", "service", "passed",
                        "bytes_toserver", "bytes_toclient", "end_reason", "action", "target") if k in e and e[k] is not None]
    print("  %-22s %s" % (e["event"], " ".join("%s=%s" % (k, e[k]) for k in keys)))
PY

#!/usr/bin/env bash
# 73-asp-check.sh -- `tiergate-bridge asp-check --target`, the check an LGWAN-ASP vendor runs on its own, against openssl s_server.
# tier: e2e
# timeout: 120
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/bridge/env.sh"

for tool in openssl python3 xmllint; do
	command -v $tool >/dev/null || { fail asp-check-tools "$tool not installed"; exit 0; }
done
PKI="$TG_TMP/pki"
"$ROOT/tests/bridge/pki.sh" "$PKI" || { fail asp-check-pki "pki.sh failed"; exit 0; }

# serve NAME CERT [s_server options...]: a TLS server on a free port, its port in PORT_NAME.
serve() {
	local name=$1 cert=$2 port
	shift 2
	port=$(free_port)
	openssl s_server -quiet -www -accept "$port" -cert "$PKI/$cert.pem" -key "$PKI/$cert.key" "$@" \
		</dev/null >"$TG_TMP/server-$name.log" 2>&1 &
	on_exit "kill $!"
	eval "PORT_$name=$port"
	wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$port" || fail "asp-check-server-$name" "s_server did not start"
}
AEAD='ECDHE+AESGCM:ECDHE+CHACHA20'
serve good asp-good -cipher "$AEAD"
serve defaults asp-good
serve aes128sha asp-rsa -cipher AES128-SHA -no_tls1_3
serve tls10 asp-good -cipher 'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0' -tls1
serve revoked asp-revoked -cipher "$AEAD"
serve expired asp-expired -cipher "$AEAD"
CLOSED=$(free_port)

# asp NAME WANT-EXIT OUT-FILE ARGS...: runs the check, which must exit WANT-EXIT.
asp() {
	local name=$1 want=$2 out=$3 rc
	shift 3
	"$BIN/tiergate-bridge" asp-check "$@" >"$TG_TMP/$out" 2>&1
	rc=$?
	if [ "$rc" = "$want" ]; then pass "$name: exit $want"; else fail "$name" "exit $rc, want $want"; sed 's/^/  | /' "$TG_TMP/$out" | head -20; fi
}
ca=(--ca "$PKI/asp-ca.pem")

asp "good service passes" 0 good.txt --target "127.0.0.1:$PORT_good" --servername asp-good.test "${ca[@]}"
check_grep "good: every criterion listed and passed" '^result: PASS \([0-9]+ criteria\)' "$TG_TMP/good.txt"
check "good: no FAIL line, and each kind of criterion present" python3 - "$TG_TMP/good.txt" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
kinds = {l.split()[1] for l in lines if l.startswith(("PASS", "FAIL"))}
assert not [l for l in lines if l.startswith("FAIL")], lines
want = {"connect", "chain", "host-name", "expiry", "tls-versions", "cipher"}
assert want <= kinds, (want - kinds)
assert any("TLS_AES_128_GCM_SHA256" in l for l in lines)
assert any("refuses TLSv1.1, TLSv1" in l for l in lines)
PY

asp "AES128-SHA only fails" 1 aes.txt --target "127.0.0.1:$PORT_aes128sha" --servername asp-rsa.test "${ca[@]}"
check_grep "AES128-SHA: judged by its properties" '^FAIL +cipher +TLS_RSA_WITH_AES_128_CBC_SHA TLSv1.2: no forward secrecy.*not AEAD' "$TG_TMP/aes.txt"
check_grep "AES128-SHA: the certificate itself passed" '^PASS +chain' "$TG_TMP/aes.txt"
asp "AES128-SHA fails even with --allow-cbc" 1 aes-cbc.txt --allow-cbc --target "127.0.0.1:$PORT_aes128sha" --servername asp-rsa.test "${ca[@]}"
check_grep "AES128-SHA with --allow-cbc: still no forward secrecy" '^FAIL +cipher +TLS_RSA_WITH_AES_128_CBC_SHA .*no forward secrecy' "$TG_TMP/aes-cbc.txt"

asp "OpenSSL's default server (CBC suites too) fails" 1 defaults.txt --target "127.0.0.1:$PORT_defaults" --servername asp-good.test "${ca[@]}"
check_grep "defaults: a CBC suite is named" '^FAIL +cipher +TLS_ECDHE_ECDSA_WITH_AES_(128|256)_CBC_SHA[0-9]* TLSv1.2: not AEAD' "$TG_TMP/defaults.txt"
check_grep "defaults: its GCM suites pass" '^PASS +cipher +TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256' "$TG_TMP/defaults.txt"
asp "defaults pass with --allow-cbc" 0 defaults-cbc.txt --allow-cbc --target "127.0.0.1:$PORT_defaults" --servername asp-good.test "${ca[@]}"

asp "TLS 1.0 server fails" 1 tls10.txt --target "127.0.0.1:$PORT_tls10" --servername asp-good.test "${ca[@]}"
check_grep "TLS 1.0: versions criterion says why" '^FAIL +tls-versions +offers TLSv1; TLS below 1.2 must be refused' "$TG_TMP/tls10.txt"
check_grep "TLS 1.0: the ordinary handshake fails" '^FAIL +handshake' "$TG_TMP/tls10.txt"

asp "revoked certificate fails with the CRL" 1 revoked.txt --target "127.0.0.1:$PORT_revoked" --servername asp-revoked.test "${ca[@]}" --crl "$PKI/asp-ca.crl"
check_grep "revoked: revocation criterion" '^FAIL +revocation +the certificate is revoked' "$TG_TMP/revoked.txt"
asp "revoked certificate without a CRL is not judged" 0 revoked-nocrl.txt --target "127.0.0.1:$PORT_revoked" --servername asp-revoked.test "${ca[@]}"
asp "a good certificate passes the CRL" 0 good-crl.txt --target "127.0.0.1:$PORT_good" --servername asp-good.test "${ca[@]}" --crl "$PKI/asp-ca.crl"
check_grep "good with CRL: not revoked" '^PASS +revocation +not revoked' "$TG_TMP/good-crl.txt"

asp "wrong server name fails" 1 name.txt --target "127.0.0.1:$PORT_good" --servername other.test "${ca[@]}"
check_grep "wrong name: host-name criterion" '^FAIL +host-name +certificate does not match the host name other.test' "$TG_TMP/name.txt"
asp "another CA fails" 1 ca.txt --target "127.0.0.1:$PORT_good" --servername asp-good.test --ca "$PKI/device-ca.pem"
check_grep "another CA: chain criterion" '^FAIL +chain +chain not valid against the expected CA' "$TG_TMP/ca.txt"
asp "expired certificate fails" 1 expired.txt --target "127.0.0.1:$PORT_expired" --servername asp-expired.test "${ca[@]}"
check_grep "expired: chain says expired" '^FAIL +chain .*certificate has expired' "$TG_TMP/expired.txt"
check_grep "expired: expiry criterion" '^FAIL +expiry +certificate expires within 30 days' "$TG_TMP/expired.txt"
asp "min-days above the validity fails" 1 days.txt --min-days 400 --target "127.0.0.1:$PORT_good" --servername asp-good.test "${ca[@]}"
check_grep "min-days: expiry criterion" '^FAIL +expiry +certificate expires within 400 days' "$TG_TMP/days.txt"
asp "closed port fails" 1 closed.txt --target "127.0.0.1:$CLOSED" --timeout 2
check_grep "closed: not reachable" '^FAIL +connect +not reachable' "$TG_TMP/closed.txt"

asp "JSON output" 1 aes.json --json --target "127.0.0.1:$PORT_aes128sha" --servername asp-rsa.test "${ca[@]}"
check "JSON: one object, failed, the AES128-SHA criterion in it" python3 -c "
import json, sys
d = json.load(open('$TG_TMP/aes.json'))
assert d['passed'] is False and d['port'] == $PORT_aes128sha
bad = [c for c in d['criteria'] if not c['passed']]
assert [c['subject'] for c in bad] == ['TLS_RSA_WITH_AES_128_CBC_SHA'], bad
"
asp "JUnit output" 1 junit.txt --junit "$TG_TMP/junit.xml" --target "127.0.0.1:$PORT_defaults" --servername asp-good.test "${ca[@]}"
check "JUnit: well-formed XML" xmllint --noout "$TG_TMP/junit.xml"
check "JUnit: a test case per criterion, failures counted" python3 -c "
import xml.etree.ElementTree as ET
s = ET.parse('$TG_TMP/junit.xml').getroot().find('testsuite')
cases = s.findall('testcase'); failed = [c for c in cases if c.find('failure') is not None]
table = [l for l in open('$TG_TMP/junit.txt') if l.startswith(('PASS', 'FAIL'))]
assert len(cases) == len(table) == int(s.get('tests')), (len(cases), len(table))
assert len(failed) == int(s.get('failures')) == sum(l.startswith('FAIL') for l in table) > 0
"

asp "no target is a usage error" 2 usage1.txt --target
asp "a bad port is a usage error" 2 usage2.txt --target 127.0.0.1:99999
asp "--json and --junit together is a usage error" 2 usage3.txt --json --junit "$TG_TMP/x.xml" --target "127.0.0.1:$PORT_good"
check_grep "usage names the options" 'asp-check --target HOST:PORT' "$TG_TMP/usage3.txt"

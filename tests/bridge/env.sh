# env.sh -- sourced by the bridge suites: certificates, a site file, users, test servers, the bridge.
#
# After bridge_env_start: $BR_PORT (bridge), $WEB_PORT (http.server with index.html),
# $BR_CONF, $BR_EVENTS (JSON events), $PKI, $ALICE_SECRET / $BOB_SECRET / $DAVE_SECRET (base32),
# and helpers: bcurl, otp, free_port.

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# otp SECRET [OFFSET_SECONDS]: the TOTP code now (+offset), from oathtool, the real client.
otp() {
	local t
	t=$(date -u -d "@$(($(date +%s) + ${2:-0}))" '+%Y-%m-%d %H:%M:%S')
	oathtool --totp -b -N "$t" "$1"
}

# bcurl DEVICE USER SECRET URL [curl options...]: one request through the bridge (from $SRC if set).
# Prints "CONNECT_CODE/HTTP_CODE", e.g. 200/200, or 407/000 when the tunnel was refused.
# Headers (the proxy's too) go to $TG_TMP/headers, the body to $TG_TMP/body.
bcurl() {
	local dev=$1 user=$2 secret=$3 url=$4
	shift 4
	local certopts=()
	[ "$dev" != none ] && certopts=(--proxy-cert "$PKI/$dev.pem" --proxy-key "$PKI/$dev.key")
	curl -sS -p -o "$TG_TMP/body" -D "$TG_TMP/headers" -w '%{http_connect}/%{http_code}' --max-time 10 \
		--proxy "https://127.0.0.1:$BR_PORT" --proxy-cacert "$PKI/device-ca.pem" \
		"${certopts[@]}" ${SRC:+--interface "$SRC"} --proxy-user "$user:$secret" "$@" "$url" \
		2>"$TG_TMP/curl.err"
}

fp_of() { "$BIN/tiergate-bridge" fingerprint "$PKI/$1.pem"; }

bridge_env_write_conf() {
	cat >"$BR_CONF" <<CONF
model = "alpha";
zones = ( { name = "mynumber"; networks = [ "10.10.0.0/16" ]; },
          { name = "lgwan"; networks = [ "10.20.0.0/16", "127.0.0.0/8" ]; },
          { name = "internet"; networks = [ "0.0.0.0/0", "::/0" ]; } );
hosts = ( { name = "test-desktops"; address = "127.0.0.0/8"; roles = [ "screen-transfer" ]; },
          { name = "test-desktops-v6"; address = "::1"; roles = [ "screen-transfer" ]; },
          { name = "lgwan-desks"; address = "10.20.1.0/24"; roles = [ "screen-transfer" ]; } );
bridge = {
  listen = "127.0.0.1:$BR_PORT";
  certificates = ( { cert = "pki/bridge-ec.pem";  key = "pki/bridge-ec.key"; },
                   { cert = "pki/bridge-rsa.pem"; key = "pki/bridge-rsa.key"; } );
  ca = "pki/device-ca.pem";
  crl = "pki/device-ca.crl";
  tls_min = "1.2";
  ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305";
  devices = "devices.conf";
  users = "users.db";
  events = "events.json";
  control_socket = "control.sock";
  user = "nobody";
  totp_window = 1;
  lockout_threshold = 5;
  lockout_source_threshold = 12;
  lockout_base = 60;
  token_lifetime = 600;
  idle_timeout = ${BR_IDLE:-3};
  handshake_timeout = ${BR_HS_TIMEOUT:-2};
  request_timeout = 2;
  max_session = 60;
  max_sessions_per_user = 4;
  groups = ( { name = "staff"; members = [ "alice", "bob", "dave"${BR_MORE_STAFF:-} ]; } );
  grants = (
    { name = "web-for-staff"; class = "admin"; who = [ "@staff" ]; to = [ "127.0.0.1:$WEB_PORT", "127.0.0.1:$CLOSED_PORT", "10.20.1.0/24:3389", "[::1/128]:$WEB6_PORT" ]; },
    { name = "telework-desks"; who = [ "@staff" ]; to = [ "127.0.0.1:$RDP_PORT" ]; },
    { name = "telework-vnc"; who = [ "@staff" ]; to = [ "127.0.0.1:$VNC_PORT" ]; protocols = [ "vnc" ]; },
    { name = "written-too-wide"; class = "admin"; who = [ "alice" ]; to = [ "10.0.0.0/8:80" ]; },
    { name = "asp-for-alice"; class = "asp-vendor"; who = [ "alice" ];
      to = [ "asp:good", "asp:expired", "asp:wronghost", "asp:selfsigned", "asp:unchecked" ]; }
  );
};
asp = {
  state_file = "state/asp-state.json";
  check_interval = 3600;
  warn_days = 30;
  timeout = 5;
  forbidden_ciphers = [ "ECDHE-ECDSA-AES128-CCM8" ];
  services = (
$(for s in good expired wronghost selfsigned soon unchecked; do
	eval "p=\$ASP_${s^^}_PORT"
	echo "    { name = \"$s\"; vendor = \"test vendor\"; host = \"asp-$s.test\"; address = \"127.0.0.1\"; port = $p; ca = \"pki/asp-ca.pem\"; },"
done)
  );
};
CONF
	sed -i -z 's/},\n  );/}\n  );/' "$BR_CONF"
}

bridge_env_write_devices() {
	cat >"$TG_TMP/devices.conf" <<DEV
devices = (
  { fingerprint = "$(fp_of dev-good)"; owner = "alice"; label = "alice laptop"; },
  { fingerprint = "$(fp_of dev-bob)"; owner = "@staff"; label = "shared staff laptop"; },
  { fingerprint = "$(fp_of dev-revoked)"; owner = "alice"; label = "revoked by CRL"; },
  { fingerprint = "$(fp_of dev-expired)"; owner = "alice"; label = "expired certificate"; },
  { fingerprint = "$(fp_of dev-unknown)"; owner = "alice"; label = "untrusted CA"; }
);
DEV
}

# enroll_user NAME: sets password "pw-NAME-secret" and a TOTP secret; prints the secret.
enroll_user() {
	printf 'pw-%s-secret\n' "$1" | "$BIN/tiergate-bridge" --config "$BR_CONF" passwd "$1" >/dev/null || return 1
	"$BIN/tiergate-bridge" --config "$BR_CONF" enroll "$1" | sed -n 's/.*secret=\([A-Z2-7]*\).*/\1/p' | head -n1
}

# start_asp_server NAME PORT: a well-configured ASP (AEAD suites with forward secrecy only).
start_asp_server() {
	openssl s_server -quiet -www -accept "$2" -cert "$PKI/asp-$1.pem" -key "$PKI/asp-$1.key" \
		-cipher 'ECDHE+AESGCM:ECDHE+CHACHA20' \
		</dev/null >/dev/null 2>&1 &
	on_exit "kill $!"
}

bridge_env_start() {
	PKI="$TG_TMP/pki"
	"$ROOT/tests/bridge/pki.sh" "$PKI" || return 1
	chmod 755 "$TG_TMP"
	mkdir -p "$TG_TMP/state" "$TG_TMP/www"

	BR_PORT=$(free_port); WEB_PORT=$(free_port); CLOSED_PORT=$(free_port); WEB6_PORT=$(free_port)
	RDP_PORT=$(free_port); VNC_PORT=$(free_port)
	for s in GOOD EXPIRED WRONGHOST SELFSIGNED SOON UNCHECKED; do eval "ASP_${s}_PORT=\$(free_port)"; done
	BR_CONF="$TG_TMP/site.conf"
	BR_EVENTS="$TG_TMP/events.json"
	bridge_env_write_conf
	bridge_env_write_devices
	echo "hello from lgwan" >"$TG_TMP/www/index.html"
	python3 -m http.server --bind 127.0.0.1 --directory "$TG_TMP/www" "$WEB_PORT" >/dev/null 2>&1 &
	on_exit "kill $!"
	python3 -m http.server --bind ::1 --directory "$TG_TMP/www" "$WEB6_PORT" >/dev/null 2>&1 &
	on_exit "kill $!"
	for s in good expired wronghost selfsigned soon; do eval "start_asp_server $s \$ASP_${s^^}_PORT"; done
	ALICE_SECRET=$(enroll_user alice); BOB_SECRET=$(enroll_user bob); DAVE_SECRET=$(enroll_user dave)
	"$BIN/tiergate-bridge" --config "$BR_CONF" >"$TG_TMP/bridge.log" 2>&1 &
	BR_PID=$!
	on_exit "kill $BR_PID; wait $BR_PID"
	wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$BR_PORT" || return 1
	wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$WEB_PORT" || return 1
	wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$ASP_GOOD_PORT"
}

# bridge_suite_start SUITE: root (the relay drops to the user nobody), the clients the suites
# use, and a running bridge (bridge_env_start; BR_* settings as for it); or FAIL and exit 1.
bridge_suite_start() {
	local suite=$1 tool
	[ "$(id -u)" = 0 ] || { fail "$suite" "needs root (the relay drops to the user nobody)"; exit 1; }
	for tool in curl openssl oathtool python3; do
		command -v "$tool" >/dev/null || { fail "$suite" "$tool not installed"; exit 1; }
	done
	if ! bridge_env_start; then
		fail bridge-start "bridge did not come up"
		sed 's/^/  | /' "$TG_TMP/bridge.log"
		exit 1
	fi
}

# hold_tunnels USER SECRET COUNT SRC: opens COUNT tunnels at once (python ssl), prints each
# CONNECT status, keeps them open 2 s. For the per-user and per-source limits.
hold_tunnels() {
	python3 - "$BR_PORT" "$PKI" "$1" "$2" "$3" "$4" "$WEB_PORT" <<'PY'
import base64, socket, ssl, sys, time
port, pki, user, secret, count, src, web = sys.argv[1:8]
ctx = ssl.create_default_context(cafile=pki + "/device-ca.pem")
ctx.load_cert_chain(pki + "/dev-good.pem", pki + "/dev-good.key")
ctx.check_hostname = False
auth = base64.b64encode(("%s:%s" % (user, secret)).encode()).decode()
held, codes = [], []
for _ in range(int(count)):
    try:
        raw = socket.create_connection(("127.0.0.1", int(port)), timeout=5, source_address=(src, 0))
        s = ctx.wrap_socket(raw)
        s.sendall(("CONNECT 127.0.0.1:%s HTTP/1.1\r\nProxy-Authorization: Basic %s\r\n\r\n" % (web, auth)).encode())
        codes.append(s.recv(200).split(b" ")[1].decode())
        held.append(s)
    except Exception:
        codes.append("refused")
print(" ".join(codes))
time.sleep(2)
PY
}

# lib.sh -- sourced by the live gateway suites, bench and demo: topology, real servers in the zone hosts, tiergate-gw, event checks.
#
#   . tests/netns/lib.sh
#   live_setup                       # namespaces (torn down on exit), $TG_TMP readable by the gateway user
#   srv_http lgw 10.20.2.10 80       # real servers, stopped on exit
#   gw_start conf/alpha.conf         # rules + tiergate-gw in the gateway namespace, events in $GW_EVENTS
#   in_ns inet curl ...              # run a client in a zone host
#   ev_has "name" flow rule=internet-to-lgwan-refused verdict=reject
. "$ROOT/tests/netns/topology.sh"

GW_USER=${GW_USER:-nobody}

live_setup() {
	need_root
	TOPO_PREFIX="tg4$$"
	on_exit "topo_down $TOPO_PREFIX"
	topo_up "$TOPO_PREFIX" || { fail "topology" "could not build the namespaces"; exit 1; }
	chmod 755 "$TG_TMP"   # the gateway runs as $GW_USER after start-up: it reopens files here
	GW_NS=$(topo_ns gw)
	GW_EVENTS="$TG_TMP/events.json"
	GW_SOCK="$TG_TMP/gw.sock"
	GW_LOG="$TG_TMP/gw.log"
}

in_ns() {   # in_ns ROLE CMD...
	local role=$1
	shift
	ip netns exec "$(topo_ns "$role")" "$@"
}

_bg() {   # _bg ROLE LOG CMD...: starts a server, stops it on exit
	local role=$1 log=$2 pid
	shift 2
	ip netns exec "$(topo_ns "$role")" "$@" >"$log" 2>&1 </dev/null &
	pid=$!
	on_exit "kill $pid"
	echo "$pid"
}

_port_open() {   # _port_open ROLE ADDR PORT [udp]
	if [ "${4:-}" = udp ]; then
		in_ns "$1" ss -Hlun "src $2 and sport = :$3" | grep -q .
	else
		in_ns "$1" ss -Hltn "src [$2] and sport = :$3" | grep -q . ||
			in_ns "$1" ss -Hltn "src $2 and sport = :$3" | grep -q .
	fi
}

srv_http() {   # srv_http ROLE ADDR PORT
	mkdir -p "$TG_TMP/www"
	echo "hello from $2" >"$TG_TMP/www/index.html"
	_bg "$1" "$TG_TMP/http-$2-$3.log" python3 -m http.server "$3" --bind "$2" --directory "$TG_TMP/www" >/dev/null
	wait_for 5 _port_open "$1" "$2" "$3"
}

srv_tls() {   # srv_tls ROLE ADDR PORT: openssl s_server answering HTTP (-www)
	[ -f "$TG_TMP/key.pem" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=tiergate.test" -days 2 -keyout "$TG_TMP/key.pem" -out "$TG_TMP/cert.pem" >/dev/null 2>&1
	_bg "$1" "$TG_TMP/tls-$2-$3.log" openssl s_server -quiet -www -accept "$2:$3" \
		-key "$TG_TMP/key.pem" -cert "$TG_TMP/cert.pem" >/dev/null
	wait_for 5 _port_open "$1" "$2" "$3"
}

srv_smtp() {   # srv_smtp ROLE ADDR: a real SMTP server (Python's smtpd) on port 25
	_bg "$1" "$TG_TMP/smtp-$2.log" python3 -W ignore -m smtpd -n -c DebuggingServer "$2:25" >/dev/null
	wait_for 5 _port_open "$1" "$2" 25
}

srv_dns() {   # srv_dns ROLE ADDR: dnsmasq answering *.lgwan.test from its own records
	_bg "$1" "$TG_TMP/dns-$2.log" dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
		--listen-address="$2" --port=53 --pid-file="$TG_TMP/dnsmasq-$2.pid" --user=root \
		--address=/intermediate.lgwan.test/10.20.5.10 --address=/www.example.test/198.51.100.10 >/dev/null
	wait_for 5 _port_open "$1" "$2" 53 udp
}

srv_sshd() {   # srv_sshd ROLE ADDR: sshd with a throw-away host key; root logs in with $TG_TMP/id
	[ -f "$TG_TMP/id" ] || {
		ssh-keygen -q -t ed25519 -N '' -f "$TG_TMP/id"
		ssh-keygen -q -t ed25519 -N '' -f "$TG_TMP/hostkey"
		cp "$TG_TMP/id.pub" "$TG_TMP/authorized_keys"
	}
	mkdir -p /run/sshd
	_bg "$1" "$TG_TMP/sshd-$2.log" /usr/sbin/sshd -D -e -f /dev/null -o ListenAddress="$2" \
		-o HostKey="$TG_TMP/hostkey" -o AuthorizedKeysFile="$TG_TMP/authorized_keys" \
		-o PermitRootLogin=yes -o StrictModes=no -o UsePAM=no -o PidFile=none >/dev/null
	wait_for 5 _port_open "$1" "$2" 22
}

srv_tcp() {   # srv_tcp ROLE ADDR PORT: answers "hello" to every connection
	_bg "$1" "$TG_TMP/tcp-$2-$3.log" socat "TCP-LISTEN:$3,bind=$2,reuseaddr,fork" SYSTEM:'echo hello' >/dev/null
	wait_for 5 _port_open "$1" "$2" "$3"
}

srv_sink() {   # srv_sink ROLE ADDR PORT [FILE]: keeps every connection open and stores what it receives
	_bg "$1" "$TG_TMP/sink-$2-$3.log" socat "TCP-LISTEN:$3,bind=$2,reuseaddr,fork" "OPEN:${4:-/dev/null},creat,append" >/dev/null
	wait_for 5 _port_open "$1" "$2" "$3"
}

ssh_cmd() {   # ssh_cmd ROLE [-b SRC] DST CMD: non-interactive ssh as root with the test key
	local role=$1
	shift
	in_ns "$role" ssh -i "$TG_TMP/id" -o BatchMode=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o ConnectTimeout=3 -o LogLevel=ERROR "$@"
}

# --- the gateway --------------------------------------------------------------

gw_rules() {   # gw_rules CONF install|remove
	ip netns exec "$GW_NS" "$BIN/tiergate-gw" --config "$1" "--$2-rules"
}

_gw_ready() { [ "$(grep -c 'ready: queues' "$GW_LOG" 2>/dev/null)" -gt "${_gw_ready_before:-0}" ]; }

gw_start() {   # gw_start CONF [ARGS...]: rules installed, tiergate-gw running, ready for packets
	local conf=$1
	shift
	gw_rules "$conf" install >/dev/null 2>&1 || { fail "gw-rules" "--install-rules failed"; return 1; }
	_gw_ready_before=$(grep -c 'ready: queues' "$GW_LOG" 2>/dev/null)
	ip netns exec "$GW_NS" "$BIN/tiergate-gw" --config "$conf" --events "$GW_EVENTS" \
		--ctl-socket "$GW_SOCK" --user "$GW_USER" "$@" >>"$GW_LOG" 2>&1 </dev/null &
	GW_PID=$!
	on_exit "kill $GW_PID"
	on_exit "gw_keep_log"
	# The log is appended to across restarts: wait for this start's own "ready" line.
	wait_for 10 _gw_ready || { fail "gw-start" "not ready"; tail "$GW_LOG"; return 1; }
}

# The gateway's log outlives the run (sanitizer reports, fatal errors): test-logs/SUITE.gw.log.
gw_keep_log() {
	mkdir -p "$TIERGATE_BUILD/test-logs"
	cp "$GW_LOG" "$TIERGATE_BUILD/test-logs/${TG_SUITE:-live}.gw.log"
}

gw_stop() {   # gw_stop [SIGNAL]
	[ -n "${GW_PID:-}" ] || return 0
	kill "-${1:-TERM}" "$GW_PID" 2>/dev/null
	wait "$GW_PID" 2>/dev/null
	GW_PID=
}

gw_ctl() { ip netns exec "$GW_NS" "$BIN/tiergate-gw" --ctl-socket "$GW_SOCK" ctl "$@"; }

# Sum of the kernel's drop counters over every queue of the gateway namespace.
gw_kernel_drops() {
	ip netns exec "$GW_NS" awk '{ q += $6; u += $7 } END { print q + 0, u + 0 }' /proc/net/netfilter/nfnetlink_queue
}

# ev_has NAME EVENT KEY=VALUE...: passes when one event of that kind has every field (the gateway flushes first).
ev_find() {
	python3 - "$GW_EVENTS" "$@" <<'PY'
import json, sys
path, kind, conds = sys.argv[1], sys.argv[2], [c.split("=", 1) for c in sys.argv[3:]]
def val(v):
    return "null" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
for line in open(path, encoding="utf-8", errors="replace"):
    try:
        ev = json.loads(line)
    except ValueError:
        continue
    def get(k):   # "operator.uid" reaches into an object
        v = ev
        for part in k.split("."):
            v = v.get(part) if isinstance(v, dict) else None
        return v
    if ev.get("event") == kind and all(val(get(k)) == v for k, v in conds):
        sys.exit(0)
sys.exit(1)
PY
}

ev_has() {
	local name=$1
	shift
	if wait_for 3 ev_find "$@"; then
		pass "$name"
	else
		fail "$name" "no '$1' event with ${*:2} in $GW_EVENTS"
		tail -n 5 "$GW_EVENTS" 2>/dev/null | sed 's/^/  | /'
	fi
}

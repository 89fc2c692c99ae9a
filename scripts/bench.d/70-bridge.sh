#!/usr/bin/env bash
# vpn-bridge vs HAProxy 2.6 (TLS-terminating TCP proxy, same certificate): handshakes/s, bulk MB/s, memory per idle session
set -u
: "${TIERGATE_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TIERGATE_BUILD:=$TIERGATE_ROOT/build}"
cd "$TIERGATE_ROOT" || exit 2
BIN="$TIERGATE_BUILD/bin"
LOAD="$TIERGATE_BUILD/t/tls_load"
# Quick mode (make test): 1 s of handshakes at 2 clients, one round, 50 MB, 200 idle sessions.
if [ -n "${BENCH_QUICK:-}" ]; then
	: "${BRIDGE_BENCH_SESSIONS:=200}" "${BRIDGE_BENCH_SECONDS:=1}" "${BRIDGE_BENCH_CLIENTS:=2}"
	: "${BRIDGE_BENCH_ROUNDS:=1}" "${BRIDGE_BENCH_MB:=50}"
fi
SESSIONS=${BRIDGE_BENCH_SESSIONS:-10000}
SECONDS_HS=${BRIDGE_BENCH_SECONDS:-5}
ROUNDS=$(seq 1 "${BRIDGE_BENCH_ROUNDS:-3}")   # interleaved rounds per figure; the best counts
BULK_MB=${BRIDGE_BENCH_MB:-1000}
# A capacity figure is the rate at the concurrency a server does best: on this 2-CPU machine the
# clients' own handshake work competes with the servers, so 2 clients do not saturate a server
# whose work is split over two processes (relay + key process). Each level is shown.
HS_CLIENTS=${BRIDGE_BENCH_CLIENTS:-2 4 8}
for b in "$BIN/tiergate-bridge" "$LOAD"; do [ -x "$b" ] || { echo "not built: $b (run make)"; exit 1; }; done
command -v haproxy >/dev/null || { echo "haproxy not installed: skipped"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "needs root (fd limits, the relay drops to nobody): skipped"; exit 0; }

T=$(mktemp -d /tmp/tg-bench-bridge.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; [ -n "${BENCH_KEEP:-}" ] && echo "kept $T" || rm -rf "$T"; }
trap cleanup EXIT
# 10,000 relayed sessions need 20,000+ descriptors in one process: raise the limit, or
# (when the hard limit cannot be raised here) measure at the most sessions that fit.
ulimit -Hn 70000 2>/dev/null; ulimit -n "$(ulimit -Hn)"
HARD=$(ulimit -Hn)
if [ "$HARD" != unlimited ] && [ $((2 * SESSIONS + 500)) -gt "$HARD" ]; then
	SESSIONS=$(((HARD - 500) / 2))
	echo "note: RLIMIT_NOFILE hard limit is $HARD here (no CAP_SYS_RESOURCE): idle test at $SESSIONS sessions"
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kb() { local p t=0; for p in $1; do t=$((t + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status"))); done; echo $t; }

tests/bridge/pki.sh "$T/pki" || exit 1
chmod 755 "$T"
BR=$(free_port); BR_NK=$(free_port); HA=$(free_port); SRC=$(free_port); SINK=$(free_port)
FP=$("$BIN/tiergate-bridge" fingerprint "$T/pki/dev-good.pem")
cat >"$T/devices.conf" <<DEV
devices = ( { fingerprint = "$FP"; owner = "alice"; label = "bench"; } );
DEV
cat >"$T/site.conf" <<CONF
bridge = {
  listen = "127.0.0.1:$BR";
  certificates = ( { cert = "pki/bridge-ec.pem"; key = "pki/bridge-ec.key"; } );
  ca = "pki/device-ca.pem"; devices = "devices.conf"; users = "users.db";
  events = "events.json"; user = "nobody"; workers = 1;
  max_sessions_per_user = 100000; max_conns_per_source = 100000; max_conns = 100000;
  max_half_open = 10000; idle_timeout = 3600;
  grants = ( { name = "bench"; class = "admin"; who = [ "alice" ]; to = [ "127.0.0.1:1-65535" ]; } );
};
CONF
echo "bench-password" | "$BIN/tiergate-bridge" --config "$T/site.conf" passwd alice >/dev/null
SECRET=$("$BIN/tiergate-bridge" --config "$T/site.conf" enroll alice | sed -n 's/.*secret=\([A-Z2-7]*\).*/\1/p' | head -n1)
cat "$T/pki/bridge-ec.pem" "$T/pki/bridge-ec.key" >"$T/haproxy.pem"
cat >"$T/haproxy.cfg" <<HA
global
  nbthread 1
  maxconn $((SESSIONS + 100))
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
frontend tls
  bind 127.0.0.1:$HA ssl crt $T/haproxy.pem ssl-min-ver TLSv1.2
  default_backend up
backend up
  server s1 127.0.0.1:\${UPSTREAM}
HA

"$LOAD" source "$SRC" "$BULK_MB" & pids+=($!)
"$LOAD" sink "$SINK" & pids+=($!)
"$BIN/tiergate-bridge" --config "$T/site.conf" >"$T/bridge.log" 2>&1 & BRPID=$!; pids+=($BRPID)
sleep 1
RELAY=$(pgrep -P "$BRPID" | tr '\n' ' ')   # the relay and the key process (it signs every handshake)
curl -sS -p -o /dev/null -D "$T/h" --proxy "https://127.0.0.1:$BR" --proxy-insecure \
	--proxy-cert "$T/pki/dev-good.pem" --proxy-key "$T/pki/dev-good.key" \
	--proxy-user "alice:bench-password$(oathtool --totp -b "$SECRET")" "telnet://127.0.0.1:$SINK" --max-time 2 2>/dev/null
TOKEN=$(sed -n 's/^X-Tiergate-Token: *\([0-9a-f]*\).*/\1/p' "$T/h" | tr -d '\r')
[ -n "$TOKEN" ] || { echo "could not log in to the bridge"; cat "$T/bridge.log"; exit 1; }
AUTH=$(printf 'alice:token:%s' "$TOKEN" | base64 -w0)
CERT=("$T/pki/dev-good.pem" "$T/pki/dev-good.key")

start_haproxy() {   # UPSTREAM_PORT
	UPSTREAM=$1 haproxy -db -f "$T/haproxy.cfg" >"$T/haproxy.log" 2>&1 & HAPID=$!
	pids+=($HAPID)
	for _ in $(seq 50); do bash -c "echo >/dev/tcp/127.0.0.1/$HA" 2>/dev/null && return; sleep 0.1; done
}
stop_haproxy() { [ -n "${BENCH_DEBUG:-}" ] && cat "$T/haproxy.log"; kill "$HAPID"; wait "$HAPID" 2>/dev/null; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "bridge: one relay process + its key process (CPU and memory of both counted) vs HAProxy nbthread 1;"
echo "ECDSA P-256 certificate, TLS 1.3, loopback; handshakes at ${HS_CLIENTS// /, } concurrent client processes"
echo "(a bare handshake: the bridge gives its one ticket only to a session let through, HAProxy sends OpenSSL's two)"
# The machine is shared: wall-clock rates move with the load, so each figure is also given
# per CPU-second of the proxy process (utime+stime), which the neighbours cannot disturb.
cpu_ticks() { local p t=0; for p in $1; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
TICK=$(getconf CLK_TCK)
per_cpu() { awk -v v="$1" -v secs="$2" -v t="$3" -v hz="$TICK" 'BEGIN { if (t > 0) printf "%.0f", v * secs / (t / hz); else print "n/a" }'; }
measure_hs() {   # PID PORT [CLIENTS] -> "rate per-cpu"
	local c0 c1 rate
	c0=$(cpu_ticks "$1"); rate=$("$LOAD" handshakes "$2" "$SECONDS_HS" "${3:-2}"); c1=$(cpu_ticks "$1")
	echo "$rate $(per_cpu "$rate" "$SECONDS_HS" $((c1 - c0)))"
}
measure_bulk() {   # PID PORT [CONNECT-OPTS] -> "MB/s MB-per-cpu-s"
	local pid=$1 port=$2 c0 c1 rate
	shift 2
	c0=$(cpu_ticks "$pid"); rate=$("$LOAD" bulk "$port" "$@" 2>/dev/null); c1=$(cpu_ticks "$pid")
	echo "$rate $(awk -v t=$((c1 - c0)) -v hz="$TICK" -v mb="$BULK_MB" 'BEGIN { if (t > 0) printf "%.0f", mb * 1.048576 / (t / hz); else print "n/a" }')"
}
best() { sort -g -k1,1 | tail -n1; }

# 1. full handshakes per second: at each concurrency, interleaved, best of the rounds (3).
# HAProxy's backend is the sink: in TCP mode it connects to its server at once, and a
# backend that starts sending (the bulk source) would charge it for bytes nobody reads.
# The bridge binds its relay and key process to one CPU (bridge.cpu_affinity); HAProxy is
# measured both as it starts (free) and bound to that same CPU (taskset, as cpu-map would),
# and its better rounds count.
RELAY_CPU=$(awk '/^Cpus_allowed_list/ {print $2}' "/proc/${RELAY%% *}/status")
ALLOWED_CPUS=$(awk '/^Cpus_allowed_list/ {print $2}' /proc/$$/status)
echo "bridge relay bound to CPU $RELAY_CPU; HAProxy measured free and bound to CPU $RELAY_CPU (taskset)"
start_haproxy "$SINK"
: >"$T/hs_ha"; : >"$T/hs_br"
for n in $HS_CLIENTS; do
	: >"$T/hs_ha.$n"; : >"$T/hs_br.$n"
	for _ in $ROUNDS; do
		taskset -pc "$ALLOWED_CPUS" "$HAPID" >/dev/null 2>&1
		measure_hs "$HAPID" "$HA" "$n" | sed 's/$/ free/' >>"$T/hs_ha.$n"
		measure_hs "$RELAY" "$BR" "$n" >>"$T/hs_br.$n"
		taskset -pc "$RELAY_CPU" "$HAPID" >/dev/null 2>&1
		measure_hs "$HAPID" "$HA" "$n" | sed "s/\$/ cpu$RELAY_CPU/" >>"$T/hs_ha.$n"
	done
	best <"$T/hs_ha.$n" | awk -v n="$n" '{print $1, $2, n, $3}' >>"$T/hs_ha"
	best <"$T/hs_br.$n" | sed "s/\$/ $n/" >>"$T/hs_br"
done
read -r hs_ha hs_ha_cpu hs_ha_n hs_ha_how < <(best <"$T/hs_ha")
read -r hs_br hs_br_cpu hs_br_n < <(best <"$T/hs_br")
# The price of keeping the keys out of the relay: the same bridge with key_process = false.
sed -e "s/127.0.0.1:$BR\"/127.0.0.1:$BR_NK\"/; s/workers = 1;/workers = 1; key_process = false;/" \
	-e 's/events.json/events-nk.json/' "$T/site.conf" >"$T/site-nk.conf"
"$BIN/tiergate-bridge" --config "$T/site-nk.conf" >"$T/bridge-nk.log" 2>&1 & NKPID=$!; pids+=($NKPID)
sleep 1
: >"$T/hs_nk"
for _ in $ROUNDS; do measure_hs "$(pgrep -P "$NKPID" | tr '\n' ' ')" "$BR_NK" "$hs_br_n" >>"$T/hs_nk"; done
kill "$NKPID"; wait "$NKPID" 2>/dev/null
read -r hs_nk hs_nk_cpu < <(best <"$T/hs_nk")
# HAProxy asking for a client certificate too (verify optional, the device CA), as the bridge must.
stop_haproxy
sed "s|ssl-min-ver TLSv1.2|ssl-min-ver TLSv1.2 verify optional ca-file $T/pki/device-ca.pem|" "$T/haproxy.cfg" >"$T/haproxy-cc.cfg"
UPSTREAM=$SINK haproxy -db -f "$T/haproxy-cc.cfg" >"$T/haproxy-cc.log" 2>&1 & HAPID=$!; pids+=($HAPID)
sleep 1
: >"$T/hs_cc"
for _ in $ROUNDS; do measure_hs "$HAPID" "$HA" "$hs_ha_n" >>"$T/hs_cc"; done
stop_haproxy
read -r hs_cc hs_cc_cpu < <(best <"$T/hs_cc")
start_haproxy "$SRC"
for n in $HS_CLIENTS; do
	read -r a _ < <(awk -v n="$n" '$3 == n' "$T/hs_br")
	read -r b _ _ how < <(awk -v n="$n" '$3 == n' "$T/hs_ha")
	printf "handshakes/s at %s clients: bridge %8s   haproxy %8s   ratio %s   (haproxy %s)\n" "$n" "$a" "$b" "$(ratio "$a" "$b")" "$how"
done
printf "handshakes/s       bridge %8s   haproxy %8s   ratio %s (target >= 1.00; each at its best concurrency: %s and %s clients)\n" \
	"$hs_br" "$hs_ha" "$(ratio "$hs_br" "$hs_ha")" "$hs_br_n" "$hs_ha_n ($hs_ha_how)"
printf "  per CPU-second   bridge %8s   haproxy %8s   ratio %s\n" "$hs_br_cpu" "$hs_ha_cpu" "$(ratio "$hs_br_cpu" "$hs_ha_cpu")"
printf "  client cert req. haproxy %8s/s (%s per CPU-s) with 'verify optional' (the bridge always asks), at its best concurrency\n" "$hs_cc" "$hs_cc_cpu"
printf "  keys in relay    bridge %8s/s (%s per CPU-s), i.e. without the key process (key_process = false), at the bridge's best concurrency\n" "$hs_nk" "$hs_nk_cpu"

# 2. bulk: BULK_MB (1000) from a backend through one established session, interleaved, best of the rounds
: >"$T/bk_ha"; : >"$T/bk_br"
for _ in $ROUNDS; do
	measure_bulk "$HAPID" "$HA" >>"$T/bk_ha"
	measure_bulk "$RELAY" "$BR" "127.0.0.1:$SRC" "$AUTH" "${CERT[@]}" >>"$T/bk_br"
done
read -r bulk_ha bulk_ha_cpu < <(best <"$T/bk_ha")
read -r bulk_br bulk_br_cpu < <(best <"$T/bk_br")
printf "bulk MB/s          bridge %8s   haproxy %8s   ratio %s (target >= 0.90)\n" "$bulk_br" "$bulk_ha" "$(ratio "$bulk_br" "$bulk_ha")"
printf "  MB per CPU-s     bridge %8s   haproxy %8s   ratio %s\n" "$bulk_br_cpu" "$bulk_ha_cpu" "$(ratio "$bulk_br_cpu" "$bulk_ha_cpu")"
stop_haproxy

# 3. memory per idle established session
idle_kb() {   # PID PORT [CONNECT-OPTS]: RSS growth per session while SESSIONS are held
	local pid=$1 port=$2 before after out
	shift 2
	: >"$T/idle.out"
	before=$(rss_kb "$pid")
	"$LOAD" idle "$port" "$SESSIONS" "$@" >"$T/idle.out" 2>"$T/idle.err" & local lp=$!
	for _ in $(seq 1200); do grep -q ready "$T/idle.out" && break; sleep 0.1; done
	sleep 1
	after=$(rss_kb "$pid")
	out=$(awk '{print $2}' "$T/idle.out")
	kill "$lp"; wait "$lp" 2>/dev/null
	awk -v a="$after" -v b="$before" -v n="${out:-0}" 'BEGIN { if (n > 0) printf "%.1f %d", (a - b) / n, n; else print "n/a 0" }'
}
start_haproxy "$SINK"
read -r mem_ha n_ha < <(idle_kb "$HAPID" "$HA")
stop_haproxy
# Every bridge session has presented a device certificate, which its TLS session keeps
# (a resumed session is checked again with it): HAProxy asking for one too ('verify
# optional', the same device certificate presented, no CONNECT).
UPSTREAM=$SINK haproxy -db -f "$T/haproxy-cc.cfg" >"$T/haproxy-cc.log" 2>&1 & HAPID=$!; pids+=($HAPID)
for _ in $(seq 50); do bash -c "echo >/dev/tcp/127.0.0.1/$HA" 2>/dev/null && break; sleep 0.1; done
read -r mem_cc n_cc < <(idle_kb "$HAPID" "$HA" - - "${CERT[@]}")
stop_haproxy
read -r mem_br n_br < <(idle_kb "$RELAY" "$BR" "127.0.0.1:$SINK" "$AUTH" "${CERT[@]}")
printf "KB/idle session    bridge %8s   haproxy %8s   (%s / %s sessions; target bridge <= haproxy)\n" "$mem_br" "$mem_ha" "$n_br" "$n_ha"
printf "  client cert req. haproxy %8s KB/idle session (%s sessions) with 'verify optional' and the device certificate presented, as every bridge session\n" "$mem_cc" "$n_cc"
echo "auth process RSS: $(rss_kb "$BRPID") KB (holds no per-session state)"

# 4. Where an idle session's memory goes: the test build of the bridge (relay_memcount.c)
# counts the live bytes of OpenSSL and libevent; glibc says what its heap holds in all.
# Its own users DB: a TOTP step is accepted once, and the login above may have used this one.
HOOKS="$TIERGATE_BUILD/t/tiergate-bridge-hooks"
[ -x "$HOOKS" ] || { echo "not built: $HOOKS (run make)"; exit 1; }
BR_HK=$(free_port)
sed -e "s/127.0.0.1:$BR\"/127.0.0.1:$BR_HK\"/" -e 's/events.json/events-hk.json/' -e 's/users.db/users-hk.db/' \
	"$T/site.conf" >"$T/site-hk.conf"
echo "bench-password" | "$BIN/tiergate-bridge" --config "$T/site-hk.conf" passwd alice >/dev/null
SECRET_HK=$("$BIN/tiergate-bridge" --config "$T/site-hk.conf" enroll alice | sed -n 's/.*secret=\([A-Z2-7]*\).*/\1/p' | head -n1)
"$HOOKS" --config "$T/site-hk.conf" >"$T/bridge-hk.log" 2>&1 & HKPID=$!; pids+=($HKPID)
sleep 1
HK_RELAY=$(pgrep -P "$HKPID" -x tg-bridge-relay)
curl -sS -p -o /dev/null -D "$T/h-hk" --proxy "https://127.0.0.1:$BR_HK" --proxy-insecure \
	--proxy-cert "$T/pki/dev-good.pem" --proxy-key "$T/pki/dev-good.key" \
	--proxy-user "alice:bench-password$(oathtool --totp -b "$SECRET_HK")" "telnet://127.0.0.1:$SINK" --max-time 2 2>/dev/null
TOKEN_HK=$(sed -n 's/^X-Tiergate-Token: *\([0-9a-f]*\).*/\1/p' "$T/h-hk" | tr -d '\r')
[ -n "$TOKEN_HK" ] && [ -n "$HK_RELAY" ] || { echo "could not log in to the test build of the bridge"; cat "$T/bridge-hk.log"; exit 1; }
memcounts() {   # -> "openssl libevent heap rss_kb" of the test build's relay
	local n line
	n=$(grep -c 'relay memory:' "$T/bridge-hk.log")
	kill -USR2 "$HK_RELAY"
	for _ in $(seq 50); do [ "$(grep -c 'relay memory:' "$T/bridge-hk.log")" -gt "$n" ] && break; sleep 0.1; done
	line=$(grep 'relay memory:' "$T/bridge-hk.log" | tail -n1)
	echo "$(sed -n 's/.* openssl_bytes=\([0-9]*\) .* libevent_bytes=\([0-9]*\) .* heap_bytes=\([0-9]*\).*/\1 \2 \3/p' <<<"$line") $(rss_kb "$HK_RELAY")"
}
: >"$T/idle-hk.out"
HK_SESSIONS=$((SESSIONS < 2000 ? SESSIONS : 2000))
read -r ssl0 ev0 heap0 rss0 < <(memcounts)
"$LOAD" idle "$BR_HK" "$HK_SESSIONS" "127.0.0.1:$SINK" "$(printf 'alice:token:%s' "$TOKEN_HK" | base64 -w0)" "${CERT[@]}" \
	>"$T/idle-hk.out" 2>/dev/null & HKLOAD=$!
for _ in $(seq 1200); do grep -q ready "$T/idle-hk.out" && break; sleep 0.1; done
sleep 1
read -r ssl1 ev1 heap1 rss1 < <(memcounts)
n_hk=$(awk '{print $2}' "$T/idle-hk.out")
kill "$HKLOAD"; wait "$HKLOAD" 2>/dev/null
awk -v n="${n_hk:-0}" -v s="$((ssl1 - ssl0))" -v e="$((ev1 - ev0))" -v h="$((heap1 - heap0))" -v r="$((rss1 - rss0))" 'BEGIN {
	if (n <= 0) { print "per idle session (test build): n/a"; exit }
	printf "per idle session (test build, %d sessions): OpenSSL %.1f KB, libevent %.1f KB, relay and malloc headers %.1f KB, heap slack %.1f KB; RSS %.1f KB\n",
	    n, s / n / 1024, e / n / 1024, (h - s - e) / n / 1024, (r * 1024 - h) / n / 1024, r / n }'

# 5. The floor under both: what OpenSSL itself holds per established server session
# (tests/bench/tls_floor.c: in-process, the bridge's TLS settings, no proxy around it),
# with the device certificate every bridge session carries and without one (HAProxy's
# sessions in the figure above). A proxy's own part is its figure less its floor.
FLOOR="$TIERGATE_BUILD/t/tls_floor"
[ -x "$FLOOR" ] || { echo "not built: $FLOOR (run make)"; exit 1; }
read -r floor_dev floor_none < <("$FLOOR" "$HK_SESSIONS" "$T/pki/bridge-ec.pem" "$T/pki/bridge-ec.key" \
	"$T/pki/device-ca.pem" "$T/pki/dev-good.pem" "$T/pki/dev-good.key" | awk '{v[$1] = $2} END {print v["device"], v["none"]}')
[ -n "$floor_none" ] || { echo "tls_floor failed"; exit 1; }
awk -v d="$floor_dev" -v z="$floor_none" -v br="$mem_br" -v ha="$mem_ha" 'BEGIN {
	printf "OpenSSL alone per session (in-process, %s): %.1f KB with a device certificate, %.1f KB without\n",
	    "tls_floor", d / 1024, z / 1024
	printf "  own part (figure less its floor): bridge %.1f KB (of %s), haproxy %.1f KB (of %s)\n",
	    br - d / 1024, br, ha - z / 1024, ha }'

#!/usr/bin/env bash
# tiergate-gw live: the α site inline on NFQUEUE, real clients allowed and blocked, the verdicts an admin reads
set -u
: "${TIERGATE_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
TG_SUITE=demo-gw-live
. "$TIERGATE_ROOT/tests/lib/harness.sh"
. "$ROOT/tests/netns/lib.sh"
if [ "$(id -u)" != 0 ]; then
	echo "skipped: the live demo needs root (network namespaces, NFQUEUE)"
	exit 0
fi
live_setup >/dev/null
say() { printf '\n== %s\n' "$*"; }
try() {   # try "what" CMD...: runs a real client and says what happened
	local what=$1 out rc start ms
	shift
	start=$(date +%s%N)
	out=$("$@" 2>&1)
	rc=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	if [ $rc -eq 0 ]; then
		printf '   PASSED   %-58s (%d ms)\n' "$what" "$ms"
	else
		printf '   BLOCKED  %-58s (%d ms: %s)\n' "$what" "$ms" "$(echo "$out" | grep -v '^ *$' | tail -n 1 | cut -c1-60)"
	fi
}

say "Namespaces on the address plan: mynumber 10.10.1.5, LGWAN 10.20.x, DMZ 10.30.0.x, internet 198.51.100.x; gateway $GW_NS routes between them"
srv_tls lgw 10.20.5.10 443 && srv_http lgw 10.20.2.10 80 && srv_dns lgw 10.20.0.53 &&
	srv_smtp dmz 10.30.0.10 && srv_http inet 198.51.100.10 80 || { echo "a server did not start"; exit 1; }

say "The rules tiergate-gw installs (its own chain only): tiergate-gw --config conf/alpha.conf --print-rules"
ip netns exec "$GW_NS" "$BIN/tiergate-gw" --config conf/alpha.conf --print-rules | sed -n '1,13p' | sed 's/^/   /'
gw_start conf/alpha.conf || exit 1
sed 's/^/   /' "$GW_LOG"

say "Real clients through the gateway (policy: conf/alpha.conf)"
try "mynumber -> intermediate server, TLS (curl https)" in_ns myn curl -skf --max-time 3 https://10.20.5.10/
try "mynumber -> intermediate server, plain HTTP (curl)" in_ns myn curl -sSf --max-time 2 http://10.20.5.10/
try "mynumber -> LGWAN DNS (dig)" in_ns myn dig +short +time=2 +tries=1 @10.20.0.53 intermediate.lgwan.test
try "mynumber -> internet web (curl)" in_ns myn curl -sSf --max-time 2 http://198.51.100.10/
try "internet -> mail sanitizer in the DMZ, SMTP (swaks)" in_ns inet swaks --server 10.30.0.10 --timeout 5 \
	--from news@example.test --to soumu@hokuto.test --helo mx.example.test --body "hello"
try "internet -> LGWAN groupware, HTTP (curl)" in_ns inet curl -sS --max-time 3 http://10.20.2.10/
try "internet -> DMZ ping" in_ns inet ping -c 1 -W 2 10.30.0.10
sleep 0.3

say "What the gateway decided (JSON events in $GW_EVENTS, one line per verdict)"
python3 - "$GW_EVENTS" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev["event"] == "flow" and ev.get("final"):
        print("   %-8s %-6s %15s -> %-15s %-5s %-9s -> %-9s app %-8s rule %s" % (
            ev["verdict"].upper(), ev["proto"], ev["src_ip"], ev["dst_ip"], ev["dst_port"],
            ev["src_zone"], ev["dst_zone"], ev["app"] or "-", ev["rule"]))
    elif ev["event"] == "reject":
        print("   %-8s answered %s -> %s:%s with %s" % ("", ev["src_ip"], ev["dst_ip"], ev["dst_port"], ev["sent"]))
PY

say "tiergate-gw ctl stats"
gw_ctl stats | sed 's/^/   /'
say "Prometheus: curl http://127.0.0.1:9750/metrics (a few lines)"
ip netns exec "$GW_NS" curl -s --max-time 3 http://127.0.0.1:9750/metrics | grep -E '^tiergate_gw_(verdicts_total|kernel_queue_dropped_total|zone_flows_total.*verdict="reject")' |
	grep -v ' 0$' | sed 's/^/   /'
gw_stop
gw_rules conf/alpha.conf remove >/dev/null 2>&1
say "Gateway stopped, rules removed, namespaces torn down"

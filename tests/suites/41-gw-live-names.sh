#!/usr/bin/env bash
# 41-gw-live-names.sh -- tiergate-gw inline with conf/alpha-prime.conf: real dig and curl through the gateway; only listed names at answered addresses pass, refused ones reach no server.
# tier: e2e
# timeout: 240
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/netns/lib.sh"
live_setup

# The internet host: the breakout resolver (198.51.100.53), a TLS server (.10) and a sink (.11)
# that stores every byte it receives: the addresses only the resolver's answers make valid.
ip -n "$(topo_ns inet)" addr add 198.51.100.11/24 dev eth0
_bg inet "$TG_TMP/dns.log" dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
	--listen-address=198.51.100.53 --port=53 --pid-file="$TG_TMP/dnsmasq.pid" --user=root --local-ttl=60 \
	--address=/teams.microsoft.com/198.51.100.10 --address=/sharepoint.com/198.51.100.10 \
	--address=/evil-sharepoint.com/198.51.100.11 >/dev/null
# A forking TLS server: refused connections never get their FIN through, so a one-at-a-time
# server (openssl s_server) would wait on them for good.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=tiergate.test" -days 2 \
	-keyout "$TG_TMP/key.pem" -out "$TG_TMP/cert.pem" >/dev/null 2>&1
chmod a+r "$TG_TMP/key.pem"
printf 'HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\n' >"$TG_TMP/response.txt"
_bg inet "$TG_TMP/tls.log" socat "OPENSSL-LISTEN:443,bind=198.51.100.10,reuseaddr,fork,cert=$TG_TMP/cert.pem,key=$TG_TMP/key.pem,verify=0" \
	SYSTEM:"head -c 1 >/dev/null; cat $TG_TMP/response.txt" >/dev/null
wait_for 5 _port_open inet 198.51.100.53 53 udp && wait_for 5 _port_open inet 198.51.100.10 443 &&
	srv_sink inet 198.51.100.11 443 "$TG_TMP/sink.bin" ||
	{ fail "servers" "a server did not start"; exit 1; }
: >"$TG_TMP/sink.bin"
gw_start conf/alpha-prime.conf || exit 1

resolve() {   # resolve NAME: dig through the gateway, prints the answer
	in_ns lgw dig +short +time=3 +tries=2 @198.51.100.53 "$1" A 2>&1
}
fetch() {   # fetch NAME ADDR: curl through the gateway with the name of its choice at the address of its choice
	in_ns lgw curl -skf --max-time 4 --resolve "$1:443:$2" "https://$1/"
}

out=$(resolve teams.microsoft.com)
[ "$out" = 198.51.100.10 ] && pass "dig through the gateway: the resolver answers" || fail "dig through the gateway" "got '$out'"
ev_has "event: DNS to the breakout resolver accepted, its question as server_name" flow src_ip=10.20.1.5 \
	dst_ip=198.51.100.53 app=DNS rule=breakout-dns verdict=accept server_name=teams.microsoft.com
check "curl: listed name at the answered address passes" fetch teams.microsoft.com 198.51.100.10
ev_has "event: accepted by the name rule, list groupware" flow dst_ip=198.51.100.10 app=TLS \
	server_name=teams.microsoft.com rule=breakout-groupware name_list=groupware verdict=accept final=true

expect_fail "curl: listed name at an address the resolver never returned is cut" \
	fetch teams.microsoft.com 198.51.100.11
ev_has "event: ... dropped because DNS never returned it" flow dst_ip=198.51.100.11 server_name=teams.microsoft.com \
	verdict=drop final=true "reason=no rule matched: rule 'breakout-groupware' (conf/alpha-prime.conf:82) did not, because the site's DNS never returned this address for the server name (bind_names_to_dns)"

out=$(resolve evil-sharepoint.com)
[ "$out" = 198.51.100.11 ] && pass "dig evil-sharepoint.com answers .11" || fail "dig evil-sharepoint.com" "got '$out'"
expect_fail "curl: evil-sharepoint.com (not *.sharepoint.com) is cut, though answered" \
	fetch evil-sharepoint.com 198.51.100.11
ev_has "event: ... dropped, name not listed" flow server_name=evil-sharepoint.com dst_port=443 verdict=drop \
	final=true "reason=no rule matched: rule 'breakout-groupware' (conf/alpha-prime.conf:82) did not, because the server name is not among its names"
in_ns inet true   # the sink has had the time of two refused connections
if [ -f "$TG_TMP/sink.bin" ] && [ ! -s "$TG_TMP/sink.bin" ] && [ -n "$(ls "$TG_TMP"/sink-198.51.100.11-443.log 2>/dev/null)" ]; then
	pass "the server at .11 received not one byte (ClientHellos held, then dropped)"
else
	fail "the server at .11 received not one byte" "$(stat -c %s "$TG_TMP/sink.bin" 2>&1) bytes"
fi

out=$(resolve a.b.sharepoint.com)
[ "$out" = 198.51.100.10 ] && pass "dig a.b.sharepoint.com" || fail "dig a.b.sharepoint.com" "got '$out'"
check "curl: a.b.sharepoint.com (*.sharepoint.com, two labels deep) passes" fetch a.b.sharepoint.com 198.51.100.10
resolve sharepoint.com >/dev/null
expect_fail "curl: sharepoint.com itself (not *.sharepoint.com) is cut" fetch sharepoint.com 198.51.100.10
ev_has "event: the apex dropped" flow server_name=sharepoint.com app=TLS verdict=drop final=true

out=$(echo | in_ns lgw timeout 5 openssl s_client -noservername -connect 198.51.100.10:443 2>&1)
echo "$out" | grep -q "BEGIN CERTIFICATE" && fail "TLS without SNI is cut" "the handshake completed" ||
	pass "TLS without SNI is cut (openssl s_client -noservername: no certificate came back)"
ev_has "event: ... dropped, no server name" flow dst_ip=198.51.100.10 app=TLS verdict=drop final=true \
	"reason=no rule matched: rule 'breakout-groupware' (conf/alpha-prime.conf:82) did not, because the flow carried no server name (TLS without SNI, or no Host)"

expect_fail "plain web from LGWAN stays closed (α)" in_ns lgw curl -sf --max-time 2 http://198.51.100.10/
ev_has "event: ... dropped by the default" flow src_ip=10.20.1.5 dst_ip=198.51.100.10 dst_port=80 rule=default \
	verdict=drop final=true

# --- what an admin sees ----------------------------------------------------------------
gw_ctl stats >"$TG_TMP/stats.txt" 2>&1
check_grep "ctl stats: hits per name list" '^  name list groupware: [2-9] flows$' "$TG_TMP/stats.txt"
check_grep "ctl stats: the binding table, bounded" 'binding table [1-9][0-9]* of 16384 names' "$TG_TMP/stats.txt"
ip netns exec "$GW_NS" curl -sf --max-time 3 http://127.0.0.1:9750/metrics >"$TG_TMP/metrics.txt"
check_grep "metrics: flows per name list" '^tiergate_gw_name_list_flows_total\{queue="[0-9]+",list="groupware"\} [1-9]' \
	"$TG_TMP/metrics.txt"
check_grep "metrics: DNS answers read" '^tiergate_gw_dns_answers_total\{queue="[0-9]+"\} [1-9]' "$TG_TMP/metrics.txt"
drops=$(gw_kernel_drops)
[ "$drops" = "0 0" ] && pass "kernel queue drop counters stay zero" || fail "kernel queue drop counters" "$drops"
gw_stop
gw_rules conf/alpha-prime.conf remove >/dev/null 2>&1

# --- name lists are read again with the policy: a name taken off the list is refused after reload ---
mkdir -p "$TG_TMP/site"
cp -r conf/alpha-prime.conf conf/parts conf/names "$TG_TMP/site/"
chmod -R a+rX "$TG_TMP/site"
gw_start "$TG_TMP/site/alpha-prime.conf" || exit 1
resolve teams.microsoft.com >/dev/null
check "before the reload: teams.microsoft.com passes" fetch teams.microsoft.com 198.51.100.10
sed -i '/^teams.microsoft.com$/d' "$TG_TMP/site/names/groupware.list"
out=$(gw_ctl reload 2>&1)
[ $? -eq 0 ] && pass "ctl reload with the shortened list" || fail "ctl reload with the shortened list" "$out"
resolve teams.microsoft.com >/dev/null
expect_fail "after the reload: teams.microsoft.com is refused" fetch teams.microsoft.com 198.51.100.10
ev_has "event: ... not among its names any more" flow server_name=teams.microsoft.com verdict=drop final=true \
	"reason=no rule matched: rule 'breakout-groupware' ($TG_TMP/site/alpha-prime.conf:82) did not, because the server name is not among its names"
resolve a.b.sharepoint.com >/dev/null   # this gateway process has not seen that answer yet
check "after the reload: a.b.sharepoint.com still passes" fetch a.b.sharepoint.com 198.51.100.10
gw_stop
gw_rules "$TG_TMP/site/alpha-prime.conf" remove >/dev/null 2>&1

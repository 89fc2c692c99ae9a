#!/usr/bin/env bash
# 40-gw-live-models.sh -- tiergate-gw inline with conf/beta.conf and conf/beta-prime.conf: what β and β′ allow passes, the rest does not.
# tier: e2e
# timeout: 240
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/netns/lib.sh"
live_setup

srv_http inet 198.51.100.10 80 && srv_http inet 198.51.100.10 8080 && srv_tls inet 198.51.100.10 443 &&
	srv_tls dmz 10.30.0.11 443 && srv_tls lgw 10.20.0.80 443 && srv_http lgw 10.20.2.10 80 &&
	srv_tls biz 172.16.2.10 443 && srv_sink lgw 10.20.3.1 3389 && srv_smtp dmz 10.30.0.10 ||
	{ fail "servers" "a server did not start"; exit 1; }

# Checks every model shares: the invariants of the guideline.
common_checks() {
	local m=$1
	expect_fail "$m: mynumber -> internet web blocked" in_ns myn curl -sf --max-time 2 http://198.51.100.10/
	ev_has "$m: event mynumber -> internet dropped by the invariant" flow src_ip=10.10.1.5 dst_ip=198.51.100.10 \
		dst_port=80 src_zone=mynumber dst_zone=internet rule=invariant:mynumber-internet verdict=drop
	out=$(in_ns inet curl -sS --max-time 5 http://10.20.2.10/ 2>&1)
	echo "$out" | grep -Eq "Couldn't connect|refused" && pass "$m: internet -> LGWAN refused by RST (curl)" ||
		fail "$m: internet -> LGWAN refused by RST" "$out"
	ev_has "$m: event internet -> LGWAN rejected by its rule" flow src_zone=internet dst_ip=10.20.2.10 dst_port=80 \
		rule=internet-to-lgwan-refused verdict=reject
	ev_has "$m: ... answered with tcp-rst" reject dst_ip=10.20.2.10 dst_port=80 sent=tcp-rst
	check "$m: internet -> mail sanitizer SMTP passes (swaks)" in_ns inet swaks --server 10.30.0.10 \
		--timeout 5 --from a@example.test --to b@city.test --helo mx.example.test --body test
}

for conf in beta beta-prime; do
	gw_start "conf/$conf.conf" || exit 1
	m=$conf
	check "$m: staff PC -> internet web passes (curl)" in_ns stf curl -sf --max-time 5 http://198.51.100.10/
	ev_has "$m: event staff-web HTTP accepted" flow src_ip=172.16.1.5 dst_port=80 rule=staff-web app=HTTP verdict=accept
	check "$m: staff PC -> internet TLS passes (curl)" in_ns stf curl -skf --max-time 5 https://198.51.100.10/
	expect_fail "$m: staff PC -> internet port 8080 blocked" in_ns stf curl -sf --max-time 2 http://198.51.100.10:8080/
	ev_has "$m: event staff PC -> internet 8080 dropped by default" flow src_ip=172.16.1.5 dst_ip=198.51.100.10 \
		dst_port=8080 rule=default verdict=drop
	check "$m: staff PC -> file sanitizer TLS passes" in_ns stf curl -skf --max-time 5 https://10.30.0.11/
	ev_has "$m: event files to the sanitizer accepted" flow src_ip=172.16.1.5 dst_ip=10.30.0.11 rule=staff-files-to-sanitizer verdict=accept
	# The VDI rule needs RDP: the flow may start while nDPI looks, then plain text is cut.
	in_ns stf sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo "line $i"; sleep 0.1; done' |
		in_ns stf nc -q 1 -w 3 10.20.3.1 3389 >/dev/null 2>&1
	ev_has "$m: staff PC -> VDI 3389 with no RDP in it: cut mid-flow by the next rule once nDPI gives up" \
		flow src_ip=172.16.1.5 dst_ip=10.20.3.1 dst_port=3389 app=Unknown rule=internet-to-lgwan-refused \
		verdict=reject previous_verdict=accept final=true
	ev_has "$m: ... and the cut is an RST" reject src_ip=172.16.1.5 dst_ip=10.20.3.1 sent=tcp-rst
	check "$m: mynumber -> LGWAN update server TLS passes" in_ns myn curl -skf --max-time 5 https://10.20.0.80/
	ev_has "$m: event mynumber-updates accepted as TLS" flow dst_ip=10.20.0.80 rule=mynumber-updates app=TLS verdict=accept
	common_checks "$m"
	if [ "$conf" = beta-prime ]; then
		check "$m: staff PC -> payroll TLS passes (β′ business systems)" in_ns stf curl -skf --max-time 5 https://172.16.2.10/
		ev_has "$m: event staff-business-systems accepted" flow dst_ip=172.16.2.10 rule=staff-business-systems verdict=accept
	else
		check "$m: staff PC -> payroll host TLS passes as web browsing (β)" in_ns stf curl -skf --max-time 5 https://172.16.2.10/
		ev_has "$m: event: there it is staff-web" flow dst_ip=172.16.2.10 rule=staff-web verdict=accept
	fi
	drops=$(gw_kernel_drops)
	[ "$drops" = "0 0" ] && pass "$m: kernel queue drop counters stay zero" || fail "$m: kernel queue drop counters" "$drops"
	gw_stop
	gw_rules "conf/$conf.conf" remove >/dev/null 2>&1
	: >"$GW_EVENTS"
done

# --- zones by interface: the DMZ zone also owns the gateway's port "biz" -----------------
mkdir -p "$TG_TMP/ifconf"
cp -r conf/alpha.conf conf/parts "$TG_TMP/ifconf/"
sed -i 's|{ name = "dmz";      networks = \[ "10.30.0.0/24", "fd00:30::/64" \];|{ name = "dmz"; networks = [ "10.30.0.0/24", "fd00:30::/64" ]; interfaces = [ "biz" ];|' \
	"$TG_TMP/ifconf/alpha.conf"
chmod -R a+rX "$TG_TMP/ifconf"
if grep -q 'interfaces = \[ "biz" \]' "$TG_TMP/ifconf/alpha.conf"; then
	srv_dns inet 198.51.100.53
	gw_start "$TG_TMP/ifconf/alpha.conf" || exit 1
	out=$(in_ns biz dig +short +time=3 +tries=2 @198.51.100.53 www.example.test)
	[ "$out" = 198.51.100.10 ] && pass "interface zone: 172.16.2.10 on port biz is DMZ, its DNS passes (dig)" ||
		fail "interface zone: DNS from the biz port passes" "got '$out'"
	ev_has "interface zone: event says src_zone dmz by interface" flow src_ip=172.16.2.10 src_zone=dmz \
		dst_zone=internet rule=dmz-dns-out verdict=accept
	out=$(in_ns stf dig +short +time=2 +tries=1 @198.51.100.53 www.example.test 2>&1)
	echo "$out" | grep -q "timed out\\|no servers" && pass "same query from the stf port (internet by address) blocked" ||
		fail "same query from the stf port blocked" "got '$out'"
	ev_has "interface zone: event says the stf query is internet -> internet, dropped by default" flow \
		src_ip=172.16.1.5 dst_ip=198.51.100.53 dst_port=53 src_zone=internet rule=default verdict=drop
	gw_stop
	gw_rules "$TG_TMP/ifconf/alpha.conf" remove >/dev/null 2>&1
else
	fail "interface zone: test setup" "could not add interfaces to the dmz zone"
fi

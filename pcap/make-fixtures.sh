#!/usr/bin/env bash
# make-fixtures.sh -- captures pcap/*.pcap from real clients and servers in network namespaces (run as root).
#
# Each capture: two fresh namespaces (client, server) joined by one veth pair,
# the addresses of conf/README.md's address plan, a real server (python3
# http.server, openssl s_server, python3 smtpd, dnsmasq, sshd, small TCP
# peers) and a real client (curl, openssl s_client, swaks, dig, ssh, ping),
# tcpdump on the client's interface, checksums fixed with tcprewrite
# (veth offload leaves them partial). Then pcap/synth.py writes the synthetic
# ones (malformed packets, link-type variants, damaged files).
# Usage: pcap/make-fixtures.sh [NAME...]   (default: all)   ~40 s, no network use.
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "make-fixtures.sh: run as root (network namespaces)" >&2; exit 1; }
PY=/usr/bin/python3
P="tgfx$$"
TMP=$(mktemp -d /tmp/tgfx.XXXXXX)
[ -n "${FIXTURE_DEBUG:-}" ] && TMP_KEEP=1
C="${P}c" S="${P}s"
SERVER_PIDS=()

cleanup() {
	local pid
	for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	ip netns del "$C" 2>/dev/null || true
	ip netns del "$S" 2>/dev/null || true
	rm -rf "/etc/netns/$C" "/etc/netns/$S"; [ -n "${TMP_KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
[ -n "${FIXTURE_DEBUG:-}" ] && set -x

in_c() { timeout 20 ip netns exec "$C" "$@" || echo "make-fixtures: client failed ($?): $*" >&2; }
in_s() { ip netns exec "$S" "$@"; }

# pair CLIENT_ADDR SERVER_ADDR: fresh namespaces joined point-to-point.
pair() {
	cleanup_pair
	local ns
	for ns in "$C" "$S"; do
		ip netns add "$ns"
		mkdir -p "/etc/netns/$ns"
		echo "nameserver 127.0.0.1" >"/etc/netns/$ns/resolv.conf"
		printf '127.0.0.1 localhost\n::1 localhost\n' >"/etc/netns/$ns/hosts"
		ip -n "$ns" link set lo up
	done
	ip link add eth0 netns "$C" type veth peer name eth0 netns "$S"
	addr_pair "$C" "$1" "$2"
	addr_pair "$S" "$2" "$1"
	ip -n "$C" link set eth0 up
	ip -n "$S" link set eth0 up
	sleep 0.3
}

addr_pair() {   # NS LOCAL PEER
	if [[ $2 == *:* ]]; then
		ip -n "$1" addr add "$2/128" dev eth0 nodad
		ip -n "$1" link set eth0 up
		ip -n "$1" route add "$3/128" dev eth0
	else
		ip -n "$1" addr add "$2" peer "$3" dev eth0
	fi
}

cleanup_pair() {
	local pid
	for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	SERVER_PIDS=()
	ip netns del "$C" 2>/dev/null || true
	ip netns del "$S" 2>/dev/null || true
}

serve() { in_s "$@" >>"$TMP/server.log" 2>&1 & SERVER_PIDS+=($!); sleep "${SERVE_WAIT:-0.6}"; }

capture_start() {
	rm -f "$TMP/raw.pcap" "$TMP/tcpdump.log"
	ip netns exec "$C" tcpdump -i eth0 --immediate-mode -U -s 0 -w "$TMP/raw.pcap" 'ip or ip6' 2>"$TMP/tcpdump.log" &
	TCPDUMP=$!
	for _ in $(seq 50); do grep -q listening "$TMP/tcpdump.log" 2>/dev/null && break; sleep 0.1; done
}

capture_stop() {   # NAME
	sleep 0.3
	kill -INT "$TCPDUMP"
	wait "$TCPDUMP" || true
	$PY pcap/synth.py clean "$TMP/raw.pcap" "$TMP/clean.pcap"   # link-local IPv6 chatter out
	tcprewrite --fixcsum -i "$TMP/clean.pcap" -o "pcap/$1.pcap"
	echo "pcap/$1.pcap: $(tcpdump -r "pcap/$1.pcap" 2>/dev/null | wc -l) packets"
}

setup_tls() {
	[ -f "$TMP/key.pem" ] && return
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
	    -subj "/CN=server.tiergate.example" -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
	mkdir -p "$TMP/www"
	echo "<html><body>tiergate fixture page</body></html>" >"$TMP/www/index.html"
}

tls_server() {   # ADDR PORT
	setup_tls
	serve sh -c "cd $TMP/www && exec openssl s_server -quiet -WWW -accept $(url_host "$1"):$2 \
	    -cert $TMP/cert.pem -key $TMP/key.pem"
}

http_server() {   # ADDR
	setup_tls
	SERVE_WAIT=0.8 serve sh -c "cd $TMP/www && exec $PY -m http.server 80 --bind $1"
}

url_host() { [[ $1 == *:* ]] && echo "[$1]" || echo "$1"; }

cap_https() {   # NAME CLIENT SERVER
	pair "$2" "$3"; tls_server "$3" 443; capture_start
	in_c curl -sk --max-time 5 "https://$(url_host "$3")/index.html" >/dev/null
	capture_stop "$1"
}

cap_http() {   # NAME CLIENT SERVER
	pair "$2" "$3"; http_server "$3"; capture_start
	in_c curl -s --max-time 5 "http://$(url_host "$3")/index.html" >/dev/null
	capture_stop "$1"
}

cap_s_client() {   # NAME CLIENT SERVER
	pair "$2" "$3"; tls_server "$3" 443; capture_start
	echo "GET /index.html HTTP/1.0" | in_c openssl s_client -quiet -connect "$3:443" \
	    -servername intermediate.lgwan.example >/dev/null 2>&1 || true
	capture_stop "$1"
}

cap_smtp() {   # NAME CLIENT SERVER
	pair "$2" "$3"
	serve $PY -W ignore -m smtpd -n -c DebuggingServer "$3:25"
	capture_start
	in_c swaks --silent 2 --server "$3" --from clerk@city.lg.jp --to resident@example.jp \
	    --header "Subject: fixture" --body "tiergate fixture mail" --timeout 5 || true
	capture_stop "$1"
}

cap_dns() {   # NAME CLIENT SERVER
	pair "$2" "$3"
	serve dnsmasq -k --no-resolv --no-hosts --bind-interfaces --listen-address="$3" \
	    --address=/groupware.city.lg.jp/10.20.2.10 --pid-file="$TMP/dnsmasq.pid" --user=root
	capture_start
	in_c dig +tries=1 +time=2 @"$3" groupware.city.lg.jp A >/dev/null || true
	in_c dig +tries=1 +time=2 @"$3" www.city.lg.jp AAAA >/dev/null || true
	capture_stop "$1"
}

# A DNS answer larger than the MTU: the reply comes back as IP fragments (UDP, toclient).
cap_dns_big() {   # NAME CLIENT SERVER
	local chunk txt="" i
	chunk=$(printf 'x%.0s' $(seq 250))
	for i in $(seq 12); do txt="$txt,\"$chunk\""; done
	pair "$2" "$3"
	serve dnsmasq -k --no-resolv --no-hosts --bind-interfaces --listen-address="$3" \
	    --txt-record="big.city.lg.jp$txt" --pid-file="$TMP/dnsmasq.pid" --user=root --edns-packet-max=4096
	capture_start
	in_c dig +tries=1 +time=2 +bufsize=4096 +ignore @"$3" big.city.lg.jp TXT >/dev/null
	capture_stop "$1"
}

# IPv6 with an extension header the kernel builds (destination options), then UDP/DNS.
cap_dns6_dstopt() {   # NAME CLIENT SERVER
	pair "$2" "$3"
	serve dnsmasq -k --no-resolv --no-hosts --bind-interfaces --listen-address="$3" \
	    --address=/www.city.lg.jp/198.51.100.10 --pid-file="$TMP/dnsmasq.pid" --user=root
	capture_start
	in_c $PY pcap/dns_dstopt.py "$3" www.city.lg.jp
	capture_stop "$1"
}

setup_ssh() {
	[ -f "$TMP/ssh_host" ] && return
	ssh-keygen -q -t ed25519 -N "" -f "$TMP/ssh_host"
	ssh-keygen -q -t ed25519 -N "" -f "$TMP/ssh_user"
	cp "$TMP/ssh_user.pub" "$TMP/authorized_keys"
	mkdir -p /run/sshd
}

cap_ssh() {   # NAME CLIENT SERVER PORT
	pair "$2" "$3"; setup_ssh
	serve /usr/sbin/sshd -D -e -p "$4" -h "$TMP/ssh_host" -o "ListenAddress=$3" \
	    -o "AuthorizedKeysFile=$TMP/authorized_keys" -o StrictModes=no -o UsePAM=no \
	    -o PermitRootLogin=prohibit-password -o "PidFile=$TMP/sshd.pid"
	capture_start
	in_c ssh -p "$4" -i "$TMP/ssh_user" -o BatchMode=yes -o StrictHostKeyChecking=no \
	    -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 "root@$3" true 2>/dev/null || true
	capture_stop "$1"
}

cap_talk() {   # NAME CLIENT SERVER PORT GREETING_HEX REPLY_HEX MSG_HEX...
	local name=$1 cl=$2 sv=$3 port=$4 greet=$5 reply=$6
	shift 6
	pair "$cl" "$sv"
	SERVE_WAIT=0.4 serve $PY pcap/tcp_talk.py server "$sv" "$port" "$greet" "$reply"
	capture_start
	in_c $PY pcap/tcp_talk.py client "$sv" "$port" "$@" || true
	capture_stop "$name"
}

cap_ping() {   # NAME CLIENT SERVER [SIZE]
	pair "$2" "$3"; capture_start
	in_c ping -c 2 -i 0.2 -W 1 -s "${4:-56}" "$3" >/dev/null || true
	capture_stop "$1"
}

# zone-matrix: curl over TLS to 443 from a host of each zone to a host of every other zone.
cap_matrix() {
	local hosts="10.10.1.5 10.20.1.5 10.40.1.10 10.30.0.20 198.51.100.10" c s parts=()
	for c in $hosts; do
		for s in $hosts; do
			[ "$c" = "$s" ] && continue
			cap_https "m-$c-$s" "$c" "$s" >/dev/null
			mv "pcap/m-$c-$s.pcap" "$TMP/m-$c-$s.pcap"
			parts+=("$TMP/m-$c-$s.pcap")
		done
	done
	$PY pcap/synth.py cat "pcap/$1.pcap" "${parts[@]}"
	echo "pcap/$1.pcap: $(tcpdump -r "pcap/$1.pcap" 2>/dev/null | wc -l) packets"
}

# names-*: the α′ breakout. The server namespace holds the site's resolver (dnsmasq on
# 198.51.100.53) and TLS/HTTP servers on 198.51.100.10 and .11 (the resolver never returns .11).
# dig asks the resolver first (the gateway learns the answers), then curl --resolve connects to
# the address of its choice with the name of its choice, as a forged SNI would.
NAMES_LONG="$(printf 'a%.0s' $(seq 48)).$(printf 'b%.0s' $(seq 15)).evil.example.sharepoint.com"
names_servers() {   # CLIENT
	pair "$1" 198.51.100.53
	ip -n "$S" addr add 198.51.100.10/32 dev eth0
	ip -n "$S" addr add 198.51.100.11/32 dev eth0
	ip -n "$C" route add 198.51.100.0/24 dev eth0
	serve dnsmasq -k --no-resolv --no-hosts --bind-interfaces --listen-address=198.51.100.53 \
	    --address=/teams.microsoft.com/198.51.100.10 --address=/sharepoint.com/198.51.100.10 \
	    --pid-file="$TMP/dnsmasq.pid" --user=root
	setup_tls
	serve sh -c "cd $TMP/www && exec openssl s_server -quiet -WWW -accept 443 -cert $TMP/cert.pem -key $TMP/key.pem"
	SERVE_WAIT=0.8 serve sh -c "cd $TMP/www && exec $PY -m http.server 80"
}
names_dig() { in_c dig +tries=1 +time=2 @198.51.100.53 "$1" A >/dev/null; }
names_curl() {   # SCHEME NAME ADDR
	local port=443
	[ "$1" = http ] && port=80
	in_c curl -sk --max-time 5 --resolve "$2:$port:$3" "$1://$2/index.html" >/dev/null
}

cap_names_tls() {   # NAME CLIENT
	names_servers "$2"; capture_start
	names_dig teams.microsoft.com
	names_curl https teams.microsoft.com 198.51.100.10       # allowed: name listed, address answered
	names_curl https teams.microsoft.com 198.51.100.11       # SNI listed, address never answered
	names_curl https evil-sharepoint.com 198.51.100.10       # not *.sharepoint.com (label boundary)
	names_dig a.b.sharepoint.com
	names_curl https a.b.sharepoint.com 198.51.100.10        # *.sharepoint.com, two labels deep
	names_dig sharepoint.com
	names_curl https sharepoint.com 198.51.100.10            # the apex: not *.sharepoint.com
	names_curl https www.example.org 198.51.100.10           # a name no rule lists
	names_dig "$NAMES_LONG"
	names_curl https "$NAMES_LONG" 198.51.100.10             # 92 bytes: nDPI keeps the last 79
	echo | in_c openssl s_client -quiet -noservername -connect 198.51.100.10:443 >/dev/null 2>&1 || true
	capture_stop "$1"
}

cap_names_http() {   # NAME CLIENT
	names_servers "$2"; capture_start
	names_dig teams.microsoft.com
	names_curl http teams.microsoft.com 198.51.100.10
	names_curl http www.example.org 198.51.100.10
	capture_stop "$1"
}

hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }

RDP_CR=030000130ee000000000000100080003000000
RDP_CC=030000130ed000001234000200080002000000

all_captures() {
	cap_http   http-dmz-internet        10.30.0.30 198.51.100.10
	cap_https  tls-dmz-internet         10.30.0.30 198.51.100.10
	cap_https  tls-lgwan-asp            10.20.1.5  10.40.1.10
	cap_s_client tls-mynumber-intermediate 10.10.1.5 10.20.5.10
	cap_https  tls-mynumber-internet    10.10.1.5  198.51.100.10
	cap_https  tls-lgwan-internet       10.20.1.5  198.51.100.10
	cap_https  tls-staff-web            172.16.1.5 198.51.100.10
	cap_http   http-staff-web           172.16.1.5 198.51.100.10
	cap_https  tls-staff-payroll        172.16.1.5 172.16.2.10
	cap_https  tls-staff-file-sanitizer 172.16.1.5 10.30.0.11
	cap_https  tls-sanitizer-update     10.30.0.11 10.20.0.80
	cap_smtp   smtp-internet-dmz        198.51.100.25 10.30.0.10
	cap_smtp   smtp-dmz-lgwan           10.30.0.10 10.20.0.25
	cap_smtp   smtp-internet-lgwan      198.51.100.25 10.20.0.25
	cap_dns    dns-mynumber-lgwan       10.10.1.5  10.20.0.53
	cap_dns    dns-dmz-internet         10.30.0.30 198.51.100.53
	cap_dns    dns-mynumber-internet    10.10.1.5  198.51.100.53
	cap_dns_big frag-dns-mynumber-lgwan 10.10.1.5  10.20.0.53
	cap_dns6_dstopt dns6-dstopt-dmz-internet fd00:30::30 2001:db8:100::53
	cap_ssh    ssh-lgwan-dmz            10.20.1.5  10.30.0.20 22
	cap_ssh    ssh-on-443               10.30.0.30 198.51.100.10 443
	cap_ssh    ssh-business-backup      172.16.2.10 172.16.2.50 22
	cap_talk   rdp-lgwan-dmz            10.20.1.5  10.30.0.30 3389 "" "$RDP_CC" "$RDP_CR" "$(hex 'rdp fixture data')"
	cap_talk   rdp-staff-vdi            172.16.1.5 10.20.3.5 3389 "" "$RDP_CC" "$RDP_CR" "$(hex 'rdp fixture data')"
	cap_talk   unknown-lgwan-dmz-3389   10.20.1.5  10.30.0.30 3389 "" "$(hex 'ok')" \
	    "$(hex 'hello, this is not remote desktop 1')" "$(hex 'hello, this is not remote desktop 2')" \
	    "$(hex 'hello, this is not remote desktop 3')" "$(hex 'hello, this is not remote desktop 4')" \
	    "$(hex 'hello, this is not remote desktop 5')"
	cap_talk   ftp-lgwan-dmz            10.20.1.5  10.30.0.30 21 "$(hex $'220 tiergate FTP ready\r\n')" \
	    "$(hex $'331 Password required\r\n')" "$(hex $'USER anonymous\r\n')" "$(hex $'PASS guest\r\n')"
	cap_talk   telnet-internet-lgwan    203.0.113.5 10.20.1.5 23 "$(hex $'login: ')" "$(hex $'Password: ')" \
	    "$(hex $'admin\r\n')"
	cap_ping   ping-internet-dmz        203.0.113.5 10.30.0.20
	cap_ping   ping-internet-lgwan      203.0.113.5 10.20.1.5
	cap_ping   frag-ping-internet-dmz   203.0.113.5 10.30.0.20 3000
	cap_ping   frag-ping-internet-lgwan 203.0.113.5 10.20.1.5 3000
	cap_ping   ping6-lgwan-internet     fd00:20::15 2001:db8:100::10
	cap_ping   frag-ping6-internet-dmz  2001:db8:113::5 fd00:30::20 3000
	cap_http   http6-lgwan-internet     fd00:20::15 2001:db8:100::10
	cap_https  tls6-staff-web           2001:db8:16:1::5 2001:db8:100::10
	cap_matrix zone-matrix
	cap_names_tls  names-tls-lgwan-internet  10.20.1.5
	cap_names_http names-http-lgwan-internet 10.20.1.5
}

if [ $# -eq 0 ]; then
	all_captures
else
	for n in "$@"; do
		line=$(grep -E "^	cap_[a-z0-9_]+ +$n( |\$)" "$0") || { echo "make-fixtures: no capture named $n" >&2; exit 1; }
		eval "$line"
	done
fi
cleanup_pair
$PY pcap/synth.py pcap

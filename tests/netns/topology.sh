#!/usr/bin/env bash
# topology.sh -- network namespaces for the live gateway: one host per zone around a routing gateway, on the conf/README.md address plan.
#
#   tests/netns/topology.sh up PREFIX      builds PREFIX-gw and PREFIX-{myn,lgw,asp,dmz,inet,stf,biz}
#   tests/netns/topology.sh down PREFIX    removes them (and their /etc/netns files)
#   . tests/netns/topology.sh; topo_up PREFIX; topo_ns lgw   (as a library)
#
# Each host namespace holds every address its zone's fixtures use (the lgwan
# host is the staff PC, the intermediate server, DNS, mail... at once), so the
# example configs apply unchanged. stf holds the β/β′ internet-zone staff
# PCs and biz the β′ business systems (payroll, accounting), so traffic
# inside the internet zone crosses the gateway too. The gateway routes between them and has an
# unreachable default route: nothing leaves the test.

# role | gateway side addresses | host addresses (first = source of the host's own traffic)
TOPO_HOSTS=(
	"myn|10.10.0.1/16 fd00:10::1/48|10.10.1.5/16 fd00:10::5/48"
	"lgw|10.20.0.1/16 fd00:20::1/48|10.20.1.5/16 10.20.5.10/16 10.20.0.53/16 10.20.0.25/16 10.20.0.80/16 10.20.0.123/16 10.20.2.10/16 10.20.2.20/16 10.20.3.1/16 fd00:20::15/48"
	"asp|10.40.0.1/16|10.40.1.10/16"
	"dmz|10.30.0.1/24 fd00:30::1/64|10.30.0.10/24 10.30.0.11/24 10.30.0.20/24 10.30.0.30/24 fd00:30::10/64"
	"inet|198.51.100.1/24 203.0.113.1/24 2001:db8:100::1/64 2001:db8:113::1/64|198.51.100.10/24 198.51.100.25/24 198.51.100.53/24 203.0.113.5/24 2001:db8:100::10/64 2001:db8:113::5/64"
	"stf|172.16.1.1/24 2001:db8:16:1::1/64|172.16.1.5/24 2001:db8:16:1::5/64"
	"biz|172.16.2.1/24|172.16.2.10/24 172.16.2.20/24 172.16.2.50/24"
)

topo_ns() { echo "${TOPO_PREFIX:?}-$1"; }

# The resolver files ip netns exec mounts: tools that resolve their own name must not ask the host's DNS.
_topo_etc() {
	local ns=$1
	mkdir -p "/etc/netns/$ns"
	echo "nameserver 127.0.0.1" >"/etc/netns/$ns/resolv.conf"
	printf '127.0.0.1 localhost %s\n::1 localhost\n' "$ns" >"/etc/netns/$ns/hosts"
}

_topo_addrs() {   # _topo_addrs NS IFNAME ADDR...
	local ns=$1 ifname=$2 a
	shift 2
	for a in "$@"; do
		case "$a" in
		*:*) ip -n "$ns" -6 addr add "$a" dev "$ifname" nodad ;;
		*) ip -n "$ns" addr add "$a" dev "$ifname" ;;
		esac
	done
}

_topo_host() {   # _topo_host ROLE GW_ADDRS HOST_ADDRS
	local role=$1 gw ns v4gw v6gw a
	gw=$(topo_ns gw)
	ns=$(topo_ns "$role")
	ip netns add "$ns"
	_topo_etc "$ns"
	ip -n "$ns" link set lo up
	ip link add "$role" netns "$gw" type veth peer name eth0 netns "$ns"
	# shellcheck disable=SC2086
	_topo_addrs "$gw" "$role" $2
	# shellcheck disable=SC2086
	_topo_addrs "$ns" eth0 $3
	ip -n "$gw" link set "$role" up
	ip -n "$ns" link set eth0 up
	for a in $2; do
		case "$a" in
		*:*) [ -z "${v6gw:-}" ] && v6gw=${a%/*} ;;
		*) [ -z "${v4gw:-}" ] && v4gw=${a%/*} ;;
		esac
	done
	ip -n "$ns" route add default via "$v4gw"
	[ -n "${v6gw:-}" ] && ip -n "$ns" -6 route add default via "$v6gw"
	return 0
}

topo_up() {
	local gw entry
	TOPO_PREFIX=$1
	gw=$(topo_ns gw)
	ip netns add "$gw" || return 1
	_topo_etc "$gw"
	ip -n "$gw" link set lo up
	ip netns exec "$gw" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	ip -n "$gw" route add unreachable default
	ip -n "$gw" -6 route add unreachable default
	for entry in "${TOPO_HOSTS[@]}"; do
		IFS='|' read -r role gwaddrs hostaddrs <<<"$entry"
		_topo_host "$role" "$gwaddrs" "$hostaddrs" || return 1
	done
}

topo_down() {
	local ns
	TOPO_PREFIX=$1
	for ns in gw myn lgw asp dmz inet stf biz; do
		ip netns del "$(topo_ns $ns)" 2>/dev/null
		rm -rf "/etc/netns/$(topo_ns $ns)"
	done
	return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	case "${1:-}" in
	up) topo_up "${2:?prefix}" ;;
	down) topo_down "${2:?prefix}" ;;
	*) echo "usage: $0 up|down PREFIX" >&2; exit 2 ;;
	esac
fi

#!/bin/sh
# notify.sh -- keepalived's notify hook on a tiergate node: conntrackd's caches (the conntrack-tools manual's primary-backup.sh) and tiergate-gw's gate.
#
#   notify.sh master|backup|fault|stop [ENV]      ENV: /etc/tiergate/ha/ha.env by default
#
# master: commit the peer's flows (with their connmark verdicts) into the
#   kernel, let tiergate-gw decide the synced flows that were still waiting
#   for their application and open its gate, then flush conntrackd's caches,
#   resync the internal one from the kernel and send everything to the peer.
# backup: close the gate first (a standby decides nothing), make sure
#   conntrackd runs, shorten the timers of this node's old entries, ask the
#   peer for a full resync.
# fault, stop: close the gate, shorten the timers.
# Each step is logged with its exit status; a failing step does not stop the others.
state=${1:-}
env=${2:-/etc/tiergate/ha/ha.env}
# shellcheck disable=SC1090
. "$env" || { logger -t tiergate-ha "cannot read $env"; exit 1; }

log() { echo "$(date -u +%H:%M:%S.%N | cut -c1-12) $state: $*" >>"${HA_LOG:-/dev/null}"; }
step() {   # step WHAT CMD...: runs one step, logs it
	what=$1
	shift
	if "$@" >>"${HA_LOG:-/dev/null}" 2>&1; then log "$what: ok"; else log "$what: FAILED ($?)"; logger -t tiergate-ha "$state: $what failed"; fi
}
ct() { "$CONNTRACKD" -C "$CONNTRACKD_CONF" "$@"; }
gw() { "$TIERGATE_GW" --config "$TIERGATE_CONF" ${TIERGATE_CTL:+--ctl-socket "$TIERGATE_CTL"} --ha-state "$1"; }

case "$state" in
master)
	step "commit the external cache (conntrackd -c)" ct -c
	step "tiergate-gw: decide synced waiting flows, open the gate" gw master
	step "flush the caches (conntrackd -f)" ct -f
	step "resync the internal cache from the kernel (conntrackd -R)" ct -R
	step "bulk send to the peer (conntrackd -B)" ct -B
	;;
backup)
	step "tiergate-gw: close the gate" gw backup
	if ! ct -s >/dev/null 2>&1; then
		rm -f "$CONNTRACKD_LOCK"
		step "start conntrackd" ct -d
	fi
	step "shorten the old entries' timers (conntrackd -t)" ct -t
	step "ask the peer for a resync (conntrackd -n)" ct -n
	;;
fault|stop)
	step "tiergate-gw: close the gate" gw "$state"
	step "shorten the old entries' timers (conntrackd -t)" ct -t
	;;
*)
	echo "usage: notify.sh master|backup|fault|stop [ENV]" >&2
	exit 2
	;;
esac
exit 0

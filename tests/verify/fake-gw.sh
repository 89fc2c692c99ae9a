#!/usr/bin/env bash
# fake-gw.sh -- a stand-in for tiergate-gw --pcap that misbehaves on purpose (tests/verify/fake/).
# The "pcap" is a text file; its first line says what to do:
#   EVENTS   write the remaining lines as the event log and exit 0
#   CRASH    die of SIGSEGV
#   HANG     never finish (tiergate-verify --timeout must kill it)
set -u
pcap="" events=""
while [ $# -gt 0 ]; do
	case "$1" in
	--pcap) pcap=$2; shift 2 ;;
	--events) events=$2; shift 2 ;;
	--config) shift 2 ;;
	*) echo "fake-gw: unknown argument $1" >&2; exit 2 ;;
	esac
done
case "$(head -n 1 "$pcap")" in
EVENTS) tail -n +2 "$pcap" >"$events" ;;
CRASH) echo "fake-gw: about to crash" >&2; kill -SEGV $$ ;;
HANG) exec -a "fake-gw-hang $pcap" sleep 60 ;;
*) echo "fake-gw: $pcap: not a fake pcap" >&2; exit 1 ;;
esac

#!/usr/bin/env bash
# 40-gw-live-unit.sh -- unit tests of the live front-end (nfqueue config, iptables rules, control socket, interface names).
# tier: unit
# timeout: 60
. "$(dirname "$0")/../lib/harness.sh"
run_unit test_live

#!/usr/bin/env bash
# 71-bridge-unit.sh -- the bridge's unit tests, its handshakes against a forked key process, and the CONNECT parser's fuzz corpus replayed.
# tier: unit
# timeout: 120
. "$(dirname "$0")/../lib/harness.sh"
run_unit test_bridge
run_unit test_bridge_tls
fuzz_replay screenproto
fuzz_replay connect
fuzz_replay ctlcmd

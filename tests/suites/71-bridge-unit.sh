#!/usr/bin/env bash
# 71-bridge-unit.sh -- the bridge's unit tests and the CONNECT parser's fuzz corpus replayed.
# tier: unit
# timeout: 120
. "$(dirname "$0")/../lib/harness.sh"
unit_binary test_bridge
fuzz_replay connect

#!/usr/bin/env bash
# 10-lib.sh -- unit tests of lib/ (JSON events, addresses, config diagnostics, files).
# tier: unit
# timeout: 120
. "$(dirname "$0")/../lib/harness.sh"
run_unit test_lib

#!/usr/bin/env bash
# checker-status.sh -- runner fixture: a checker prints two oks, then exits 3 without a FAIL line.
# tier: unit
# timeout: 30
. "$(dirname "$0")/../lib/harness.sh"
run_checker failing-checker python3 -c '
import sys
print("ok fixture-status-one"); print("ok fixture-status-two")
sys.exit(3)'

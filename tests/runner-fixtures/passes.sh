#!/usr/bin/env bash
# passes.sh -- runner fixture: a checker and a unit binary that pass, and a plain check.
# tier: unit
# timeout: 30
. "$(dirname "$0")/../lib/harness.sh"
run_checker good-checker python3 -c 'print("ok fixture-pass-checker-one"); print("ok fixture-pass-checker-two")'
run_unit "$ROOT/tests/runner-fixtures/bin/fake-unit-good"
check "fixture-pass-true" true

#!/usr/bin/env bash
# unit-died.sh -- runner fixture: a unit binary prints two oks, then aborts before its plan line.
# tier: unit
# timeout: 30
. "$(dirname "$0")/../lib/harness.sh"
run_unit "$ROOT/tests/runner-fixtures/bin/fake-unit-dies"

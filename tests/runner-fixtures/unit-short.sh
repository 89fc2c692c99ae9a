#!/usr/bin/env bash
# unit-short.sh -- runner fixture: a unit binary announces 1..3 but gives one result and exits 0.
# tier: unit
# timeout: 30
. "$(dirname "$0")/../lib/harness.sh"
run_unit "$ROOT/tests/runner-fixtures/bin/fake-unit-short"

#!/usr/bin/env bash
# 36-verify-unit.sh -- tiergate-verify's unit tests (JSON reader, matching, explanations, --update, JUnit escaping) and the JSON fuzz corpus.
# tier: unit
# timeout: 120
. "$(dirname "$0")/../lib/harness.sh"
run_unit test_verify
fuzz_replay json

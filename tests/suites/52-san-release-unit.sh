#!/usr/bin/env bash
# 52-san-release-unit.sh -- the release socket's parser, request-link tokens, release_dir writes; fuzz corpora of those and of the portal's form parser.
# tier: unit
# timeout: 60
. "$(dirname "$0")/../lib/harness.sh"
run_unit test_qrel
fuzz_replay relsock
fuzz_replay reltoken
fuzz_replay portal_form

#!/usr/bin/env bash
# 52-san-release-unit.sh -- the release socket's parser, request-link tokens and release_dir writes; their fuzz corpora.
# tier: unit
# timeout: 60
. "$(dirname "$0")/../lib/harness.sh"
unit_binary test_qrel
fuzz_replay relsock
fuzz_replay reltoken

#!/usr/bin/env bash
# 52-san-textclean.sh -- the one name/text cleaner (lib/textclean.c): unit cases and its fuzz corpus replayed.
# tier: unit
# timeout: 120
. "$(dirname "$0")/../lib/harness.sh"
run_unit test_textclean
fuzz_replay textclean

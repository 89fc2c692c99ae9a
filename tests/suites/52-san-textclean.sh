#!/usr/bin/env bash
# 52-san-textclean.sh -- the one name/text cleaner (lib/textclean.c), CSV neutralising and collision names: unit cases, fuzz corpora replayed.
# tier: unit
# timeout: 120
. "$(dirname "$0")/../lib/harness.sh"
run_unit test_textclean
fuzz_replay textclean
run_unit test_san_textsafe
fuzz_replay csvsafe

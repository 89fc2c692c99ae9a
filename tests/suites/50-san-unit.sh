#!/usr/bin/env bash
# 50-san-unit.sh -- the sanitizer's unit tests (charset, wire, quarantine, sandboxed worker) and fuzz corpora replayed.
# tier: unit
# timeout: 300
. "$(dirname "$0")/../lib/harness.sh"
unit_binary test_san_charset
unit_binary test_san_core
fuzz_replay charset
fuzz_replay office
fuzz_replay pdfscan

#!/usr/bin/env bash
# checker-crash.sh -- runner fixture: a Python checker prints three oks, then dies of SIGSEGV half-way.
# tier: unit
# timeout: 30
. "$(dirname "$0")/../lib/harness.sh"
run_checker crashing-checker python3 -c '
import os, signal, sys
for n in ("one", "two", "three"):
    print("ok fixture-checker-" + n, flush=True)
os.kill(os.getpid(), signal.SIGSEGV)
print("ok fixture-checker-never")'

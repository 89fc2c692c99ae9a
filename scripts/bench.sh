#!/usr/bin/env bash
# bench.sh -- make bench: each part measures itself against its peer in one run (scripts/bench.d/*.sh).
# Prints ratios; never fails on speed. Results also go to build/bench/*.txt.
#   scripts/bench.sh --quick   every step on small inputs (BENCH_QUICK=1), a few seconds each:
#                              the figures only show the step works (tests/suites/90-bench-quick.sh)
set -u
[ "${1:-}" = --quick ] && export BENCH_QUICK=1
cd "$(dirname "$0")/.." || exit 2
export TIERGATE_ROOT=$(pwd)
export TIERGATE_BUILD="$TIERGATE_ROOT/${TIERGATE_BUILD:-build}"
mkdir -p "$TIERGATE_BUILD/bench"
status=0
for step in scripts/bench.d/*.sh; do
	[ -e "$step" ] || continue
	name=$(basename "$step" .sh)
	echo
	echo "################ $(sed -n '2s/^# *//p' "$step")"
	bash "$step" </dev/null 2>&1 | tee "$TIERGATE_BUILD/bench/$name.txt"
	[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "bench step $name failed"; status=1; }
done
exit $status

#!/usr/bin/env bash
# names: ns per server-name lookup with 100 / 1,000 / 10,000 patterns (target <= 200 ns at 10,000) against a plain scan
set -u
B="$TIERGATE_BUILD/t/names_bench"
[ -x "$B" ] || { echo "not built: $B"; exit 1; }
SIZES="100 1000 10000"
[ -n "${BENCH_QUICK:-}" ] && SIZES="100 1000"   # quick mode (make test): the same lines, fewer sizes
echo "Patterns as name lists hold them (a third \"*.domain\"); lookups: names under the wildcards,"
echo "exact names and misses. 'hashed' is what a rule with names does per flow (policy/names.c);"
echo "'plain scan' compares the name with every pattern, the naive peer, in the same run."
echo "Times are the thread's CPU time (wall time on a shared machine counts other processes too)."
for n in $SIZES; do
	"$B" "$n" || exit 1
done

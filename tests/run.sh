#!/usr/bin/env bash
# run.sh -- runs the test suites in tests/suites/ and prints "N passed, N failed".
#
#   tests/run.sh                 every suite
#   tests/run.sh --tier unit     only suites marked "# tier: unit" (the ASan run)
#   tests/run.sh policy gw-pcap  suites whose file name contains one of the words
#   tests/run.sh --suites DIR    the suites of DIR instead (tests/runner-fixtures: the runner's own test)
#
# A suite is an executable script; each line it prints that starts with "ok "
# is a pass and with "FAIL " a failure. One failure is also counted, with a FAIL line
# saying why, for a suite that
#   - exits non-zero without a FAIL line, or runs past its "# timeout: SECONDS" (default 600);
#   - exits 0 without printing a single ok or FAIL line (it proved nothing);
#   - ran a helper (tests/lib/harness.sh: run_unit, run_checker) that did not end well and
#     left no FAIL line between the helper's "# begin KIND NAME" and "# end KIND NAME status S"
#     lines: the end line is missing (the suite stopped inside it), S is not 0, or the
#     helper is a unit binary whose plan "1..N" is missing or not reached by its ok/FAIL lines.
# TG_TEST_LOGS=DIR puts the suites' logs there instead of $TIERGATE_BUILD/test-logs.
#
# Under CI (CI set) only failures and each suite's count are printed, so that what
# a CI log shows of a failing run is the failure; every suite's whole output stays
# in $TIERGATE_BUILD/test-logs/. TG_VERBOSE=1 prints the "ok" lines there too.
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
export TIERGATE_ROOT="$ROOT"
export TIERGATE_BUILD="$ROOT/${TIERGATE_BUILD:-build}"
case "$TIERGATE_BUILD" in "$ROOT//"*) TIERGATE_BUILD="${TIERGATE_BUILD#"$ROOT/"}";; esac

tier=""
suites_dir=tests/suites
words=()
while [ $# -gt 0 ]; do
	case "$1" in
	--tier) tier="$2"; shift 2 ;;
	--suites) suites_dir="$2"; shift 2 ;;
	*) words+=("$1"); shift ;;
	esac
done

shown='^    (ok|FAIL) '
[ -n "${CI:-}" ] && [ -z "${TG_VERBOSE:-}" ] && shown='^    FAIL '
logdir="${TG_TEST_LOGS:-$TIERGATE_BUILD/test-logs}"
mkdir -p "$logdir"
passed=0
failed=0
failures=()

suite_header() {   # suite_header FILE KEY DEFAULT
	local v
	v=$(sed -n "s/^# $2: *//p" "$1" | head -n 1)
	echo "${v:-$3}"
}

# helper_problems LOG: one line per helper bracket that ended badly with no FAIL line in it.
helper_problems() {
	awk '
	function judge() {
		if (fails > 0) return
		if (!ended) print kind " " name " did not finish (no end line: the suite stopped inside it)"
		else if (status != 0) print kind " " name " ended with status " status " and no FAIL line"
		else if (kind == "unit" && plan < 0) print "unit " name " printed no plan line (1..N)"
		else if (plan >= 0 && results < plan) print kind " " name " gave " results " results of the " plan " it announced"
	}
	/^# begin (unit|checker) / { if (open) judge(); open = 1; ended = 0; kind = $3; name = $4; fails = 0; results = 0; plan = -1; next }
	!open { next }
	/^# end (unit|checker) / { ended = 1; status = $NF; judge(); open = 0; next }
	/^FAIL / { fails++; results++; next }
	/^ok / { results++; next }
	/^1\.\.[0-9]+$/ { plan = substr($0, 4) + 0 }
	END { if (open) judge() }
	' "$1"
}

wanted() {
	local name=$1 w
	[ ${#words[@]} -eq 0 ] && return 0
	for w in "${words[@]}"; do
		case "$name" in *"$w"*) return 0 ;; esac
	done
	return 1
}

for suite in "$suites_dir"/*.sh; do
	name=$(basename "$suite" .sh)
	wanted "$name" || continue
	stier=$(suite_header "$suite" tier e2e)
	[ -n "$tier" ] && [ "$stier" != "$tier" ] && continue
	limit=$(suite_header "$suite" timeout 600)
	log="$logdir/$name.log"
	echo "=== $name (tier $stier, limit ${limit}s)"
	start=$(date +%s)
	TG_SUITE="$name" timeout -k 10 "$limit" bash "$suite" </dev/null >"$log" 2>&1
	status=$?
	sed 's/^/    /' "$log" | grep -E "$shown" || true
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^FAIL ' "$log")
	while IFS= read -r problem; do
		echo "    FAIL $name: $problem (log: $log)"
		f=$((f + 1))
	done < <(helper_problems "$log")
	if [ "$status" -eq 0 ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "    FAIL $name: exited 0 without a single ok or FAIL line: it checked nothing (log: $log)"
		tail -n 10 "$log" | sed 's/^/      | /'
	elif [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		why="exited with status $status"
		[ "$status" -eq 124 ] && why="timed out after ${limit}s"
		echo "    FAIL $name: $why (log: $log)"
		tail -n 20 "$log" | sed 's/^/      | /'
	elif [ "$f" -gt 0 ]; then
		grep -B3 -A12 '^FAIL ' "$log" | grep -v '^ok ' | head -n 60 | sed 's/^/      | /'
	fi
	[ "$f" -gt 0 ] && failures+=("$name ($f)")
	passed=$((passed + p))
	failed=$((failed + f))
	echo "    -- $name: $p passed, $f failed in $(( $(date +%s) - start ))s"
done

echo
[ ${#failures[@]} -gt 0 ] && echo "failing suites: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

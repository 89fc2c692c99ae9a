#!/usr/bin/env bash
# 05-runner.sh -- tests/run.sh itself: on the fixture suites of tests/runner-fixtures, each rule gives its verdict and exit status.
# tier: unit
# timeout: 120
. "$(dirname "$0")/../lib/harness.sh"

FIX=tests/runner-fixtures
# runner FIXTURE WANT_STATUS WANT_SUMMARY PATTERN...: run.sh on that one fixture must exit
# WANT_STATUS, end with the summary "N passed, N failed" and print a line matching each ERE.
runner() {
	local fixture=$1 want_status=$2 want_summary=$3 out="$TG_TMP/run-$1.out" s pat
	shift 3
	if [ ! -f "$FIX/$fixture.sh" ]; then
		fail "runner: $fixture" "no fixture $FIX/$fixture.sh"
		return
	fi
	TG_TEST_LOGS="$TG_TMP/logs" CI='' tests/run.sh --suites "$FIX" "$fixture" >"$out" 2>&1
	s=$?
	if ! grep -q "^=== $fixture " "$out"; then
		fail "runner: $fixture" "run.sh did not run the fixture"
	elif [ "$s" -ne "$want_status" ]; then
		fail "runner: $fixture" "run.sh exited $s, want $want_status"
	elif [ "$(tail -n 1 "$out")" != "$want_summary" ]; then
		fail "runner: $fixture" "summary '$(tail -n 1 "$out")', want '$want_summary'"
	else
		for pat in "$@"; do
			if ! grep -Eq -- "$pat" "$out"; then
				fail "runner: $fixture" "no line matching /$pat/"
				sed 's/^/  | /' "$out" | tail -n 15
				return
			fi
		done
		pass "runner: $fixture -> exit $s, '$want_summary'"
		return
	fi
	sed 's/^/  | /' "$out" | tail -n 15
}

runner silent 1 "0 passed, 1 failed" \
	'FAIL silent: exited 0 without a single ok or FAIL line' 'failing suites: silent \(1\)'
runner exit-nonzero 1 "1 passed, 1 failed" 'FAIL exit-nonzero: exited with status 3'
runner checker-crash 1 "3 passed, 1 failed" \
	'FAIL crashing-checker: checker killed by signal 11 \(SEGV\)' 'checker-crash: 3 passed, 1 failed'
runner checker-status 1 "2 passed, 1 failed" 'FAIL failing-checker: checker exited with status 3 without a FAIL line'
runner unit-died 1 "2 passed, 2 failed" 'FAIL fake-unit-dies: unit killed by signal 6 \(ABRT\)' \
	'FAIL fake-unit-dies: stopped before its plan line \(1\.\.N\): it died or returned early after 2 cases'
runner unit-short 1 "1 passed, 1 failed" 'FAIL fake-unit-short: ran 1 of the 3 cases it announced'
# the same rules held by run.sh alone, for suites that do not use the harness's wrappers
runner bare-status 1 "1 passed, 1 failed" 'FAIL bare-status: checker hand-made ended with status 139 and no FAIL line'
runner bare-unclosed 1 "1 passed, 1 failed" \
	'FAIL bare-unclosed: checker never-ends did not finish \(no end line: the suite stopped inside it\)'
runner bare-plan 1 "2 passed, 1 failed" 'FAIL bare-plan: unit hand-made gave 2 results of the 4 it announced'
runner passes 0 "5 passed, 0 failed" 'passes: 5 passed, 0 failed'

# Every fixture is judged above: a new one without a verdict here fails.
n=$(find "$FIX" -maxdepth 1 -name '*.sh' | wc -l)
judged=$(grep -c '^runner [a-z-]* [01] ' "$0")
[ "$n" = "$judged" ] && pass "runner: every fixture ($n) has a verdict here" ||
	fail "runner: every fixture has a verdict here" "$n fixtures, $judged judged"

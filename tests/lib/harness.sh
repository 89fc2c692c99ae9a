# harness.sh -- sourced by test suites: pass/fail lines, temp dirs, bounded waits, cleanup.
#
#   . "$TIERGATE_ROOT/tests/lib/harness.sh"
#   check "policy accepts alpha.conf" "$BIN/tiergate-policy" check conf/alpha.conf
#   expect_fail "bad file refused" "$BIN/tiergate-policy" check conf/bad/x.conf
#   on_exit "kill $pid"           # cleanup runs even when the suite fails or times out
set -u
: "${TIERGATE_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${TIERGATE_BUILD:=$TIERGATE_ROOT/build}"
BIN="$TIERGATE_BUILD/bin"
ROOT="$TIERGATE_ROOT"
TG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tg-${TG_SUITE:-test}.XXXXXX")
export BIN ROOT TG_TMP
cd "$ROOT" || exit 2

_tg_cleanups=()
on_exit() { _tg_cleanups+=("$1"); }
_tg_run_cleanups() {
	local i
	for ((i = ${#_tg_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_tg_cleanups[$i]}" >/dev/null 2>&1 || true
	done
	rm -rf "$TG_TMP"
}
trap _tg_run_cleanups EXIT
trap 'exit 143' TERM INT

pass() { echo "ok $1"; }
fail() { echo "FAIL $1${2:+: $2}"; }

# check NAME CMD...: passes when CMD exits 0; on failure shows its output.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "exit $? from: $*"
		printf '%s\n' "$out" | tail -n 15 | sed 's/^/  | /'
	fi
}

# expect_fail NAME CMD...: passes when CMD exits non-zero.
expect_fail() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		fail "$name" "expected failure, got exit 0 from: $*"
		printf '%s\n' "$out" | tail -n 15 | sed 's/^/  | /'
	else
		pass "$name"
	fi
}

# check_grep NAME PATTERN FILE: passes when FILE has a line matching the ERE.
check_grep() {
	if grep -Eq -- "$2" "$3" 2>/dev/null; then
		pass "$1"
	else
		fail "$1" "no line matching /$2/ in $3"
		tail -n 10 "$3" 2>/dev/null | sed 's/^/  | /'
	fi
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds; 1 on timeout.
wait_for() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# Helpers a suite runs (a unit binary, a Python checker) are wrapped so that their own
# exit status counts, not only the lines they printed: a checker that dies half-way after
# three oks is a failure, not "three passes". The wrapper brackets the helper's output with
#   # begin unit|checker NAME        and        # end unit|checker NAME status S
# and tests/run.sh checks each bracket again (see its header): an unclosed bracket, a
# non-zero status or a unit plan not reached, with no FAIL line inside, fails the suite.

# _helper_verdict KIND NAME STATUS OUT: the FAIL lines for a helper that ended badly.
_helper_verdict() {
	local kind=$1 name=$2 s=$3 out=$4 plan got
	if [ "$s" -gt 128 ]; then
		fail "$name" "$kind killed by signal $((s - 128)) ($(kill -l $((s - 128)) 2>/dev/null))"
	elif [ "$s" -ne 0 ] && ! grep -q '^FAIL ' "$out"; then
		fail "$name" "$kind exited with status $s without a FAIL line"
	fi
	[ "$kind" = unit ] || return 0
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$out" | tail -n 1)
	got=$(grep -cE '^(ok|FAIL) ' "$out")
	if [ -z "$plan" ]; then
		fail "$name" "stopped before its plan line (1..N): it died or returned early after $got cases"
	elif [ "$got" -lt "$plan" ]; then
		fail "$name" "ran $got of the $plan cases it announced"
	fi
}

# run_checker [-p PREFIX] NAME CMD...: runs a checker whose ok/FAIL lines are results (each
# given PREFIX after "ok "/"FAIL "); its exit status must be 0, or 1 with a FAIL line.
run_checker() {
	local prefix="" name out s
	if [ "$1" = -p ]; then
		prefix=$2
		shift 2
	fi
	name=$1
	shift
	out="$TG_TMP/checker-${name//[^A-Za-z0-9_.-]/_}.out"
	echo "# begin checker $name"
	"$@" 2>&1 | tee "$out" | sed "s/^\(ok\|FAIL\) /\1 $prefix/"
	s=${PIPESTATUS[0]}
	_helper_verdict checker "$name" "$s" "$out"
	echo "# end checker $name status $s"
}

# run_unit NAME|PATH: runs a C unit test binary (tests/lib/unit.h); its ok/FAIL lines are
# the results and its last line the plan "1..N". Exit 1 means "a case failed" (its FAIL
# line counts); a signal, another status, or a missing or unreached plan fails. Under ASan
# a leak report also exits 1, so the report itself is looked for.
run_unit() {
	local bin=$1 name=${1##*/} out err s
	case "$bin" in /*) ;; *) bin="$TIERGATE_BUILD/t/$1" ;; esac
	out="$TG_TMP/$name.stdout" err="$TG_TMP/$name.stderr"
	if [ ! -x "$bin" ]; then
		fail "$name" "not built: $bin"
		return
	fi
	echo "# begin unit $name"
	"$bin" 2>"$err" | tee "$out"
	s=${PIPESTATUS[0]}
	cat "$err" >&2
	_helper_verdict unit "$name" "$s" "$out"
	if grep -q "ERROR: LeakSanitizer" "$err"; then
		fail "$name: no memory leaked" "$(grep -m1 -A4 'ERROR: LeakSanitizer' "$err" | tr '\n' ' ')"
	fi
	echo "# end unit $name status $s"
}
unit_binary() { run_unit "$@"; }   # the older name

# fuzz_replay NAME: replays tests/fuzz/corpus/NAME through its target; a crash fails.
fuzz_replay() {
	local bin="$TIERGATE_BUILD/fuzz/replay_$1" corpus="$ROOT/tests/fuzz/corpus/$1" out
	if [ ! -x "$bin" ]; then
		fail "fuzz-replay-$1" "not built: $bin"
		return
	fi
	if [ -z "$(ls -A "$corpus" 2>/dev/null)" ]; then
		fail "fuzz-replay-$1" "empty corpus $corpus"
		return
	fi
	if out=$("$bin" "$corpus" 2>&1); then
		pass "fuzz-replay-$1 ($(printf '%s\n' "$out" | grep -c '^replayed') inputs)"
	else
		fail "fuzz-replay-$1" "target failed on corpus"
		printf '%s\n' "$out" | tail -n 20 | sed 's/^/  | /'
	fi
}

# need_reachable_by USER FILE: suites that run programs as another user need the checkout to be
# traversable by that user; say so once instead of failing every check with "Permission denied".
need_reachable_by() {
	if ! setpriv --reuid="$1" --regid="$(id -g "$1")" --clear-groups test -x "$2" 2>/dev/null; then
		fail "${TG_SUITE:-suite}" "$1 cannot reach $2: clone the tree where other users can traverse it (every directory above it o+x)"
		exit 1
	fi
}

need_root() {
	if [ "$(id -u)" != 0 ]; then
		fail "${TG_SUITE:-suite}" "needs root (network namespaces); run make test as root"
		exit 1
	fi
}

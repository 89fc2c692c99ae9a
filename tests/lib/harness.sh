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

# unit_binary NAME: runs a C unit test binary; its ok/FAIL lines are the results. Exit 1
# means "a case failed" (its FAIL line counts), any other status a crash; under ASan a
# leak report also exits 1, so the report itself is looked for.
unit_binary() {
	local bin="$TIERGATE_BUILD/t/$1" err="$TG_TMP/$1.stderr" s=0
	if [ ! -x "$bin" ]; then
		fail "$1" "not built: $bin"
		return
	fi
	"$bin" 2>"$err" || s=$?
	cat "$err" >&2
	[ $s -ne 0 ] && [ $s -ne 1 ] && fail "$1" "crashed with status $s"
	if grep -q "ERROR: LeakSanitizer" "$err"; then
		fail "$1: no memory leaked" "$(grep -m1 -A4 'ERROR: LeakSanitizer' "$err" | tr '\n' ' ')"
	fi
}

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

need_root() {
	if [ "$(id -u)" != 0 ]; then
		fail "${TG_SUITE:-suite}" "needs root (network namespaces); run make test as root"
		exit 1
	fi
}

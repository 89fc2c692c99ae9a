#!/usr/bin/env bash
# 50-san-unit.sh -- the sanitizer's unit tests (charset, wire, quarantine, sandboxed worker, tar/gzip) and fuzz corpora replayed.
# tier: unit
# timeout: 300
. "$(dirname "$0")/../lib/harness.sh"
run_unit test_san_charset
run_unit test_san_core
run_unit test_san_tar
fuzz_replay charset
fuzz_replay office
fuzz_replay pdfscan
fuzz_replay tar
fuzz_replay inflate
fuzz_replay wire
fuzz_replay html
fuzz_replay lo
fuzz_replay lo_chan
fuzz_replay imgdecode

# The whole corpus through the real worker: under ASan (make check-asan) a memory error in
# any parser shows up as a worker failure in the reports.
if tests/sanitizer/make-corpus.py "$TG_TMP/corpus" >/dev/null 2>&1 &&
	"$BIN/tiergate-sanitize" --out "$TG_TMP/out" "$TG_TMP/corpus"/* >"$TG_TMP/verdicts.txt" 2>"$TG_TMP/stderr.txt"; then
	if [ "$(wc -l <"$TG_TMP/verdicts.txt")" -ne "$(ls "$TG_TMP/corpus" | wc -l)" ]; then
		fail "corpus: no worker crash" "$(wc -l <"$TG_TMP/verdicts.txt") verdicts for $(ls "$TG_TMP/corpus" | wc -l) files"
	elif grep -E "worker (crashed|failed|killed)" "$TG_TMP/verdicts.txt"; then
		fail "corpus: no worker crash" "$(grep -E 'worker' "$TG_TMP/verdicts.txt" | head -5)"
	else
		pass "corpus: $(wc -l <"$TG_TMP/verdicts.txt") files, every worker finished cleanly"
	fi
else
	fail "corpus: no worker crash" "$(tail -n 5 "$TG_TMP/stderr.txt")"
fi

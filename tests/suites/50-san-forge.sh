#!/usr/bin/env bash
# 50-san-forge.sh -- forged worker answers (a test-only build) are refused by the parent with a reason, nothing forged is written, the original is quarantined; production binaries hold no forge hook.
# tier: unit
# timeout: 300
. "$(dirname "$0")/../lib/harness.sh"
FORGE="$TIERGATE_BUILD/t/tiergate-sanitize-forge"
[ -x "$FORGE" ] || { fail "forge binary built" "not built: $FORGE"; exit 1; }
corpus="$TG_TMP/corpus" q="$TG_TMP/quarantine"
tests/sanitizer/make-corpus.py "$corpus" >/dev/null 2>&1 || { fail "corpus generated"; exit 1; }
printf 'sanitizer = { quarantine = { dir = "%s"; }; worker = { timeout_seconds = 30; }; };\n' "$q" >"$TG_TMP/forge.conf"

# The hook must exist in the forge build (so the checks below can fail) and nowhere in production.
for b in tiergate-sanitize tiergate-spoold; do
	if ! nm "$BIN/$b" >"$TG_TMP/nm.txt" 2>&1; then
		fail "$b: nm ran" "$(head -2 "$TG_TMP/nm.txt")"
	elif grep -q san_test_forge "$TG_TMP/nm.txt" || strings "$BIN/$b" | grep -q TIERGATE_FORGE; then
		fail "$b: no forge hook in the production binary"
	else
		pass "$b: no forge hook in the production binary (nm, strings)"
	fi
done
nm "$FORGE" | grep -q san_test_forge && strings "$FORGE" | grep -q TIERGATE_FORGE &&
	pass "forge build holds the hook (the check above can fail)" || fail "forge build holds the hook"

# Without TIERGATE_FORGE the forge build is the real sanitizer: the same file comes out flattened.
"$FORGE" --out "$TG_TMP/plain-out" "$corpus/js.pdf" >"$TG_TMP/plain.txt" 2>&1
check_grep "forge build without a mode sanitizes normally" "js.pdf: flattened" "$TG_TMP/plain.txt"

# forge MODE INPUT REASON: the parent refuses with REASON, writes only the report, quarantines the original
forge() {
	local mode=$1 in=$2 want=$3 out="$TG_TMP/out-$1" name verdict report id others
	name=$(basename "$in")
	TIERGATE_FORGE=$mode "$FORGE" --config "$TG_TMP/forge.conf" --quarantine --out "$out" "$in" >"$out.txt" 2>&1
	local s=$?
	verdict=$(head -1 "$out.txt")
	report="$out/$name.report.json"
	id=$(sha256sum "$in" | cut -d' ' -f1)
	others=$(ls -A "$out" 2>/dev/null | grep -v -x -F "$name.report.json")
	if [ $s -ne 0 ]; then
		fail "forged '$mode' refused" "tiergate-sanitize exited $s: $verdict"
	elif ! grep -q -F "blocked (worker answer refused: $want" "$out.txt"; then
		fail "forged '$mode' refused" "$verdict"
	elif ! grep -q -F "\"action\":\"blocked\"" "$report" || ! grep -q -F "worker answer refused: ${want%%\"*}" "$report"; then
		fail "forged '$mode' refused" "report: $(head -c 300 "$report")"
	elif [ -n "$others" ]; then
		fail "forged '$mode': nothing forged in the output directory" "$others"
	elif [ ! -f "$q/$id" ] || ! cmp -s "$q/$id" "$in"; then
		fail "forged '$mode': original quarantined" "$(ls "$q" 2>&1 | head -3)"
	else
		pass "forged '$mode' refused ($want), only the report written, original quarantined"
	fi
}
forge input          "$corpus/js.pdf"      "worker sent an output file"
forge input-as-text  "$corpus/js.pdf"      "text not valid UTF-8"
forge javascript     "$corpus/plain.pdf"   "worker sent an output file"
forge exe-name       "$corpus/memo.txt.gz" "worker sent an output name"
forge big-bitmap     "$corpus/plain.pdf"   "page 1 of 40000x40000 pixels over the limit"
forge dotdot         "$corpus/docs.zip"    "member name with an empty, \".\" or \"..\" segment"
forge bidi           "$corpus/docs.zip"    "member name with a control, bidi, invisible or backslash character (U+202E)"
forge unsealed       "$corpus/plain.pdf"   "pixel memfd not sealed"
forge oversized      "$corpus/plain.pdf"   "page 1 outside the pixel memfd"
forge ring-shrinkable "$corpus/plain.pdf"  "pixel memfd not sealed"
forge ring-oversized "$corpus/plain.pdf"   "page 1 outside the pixel memfd"
forge extra-fd       "$corpus/plain.pdf"   "1 descriptors passed without a pixel batch"
forge socket-fd      "$corpus/plain.pdf"   "a descriptor that is not a memfd was passed"
forge after-end      "$corpus/memo.txt.gz" "records after the end of the answer"
forge wrong-tag      "$corpus/memo.txt.gz" "unknown record tag 99"
forge wrong-kind     "$corpus/plain.pdf"   "flattened verdict with a payload of the wrong kind"
! ls -A "$TG_TMP"/out-* 2>/dev/null | grep -q -i -E '\.exe$|^x\.|\.zip$|\.pdf$' &&
	pass "no x.exe, PDF or ZIP anywhere in the output directories" || fail "no forged file anywhere" "$(ls -A "$TG_TMP"/out-*)"

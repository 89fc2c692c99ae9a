#!/usr/bin/env bash
# 54-san-textsafe.sh -- names and text without controls, bidi, zero-width or tag characters; hidden content, CSV formulas, name collisions (files and mail).
# tier: e2e
# timeout: 300
. "$(dirname "$0")/../lib/harness.sh"
cases="$TG_TMP/cases" out="$TG_TMP/out"
if ! python3 tests/sanitizer/textsafe-cases.py make "$cases" >"$TG_TMP/gen.log" 2>&1; then
	fail "cases generated" "$(tail -n 5 "$TG_TMP/gen.log")"
	exit 1
fi
pass "cases generated ($(ls "$cases/in" | wc -l) inputs, each listed code point in names and bodies)"
# two inputs named x.txt from different folders, as an admin would pass them
# the text path of office files (office.c); their LibreOffice pages are judged in 53-san-office
printf 'sanitizer = { office = { output = "text"; }; };\n' >"$TG_TMP/text.conf"
check "tiergate-sanitize gives every file a verdict (exit 0)" \
	sh -c "'$BIN/tiergate-sanitize' --config '$TG_TMP/text.conf' --out '$out' '$cases'/in/* '$cases/a/x.txt' '$cases/b/x.txt' >'$TG_TMP/cli.txt'"
check "--mail rebuilds the message with bidi names, zero-width subject and tagged body" \
	"$BIN/tiergate-sanitize" --mail "$cases/mail.eml" --out "$cases/mail.out.eml"
run_checker textsafe-cases python3 tests/sanitizer/textsafe-cases.py check "$cases" "$out"
# what the terminal shows: the CLI's own lines
if python3 - "$TG_TMP/cli.txt" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
bad = [hex(c) for c in (0x202E, 0x200B, 0xE0041, 0xFEFF, 0x85) if chr(c).encode() in data]
bad += ["C0"] if any(b < 0x20 and b != 0x0A for b in data) else []
sys.exit(1 if bad or b"invoicefdp.exe: blocked" not in data else 0)
PY
then
	pass "CLI output lines are clean (invoicefdp.exe: blocked)"
else
	fail "CLI output lines are clean" "$(grep -a invoice "$TG_TMP/cli.txt")"
fi

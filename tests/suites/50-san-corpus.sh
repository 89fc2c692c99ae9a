#!/usr/bin/env bash
# 50-san-corpus.sh -- tiergate-sanitize on the generated corpus, judged with qpdf, pdffonts, pdfimages, pdftoppm.
# tier: e2e
# timeout: 600
. "$(dirname "$0")/../lib/harness.sh"
corpus="$TG_TMP/corpus" out="$TG_TMP/out"
if ! tests/sanitizer/make-corpus.py "$corpus" >"$TG_TMP/gen.log" 2>&1; then
	fail "corpus generated" "$(tail -n 5 "$TG_TMP/gen.log")"
	exit 1
fi
pass "corpus generated ($(ls "$corpus" | wc -l) files)"
# this corpus judges the office *text* path (office.c); the LibreOffice page path is 52-san-office
printf 'sanitizer = { office = { output = "text"; }; };\n' >"$TG_TMP/text.conf"
check "tiergate-sanitize gives every file a verdict (exit 0)" \
	"$BIN/tiergate-sanitize" --config "$TG_TMP/text.conf" --out "$out" "$corpus"/*
run_checker sanitizer/check.py env BIN="$BIN" python3 tests/sanitizer/check.py "$corpus" "$out"

# usage errors are the only non-zero exits
"$BIN/tiergate-sanitize" "$corpus/plain.pdf" >"$TG_TMP/no-out.txt" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "^usage: tiergate-sanitize" "$TG_TMP/no-out.txt" && pass "no --out is a usage error (exit 2, usage)" ||
	fail "no --out is a usage error (exit 2, usage)" "exit $rc: $(head -n 1 "$TG_TMP/no-out.txt")"
check_grep "a usage error says how to call it" "usage:" <("$BIN/tiergate-sanitize" 2>&1)

# the mail mode runs in tiergate-milter (sanitizer/cli.h): the file CLI itself links no GMime.
# Its quarantine is the test's: the default one is the installed system's (/var/lib/tiergate).
echo "sanitizer = { quarantine = { dir = \"$TG_TMP/quarantine\"; }; };" >"$TG_TMP/mail.conf"
if "$BIN/tiergate-sanitize" --config "$TG_TMP/mail.conf" --mail /dev/null --out "$TG_TMP/x.eml" >"$TG_TMP/mail.log" 2>&1 &&
	grep -q "^MIME-Version: 1.0" "$TG_TMP/x.eml"; then
	pass "--mail is handed to the mail rebuild in tiergate-milter"
else
	fail "--mail is handed to the mail rebuild in tiergate-milter" "$(head -3 "$TG_TMP/mail.log")"
fi
# (ldd itself must have worked and listed libraries, or "no gmime" proves nothing)
if ! libs=$(ldd "$BIN/tiergate-sanitize" 2>&1) || ! echo "$libs" | grep -q 'libc\.so'; then
	fail "the file CLI does not load GMime" "ldd failed: $(echo "$libs" | head -n 2)"
elif echo "$libs" | grep -q gmime; then
	fail "the file CLI does not load GMime" "$(echo "$libs" | grep gmime)"
else
	pass "the file CLI does not load GMime ($(echo "$libs" | wc -l) libraries, none GMime)"
fi

# gray + Flate configuration: lossless pages, still only images
cat >"$TG_TMP/flate.conf" <<CONF
sanitizer = { pdf = { dpi = 100; color = "gray"; codec = "flate"; }; images = { mode = "pdf"; }; };
CONF
check "flate/gray configuration runs" "$BIN/tiergate-sanitize" --config "$TG_TMP/flate.conf" \
	--out "$TG_TMP/flate" "$corpus/plain.pdf" "$corpus/scan.png"
if pdfimages -list "$TG_TMP/flate/plain.pdf" 2>/dev/null | awk 'NR>2 {print $6, $9}' | sort -u | grep -qx "gray image"; then
	pass "flate/gray: every page is a gray Flate image"
else
	fail "flate/gray: every page is a gray Flate image" "$(pdfimages -list "$TG_TMP/flate/plain.pdf" 2>&1 | head -5)"
fi
check "images.mode = pdf flattens an image into a PDF" qpdf --check "$TG_TMP/flate/scan.pdf"

# a tiny CPU limit on a heavy file: a verdict, not a crash
cat >"$TG_TMP/tight.conf" <<CONF
sanitizer = { pdf = { dpi = 600; }; worker = { cpu_seconds = 1; timeout_seconds = 2; }; };
CONF
"$BIN/tiergate-sanitize" --config "$TG_TMP/tight.conf" --out "$TG_TMP/tight" "$corpus/many-pages.pdf" >/dev/null 2>&1
check_grep "a worker over its CPU or wall limit gives a blocked verdict" \
	'"action":"blocked".*"reason":"(worker exceeded its CPU limit|timed out after)' "$TG_TMP/tight/many-pages.pdf.report.json"

# the same input gives the same bytes (a spool redo after a crash must not make a second file)
"$BIN/tiergate-sanitize" --config "$TG_TMP/text.conf" --out "$TG_TMP/again" "$corpus/docs.zip" "$corpus/js.pdf" "$corpus/report.docx" >/dev/null 2>&1
same=0
for f in docs.zip js.pdf report.docx.txt; do cmp -s "$out/$f" "$TG_TMP/again/$f" && same=$((same + 1)); done
[ $same = 3 ] && pass "outputs are deterministic (zip, pdf, text)" || fail "outputs are deterministic" "$same of 3 identical"

# larger than max_input_mb: a verdict without reading the file into a worker
printf 'sanitizer = { max_input_mb = 1; };\n' >"$TG_TMP/small.conf"
head -c 2000000 /dev/zero >"$TG_TMP/big.txt"
"$BIN/tiergate-sanitize" --config "$TG_TMP/small.conf" --out "$TG_TMP/big" "$TG_TMP/big.txt" >/dev/null 2>&1
check_grep "over the input limit: blocked with the limit named" '"action":"blocked","reason":"larger than the input limit' "$TG_TMP/big/big.txt.report.json"

#!/usr/bin/env bash
# 51-san-render.sh -- the Flate decoder that replaces MuPDF's (inflate.c) and the page threads (pages.c), judged by pixels.
# tier: e2e
# timeout: 300
. "$(dirname "$0")/../lib/harness.sh"
cases="$TG_TMP/cases"
if ! tests/sanitizer/make-render-cases.py "$cases" >"$TG_TMP/gen.log" 2>&1; then
	fail "render cases generated" "$(tail -n 5 "$TG_TMP/gen.log")"
	exit 1
fi
for n in 1 4; do
	printf 'sanitizer = { worker = { threads = %d; }; };\n' "$n" >"$TG_TMP/threads-$n.conf"
	check "render cases flattened with $n render thread(s)" \
		"$BIN/tiergate-sanitize" --config "$TG_TMP/threads-$n.conf" --out "$TG_TMP/out-$n" "$cases"/*.pdf
done
run_checker check-render-4 python3 tests/sanitizer/check-render.py "$TG_TMP/out-4"
run_checker -p "one thread: " check-render-1 python3 tests/sanitizer/check-render.py "$TG_TMP/out-1"
differ="" n=0
for f in "$cases"/*.pdf; do
	n=$((n + 1))
	cmp -s "$TG_TMP/out-1/${f##*/}" "$TG_TMP/out-4/${f##*/}" || differ="$differ ${f##*/}"
done
if [ -z "$differ" ] && [ "$n" -gt 0 ] && [ -f "$TG_TMP/out-1/${f##*/}" ]; then
	pass "one thread and four give byte-identical flattened PDFs ($n cases)"
else
	fail "one thread and four give byte-identical flattened PDFs" "differ:$differ"
fi
# the replacement decoder is the one linked in (a stock libmupdf.a object would bring next_flated)
# (nm must have read the symbols: the replacement's own fz_open_flated is among them)
if ! syms=$(nm "$BIN/tiergate-sanitize" 2>&1) || ! echo "$syms" | grep -q ' T fz_open_flated$'; then
	fail "MuPDF's own Flate decoder is not linked" "nm found no fz_open_flated: $(echo "$syms" | head -n 1)"
elif echo "$syms" | grep -q ' next_flated$'; then
	fail "MuPDF's own Flate decoder is not linked" "next_flated found in tiergate-sanitize"
else
	pass "MuPDF's own Flate decoder is not linked (inflate.c's is)"
fi

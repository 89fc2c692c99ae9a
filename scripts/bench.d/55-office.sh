#!/usr/bin/env bash
# office: warm sandboxed LibreOffice pool vs the Dangerzone-style cold pipeline (soffice --convert-to pdf + gs pdfimage24 -r150)
set -u
cd "$TIERGATE_ROOT" || exit 2
TS="$TIERGATE_BUILD/bin/tiergate-sanitize"
[ -x "$TS" ] || { echo "not built: $TS (run make)"; exit 1; }
for t in /usr/lib/libreoffice/program/soffice.bin /usr/bin/soffice bwrap gs /usr/bin/python3; do
	command -v "$t" >/dev/null || { echo "missing $t (scripts/deps.sh all)"; exit 1; }
done
T=$(mktemp -d /tmp/tg-bench-office.XXXXXX)
trap 'rm -rf "$T"' EXIT
runs=5 tries=2 memruns=20
[ -n "${BENCH_QUICK:-}" ] && runs=2 tries=1 memruns=6   # quick: the docx alone, same lines

echo "making inputs in $T ..."
tests/sanitizer/make-office-corpus.py --bench "$T/in" >/dev/null 2>&1 || { echo "corpus generation failed"; exit 1; }
inputs="$T/in/bench-10p.docx"
if [ -z "${BENCH_QUICK:-}" ]; then
	/usr/bin/python3 tests/sanitizer/lo-save.py "$T/mkprofile" \
		"convert:$T/in/bench-20s.odp:Impress MS PowerPoint 2007 XML:$T/in/bench-20s.pptx" >/dev/null 2>&1 ||
		{ echo "pptx conversion failed"; exit 1; }
	inputs="$inputs $T/in/bench-5s.xlsx $T/in/bench-20s.pptx"
fi

now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
# the peer, one document: a cold soffice (its profile made beforehand: the peer is spared first-start costs)
peer_one() {
	rm -rf "$T/peer" && mkdir -p "$T/peer"
	soffice -env:UserInstallation="file://$T/peer-profile" --headless --convert-to pdf --outdir "$T/peer" "$1" >/dev/null 2>&1 &&
		gs -q -dNOPAUSE -dBATCH -dSAFER -sDEVICE=pdfimage24 -r150 -o "$T/peer/out.pdf" "$T/peer/"*.pdf
}
soffice -env:UserInstallation="file://$T/peer-profile" --headless --convert-to pdf --outdir "$T/warmup" \
	"$T/in/bench-10p.docx" >/dev/null 2>&1

echo
echo "tiergate: tiergate-sanitize --bench $runs per file on a warm pool (office.slots = 1, started before timing):"
echo "converter sandbox -> PDF -> sandboxed MuPDF worker -> image-only PDF + text. peer: per document"
echo "soffice --headless --convert-to pdf (cold process) then gs -sDEVICE=pdfimage24 -r150; best of $tries."
printf "%-18s %6s | %9s %9s | %7s\n" file pages "tg doc/s" "peer doc/s" "tg/peer"
for f in $inputs; do
	name=$(basename "$f")
	line=$("$TS" --bench "$runs" "$f" 2>/dev/null | tail -n 1)
	ms=$(echo "$line" | sed -n 's/.* runs, \([0-9.]*\) ms per file, \([0-9]*\) pages.*/\1/p')
	pages=$(echo "$line" | sed -n 's/.* ms per file, \([0-9]*\) pages.*/\1/p')
	best=""
	for i in $(seq 1 $tries); do
		t0=$(now_ns)
		peer_one "$f" || { echo "peer failed on $name"; break; }
		s=$(secs "$t0" "$(now_ns)")
		best=$(awk -v a="${best:-$s}" -v b="$s" 'BEGIN { print (b < a) ? b : a }')
	done
	tg_rate=$(awk -v m="$ms" 'BEGIN { if (m > 0) printf "%.2f", 1000 / m; else print "n/a" }')
	peer_rate=$(awk -v s="$best" 'BEGIN { if (s > 0) printf "%.2f", 1 / s; else print "n/a" }')
	printf "%-18s %6s | %9s %9s | %6sx\n" "$name" "${pages:-?}" "$tg_rate" "$peer_rate" \
		"$(awk -v a="$tg_rate" -v b="$peer_rate" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }')"
done
echo "(target: tg/peer >= 5x)"

echo
echo "First document after start (process start, cold sandbox + soffice, conversion, render; one docx):"
t0=$(now_ns)
"$TS" --out "$T/first" "$T/in/bench-10p.docx" >/dev/null 2>&1
echo "first-document latency: $(secs "$t0" "$(now_ns)") s"

echo
echo "Memory of one warm slot (PSS of bwrap + driver + soffice.bin, sampled while --bench runs):"
"$TS" --bench $memruns "$T/in/bench-10p.docx" >/dev/null 2>&1 &
bp=$!
max=0
desc() { local c; for c in $(pgrep -P "$1"); do echo "$c"; desc "$c"; done; }
for _ in $(seq 1 300); do
	kill -0 $bp 2>/dev/null || break
	total=0
	for b in $(pgrep -P $bp -x bwrap); do
		for q in $b $(desc "$b"); do
			kb=$(awk '/^Pss:/ {print $2}' /proc/$q/smaps_rollup 2>/dev/null)
			total=$((total + ${kb:-0}))
		done
	done
	[ $total -gt $max ] && max=$total
	sleep 0.2
done
wait $bp
echo "warm slot PSS (max seen): $((max / 1024)) MB"

#!/usr/bin/env bash
# tiergate-sanitize: hostile PDFs, a Japanese docx, an exe named .pdf, an encrypted zip -- verdicts, findings, the quarantine
set -u
cd "${TIERGATE_ROOT:-$(dirname "$0")/../..}" || exit 1
B="${TIERGATE_BUILD:-build}/bin"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tg-demo-san.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

tests/sanitizer/make-corpus.py "$tmp/all" >/dev/null 2>&1 || { echo "corpus generation failed"; exit 1; }
mkdir -p "$tmp/in"
for f in js.pdf embedded.pdf report.docx invoice.pdf ppap.zip docs.zip page.html notice-jis.txt; do
	cp "$tmp/all/$f" "$tmp/in/"
done
cat >"$tmp/site.conf" <<CONF
sanitizer = { quarantine = { dir = "$tmp/quarantine"; release_socket = "$tmp/q.sock";
                             admin_group = "$(id -gn)"; release_dir = "$tmp/released";
                             requests_dir = "$tmp/requests"; };
              events = "$tmp/events.json"; };
CONF

echo "Files arriving from the internet zone (what they really are):"
(cd "$tmp/in" && file * | sed 's/^/  /' | cut -c1-110)
echo
echo "\$ tiergate-sanitize --config site.conf --quarantine --out out/ in/*"
"$B/tiergate-sanitize" --config "$tmp/site.conf" --quarantine --out "$tmp/out" "$tmp/in"/* >/dev/null || exit 1
echo
/usr/bin/python3 - "$tmp/out" "$tmp/in" <<'PY'
import json, os, sys
out, inp = sys.argv[1], sys.argv[2]
rows = []
for name in sorted(os.listdir(inp)):
    r = json.load(open(os.path.join(out, name + ".report.json"), encoding="utf-8"))
    result = r["output_name"] or "-"
    if r.get("pages"):
        result += " (%d page%s)" % (r["pages"], "s" if r["pages"] > 1 else "")
    rows.append((name, r["detected_type"], r["action"], result, r["reason"] or "", r["findings"]))
print("%-16s %-32s %-10s %-22s %s" % ("FILE", "TRUE TYPE", "VERDICT", "DELIVERED AS", "REASON"))
print("-" * 118)
for name, mime, action, result, reason, findings in rows:
    print("%-16s %-32s %-10s %-22s %s" % (name, mime[:32], action.upper() if action == "blocked" else action, result[:22], reason[:70]))
    for f in findings:
        print("%-16s   ! %s" % ("", f))
PY
echo
echo "report.docx became plain text (first lines of out/report.docx.txt):"
head -n 4 "$tmp/out/report.docx.txt" | sed 's/^/  | /'
echo
echo "The flattened js.pdf holds only pictures of its pages:"
pdffonts "$tmp/out/js.pdf" 2>/dev/null | sed 's/^/  pdffonts: /'
pdfimages -list "$tmp/out/js.pdf" 2>/dev/null | sed 's/^/  pdfimages: /'
echo
# list and release are requests to the release daemon, which knows who asks from the kernel
"$B/tiergate-quarantined" --config "$tmp/site.conf" 2>/dev/null &
qd=$!
trap 'kill $qd 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do [ -S "$tmp/q.sock" ] && break; sleep 0.1; done
echo "\$ tiergate-quarantine --config site.conf list"
"$B/tiergate-quarantine" --config "$tmp/site.conf" list | sed 's/^/  /'
id=$(sha256sum "$tmp/in/ppap.zip" | cut -c1-12)
echo
echo "\$ tiergate-quarantine --config site.conf release $id --to released/ppap.zip   (an admin who got the password by phone)"
mkdir -p "$tmp/released"
"$B/tiergate-quarantine" --config "$tmp/site.conf" release "$id" --to "$tmp/released/ppap.zip" 2>&1 | sed 's/^/  /'
echo "  the release, as the event log records it:"
grep '"quarantine_release"' "$tmp/events.json" | cut -c1-160 | sed 's/^/  /'

#!/usr/bin/env bash
# tiergate-sanitize: a name that lies with a bidi override, text hidden from the reader, CSV formulas, two files of one name
set -u
cd "${TIERGATE_ROOT:-$(dirname "$0")/../..}" || exit 1
B="${TIERGATE_BUILD:-build}/bin"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tg-demo-textsafe.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

python3 tests/sanitizer/textsafe-cases.py make "$tmp/c" >/dev/null 2>&1 || { echo "case generation failed"; exit 1; }
mkdir -p "$tmp/in"
cp "$tmp/c/in/invoice"*"fdp.exe" "$tmp/c/in/hidden.html" "$tmp/c/in/formulas.csv" "$tmp/in/"
echo "A file named invoice<U+202E>fdp.exe -- a file manager shows it as:  $(ls "$tmp/in" | grep invoice)"
echo "\$ tiergate-sanitize --out out/ in/* a/x.txt b/x.txt"
"$B/tiergate-sanitize" --out "$tmp/out" "$tmp/in"/* "$tmp/c/a/x.txt" "$tmp/c/b/x.txt" | sed 's/^/  /' || exit 1
echo
python3 - "$tmp/out" <<'PY'
import json, os, sys
out = sys.argv[1]
for name in sorted(os.listdir(out)):
    if name.endswith(".report.json"):
        r = json.load(open(os.path.join(out, name), encoding="utf-8"))
        print("%-16s %-8s -> %s" % (r["name"], r["action"], r["output_name"] or r["reason"]))
        for f in r["findings"]:
            print("%-16s   ! %s" % ("", f))
PY
echo
echo "out/formulas.csv (formula cells quoted with a leading ', UTF-8 BOM for Excel):"
sed 's/^\xef\xbb\xbf//' "$tmp/out/formulas.csv" | sed 's/^/  | /'
echo "out/hidden.html.txt (display:none, hidden, font-size:0, script and style left out):"
sed 's/^/  | /' "$tmp/out/hidden.html.txt"

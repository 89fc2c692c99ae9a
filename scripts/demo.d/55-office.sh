#!/usr/bin/env bash
# office documents keep their look: xlsx/doc/pptx printed by a sandboxed LibreOffice, delivered as page images + text
set -u
cd "${TIERGATE_ROOT:-$(dirname "$0")/../..}" || exit 1
B="${TIERGATE_BUILD:-build}/bin"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tg-demo-office.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

tests/sanitizer/make-office-corpus.py "$tmp/in" >/dev/null 2>&1 || { echo "corpus generation failed"; exit 1; }
/usr/bin/python3 tests/sanitizer/lo-save.py "$tmp/profile" "convert:$tmp/in/report.docx:MS Word 97:$tmp/in/report.doc" \
	>/dev/null 2>&1 || { echo "making the .doc failed"; exit 1; }
rm -f "$tmp/in"/.~lock* "$tmp/in/long.docx" "$tmp/in/ledger-all.xlsx"
echo "Office files from the internet zone (ledger.xlsx has a hidden sheet 'Secret'; memo.jtd is 一太郎):"
(cd "$tmp/in" && ls | sed 's/^/  /')
echo
echo "\$ tiergate-sanitize --out out/ in/*      (office.output = \"both\", the default)"
"$B/tiergate-sanitize" --out "$tmp/out" "$tmp/in"/* | sed 's/^/  /'
echo
echo "What the LGWAN side receives:"
for f in "$tmp/out"/*.pdf; do
	printf '  %-14s %s pages, %s fonts, %s text characters (images only)\n' "$(basename "$f")" \
		"$(pdfinfo "$f" | awk '/^Pages:/ {print $2}')" "$(pdffonts "$f" | tail -n +3 | wc -l)" \
		"$(pdftotext "$f" - | tr -d '[:space:]' | wc -c)"
done
echo
echo "ledger.xlsx.txt (the text beside the pages: visible sheets, cells in row/column order):"
sed 's/^/  | /' "$tmp/out/ledger.xlsx.txt"
echo
echo "An office file inside a ZIP is printed the same way (the worker asks the parent's converter):"
(cd "$tmp/in" && zip -q "$tmp/bundle.zip" ledger.xlsx report.doc)
"$B/tiergate-sanitize" --out "$tmp/zip" "$tmp/bundle.zip" | sed 's/^/  /'
unzip -l "$tmp/zip/bundle.zip" | sed -n '4,$p' | sed 's/^/  | /'
if command -v heif-enc >/dev/null && command -v cwebp >/dev/null; then
	echo
	echo "iPhone photos (HEIC) and WebP images: decoded in the sandbox, re-encoded as JPEG/PNG without EXIF/GPS:"
	python3 tests/sanitizer/make-photo-corpus.py "$tmp/photos" >/dev/null 2>&1 || { echo "photo corpus failed"; exit 1; }
	"$B/tiergate-sanitize" --out "$tmp/pout" "$tmp/photos/photo.heic" "$tmp/photos/photo.webp" "$tmp/photos/bomb.heic" |
		sed 's/^/  /'
fi

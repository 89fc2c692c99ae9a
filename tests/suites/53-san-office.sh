#!/usr/bin/env bash
# 53-san-office.sh -- office documents through the warm sandboxed LibreOffice: page images, text beside, limits.
# tier: e2e
# timeout: 900
. "$(dirname "$0")/../lib/harness.sh"
for t in /usr/lib/libreoffice/program/soffice.bin /usr/bin/bwrap /usr/bin/pdffonts /usr/bin/pdftoppm /usr/bin/qpdf; do
	[ -x "$t" ] || { fail "office suite prerequisites" "missing $t (scripts/deps.sh all)"; exit 1; }
done
corpus="$TG_TMP/corpus" out="$TG_TMP/out"
if ! tests/sanitizer/make-office-corpus.py "$corpus" >"$TG_TMP/gen.log" 2>&1; then
	fail "office corpus generated" "$(tail -n 5 "$TG_TMP/gen.log")"
	exit 1
fi
# the legacy and ODF forms, the macro document and the reference render: made by the test's own LibreOffice
c=$corpus
if /usr/bin/python3 tests/sanitizer/lo-save.py "$TG_TMP/lo-profile" \
	"convert:$c/report.docx:MS Word 97:$c/report.doc" "convert:$c/report.docx:Rich Text Format:$c/report.rtf" \
	"convert:$c/report.docx:writer8:$c/report.odt" "convert:$c/ledger.xlsx:MS Excel 97:$c/ledger.xls" \
	"convert:$c/ledger.xlsx:calc8:$c/ledger.ods" "convert:$c/slides.odp:Impress MS PowerPoint 2007 XML:$c/slides.pptx" \
	"convert:$c/slides.odp:MS PowerPoint 97:$c/slides.ppt" "macro:$c/report.docx:$c/macro.odt" \
	"embed:$c/report.docx:writer8:$c/embed.odt" "embed:$c/report.docx:MS Word 2007 XML:$c/embed.docx" \
	"runmacro:$c/macro.odt:$TG_TMP/macro-control.txt" >"$TG_TMP/lo-save.log" 2>&1 &&
	# the reference page: LibreOffice with the same font table the converter uses (conf/office/fonts.conf)
	sed "s|<cachedir>[^<]*</cachedir>|<cachedir>$TG_TMP/fc-cache</cachedir>|" conf/office/fonts.conf >"$TG_TMP/fonts.conf" &&
	LANG=C.UTF-8 SAL_USE_VCLPLUGIN=svp FONTCONFIG_FILE="$TG_TMP/fonts.conf" /usr/bin/python3 tests/sanitizer/lo-save.py "$TG_TMP/lo-profile3" \
	"convert:$c/report.docx:writer_pdf_Export:$TG_TMP/ref-report.pdf" >>"$TG_TMP/lo-save.log" 2>&1; then
	pass "legacy, ODF and macro forms made by LibreOffice ($(ls "$c" | wc -l) files)"
else
	fail "legacy, ODF and macro forms made by LibreOffice" "$(tail -n 3 "$TG_TMP/lo-save.log")"
	exit 1
fi
rm -f "$c"/.~lock*
# the tofu control: the same page rendered by LibreOffice with no CJK font at all
cat >"$TG_TMP/nocjk.conf" <<'FC'
<?xml version="1.0"?>
<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>TGCACHE</cachedir></fontconfig>
FC
sed -i "s|TGCACHE|$TG_TMP/fc-cache2|" "$TG_TMP/nocjk.conf"
if ! LANG=C.UTF-8 SAL_USE_VCLPLUGIN=svp FONTCONFIG_FILE="$TG_TMP/nocjk.conf" /usr/bin/python3 tests/sanitizer/lo-save.py "$TG_TMP/lo-profile2" \
	"convert:$c/report.docx:writer_pdf_Export:$TG_TMP/tofu-report.pdf" >"$TG_TMP/lo-tofu.log" 2>&1; then
	fail "tofu control rendered" "$(tail -n 3 "$TG_TMP/lo-tofu.log")"
fi
rm -f "$c"/.~lock*
# the macro-enabled forms: the main part's macro-enabled type and a vbaProject.bin part (make-office-corpus.py)
for f in report.docx:report.docm ledger.xlsx:ledger.xlsm slides.pptx:slides.pptm; do
	python3 tests/sanitizer/make-office-corpus.py --macro-enable "$c/${f%%:*}" "$c/${f#*:}" >>"$TG_TMP/gen.log" 2>&1 ||
		fail "macro-enabled form ${f#*:} made" "$(tail -n 2 "$TG_TMP/gen.log")"
done
# the control: the macro does run when a LibreOffice lets it (so its absence below means something)
check_grep "control: the macro document's macro runs where macros are allowed" "MACRORAN" "$TG_TMP/macro-control.txt"

files="report.docx report.doc report.rtf report.odt ledger.xlsx ledger-all.xlsx ledger.xls ledger.ods
 slides.odp slides.pptx slides.ppt macro.odt long.docx memo.jtd report.docm ledger.xlsm slides.pptm embed.odt embed.docx"
args=()
for f in $files; do args+=("$c/$f"); done
# the converter's network namespace, looked at while it runs: only loopback, not ours
"$BIN/tiergate-sanitize" --out "$out" "${args[@]}" >"$TG_TMP/run.log" 2>&1 &
ts=$!
netns_seen=""
for _ in $(seq 1 600); do
	for p in $(pgrep -f "soffice.bin.*name=tgconv" 2>/dev/null); do
		a=$p
		while [ "$a" -gt 1 ] && [ "$a" != "$ts" ]; do a=$(awk '/^PPid:/ {print $2}' /proc/$a/status 2>/dev/null || echo 1); done
		[ "$a" = "$ts" ] || continue
		ifs=$(awk -F: 'NR > 2 {gsub(/ /, "", $1); print $1}' /proc/$p/net/dev 2>/dev/null | tr '\n' ' ')
		ns=$(readlink /proc/$p/ns/net 2>/dev/null)
		[ -n "$ns" ] && netns_seen="$ifs|$ns|$(readlink /proc/self/ns/net)"
	done
	[ -n "$netns_seen" ] && break
	kill -0 $ts 2>/dev/null || break
	sleep 0.1
done
wait $ts
rc=$?
[ $rc = 0 ] && pass "tiergate-sanitize gives every office file a verdict (exit 0)" ||
	fail "tiergate-sanitize gives every office file a verdict" "exit $rc: $(tail -n 3 "$TG_TMP/run.log")"
IFS='|' read -r ifs ns ours <<<"$netns_seen"
if [ -z "$netns_seen" ]; then
	fail "the converter runs in its own network namespace with only lo" "no soffice.bin of this run seen"
elif [ "$ifs" = "lo " ] && [ "$ns" != "$ours" ]; then
	pass "the converter runs in its own network namespace with only lo ($ns)"
else
	fail "the converter runs in its own network namespace with only lo" "interfaces '$ifs', $ns vs ours $ours"
fi
run_checker office/check-office.py /usr/bin/python3 tests/sanitizer/check-office.py "$c" "$out" "$TG_TMP/ref-report.pdf" "$TG_TMP/tofu-report.pdf"

# encrypted (PPAP) office file: blocked as encrypted, quarantined, never handed to the converter
mkdir -p "$TG_TMP/q"
printf 'sanitizer = { quarantine = { dir = "%s"; }; };\n' "$TG_TMP/q" >"$TG_TMP/q.conf"
if /usr/bin/python3 tests/sanitizer/make-office-corpus.py --encrypted "$c/locked.docx" >"$TG_TMP/enc.log" 2>&1 &&
	"$BIN/tiergate-sanitize" --config "$TG_TMP/q.conf" --quarantine --out "$TG_TMP/qout" "$c/locked.docx" >"$TG_TMP/enc.log" 2>&1; then
	check_grep "a password-protected docx is blocked as encrypted" '"action":"blocked","reason":"encrypted"' "$TG_TMP/qout/locked.docx.report.json"
	n=$(ls "$TG_TMP/q" | grep -c '^[0-9a-f]\{64\}$')
	[ "$n" = 1 ] && pass "the encrypted docx is quarantined" || fail "the encrypted docx is quarantined" "$n items in $TG_TMP/q"
else
	fail "encrypted docx run" "$(tail -n 3 "$TG_TMP/enc.log")"
fi

# a document the converter cannot finish in time: blocked with the reason, the slot restarted, the next file fine
printf 'sanitizer = { office = { timeout_seconds = 1; }; };\n' >"$TG_TMP/hang.conf"
/usr/bin/python3 tests/sanitizer/make-office-corpus.py --huge "$c/huge.docx" >/dev/null 2>&1
if "$BIN/tiergate-sanitize" --config "$TG_TMP/hang.conf" --out "$TG_TMP/hang" "$c/huge.docx" "$c/report.docx" >"$TG_TMP/hang.log" 2>&1; then
	check_grep "a document that hangs the converter is blocked with the reason" \
		'"action":"blocked","reason":"[^"]*hung the office converter' "$TG_TMP/hang/huge.docx.report.json"
	check_grep "the converter is restarted: the next file is converted" '"action":"flattened"' "$TG_TMP/hang/report.docx.report.json"
	check_grep "the restart is logged" "slot 0 stopped" "$TG_TMP/hang.log"
else
	fail "converter timeout run" "$(tail -n 3 "$TG_TMP/hang.log")"
fi

# page limit: a 60-page document against max_pages = 5 is stopped (the converter prints at most 6)
printf 'sanitizer = { pdf = { max_pages = 5; }; };\n' >"$TG_TMP/pages.conf"
"$BIN/tiergate-sanitize" --config "$TG_TMP/pages.conf" --out "$TG_TMP/pages" "$c/long.docx" >/dev/null 2>&1
check_grep "a long document is stopped at the page limit" '"action":"blocked","reason":"6 pages: more than the limit of 5"' \
	"$TG_TMP/pages/long.docx.report.json"

printf 'sanitizer = { office = { output = "text"; }; };\n' >"$TG_TMP/text.conf"
# office documents inside archives: the worker asks the parent's converter (lo_chan.c) for each member
mkdir -p "$TG_TMP/arc/in"
cp "$c/ledger.xlsx" "$c/report.doc" "$c/slides.pptx" "$TG_TMP/arc/in/" && echo "see the ledger" >"$TG_TMP/arc/in/note.txt"
(cd "$TG_TMP/arc/in" && python3 -c 'import sys, zipfile
with zipfile.ZipFile("../bundle.zip", "w", zipfile.ZIP_DEFLATED) as z:
    for n in sys.argv[1:]: z.write(n, "docs/" + n)' ledger.xlsx report.doc note.txt &&
	tar -czf ../slides.tar.gz slides.pptx)
if "$BIN/tiergate-sanitize" --out "$TG_TMP/arc/out" "$TG_TMP/arc/bundle.zip" "$TG_TMP/arc/slides.tar.gz" >"$TG_TMP/arc.log" 2>&1 &&
    "$BIN/tiergate-sanitize" --config "$TG_TMP/text.conf" --out "$TG_TMP/arc/text" "$TG_TMP/arc/bundle.zip" >>"$TG_TMP/arc.log" 2>&1; then
	run_checker office-archive python3 - "$TG_TMP/arc" <<'PY'
import io, os, re, subprocess, sys, zipfile
d = sys.argv[1]
def res(ok, name, why=""): print(("ok " if ok else "FAIL ") + name + ("" if ok else ": " + why))
def members(path):
    with zipfile.ZipFile(path) as z: return {i.filename: z.read(i) for i in z.infolist()}
def images_only(data):
    pdf = os.path.join(d, "member.pdf"); open(pdf, "wb").write(data)
    fonts = subprocess.run(["pdffonts", pdf], capture_output=True, check=True).stdout.decode().splitlines()
    images = subprocess.run(["pdfimages", "-list", pdf], capture_output=True, check=True).stdout.decode().splitlines()[2:]
    raw = subprocess.run(["qpdf", "--qdf", "--object-streams=disable", pdf, "-"], capture_output=True, check=True).stdout
    return fonts[0].startswith("name") and not fonts[2:] and images and not re.search(rb"BT\b|/Font\b", raw)
z = members(os.path.join(d, "out", "bundle.zip"))
names = sorted(z)
res("docs/ledger.xlsx.pdf" in z and "docs/report.doc.pdf" in z and "docs/note.txt" in z and "docs/ledger.xlsx" not in z,
    "archive: the ZIP's xlsx and legacy .doc come back as PDFs inside the rebuilt ZIP", repr(names))
res(all(images_only(z[n]) for n in ("docs/ledger.xlsx.pdf", "docs/report.doc.pdf") if n in z) and "docs/report.doc.pdf" in z,
    "archive: the members' PDFs hold page images only (pdffonts, pdfimages, no BT or /Font)")
t = z.get("docs/ledger.xlsx.txt", b"").decode("utf-8", "replace")
res("=== 予算 ===" in t and "SECRET" not in t, "archive: ledger.xlsx.txt beside its PDF in the ZIP, the hidden sheet absent", repr(t[:60]))
import json
tr = json.load(open(os.path.join(d, "out", "slides.tar.gz.report.json")))
tz = members(os.path.join(d, "out", "slides.zip")) if os.path.exists(os.path.join(d, "out", "slides.zip")) else {}
res("slides.pptx.pdf" in tz and images_only(tz["slides.pptx.pdf"]), "archive: a tar.gz's pptx becomes a PDF in the new ZIP",
    "%s %s %s" % (sorted(tz), tr.get("action"), tr.get("reason")))
x = members(os.path.join(d, "text", "bundle.zip"))
res("docs/ledger.xlsx.txt" in x and not any(n.endswith(".pdf") for n in x),
    "archive: office.output = text keeps members on the text path (no converter asked)", repr(sorted(x)))
PY
else
	fail "archives with office members sanitized" "$(tail -n 3 "$TG_TMP/arc.log")"
fi

# office.output = "text": today's text only, no converter; "image": no text beside the pages
"$BIN/tiergate-sanitize" --config "$TG_TMP/text.conf" --out "$TG_TMP/text" "$c/report.docx" "$c/report.doc" >/dev/null 2>&1
check_grep "output = text: a docx becomes text" '"action":"text"' "$TG_TMP/text/report.docx.report.json"
check_grep "output = text: a .doc stays blocked" '"action":"blocked"' "$TG_TMP/text/report.doc.report.json"
printf 'sanitizer = { office = { output = "image"; }; };\n' >"$TG_TMP/image.conf"
"$BIN/tiergate-sanitize" --config "$TG_TMP/image.conf" --out "$TG_TMP/image" "$c/report.docx" >/dev/null 2>&1
if [ -f "$TG_TMP/image/report.docx.pdf" ] && [ ! -e "$TG_TMP/image/report.docx.txt" ]; then
	pass "output = image: pages only, no text beside them"
else
	fail "output = image: pages only, no text beside them" "$(ls "$TG_TMP/image" | tr '\n' ' ')"
fi
printf 'sanitizer = { office = { output = "pictures"; }; };\n' >"$TG_TMP/bad.conf"
if "$BIN/tiergate-sanitize" --config "$TG_TMP/bad.conf" --out "$TG_TMP/bad" "$c/report.docx" >"$TG_TMP/bad.log" 2>&1; then
	fail "a wrong office.output is refused with the reason" "exit 0"
else
	check_grep "a wrong office.output is refused with the reason" "'output' must be" "$TG_TMP/bad.log"
fi
# the spool daemon: an office file arrives, its pages and its text land in the outbox side by side
sp="$TG_TMP/spool"
mkdir -p "$sp/inbox"
cat >"$TG_TMP/spool.conf" <<CONF
sanitizer = { quarantine = { dir = "$sp/quarantine"; }; };
spool = { inbox = "$sp/inbox"; outbox = "$sp/outbox"; state_dir = "$sp/state"; workers = 2; stable_seconds = 1; };
CONF
"$BIN/tiergate-spoold" --config "$TG_TMP/spool.conf" >>"$sp/daemon.log" 2>&1 &
spid=$!
on_exit "kill -9 $spid"
if wait_for 10 grep -q "watching" "$sp/daemon.log"; then
	cp "$c/ledger.xls" "$sp/inbox/.ledger.xls.part" && mv "$sp/inbox/.ledger.xls.part" "$sp/inbox/ledger.xls"
	if wait_for 60 test -s "$sp/outbox/ledger.xls.pdf" && [ -s "$sp/outbox/ledger.xls.txt" ] &&
		grep -q "=== 予算 ===" "$sp/outbox/ledger.xls.txt"; then
		pass "tiergate-spoold: an .xls becomes ledger.xls.pdf with ledger.xls.txt beside it"
	else
		fail "tiergate-spoold: an .xls becomes ledger.xls.pdf with ledger.xls.txt beside it" \
			"outbox: $(ls "$sp/outbox" 2>&1 | tr '\n' ' '); $(tail -n 2 "$sp/daemon.log")"
	fi
else
	fail "tiergate-spoold started" "$(tail -n 3 "$sp/daemon.log")"
fi
kill $spid 2>/dev/null
wait $spid 2>/dev/null

# a docx LibreOffice will not open (a bare minimum of parts) still gives its text, with a finding
python3 - "$TG_TMP/bare.docx" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
    z.writestr("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>bare text</w:t></w:r></w:p></w:body></w:document>')
PY
"$BIN/tiergate-sanitize" --out "$TG_TMP/bare" "$TG_TMP/bare.docx" >/dev/null 2>&1
check_grep "a docx LibreOffice refuses falls back to its text, with a finding" \
	'"action":"text".*not printed as pages' "$TG_TMP/bare/bare.docx.report.json"

# external links are never fetched: an ODT with an image linked to a listener of ours (host namespace) and a
# section linked to a file outside the sandbox; the control shows LibreOffice does fetch both when allowed
lk="$TG_TMP/links"
mkdir -p "$lk/www" "$lk/outside"
secret="OUTSIDESECRET-$$-$RANDOM"
echo "$secret text from outside the sandbox" >"$lk/outside/secret.txt"
python3 - "$lk/www/pic.png" <<'PY'
import struct, sys, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
raw = b"".join(b"\0" + b"\xff\x00\x00" * 16 for _ in range(16))   # 16x16 pure red
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)) +
                              chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
PY
lpid=""
for _ in $(seq 10); do   # a random port; another run may take it first: then the next one
	lport=$((20000 + RANDOM % 20000))
	(cd "$lk/www" && exec python3 -m http.server "$lport" --bind 127.0.0.1) >"$lk/http.log" 2>&1 &
	lpid=$!
	wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$lport" && kill -0 "$lpid" 2>/dev/null && break
	kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null
	lpid=""
done
[ -n "$lpid" ] && on_exit "kill $lpid" || fail "link listener started" "$(tail -n 1 "$lk/http.log")"
# the listener itself works: a probe is seen in its log
if curl -s -o /dev/null "http://127.0.0.1:$lport/probe" && wait_for 5 grep -q "GET /probe" "$lk/http.log"; then
	pass "control: the link listener logs a request (GET /probe)"
else
	fail "control: the link listener logs a request (GET /probe)" "$(tail -n 2 "$lk/http.log")"
fi
cp "$lk/www/pic.png" "$lk/www/pic-docx.png"
python3 tests/sanitizer/make-office-corpus.py --links "$lk/links.odt" "http://127.0.0.1:$lport/pic.png" \
	"file://$lk/outside/secret.txt" &&
	python3 tests/sanitizer/make-office-corpus.py --links "$lk/links.docx" "http://127.0.0.1:$lport/pic-docx.png" ||
	fail "links.odt and links.docx made" "make-office-corpus.py --links failed"
if "$BIN/tiergate-sanitize" --out "$lk/out" "$lk/links.odt" "$lk/links.docx" >"$lk/run.log" 2>&1; then
	check_grep "an ODT with external links is printed (cached state)" '"action":"flattened"' "$lk/out/links.odt.report.json"
	check_grep "a docx with a linked picture is printed (cached state)" '"action":"flattened"' "$lk/out/links.docx.report.json"
else
	fail "documents with external links are printed (cached state)" "exit $?: $(tail -n 3 "$lk/run.log")"
fi
# the worker names what it saw (office_links.c): links.odt's two, links.docx's one, none for report.docx's hyperlink
check_grep "the report notes the ODT's links were not fetched" '"2 linked images, files or objects from elsewhere never fetched' \
	"$lk/out/links.odt.report.json"
check_grep "the report notes the docx's linked picture was not fetched" '"1 linked image, file or object from elsewhere never fetched' \
	"$lk/out/links.docx.report.json"
if [ -s "$out/report.docx.report.json" ] && ! grep -q "never fetched" "$out/report.docx.report.json"; then
	pass "a document with only a hyperlink gets no linked-content finding"
else
	fail "a document with only a hyperlink gets no linked-content finding" "$(head -c 300 "$out/report.docx.report.json" 2>&1)"
fi
# the check of the log reads a log that exists and still has the probe
if grep -q "GET /probe" "$lk/http.log" && ! grep -q "pic" "$lk/http.log"; then
	pass "the converter fetched nothing from the linked URLs (listener saw no request for either picture)"
else
	fail "the converter fetched nothing from the linked URLs" "$(grep -c . "$lk/http.log") log lines: $(grep pic "$lk/http.log" | head -n 2)"
fi
if [ -s "$lk/out/links.odt.txt" ] && grep -q "LINKCACHED" "$lk/out/links.odt.txt" && ! grep -rqF "$secret" "$lk/out"; then
	pass "the linked file is not read: its text nowhere in the output, the cached section text beside the pages"
else
	fail "the linked file is not read" "txt: $(head -c 200 "$lk/out/links.odt.txt" 2>&1); secret in: $(grep -rlF "$secret" "$lk/out")"
fi
# the control: the test's own LibreOffice told to update links fetches the images and reads the file
if /usr/bin/python3 tests/sanitizer/lo-save.py "$TG_TMP/lo-profile-links" "links:$lk/links.odt:$lk/control.txt" \
	"links:$lk/links.docx:$lk/control-docx.txt" >"$lk/control.log" 2>&1; then
	check_grep "control: LibreOffice updating links reads the linked file" "$secret" "$lk/control.txt"
	check_grep "control: LibreOffice updating links fetches the ODT's linked image from the listener" "GET /pic.png" "$lk/http.log"
	check_grep "control: LibreOffice fetches the docx's linked picture from the listener" "GET /pic-docx.png" "$lk/http.log"
	# and the image is what tells the pages apart: red pixels in the control's render, none in ours
	for doc in odt docx; do
		ctl="$lk/control.txt.pdf"
		[ $doc = docx ] && ctl="$lk/control-docx.txt.pdf"
		if pdftoppm -r 72 "$ctl" "$lk/ctl-$doc" && pdftoppm -r 72 "$lk/out/links.$doc.pdf" "$lk/ours-$doc"; then
			run_checker -p "$doc: " "office-links-pixels-$doc" python3 - "$lk/ctl-$doc"*.ppm -- "$lk/ours-$doc"*.ppm <<'PY2'
import sys
def red(path):
    data = open(path, "rb").read()
    parts = data.split(maxsplit=4)   # P6 W H MAX pixels
    px = parts[4]
    return sum(1 for i in range(0, len(px) - 2, 3) if px[i] > 200 and px[i + 1] < 60 and px[i + 2] < 60)
at = sys.argv.index("--")
ctl = sum(red(p) for p in sys.argv[1:at])
ours = sum(red(p) for p in sys.argv[at + 1:])
print(("ok " if ctl > 500 else "FAIL ") + "control: the fetched image is drawn in the control's page (%d red pixels)" % ctl)
print(("ok " if ours == 0 else "FAIL ") + "the linked image is not drawn in the converter's page (%d red pixels)" % ours)
PY2
		else
			fail "pages of links.$doc rendered" "pdftoppm failed"
		fi
	done
else
	fail "control: LibreOffice updating links" "$(tail -n 3 "$lk/control.log")"
fi

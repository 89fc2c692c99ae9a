#!/usr/bin/env bash
# mail 無害化: a Japanese mail with a PDF and a docx, before and after `tiergate-sanitize --mail` (the docx printed to pages)
set -u
cd "$(dirname "$0")/../.." || exit 2
ROOT=$(pwd)
BIN="${TIERGATE_BUILD:-$ROOT/build}/bin"
tmp=$(mktemp -d /tmp/tg-demo-mail.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The mail as Outlook in a Japanese office writes it: ISO-2022-JP subject and body,
# attachment names as RFC 2047 words in quotes, a PDF with a link and a Word file.
python3 - "$ROOT/tests/mail/make-corpus.py" "$tmp/in.eml" <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("corpus", sys.argv[1]); c = importlib.util.module_from_spec(spec); spec.loader.exec_module(c)
body = "総務課 御中\n\nいつもお世話になっております。㈱テスト商事の髙橋です。\n令和6年度の見積書と議事録をお送りします。\nご確認のほど、よろしくお願いいたします。\n"
text = c.text_part(body.replace("㈱", "(株)").replace("髙", "高"))
msg = c.head(c.w2047("【ご確認】見積書と議事録の送付")).replace("%MSGID%", "demo") + c.mixed([text,
    c.att(c.pdf("Mitsumori 2024", 2), "application/pdf", ";\n\tfilename=\"%s\"" % c.w2047("見積書.pdf"), ";\n\tname=\"%s\"" % c.w2047("見積書.pdf")),
    c.att(c.docx("第2回 定例会議 議事録：予算案を承認した。"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          ";\n\tfilename=\"%s\"" % c.w2047("議事録.docx"))])
open(sys.argv[2], "wb").write(msg.replace("\n", "\r\n").encode("latin-1"))
PY
printf 'sanitizer = { quarantine = { dir = "%s/quarantine"; }; events = "%s/events.json"; };\n' "$tmp" "$tmp" >"$tmp/site.conf"

show() {   # show FILE TITLE: what a mail operator looks at, decoded
	python3 - "$1" "$2" <<'PY'
import email, email.header, sys
raw = open(sys.argv[1], "rb").read()
m = email.message_from_bytes(raw)
print("---- %s (%d bytes)" % (sys.argv[2], len(raw)))
for h in ("From", "Subject", "Content-Type", "X-Tiergate-Sanitized"):
    for v in m.get_all(h) or []:
        dec = str(email.header.make_header(email.header.decode_header(v)))
        print("  %-21s %s" % (h + ":", " ".join(dec.split())))
for p in m.walk():
    if p.is_multipart():
        continue
    name = p.get_filename()
    if name and "=?" in name:
        name = str(email.header.make_header(email.header.decode_header(name)))
    data = p.get_payload(decode=True) or b""
    if p.get_content_type() == "text/plain":
        cs = p.get_content_charset() or "utf-8"
        label = "text" if not name else "notice" if name.startswith("tiergate-") else "attachment " + name
        print("  [%s, %s]" % (label, cs))
        for line in data.decode(cs.replace("iso-2022-jp", "iso2022_jp_ext"), "replace").splitlines():
            print("    | " + line)
    else:
        print("  [attachment] %s  %s, %d bytes" % (name, p.get_content_type(), len(data)))
PY
}

show "$tmp/in.eml" "before: as received from the internet"
echo
echo "\$ tiergate-sanitize --mail in.eml --out out.eml"
"$BIN/tiergate-sanitize" --mail "$tmp/in.eml" --out "$tmp/out.eml" --config "$tmp/site.conf" >"$tmp/report.json" || {
	echo "tiergate-sanitize failed"; exit 1; }
echo
show "$tmp/out.eml" "after: what the LGWAN mailbox receives"
echo
echo "---- attachment verdicts (report)"
python3 - "$tmp/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for p in r["parts"]:
    print("  %-14s %-10s -> %-9s %s" % (p.get("name"), p.get("detected_mime", "").split("/")[-1][:10], p["action"], p.get("out_name") or p.get("reason") or ""))
print("  original quarantined as %s (tiergate-quarantine show/release)" % r["quarantine_id"][:16])
PY

# the Word file arrived printed: page images from the sandboxed LibreOffice, no text layer left
python3 - "$tmp/out.eml" "$tmp" <<'PY'
import email, email.header, subprocess, sys
for p in email.message_from_bytes(open(sys.argv[1], "rb").read()).walk():
    name = p.get_filename() or ""
    name = str(email.header.make_header(email.header.decode_header(name))) if "=?" in name else name
    if name.endswith(".docx.pdf"):
        path = sys.argv[2] + "/docx.pdf"
        open(path, "wb").write(p.get_payload(decode=True))
        pages = [l.split()[-1] for l in subprocess.run(["pdfinfo", path], capture_output=True, text=True).stdout.splitlines() if l.startswith("Pages:")]
        fonts = subprocess.run(["pdffonts", path], capture_output=True, text=True).stdout.splitlines()[2:]
        imgs = subprocess.run(["pdfimages", "-list", path], capture_output=True, text=True).stdout.splitlines()[2:]
        print("---- %s: %s page(s), %d page image(s), %d font(s) (pdfinfo, pdfimages, pdffonts)" % (name, pages[0] if pages else "?", len(imgs), len(fonts)))
PY

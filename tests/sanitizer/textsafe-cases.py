#!/usr/bin/env python3
# textsafe-cases.py -- issue 20 items 2 and 6: generates the Unicode, hidden-content, CSV and name-collision cases and judges what tiergate made of them.
#
#   textsafe-cases.py make DIR          writes the inputs (DIR/in, DIR/a, DIR/b, DIR/mail.eml)
#   textsafe-cases.py check DIR OUT     judges OUT (tiergate-sanitize --out OUT DIR/in/* DIR/a/x.txt DIR/b/x.txt)
#                                       and DIR/mail.out.eml; prints "ok NAME" / "FAIL NAME: why"
#
# Every code point the cleaner must remove is put into names and bodies; the outputs are read
# as bytes (files, ZIP member names and contents, reports) and must hold none of them.
import base64
import io
import json
import os
import sys
import tarfile
import zipfile

BIDI = [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F]
ZERO_WIDTH = [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD]
TAGS = [0xE0001, 0xE0020, 0xE0041, 0xE007F]
C0 = [c for c in range(0x01, 0x20) if c not in (0x2F,)] + [0x7F]
C1 = list(range(0x80, 0xA0))
LISTED = BIDI + ZERO_WIDTH + TAGS
KIND = {**{c: "bidi control character" for c in BIDI}, **{c: "zero-width character" for c in ZERO_WIDTH},
        **{c: "tag character" for c in TAGS}}
ALL = "".join(chr(c) for c in LISTED)          # 21 code points, one of each
CONTROLS_IN_NAME = "".join(chr(c) for c in C0 if c not in (0x0A,)) + "".join(chr(c) for c in C1)

failures = 0


def ok(name):
    print("ok " + name)


def fail(name, why):
    global failures
    failures += 1
    print("FAIL %s: %s" % (name, why))


def check(name, cond, why):
    (ok if cond else lambda n: fail(n, why))(name)


def sprinkle(word):
    """word with every listed code point between its letters (and again at the end)."""
    return "".join(word[i % len(word)] + chr(c) for i, c in enumerate(LISTED)) + word


def hexname(c):
    return "U+%04X" % c


# ---------------------------------------------------------------- inputs

def docx(body_xml):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("_rels/.rels",
                   '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                   'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml",
                   '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                   'wordprocessingml/2006/main"><w:body>' + body_xml + '</w:body></w:document>')
    return b.getvalue()


def wrun(text, props=""):
    return '<w:r>%s<w:t xml:space="preserve">%s</w:t></w:r>' % (props and "<w:rPr>%s</w:rPr>" % props, text)


def xlsx(sheets):
    """sheets: [(name, state or None, [cell strings])] -- inline strings, one row each."""
    b = io.BytesIO()
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.spreadsheetml.sheet.main+xml"/></Types>')
        z.writestr("_rels/.rels",
                   '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                   'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        entries, rels = [], []
        for i, (name, state, cells) in enumerate(sheets, 1):
            st = ' state="%s"' % state if state else ""
            entries.append('<sheet name="%s" sheetId="%d"%s r:id="rId%d"/>' % (name, i, st, i))
            # relationship targets in reverse order: the part names are not the sheet order
            rels.append('<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                        'relationships/worksheet" Target="worksheets/sheet%d.xml"/>' % (i, len(sheets) + 1 - i))
            rows = "".join('<row r="%d"><c r="A%d" t="inlineStr"><is><t>%s</t></is></c></row>' % (r, r, v)
                           for r, v in enumerate(cells, 1))
            z.writestr("xl/worksheets/sheet%d.xml" % (len(sheets) + 1 - i),
                       '<?xml version="1.0"?><worksheet %s><sheetData>%s</sheetData></worksheet>' % (ns, rows))
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook %s %s><sheets>%s</sheets></workbook>'
                   % (ns, rns, "".join(entries)))
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
                   '2006/relationships">%s</Relationships>' % "".join(rels))
    return b.getvalue()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path.encode("utf-8", "surrogateescape"), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def make_unicode(d):
    # plain text: one file per listed code point, in its name and its body
    for c in LISTED:
        write(os.path.join(d, "cp-%s-a%sb.txt" % (hexname(c), chr(c))), "before%safter\n" % chr(c))
    # C0/C1 controls in a name (every one but NUL, '/' is not a control), and in a body
    write(os.path.join(d, "ctl-a%sb.txt" % CONTROLS_IN_NAME), "x" + CONTROLS_IN_NAME.replace("\t", "") + "y\n")
    write(os.path.join(d, "invoice\u202efdp.exe"), b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00")
    write(os.path.join(d, "uni-html-%s.html" % ALL),
          "<html><body><p>%s</p></body></html>\n" % sprinkle("html"))
    write(os.path.join(d, "uni-docx-%s.docx" % ALL),
          docx("<w:p>%s</w:p>" % wrun(sprinkle("docx"))))
    write(os.path.join(d, "uni-xlsx-%s.xlsx" % ALL), xlsx([("S", None, [sprinkle("xlsx")])]))
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        for c in LISTED:
            z.writestr("dir%s/m-%s-%s.txt" % (chr(c), hexname(c), chr(c)), "member %s\n" % sprinkle("zip"))
    write(os.path.join(d, "uni-members.zip"), b.getvalue())
    # a tar link whose target carries a bidi override and an escape sequence
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        info = tarfile.TarInfo("keep.txt")
        data = b"kept\n"
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("evil-link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/\u202epasswd\x1b[31m"
        t.addfile(link)
    write(os.path.join(d, "links.tar"), b.getvalue())


def make_hidden(d):
    write(os.path.join(d, "hidden.html"), """<html><head><title>HIDDEN-title</title>
<style>p { color: red } HIDDEN-style</style><script>var s = "HIDDEN-script";</script></head><body>
<p>VISIBLE-one</p>
<div style="display:none">HIDDEN-display</div>
<span style="Visibility : Hidden">HIDDEN-visibility</span>
<p hidden>HIDDEN-attribute</p>
<span style="color:#fff; font-size:0px">HIDDEN-fontsize</span>
<font size="0">HIDDEN-fontzero</font>
<template><p>HIDDEN-template</p></template>
<noscript>HIDDEN-noscript</noscript>
<p style="font-size:0.8em">VISIBLE-small</p>
</body></html>
""")
    write(os.path.join(d, "vanish.docx"), docx(
        "<w:p>%s%s%s%s</w:p>" % (wrun("VISIBLE-word "), wrun("HIDDEN-vanish", "<w:vanish/>"),
                                 wrun("HIDDEN-specvanish", "<w:b/><w:specVanish/>"),
                                 wrun(" VISIBLE-notvanished", '<w:vanish w:val="0"/>'))))
    write(os.path.join(d, "sheets.xlsx"), xlsx([("Shown", None, ["VISIBLE-sheet"]),
                                                ("Secret", "hidden", ["HIDDEN-sheet"]),
                                                ("Macro", "veryHidden", ["HIDDEN-veryhidden"])]))
    write(os.path.join(d, "formulas.csv"),
          'name,value,note\n=1+2,=HYPERLINK("http://x"),plain\n+cmd|\' /C calc\'!A0,-3,"@SUM(A1)"\n'
          '-2+3,"=""quoted""",\uff1dWIDE()\n\t=tab,\r=cr,+5\n')
    write(os.path.join(d, "formulas.tsv"), "a\tb\n=1+2\t-7.5\n@x\tok\n")
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("x.txt", "COLLIDE-one\n")
        z.writestr("X.txt", "COLLIDE-two\n")
        z.writestr("d/a.csv", "COLLIDE-three\n")
        z.writestr("d/a.csv.txt", "COLLIDE-four\n")
        z.writestr("d/x\u200b.txt", "COLLIDE-five\n")
        z.writestr("d/x.txt", "COLLIDE-six\n")
    write(os.path.join(d, "collide.zip"), b.getvalue())


def make_mail(path):
    def word(s):
        return "=?UTF-8?B?" + base64.b64encode(s.encode()).decode() + "?="
    fn = "invoice\u202efdp.exe.txt"
    body = "Hello %s\n" % sprinkle("mail")
    msg = ("From: a@example.com\nTo: b@example.org\nSubject: %s\nMIME-Version: 1.0\n"
           "Content-Type: multipart/mixed; boundary=\"XX\"\n\n--XX\n"
           "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n%s\n--XX\n"
           "Content-Type: text/plain; name=\"%s\"\nContent-Disposition: attachment; filename*=UTF-8''%s\n"
           "Content-Transfer-Encoding: base64\n\n%s\n--XX--\n") % (
        word("Re: " + sprinkle("subject")), base64.encodebytes(body.encode()).decode(), word(fn),
        "".join("%%%02X" % b for b in fn.encode()), base64.encodebytes(b"attachment text\n").decode())
    write(path, msg)


def make(d):
    make_unicode(os.path.join(d, "in"))
    make_hidden(os.path.join(d, "in"))
    write(os.path.join(d, "a", "x.txt"), "CLI-first\n")
    write(os.path.join(d, "b", "x.txt"), "CLI-second\n")
    make_mail(os.path.join(d, "mail.eml"))
    # the inputs really hold what the outputs must not: else every check below proves nothing
    names = "".join(os.listdir(os.path.join(d, "in")))
    missing = [hexname(c) for c in LISTED if chr(c) not in names]
    if missing:
        sys.exit("generated names lack " + " ".join(missing))


# ---------------------------------------------------------------- judging

def bad_in_bytes(data, body):
    """The listed code points and controls found in data (UTF-8 bytes), as U+XXXX strings."""
    found = set()
    for c in LISTED:
        if chr(c).encode() in data:
            found.add(hexname(c))
    for c in C0 + C1:
        if body and c in (0x09, 0x0A):
            continue
        if chr(c).encode() in data:
            found.add(hexname(c))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        found.add("invalid UTF-8 at %d" % e.start)
    return sorted(found)


def reports(out):
    reps = {}
    for n in os.listdir(out):
        if n.endswith(".report.json"):
            with open(os.path.join(out, n), "rb") as f:
                raw = f.read()
            reps[n[:-len(".report.json")]] = (json.loads(raw), raw)
    return reps


def report_for(reps, prefix):
    for k, v in reps.items():
        if k.startswith(prefix):
            return v
    return None, None


def check_unicode(d, out, reps):
    names = os.listdir(out.encode())
    bad = sorted({x for n in names for x in bad_in_bytes(n, False)})
    check("output and report names hold none of the listed code points (%d files)" % len(names), not bad,
          " ".join(bad))
    for n in names:
        with open(os.path.join(out.encode(), n), "rb") as f:
            data = f.read()
        if n.endswith(b".zip"):
            z = zipfile.ZipFile(io.BytesIO(data))
            for i in z.infolist():
                body = z.read(i)
                if i.filename.endswith((".csv", ".tsv")):
                    body = body[3:] if body.startswith(b"\xef\xbb\xbf") else body   # the CSV's own BOM
                b = bad_in_bytes(i.filename.encode(), False) + bad_in_bytes(body, True)
                if b:
                    fail("ZIP members are clean", "%s/%r: %s" % (n, i.filename, " ".join(b)))
                    break
        elif n.endswith(b".report.json"):
            # JSON escapes C0 as \uXXXX: the decoded strings must be clean
            b = bad_in_bytes(json.dumps(json.loads(data), ensure_ascii=False).encode(), False)
            if b:
                fail("reports are clean", "%s: %s" % (n, " ".join(b)))
        else:
            if n.endswith((b".csv", b".tsv")) and data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]   # the BOM tiergate adds for Excel, once, at the start
            b = bad_in_bytes(data, True)
            if b:
                fail("outputs are clean", "%s: %s" % (n, " ".join(b)))
    for c in LISTED:
        rep, _ = report_for(reps, "cp-%s-ab.txt" % hexname(c))
        want = "removed 1 %s" % KIND[c]
        got = rep and [f for f in rep["findings"] if want in f]
        check("%s in a name and a body: removed, and the report says so" % hexname(c),
              rep and any(f.startswith("name: " + want) for f in got) and
              any(f.startswith("text: " + want) for f in got),
              "findings %s" % (rep and rep["findings"]))
    rep, _ = report_for(reps, "ctl-ab.txt")
    check("C0/C1 controls in a name: removed and counted (%d)" % len(CONTROLS_IN_NAME),
          rep and "name: removed %d control characters" % len(CONTROLS_IN_NAME) in rep["findings"],
          rep and rep["findings"])
    for kind, what in (("html", "uni-html-.html"), ("docx", "uni-docx-.docx"), ("xlsx", "uni-xlsx-.xlsx")):
        rep, _ = report_for(reps, what)
        text = open(os.path.join(out, rep["output_name"]), encoding="utf-8").read() if rep and rep.get(
            "output_name") else ""
        want = ["text: removed 11 bidi control characters", "text: removed 6 zero-width characters",
                "text: removed 4 tag characters", "name: removed 11 bidi control characters"]
        got = rep["findings"] if rep else []
        check("%s: name and text cleaned, findings count each kind" % kind,
              sprinkle(kind).translate({c: None for c in LISTED}) in text and
              all(any(f.startswith(w) for f in got) for w in want), "findings %s, text %r" % (got, text[:80]))
    rep, _ = report_for(reps, "uni-members.zip")
    got = rep["findings"] if rep else []
    check("ZIP member names: each listed code point removed with a finding",
          rep and sum(1 for f in got if ": name: removed" in f) >= len(LISTED), got)
    rep, raw = report_for(reps, "links.tar")
    check("tar link target never reaches the report raw",
          rep and b"\\u001b" not in raw and "\u202e".encode() not in raw and
          any("link target: removed" in f for f in rep["findings"]), rep and rep["findings"])
    rep, raw = report_for(reps, "invoice")
    check("invoice<U+202E>fdp.exe is shown as invoicefdp.exe, never as ...exe.pdf",
          rep and rep["name"] == "invoicefdp.exe" and rep["action"] == "blocked" and
          b"fdp" in raw and "\u202e".encode() not in raw, rep and rep["name"])


def read_text(out, rep):
    return open(os.path.join(out, rep["output_name"]), encoding="utf-8").read() if rep and rep.get(
        "output_name") else ""


def check_hidden(out, reps):
    rep, _ = report_for(reps, "hidden.html")
    text = read_text(out, rep)
    leaked = [w for w in text.split() if "HIDDEN" in w]
    check("HTML: hidden and non-rendered text left out", "VISIBLE-one" in text and "VISIBLE-small" in text and
          not leaked, "leaked %s / text %r" % (leaked, text[:200]))
    check("HTML: the report counts the hidden elements",
          rep and "HTML: 5 hidden elements left out (display:none, visibility:hidden, hidden, font-size:0)"
          in rep["findings"], rep and rep["findings"])
    rep, _ = report_for(reps, "vanish.docx")
    text = read_text(out, rep)
    check("Word: w:vanish and w:specVanish runs left out, w:vanish w:val=0 kept",
          "VISIBLE-word" in text and "VISIBLE-notvanished" in text and "HIDDEN" not in text, repr(text))
    check("Word: the report counts the hidden runs", rep and
          "Word: 2 runs of hidden text (w:vanish) left out" in rep["findings"], rep and rep["findings"])
    rep, _ = report_for(reps, "sheets.xlsx")
    text = read_text(out, rep)
    check("Excel: hidden and veryHidden sheets left out", "VISIBLE-sheet" in text and "HIDDEN" not in text,
          repr(text))
    check("Excel: the report counts the hidden sheets", rep and
          "Excel: 2 hidden sheets (hidden/veryHidden) left out" in rep["findings"], rep and rep["findings"])


def check_csv(out, reps):
    rep, _ = report_for(reps, "formulas.csv")
    data = open(os.path.join(out, "formulas.csv"), "rb").read() if rep else b""
    check("CSV output starts with a UTF-8 BOM", data.startswith(b"\xef\xbb\xbf"), data[:8])
    text = data.decode("utf-8", "replace").lstrip("\ufeff")
    want = ['"\'=1+2"', '"\'=HYPERLINK(""http://x"")"', '"\'+cmd|\' /C calc\'!A0"', ',-3,', '"\'@SUM(A1)"',
            '"\'-2+3"', '"\'=""quoted"""', '"\'\uff1dWIDE()"', '"\'\t=tab"', ',+5\n']
    missing = [w for w in want if w not in text]
    check("CSV formula cells quoted with a leading quote, numbers kept", not missing,
          "missing %s in %r" % (missing, text))
    import csv
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    live = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r", "\uff1d") and
            not c[1:].replace(".", "", 1).isdigit()]   # +5 and -3 are numbers, not formulas
    check("CSV: no cell a spreadsheet would run (%d cells read back)" % len(cells), cells and not live, live)
    check("CSV: the report counts the neutralised cells", rep and any(
        f.startswith("CSV: 9 cells starting with") for f in rep["findings"]), rep and rep["findings"])
    tsv = open(os.path.join(out, "formulas.tsv"), "rb").read() if os.path.exists(
        os.path.join(out, "formulas.tsv")) else b""
    check("TSV: tab-separated cells neutralised the same way",
          tsv == "\ufeffa\tb\n\"'=1+2\"\t-7.5\n\"'@x\"\tok\n".encode(), tsv)


def check_collisions(out, reps):
    rep, _ = report_for(reps, "collide.zip")
    members = {}
    if rep and rep.get("output_name"):
        z = zipfile.ZipFile(os.path.join(out, rep["output_name"]))
        members = {i.filename: z.read(i).decode().strip() for i in z.infolist()}
    contents = sorted(v.lstrip("\ufeff") for v in members.values())
    check("ZIP: colliding member names all kept (6 of 6)",
          contents == sorted("COLLIDE-" + w for w in ("one", "two", "three", "four", "five", "six")),
          members)
    lower = [n.lower() for n in members]
    check("ZIP: no two members share a name, ignoring case", len(set(lower)) == len(lower), members)
    check("ZIP: renamed members are called 'name (2).ext' and reported",
          "X (2).txt" in members and any("written as" in f for f in rep["findings"]), (members, rep and rep["findings"]))
    one = open(os.path.join(out, "x.txt")).read() if os.path.exists(os.path.join(out, "x.txt")) else ""
    two = open(os.path.join(out, "x (2).txt")).read() if os.path.exists(os.path.join(out, "x (2).txt")) else ""
    check("CLI: two inputs named x.txt give two outputs", one == "CLI-first\n" and two == "CLI-second\n",
          (one, two))
    check("CLI: and two reports", "x.txt" in reps and "x (2).txt" in reps and
          reps["x (2).txt"][0]["output_name"] == "x (2).txt", sorted(reps))


def check_mail(d):
    path = os.path.join(d, "mail.out.eml")
    if not os.path.exists(path):
        fail("mail: --mail produced a message", path + " missing")
        return
    import email
    import email.policy
    raw = open(path, "rb").read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    texts, names = [], []
    for part in msg.walk():
        if part.get_content_maintype() == "multipart":
            continue
        names.append(part.get_filename() or "")
        if part.get_content_maintype() == "text":
            texts.append(part.get_content())
    decoded = ("\n".join(texts) + "\n".join(names)).encode()
    bad = bad_in_bytes(decoded.replace(b"\r", b""), True)
    check("mail: bodies, notice and attachment names hold none of the listed code points", not bad and texts,
          bad or "no text parts")
    notice = "\n".join(texts)
    check("mail: the notice shows invoicefdp.exe.txt, and says a bidi control was removed from the name",
          "invoicefdp.exe.txt" in notice and "name: removed 1 bidi control character" in notice, notice[-600:])
    check("mail: the body kept its words", "mail" * 1 in notice and
          sprinkle("mail").translate({c: None for c in LISTED}) in notice, notice[:300])


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "make":
        make(sys.argv[2])
        return 0
    if len(sys.argv) != 4 or sys.argv[1] != "check":
        sys.exit(__doc__ or "usage: textsafe-cases.py make DIR | check DIR OUT")
    d, out = sys.argv[2], sys.argv[3]
    if not os.path.isdir(out):
        fail("tiergate-sanitize wrote its outputs", out + " is missing")
        return 1
    reps = reports(out)
    check_unicode(d, out, reps)
    check_hidden(out, reps)
    check_csv(out, reps)
    check_collisions(out, reps)
    check_mail(d)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

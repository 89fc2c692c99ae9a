#!/usr/bin/env python3
# make-corpus.py -- generates the sanitizer's test corpus (hostile PDFs, images, office files, charsets, zips, tars, gzip) into OUTDIR.
#
#   tests/sanitizer/make-corpus.py OUTDIR
#
# Uses only python3, gs, qpdf, zip and 7z (scripts/deps.sh). Every file is small
# except the bombs' inflated size; the expected verdicts are in expected.txt beside this script.
import gzip
import io
import os
import struct
import subprocess
import sys
import tarfile
import zipfile
import zlib

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/generated/sanitizer"
os.makedirs(OUT, exist_ok=True)
IPA = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"

JA_DOC = "三層分離の無害化テスト"
JA_CELL = "住民記録システム"
JA_SLIDE = "情報セキュリティ研修"
JA_ODT = "令和六年度 予算書"


def path(name):
    return os.path.join(OUT, name)


def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


def run(*args, **kw):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


# ---------------------------------------------------------------- PDFs
def gs_pdf(name, postscript, extra=()):
    src = path(name + ".ps")
    with open(src, "wb") as f:
        f.write(postscript)
    run("gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", *extra, "-sDEVICE=pdfwrite", "-o", path(name), src)
    os.unlink(src)


def page_ps(i, text):
    return (b"/Helvetica findfont 28 scalefont setfont 72 720 moveto (%s) show\n"
            b"0.2 0.4 0.8 setrgbcolor 72 300 %d 200 rectfill 0 setgray\n"
            b"/Times-Roman findfont 14 scalefont setfont 72 260 moveto (Line of body text on page %d) show\n"
            b"showpage\n") % (text, 100 + 30 * (i % 10), i + 1)


def make_plain_pdfs():
    gs_pdf("plain.pdf", b"%!PS\n" + b"".join(page_ps(i, b"Plain page %d" % (i + 1)) for i in range(3)))
    gs_pdf("many-pages.pdf", b"%!PS\n" + b"".join(page_ps(i, b"Page %d of 60" % (i + 1)) for i in range(60)))
    # photo-like pages (a colour gradient behind the text): the JPEG path of codec auto
    shade = (b"<< /ShadingType 2 /ColorSpace /DeviceRGB /Coords [0 0 612 792] /Extend [true true] /Function "
             b"<< /FunctionType 2 /Domain [0 1] /C0 [1 0.85 0.6] /C1 [0.2 0.4 0.9] /N 1 >> >> shfill\n")
    gs_pdf("gradient.pdf", b"%!PS\n" + b"".join(shade + page_ps(i, b"Gradient %d" % (i + 1)) for i in range(2)))
    write("japanese.pdf", japanese_pdf([JA_DOC, "こんにちは ①㈱ 髙橋"], ["二ページ目"]))


def ttf_cmap(font):
    """Unicode -> glyph id from a TrueType font's format 4 cmap (enough for the BMP)."""
    ntables = struct.unpack(">H", font[4:6])[0]
    tables = {font[12 + 16 * i:16 + 16 * i]: struct.unpack(">I", font[20 + 16 * i:24 + 16 * i])[0]
              for i in range(ntables)}
    cmap = tables[b"cmap"]
    for i in range(struct.unpack(">H", font[cmap + 2:cmap + 4])[0]):
        plat, enc, off = struct.unpack(">HHI", font[cmap + 4 + 8 * i:cmap + 12 + 8 * i])
        sub = cmap + off
        if (plat, enc) == (3, 1) and struct.unpack(">H", font[sub:sub + 2])[0] == 4:
            break
    segs = struct.unpack(">H", font[sub + 6:sub + 8])[0] // 2
    arr = lambda k: struct.unpack(">%dH" % segs, font[sub + 14 + k * 2 * segs + (2 if k else 0):
                                                     sub + 14 + (k + 1) * 2 * segs + (2 if k else 0)])
    ends, starts, deltas, ranges = arr(0), arr(1), arr(2), arr(3)
    range_base = sub + 16 + 6 * segs

    def gid(ch):
        c = ord(ch)
        for i in range(segs):
            if starts[i] <= c <= ends[i]:
                if ranges[i] == 0:
                    return (c + deltas[i]) & 0xFFFF
                at = range_base + 2 * i + ranges[i] + 2 * (c - starts[i])
                g = struct.unpack(">H", font[at:at + 2])[0]
                return (g + deltas[i]) & 0xFFFF if g else 0
        return 0
    return gid


def japanese_pdf(*pages):
    """A PDF with the IPA Gothic font embedded (CIDFontType2, Identity-H): real Japanese text to render."""
    font = open(IPA, "rb").read()
    gid = ttf_cmap(font)
    packed = zlib.compress(font)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", None,
            b"<< /Type /Font /Subtype /Type0 /BaseFont /IPAGothic /Encoding /Identity-H /DescendantFonts [4 0 R] >>",
            b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /IPAGothic /CIDSystemInfo << /Registry (Adobe) "
            b"/Ordering (Identity) /Supplement 0 >> /FontDescriptor 5 0 R /DW 1000 /CIDToGIDMap /Identity >>",
            b"<< /Type /FontDescriptor /FontName /IPAGothic /Flags 4 /FontBBox [0 -141 1000 859] /ItalicAngle 0 "
            b"/Ascent 859 /Descent -141 /CapHeight 700 /StemV 80 /FontFile2 6 0 R >>",
            b"<< /Length %d /Length1 %d /Filter /FlateDecode >>\nstream\n" % (len(packed), len(font)) + packed + b"\nendstream"]
    kids = []
    for lines in pages:
        ops = b"".join(b"BT /F1 28 Tf 72 %d Td <%s> Tj ET\n" % (700 - 60 * i, "".join("%04X" % gid(c) for c in line).encode())
                       for i, line in enumerate(lines))
        objs.append(b"<< /Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream")
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
                    b"/Contents %d 0 R >>" % (len(objs)))
        kids.append(len(objs))
    objs[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    return raw_pdf(objs)


def raw_pdf(objects, root=1):
    """objects: list of bytes bodies, numbered from 1; builds a correct xref."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)


def content(text):
    s = b"BT /F1 24 Tf 72 700 Td (" + text + b") Tj ET 0 0 1 rg 72 400 200 100 re f"
    return b"<< /Length %d >>\nstream\n" % len(s) + s + b"\nendstream"


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def page(extra=b"", contents=4, annots=b""):
    return (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents %d 0 R " % contents + extra + annots + b" >>")


def make_hostile_pdfs():
    # 1 catalog, 2 pages, 3 font, 4 content, 5 page, 6.. extras
    js = [b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R /Names << /JavaScript 7 0 R >> >>",
          b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>", FONT, content(b"JavaScript inside"),
          page(b"/AA << /O 6 0 R >>"),
          b"<< /S /JavaScript /JS (app.alert\\('pwned'\\);) >>",
          b"<< /Names [(x) 6 0 R] >>"]
    write("js.pdf", raw_pdf(js))
    launch = [b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>",
              b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>", FONT, content(b"Launch action"), page(),
              b"<< /S /Launch /F (cmd.exe) /Win << /F (cmd.exe) /P (/c calc) >> >>"]
    write("launch.pdf", raw_pdf(launch))
    payload = b"MZ\x90\x00 this would be an executable"
    emb = [b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(invoice.exe) 6 0 R] >> >> >>",
           b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>", FONT, content(b"Embedded file"), page(),
           b"<< /Type /Filespec /F (invoice.exe) /EF << /F 7 0 R >> >>",
           b"<< /Type /EmbeddedFile /Length %d >>\nstream\n" % len(payload) + payload + b"\nendstream"]
    write("embedded.pdf", raw_pdf(emb))
    form = [b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [6 0 R] /XFA 8 0 R >> >>",
            b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>", FONT, content(b"Form and link"),
            page(annots=b"/Annots [6 0 R 7 0 R]"),
            b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (name) /Rect [72 500 300 530] /P 5 0 R >>",
            b"<< /Type /Annot /Subtype /Link /Rect [72 450 300 480] /A << /S /URI /URI (http://evil.example/) >> >>",
            b"<< /Length 7 >>\nstream\n<xdp/>\n\nendstream"]
    write("form.pdf", raw_pdf(form))
    # the name written with a #-escape: scanners matching bytes miss it, qpdf normalises it
    obf = [b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >> >>",
           b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>", FONT, content(b"Obfuscated"), page()]
    write("obfuscated-js.pdf", raw_pdf(obf))
    rot = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>", FONT,
           content(b"Rotated page"), page(b"/Rotate 90")]
    write("rotated.pdf", raw_pdf(rot))
    run("qpdf", "--encrypt", "user-pw", "owner-pw", "256", "--", path("plain.pdf"), path("encrypted-user.pdf"))
    run("qpdf", "--encrypt", "", "owner-pw", "256", "--", path("plain.pdf"), path("encrypted-owner.pdf"))
    plain = open(path("plain.pdf"), "rb").read()
    write("truncated.pdf", plain[:400])
    write("broken.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 20)
    # polyglot: a PDF that is also a ZIP (the ZIP appended after %%EOF)
    write("polyglot.pdf", plain + zip_bytes({"hidden.txt": b"PK polyglot payload"}))


# ---------------------------------------------------------------- images
def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def make_images():
    run("gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=jpeg", "-r30", "-o", path("photo-base.jpg"),
        path("plain.pdf"), "-dLastPage=1")
    base = open(path("photo-base.jpg"), "rb").read()
    os.unlink(path("photo-base.jpg"))
    exif = b"Exif\x00\x00" + b"MM\x00\x2a\x00\x00\x00\x08" + b"SECRET-EXIF-GPS-35.6895N-139.6917E"
    app1 = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
    write("photo.jpg", base[:2] + app1 + base[2:])
    run("gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=png16m", "-r30", "-dLastPage=1", "-o",
        path("scan-base.png"), path("plain.pdf"))
    png = open(path("scan-base.png"), "rb").read()
    os.unlink(path("scan-base.png"))
    text = png_chunk(b"tEXt", b"Comment\x00SECRET-PNG-TEXT-CHUNK")
    write("scan.png", png[:33] + text + png[33:])
    # pixel bomb: a 20000 x 20000 header (400 megapixels) over a tiny IDAT
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0))
    write("pixel-bomb.png", b"\x89PNG\r\n\x1a\n" + ihdr + png_chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
          + png_chunk(b"IEND", b""))
    # a 24-bit BMP, 64 x 32, gradient
    w, h = 64, 32
    rows = b"".join(bytes((x * 4) % 256 for x in range(w) for _ in range(3)) for _ in range(h))
    write("gradient.bmp", b"BM" + struct.pack("<IHHI", 54 + len(rows), 0, 0, 54) +
          struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(rows), 2835, 2835, 0, 0) + rows)
    run("gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=tiff24nc", "-r20", "-dLastPage=1", "-o",
        path("fax.tif"), path("plain.pdf"))
    # the smallest GIF: 1x1, one colour, with a comment extension carrying a marker
    write("dot.gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\x00\x00\x00\x00\x00"
          b"\x21\xfe\x12SECRET-GIF-COMMENT\x00"
          b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b")
    # a JPEG with a ZIP appended (what a viewer shows vs what an unzipper finds)
    write("photo-polyglot.jpg", open(path("photo.jpg"), "rb").read() + zip_bytes({"run.bat": b"calc.exe\r\n"}))
    # a WebP whose VP8 frame is all zeros (no key frame): refused by libwebp with the reason (56-san-photo has good ones)
    write("sticker.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + b"\x00" * 24)


# ---------------------------------------------------------------- office
def zip_bytes(members, compress=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


CT = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      b'<Default Extension="xml" ContentType="application/xml"/></Types>')
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx(body_xml):
    doc = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document %s><w:body>%s</w:body></w:document>'
           % (W, body_xml)).encode("utf-8")
    return zip_bytes({"[Content_Types].xml": CT, "_rels/.rels": b"<Relationships/>", "word/document.xml": doc})


def make_office():
    para = "<w:p><w:r><w:t>%s</w:t></w:r></w:p>"
    table = ("<w:tbl><w:tr><w:tc><w:p><w:r><w:t>氏名</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>髙橋 一郎</w:t></w:r></w:p>"
             "</w:tc></w:tr></w:tbl>")
    field = ('<w:p><w:r><w:instrText>HYPERLINK "http://evil.example/"</w:instrText></w:r><w:r><w:t>リンク</w:t></w:r></w:p>')
    write("report.docx", docx(para % JA_DOC + table + field + para % "①②③ ㈱テスト"))
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            '<w:document %s><w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>' % W).encode()
    write("entity-bomb.docx", zip_bytes({"[Content_Types].xml": CT, "word/document.xml": bomb}))
    sst = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           '<si><t>%s</t></si><si><r><t>世帯</t></r><r><t>番号</t></r><rPh><t>セタイ</t></rPh></si></sst>' % JA_CELL)
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><v>42</v></c></row>'
             '<row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2" t="inlineStr"><is><t>インライン</t></is></c></row></sheetData></worksheet>')
    write("ledger.xlsx", zip_bytes({"[Content_Types].xml": CT, "xl/workbook.xml": b"<workbook/>",
                                    "xl/sharedStrings.xml": sst.encode(), "xl/worksheets/sheet1.xml": sheet.encode()}))
    slide = ('<?xml version="1.0" encoding="UTF-8"?><p:sld xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" '
             'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><p:cSld><p:spTree><p:sp><p:txBody>'
             '<a:p><a:r><a:t>%s</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>')
    write("training.pptx", zip_bytes({"[Content_Types].xml": CT, "ppt/presentation.xml": b"<presentation/>",
                                      "ppt/slides/slide1.xml": (slide % JA_SLIDE).encode(),
                                      "ppt/slides/slide2.xml": (slide % "第二スライド").encode(),
                                      "ppt/slides/slide10.xml": (slide % "第十スライド").encode()}))
    odt = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
           'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>'
           '<text:h>%s</text:h><text:p>本文<text:s/>です</text:p></office:text></office:body></office:document-content>' % JA_ODT)
    write("budget.odt", zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text",
                                   "content.xml": odt.encode(), "META-INF/manifest.xml": b"<manifest/>"},
                                  zipfile.ZIP_STORED))
    write("legacy.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff\x09\x00"
          + b"\x06" + b"\x00" * 4000)
    write("letter.rtf", b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}} Hello {\\object evil}}\n")


# ---------------------------------------------------------------- text
def sjis_to_jis(s1, s2):
    """Shift_JIS/CP932 lead/trail to JIS X 0208 row/cell (as ISO-2022-JP writes them)."""
    if s1 >= 0xE0:
        s1 -= 0x40
    row = (s1 - 0x81) * 2 + 0x21
    if s2 >= 0x9F:
        return bytes([row + 1, s2 - 0x7E])
    return bytes([row, s2 - 0x1F - (1 if s2 >= 0x80 else 0)])


def to_cp50220(text):
    """ISO-2022-JP with the NEC rows CP932 has (what Outlook writes): our decoder must accept it."""
    out = bytearray()
    mode = "ascii"
    for ch in text:
        if ord(ch) < 0x80:
            if mode != "ascii":
                out += b"\x1b(B"
                mode = "ascii"
            out += ch.encode()
            continue
        sj = ch.encode("cp932")
        if mode != "jis":
            out += b"\x1b$B"
            mode = "jis"
        out += sjis_to_jis(sj[0], sj[1])
    if mode != "ascii":
        out += b"\x1b(B"
    return bytes(out)


TEXT_JA = "お知らせ：①会議は㈱髙島屋で行います～\n"


def make_text():
    write("notice-sjis.txt", TEXT_JA.encode("cp932"))
    write("notice-eucjp.txt", "日本語のお知らせ 住民票\n".encode("euc_jp"))
    write("notice-jis.txt", to_cp50220(TEXT_JA))
    write("names.csv", "氏名,住所\n髙橋,東京都千代田区\n".encode("cp932"))
    write("controls.txt", b"visible\x1b[31m red\x07 bell\x1b[0m\r\nnext\x0cline\x08x\n")
    html = ('<html><head><meta charset="Shift_JIS"><title>t</title><style>p{color:red}</style>'
            '<script>document.location="http://evil.example/"</script></head><body>'
            '<h1>お知らせ</h1><p>詳しくは<a href="https://www.city.example.lg.jp/info">市のサイト</a>へ。</p>'
            '<p><a href="javascript:alert(1)">click</a> &amp; &lt;ok&gt;</p><img src="x.png" alt="地図">'
            '<table><tr><td>税</td><td>100円</td></tr></table></body></html>')
    write("page.html", html.encode("cp932"))


# ---------------------------------------------------------------- executables and archives
def make_archives():
    exe = open("/bin/ls", "rb").read()
    write("invoice.pdf", exe)    # an executable named .pdf
    plain = open(path("plain.pdf"), "rb").read()
    write("docs.zip", zip_bytes({"report.pdf": plain, "memo.txt": "メモ：明日の会議\n".encode("cp932"),
                                 "sub/report.docx": open(path("report.docx"), "rb").read(),
                                 "tool.exe": exe, "../../escape.txt": b"zip slip\n"}))
    inner = zip_bytes({"inner.pdf": plain})
    write("nested.zip", zip_bytes({"level1.zip": zip_bytes({"level2.zip": inner})}))
    deep = inner
    for i in range(6):
        deep = zip_bytes({"d%d.zip" % i: deep})
    write("deep.zip", deep)
    # zip bomb: 64 MB of zeros in ~64 KB
    with zipfile.ZipFile(path("bomb.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("zeros.txt", "w") as f:
            block = b"\x00" * (1 << 20)
            for _ in range(64):
                f.write(block)
    # PPAP: ZipCrypto by zip -e, AES by 7z
    run("zip", "-q", "-j", "-P", "secret", path("ppap.zip"), path("plain.pdf"))
    run("7z", "a", "-tzip", "-psecret", "-mem=AES256", path("ppap-aes.zip"), path("notice-sjis.txt"))
    # a Windows zip: member names in CP932 without the UTF-8 flag
    tmp = os.path.join(OUT, "cp932dir")
    os.makedirs(tmp, exist_ok=True)
    name = "会議資料.txt".encode("cp932")
    with open(os.path.join(os.fsencode(tmp), name), "wb") as f:
        f.write("資料です\n".encode("cp932"))
    subprocess.run([b"zip", b"-q", os.fsencode(os.path.abspath(path("windows-names.zip"))), name],
                   cwd=tmp, check=True, env={"LC_ALL": "C", "PATH": os.environ["PATH"]})
    os.unlink(os.path.join(os.fsencode(tmp), name))
    os.rmdir(tmp)


# ---------------------------------------------------------------- tar and gzip
def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    """entries: (name, bytes) for files, (name, TarInfo-type, linkname) for the rest."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for e in entries:
            info = tarfile.TarInfo(e[0])
            info.mtime = 1700000000
            if len(e) == 2:
                info.size = len(e[1])
                t.addfile(info, io.BytesIO(e[1]))
            else:
                info.type, info.linkname = e[1], e[2]
                t.addfile(info)
    return buf.getvalue()


def gz(data):
    return gzip.compress(data, mtime=0)


def make_tarballs():
    exe = open("/bin/ls", "rb").read()
    plain = open(path("plain.pdf"), "rb").read()
    docx_bytes = open(path("report.docx"), "rb").read()
    write("bundle.tar.gz", gz(tar_bytes([("docs", tarfile.DIRTYPE, ""), ("docs/report.pdf", plain),
                                         ("docs/report.docx", docx_bytes), ("tool.exe", exe)])))
    # links and a path that climbs out: the links are dropped, the file lands inside
    write("links.tar", tar_bytes([("readme.txt", "読んでください\n".encode()),
                                  ("passwd", tarfile.SYMTYPE, "/etc/passwd"),
                                  ("copy.txt", tarfile.LNKTYPE, "readme.txt"),
                                  ("pipe", tarfile.FIFOTYPE, ""),
                                  ("../../escape.txt", b"tar slip\n")], tarfile.USTAR_FORMAT))
    # cut inside the PDF's data: the header promises more than is there
    whole = tar_bytes([("report.pdf", plain)], tarfile.GNU_FORMAT)
    write("truncated.tar", whole[:512 + len(plain) // 2])
    bad = bytearray(tar_bytes([("memo.txt", b"memo\n")], tarfile.USTAR_FORMAT))
    bad[0] ^= 0x20   # the name changes, the checksum does not
    write("badsum.tar", bytes(bad))
    # 64 MB of zeros in a tar.gz of ~64 KB
    zeros = io.BytesIO()
    with gzip.GzipFile(fileobj=zeros, mode="wb", mtime=0) as z:
        info = tarfile.TarInfo("zeros.bin")
        info.size = 64 << 20
        z.write(info.tobuf(tarfile.USTAR_FORMAT))
        block = b"\x00" * (1 << 20)
        for _ in range(64):
            z.write(block)
        z.write(b"\x00" * 1024)
    write("bomb.tar.gz", zeros.getvalue())
    # a pax path of 180 characters (more than ustar's name + prefix can split) with Japanese in it
    long_dir = "資料/" + "long-directory-name-" * 8
    write("pax-long.tar", tar_bytes([(long_dir + "/会議メモ.txt", "長い名前のメモ\n".encode())]))
    write("nested-zip.tar.gz", gz(tar_bytes([("inner.zip", zip_bytes({"inner.pdf": plain, "note.txt": b"inner note\n"}))])))
    write("memo.txt.gz", gz("圧縮されたメモ\n".encode("cp932")))


def main():
    make_plain_pdfs()
    make_hostile_pdfs()
    make_images()
    make_office()
    make_text()
    make_archives()
    make_tarballs()


main()

#!/usr/bin/env python3
"""make-office-corpus.py DIR -- office documents for the LibreOffice suite, written by hand (zipfile + XML).

report.docx: Japanese text in MS Gothic / MS Mincho, a table with empty cells, an external hyperlink,
             a page break (2 pages). ledger.xlsx: sheets 予算 and Notes visible, Secret hidden (a big
             marker block: it would add a page). ledger-all.xlsx: the same with Secret visible (3 pages).
slides.odp: 2 slides. long.docx: ~60 pages (page limit, converter timeout). --links OUT.odt HTTP FILE: an
image linked to HTTP and a section linked to FILE, with their cached state (links never fetched); OUT.docx:
the image only. The legacy and ODF forms are
made from these by LibreOffice itself (the suite runs soffice --convert-to).
"""
import os
import struct
import sys
import zipfile

OUT = sys.argv[1] if len(sys.argv) == 2 else os.path.dirname(sys.argv[-1])
os.makedirs(OUT, exist_ok=True)
JP = "令和六年度の予算執行について報告します。住民基本台帳"


def write_zip(name, members, stored_first=None):
    with zipfile.ZipFile(os.path.join(OUT, name), "w", zipfile.ZIP_DEFLATED) as z:
        if stored_first:
            z.writestr(zipfile.ZipInfo(stored_first[0]), stored_first[1], compress_type=zipfile.ZIP_STORED)
        for path, data in members:
            z.writestr(path, data)


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" ' \
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def wpara(text, font=None, size=None):
    rpr = ""
    if font or size:
        rpr = "<w:rPr>%s%s</w:rPr>" % (
            '<w:rFonts w:ascii="%s" w:hAnsi="%s" w:eastAsia="%s"/>' % (font, font, font) if font else "",
            '<w:sz w:val="%d"/>' % size if size else "")
    return "<w:p><w:r>%s<w:t xml:space=\"preserve\">%s</w:t></w:r></w:p>" % (rpr, text)


def wtable(rows):
    out = ["<w:tbl><w:tblPr><w:tblBorders>"]
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        out.append('<w:%s w:val="single" w:sz="8"/>' % side)
    out.append("</w:tblBorders></w:tblPr>")
    for row in rows:
        out.append("<w:tr>")
        for cell in row:
            out.append('<w:tc><w:tcPr><w:tcW w:w="2000" w:type="dxa"/></w:tcPr>%s</w:tc>' % wpara(cell))
        out.append("</w:tr>")
    out.append("</w:tbl>")
    return "".join(out)


def docx(name, body, extra_rels=""):
    ct = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
    drels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
             '<Relationship Id="rIdLink" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" '
             'Target="http://203.0.113.7/track.png" TargetMode="External"/>' + extra_rels + '</Relationships>')
    doc = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document %s><w:body>%s</w:body></w:document>' % (W, body)
    write_zip(name, [("[Content_Types].xml", ct), ("_rels/.rels", rels), ("word/_rels/document.xml.rels", drels),
                     ("word/document.xml", doc)])


def make_docx():
    body = [wpara("Quarterly report", size=40), wpara(JP, font="MS Gothic", size=32),
            wpara("明朝体の段落です。" * 3, font="ＭＳ 明朝", size=28),
            wtable([["項目", "", "金額"], ["", "道路", ""], ["合計", "", "1,200"]]),
            '<w:p><w:hyperlink r:id="rIdLink"><w:r><w:t>external link</w:t></w:r></w:hyperlink></w:p>',
            '<w:p><w:r><w:br w:type="page"/></w:r></w:p>', wpara("Second page 二ページ目", size=32)]
    docx("report.docx", "".join(body))
    docx("long.docx", "".join(wpara("Line %d of a long document 長い文書" % i, size=24) +
                              ('<w:p><w:r><w:br w:type="page"/></w:r></w:p>' if i % 10 == 9 else "")
                              for i in range(600)))


def sheet_xml(rows, marker=False):
    out = ['<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">']
    if marker:
        out.append('<cols><col min="1" max="1" width="60" customWidth="1"/></cols>')
    out.append("<sheetData>")
    for r, row in enumerate(rows, 1):
        out.append('<row r="%d">' % r)
        for c, val in enumerate(row):
            if val == "":
                continue   # an empty cell: absent from the XML, present in the layout
            ref = "%s%d" % (chr(65 + c), r)
            if isinstance(val, (int, float)):
                out.append('<c r="%s"><v>%s</v></c>' % (ref, val))
            else:
                out.append('<c r="%s" t="inlineStr"><is><t>%s</t></is></c>' % (ref, val))
        out.append("</row>")
    out.append("</sheetData></worksheet>")
    return "".join(out)


def xlsx(name, hidden, sheets=None):
    sheets = sheets or [("予算", [["科目", "", "金額"], ["道路", "", 1200], ["", "橋", 300], ["合計", "", 1500]]),
              ("Notes", [["note", "外部リンクなし"]]),
              ("Secret", [["SECRETMARKER " * 4]] * 40)]
    ct = ['<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>']
    wrels = ['<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">']
    wb = ['<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
          'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>']
    members = []
    for i, (sname, rows) in enumerate(sheets, 1):
        ct.append('<Override PartName="/xl/worksheets/sheet%d.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' % i)
        wrels.append('<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>' % (i, i))
        state = ' state="hidden"' if hidden and sname == "Secret" else ""
        wb.append('<sheet name="%s" sheetId="%d"%s r:id="rId%d"/>' % (sname, i, state, i))
        members.append(("xl/worksheets/sheet%d.xml" % i, sheet_xml(rows, sname == "Secret")))
    ct.append("</Types>")
    wrels.append("</Relationships>")
    wb.append("</sheets></workbook>")
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    write_zip(name, [("[Content_Types].xml", "".join(ct)), ("_rels/.rels", rels),
                     ("xl/workbook.xml", "".join(wb)), ("xl/_rels/workbook.xml.rels", "".join(wrels))] + members)


def make_odp(n=2, name="slides.odp"):
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
          'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"')
    pages = "".join(
        '<draw:page draw:name="s%d"><draw:frame svg:x="2cm" svg:y="2cm" svg:width="20cm" svg:height="4cm">'
        '<draw:text-box><text:p>Slide %d %s</text:p></draw:text-box></draw:frame></draw:page>' % (i, i, JP)
        for i in range(1, n + 1))
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content %s office:version="1.2">'
               '<office:body><office:presentation>%s</office:presentation></office:body></office:document-content>' % (ns, pages))
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.presentation"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    write_zip(name, [("META-INF/manifest.xml", manifest), ("content.xml", content)],
              stored_first=("mimetype", "application/vnd.oasis.opendocument.presentation"))


def cdf_encrypted(path):
    """A password-protected OOXML file's container: OLE2 with EncryptionInfo and EncryptedPackage streams
    (what Office writes for 'Encrypt with password'); the payload is random, as encrypted bytes look."""
    end, free, fatsect = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    streams = [("EncryptionInfo", b"\x04\x00\x04\x00\x40\x00\x00\x00" + os.urandom(4088)),
               ("EncryptedPackage", struct.pack("<Q", 20000) + os.urandom(8184))]
    fat = [fatsect, end]
    start = []
    for _, data in streams:
        n = len(data) // 512
        start.append(len(fat))
        fat += [len(fat) + i + 1 for i in range(n - 1)] + [end]
    fat += [free] * (128 - len(fat))
    hdr = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) +
           b"\0" * 6 + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0) +
           struct.pack("<I", 0) + struct.pack("<I", free) * 108)

    def entry(name, kind, left, right, child, sect, size):
        n = name.encode("utf-16-le") + b"\0\0"
        return (n.ljust(64, b"\0") + struct.pack("<HBBIII", len(n), kind, 1, left, right, child) + b"\0" * 36 +
                struct.pack("<IQ", sect, size))
    dirs = (entry("Root Entry", 5, free, free, 1, end, 0) +
            entry(streams[0][0], 2, free, 2, free, start[0], len(streams[0][1])) +
            entry(streams[1][0], 2, free, free, free, start[1], len(streams[1][1])) + b"\0" * 128)
    with open(path, "wb") as f:
        f.write(hdr + struct.pack("<128I", *fat) + dirs + streams[0][1] + streams[1][1])


MACRO_TYPES = {   # the main part's type and what a macro-enabled file declares instead
    "wordprocessingml.document.main+xml": ("word/", "application/vnd.ms-word.document.macroEnabled.main+xml",
                                           "word/_rels/document.xml.rels"),
    "spreadsheetml.sheet.main+xml": ("xl/", "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                                     "xl/_rels/workbook.xml.rels"),
    "presentationml.presentation.main+xml": ("ppt/", "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml",
                                             "ppt/_rels/presentation.xml.rels"),
}


def macro_enable(src, dst):
    """src (docx/xlsx/pptx) as its macro-enabled form: the main part's macro-enabled content type, a
    vbaProject.bin part and its relationship. The part is an OLE file naming the VBA storage and streams
    and holding a module's source that would write /tmp/tg-macro-ran; it is not compiled VBA (no tool here
    writes MS-OVBA), so it is what the converter must not run, not something that could run."""
    with zipfile.ZipFile(src) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    ct = parts["[Content_Types].xml"].decode()
    for old, (folder, new, rels) in MACRO_TYPES.items():
        if old in ct:
            break
    else:
        sys.exit("macro-enable: %s has no main part this knows" % src)
    ct = ct.replace("application/vnd.openxmlformats-officedocument." + old, new)
    ct = ct.replace("</Types>", '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
    parts["[Content_Types].xml"] = ct.encode()
    rel = ('<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
           'Target="vbaProject.bin"/>')
    old_rels = parts.get(rels, b'<?xml version="1.0" encoding="UTF-8"?><Relationships '
                         b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>').decode()
    parts[rels] = old_rels.replace("</Relationships>", rel + "</Relationships>").encode()
    source = 'Attribute VB_Name = "Module1"\r\nSub AutoOpen()\r\n  Open "/tmp/tg-macro-ran" For Output As #1\r\n' \
             '  Print #1, "MACRORAN"\r\n  Close #1\r\nEnd Sub\r\n'
    names = b"".join(n.encode("utf-16-le") + b"\0\0" for n in ("VBA", "_VBA_PROJECT", "dir", "PROJECT", "PROJECTwm", "Module1"))
    parts[folder + "vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + names + source.encode()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def make_links(path, http_url, file_url):
    """An ODT whose content lives elsewhere: a linked image (http_url) and a section linked to a text file
    (file_url), each with what the document last showed (LINKCACHED) kept in it. A LibreOffice told to
    update links fetches both; the converter must show the cached state and fetch nothing."""
    global OUT
    OUT = os.path.dirname(os.path.abspath(path))
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
          'xmlns:xlink="http://www.w3.org/1999/xlink"')
    body = ('<text:p>Linked content follows 外部リンク</text:p>'
            '<text:p><draw:frame draw:name="pic" text:anchor-type="as-char" svg:width="4cm" svg:height="4cm">'
            '<draw:image xlink:href="%s" xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"/>'
            '</draw:frame></text:p>'
            '<text:section text:name="linked"><text:section-source xlink:href="%s" xlink:type="simple" '
            'text:filter-name="Text (encoded)"/><text:p>LINKCACHED section text</text:p></text:section>'
            '<text:p>End of document</text:p>') % (http_url, file_url)
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content %s office:version="1.2">'
               '<office:body><office:text>%s</office:text></office:body></office:document-content>' % (ns, body))
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    write_zip(os.path.basename(path), [("META-INF/manifest.xml", manifest), ("content.xml", content)],
              stored_first=("mimetype", "application/vnd.oasis.opendocument.text"))


def make_links_docx(path, http_url, file_url=None):
    """The image in Word's terms: a picture whose blip is r:link'ed to http_url (TargetMode External).
    (Word's INCLUDETEXT field would be the file link, but LibreOffice does not update it: the ODT has that.)"""
    global OUT
    OUT = os.path.dirname(os.path.abspath(path))
    pic = ('<w:p><w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing">'
           '<wp:extent cx="1440000" cy="1440000"/><wp:docPr id="1" name="pic"/>'
           '<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
           '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
           '<pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture">'
           '<pic:nvPicPr><pic:cNvPr id="1" name="pic"/><pic:cNvPicPr/></pic:nvPicPr>'
           '<pic:blipFill><a:blip r:link="rIdPic"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>'
           '<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="1440000" cy="1440000"/></a:xfrm>'
           '<a:prstGeom prst="rect"/></pic:spPr></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>')
    body = wpara("Linked content follows 外部リンク") + pic + wpara("LINKCACHED no field") + wpara("End of document")
    docx(os.path.basename(path), body, extra_rels='<Relationship Id="rIdPic" Type="http://schemas.openxmlformats.org/'
         'officeDocument/2006/relationships/image" Target="%s" TargetMode="External"/>' % http_url)


if len(sys.argv) in (4, 5) and sys.argv[1] == "--links":   # links.odt HTTP-URL FILE-URL, links.docx HTTP-URL
    (make_links_docx if sys.argv[2].endswith(".docx") else make_links)(*sys.argv[2:])
    sys.exit(0)

if len(sys.argv) == 4 and sys.argv[1] == "--macro-enable":
    macro_enable(sys.argv[2], sys.argv[3])
    sys.exit(0)
if len(sys.argv) == 3 and sys.argv[1] == "--encrypted":
    cdf_encrypted(sys.argv[2])
    sys.exit(0)
if len(sys.argv) == 3 and sys.argv[1] == "--huge":   # thousands of pages: more than a second of layout
    OUT = os.path.dirname(sys.argv[2])
    docx(os.path.basename(sys.argv[2]), "".join(wpara("Row %d 行 %d" % (i, i), size=24) for i in range(40000)))
    sys.exit(0)
if len(sys.argv) == 3 and sys.argv[1] == "--bench":   # make bench: a 10-page docx, a 5-sheet xlsx, 20 slides
    OUT = sys.argv[2]
    os.makedirs(OUT, exist_ok=True)
    page = wpara(JP, font="MS Gothic", size=32) + wtable([["項目", "", "金額"], ["", "道路", ""], ["合計", "", "1,200"]])
    docx("bench-10p.docx", "".join(page + wpara("page %d" % i) + '<w:p><w:r><w:br w:type="page"/></w:r></w:p>'
                                   for i in range(9)) + page)
    rows = [["行%d" % r, r * 10, "", "備考 %d" % r] for r in range(40)]
    make_xlsx = xlsx
    make_xlsx("bench-5s.xlsx", hidden=False, sheets=[("シート%d" % i, rows) for i in range(5)])
    make_odp(20, "bench-20s.odp")
    sys.exit(0)
make_docx()
xlsx("ledger.xlsx", hidden=True)
xlsx("ledger-all.xlsx", hidden=False)
make_odp()
# an OLE2 file LibreOffice has no reader for (一太郎 is OLE too): blocked with what to ask for
with open(os.path.join(OUT, "memo.jtd"), "wb") as f:
    f.write(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + "JSRV_SegmentList".encode("utf-16-le") + b"\0" * 1024)

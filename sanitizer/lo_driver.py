# lo_driver.py -- inside the converter sandbox: keeps one headless soffice warm and converts documents to PDF + text over UNO.
#
# Embedded into tiergate (lo_conv.c) and run by bubblewrap as /opt/tg/driver.py, next to the
# soffice it starts. It talks to its parent over fd 0/1 with length-prefixed records:
#   parent -> "CONV <ext> <max_pages> <len>\n" + len bytes of the document
#   driver -> "OK <pdf_len> <txt_len>\n" + PDF + UTF-8 text, or "ERR <reason>\n"
# "READY\n" is written once soffice answers. Everything it sends is hostile output to the
# parent: the PDF goes through the sanitizer's PDF worker, the text through its text cleaning.
import os
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue

PIPE = "tgconv"
WORK = "/tmp/work"
EXTS = {"docx", "docm", "doc", "odt", "rtf", "xlsx", "xlsm", "xls", "ods", "pptx", "pptm", "ppt", "odp"}


def prop(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def start_office(soffice):
    args = [soffice, "--headless", "--invisible", "--nologo",
            "--norestore", "--nodefault", "--nolockcheck", "--nofirststartwizard",
            "-env:UserInstallation=file:///tmp/profile",
            "--accept=pipe,name=%s;urp;StarOffice.ComponentContext" % PIPE]
    return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def connect(soffice):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    office = start_office(soffice)
    for _ in range(1200):
        # 81: a new profile was just written and soffice asks to be started again (as the soffice script does)
        if office.poll() == 81:
            office = start_office(soffice)
        elif office.poll() is not None:
            break
        try:
            ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % PIPE)
            return office, ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except Exception:
            time.sleep(0.05)
    raise RuntimeError("soffice did not answer")


def load(desktop, path):
    # never run macros, never update links or OLE objects, never ask anything
    opts = (prop("Hidden", True), prop("ReadOnly", True), prop("MacroExecutionMode", 0),
            prop("UpdateDocMode", 0), prop("Silent", True), prop("RepairPackage", False))
    return desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0, opts)


def kind_of(doc):
    if doc.supportsService("com.sun.star.sheet.SpreadsheetDocument"):
        return "calc"
    if doc.supportsService("com.sun.star.presentation.PresentationDocument"):
        return "impress"
    if doc.supportsService("com.sun.star.text.TextDocument"):
        return "writer"
    return None


def export_pdf(doc, kind, max_pages, out):
    # one page past the limit: the worker then sees more than max_pages and blocks
    fdata = uno.Any("[]com.sun.star.beans.PropertyValue",
                    tuple([prop("PageRange", "1-%d" % (max_pages + 1)), prop("ExportNotes", False),
                           prop("ExportBookmarks", False), prop("ExportLinksRelativeFsys", False)]))
    doc.storeToURL(uno.systemPathToFileUrl(out),
                   (prop("FilterName", kind + "_pdf_Export"), prop("FilterData", fdata)))


def calc_text(doc):
    # each visible sheet through the CSV filter (tab-separated, UTF-8, cells as shown): one call per
    # sheet instead of one UNO round trip per cell (1.3 s -> 15 ms for 5 sheets of 40 rows)
    parts = []
    sheets = doc.getSheets()
    for i in range(sheets.getCount()):
        sheet = sheets.getByIndex(i)
        if not sheet.IsVisible:
            continue
        parts.append("=== %s ===\n" % sheet.getName())
        base = WORK + "/sheet.csv"
        doc.storeToURL(uno.systemPathToFileUrl(base), (
            prop("FilterName", "Text - txt - csv (StarCalc)"),
            prop("FilterOptions", "9,34,76,1,,0,false,true,true,false,false,%d" % (i + 1))))
        for name in os.listdir(WORK):   # LibreOffice names it sheet-<sheet name>.csv
            if name.startswith("sheet") and name.endswith(".csv"):
                with open(os.path.join(WORK, name), encoding="utf-8", errors="replace") as f:
                    for line in f.read().splitlines():
                        parts.append(line.rstrip("\t") + "\n")
                os.unlink(os.path.join(WORK, name))
    return "".join(parts)


def writer_text(doc, out):
    doc.storeToURL(uno.systemPathToFileUrl(out),
                   (prop("FilterName", "Text (encoded)"), prop("FilterOptions", "UTF8,LF")))
    with open(out, "rb") as f:
        return f.read().decode("utf-8", "replace")


def convert(desktop, ext, max_pages, data):
    src, pdf, txt = WORK + "/doc." + ext, WORK + "/out.pdf", WORK + "/out.txt"
    with open(src, "wb") as f:
        f.write(data)
    doc = None
    try:
        try:
            doc = load(desktop, src)
        except Exception as e:
            return None, "LibreOffice could not open the document (%s)" % type(e).__name__
        if doc is None:
            return None, "LibreOffice could not open the document"
        kind = kind_of(doc)
        if kind is None:
            return None, "not a text, spreadsheet or presentation document"
        export_pdf(doc, kind, max_pages, pdf)
        if kind == "calc":
            text = calc_text(doc)
        elif kind == "impress":
            text = ""   # read by the worker from the PDF's text layer (lo_pdftext.c): no UNO round trip per shape
        else:
            text = writer_text(doc, txt)
        with open(pdf, "rb") as f:
            return (f.read(), text.encode("utf-8")), None
    finally:
        if doc is not None:
            try:
                doc.close(True)
            except Exception:
                pass
        for p in (src, pdf, txt):
            try:
                os.unlink(p)
            except OSError:
                pass


def read_exact(stream, n):
    buf = b""
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def serve():
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    os.makedirs(WORK, exist_ok=True)
    office, desktop = connect(sys.argv[1])
    out.write(b"READY\n")
    out.flush()
    while True:
        line = inp.readline()
        if not line:
            break
        f = line.decode("ascii", "replace").split()
        if len(f) != 4 or f[0] != "CONV" or f[1] not in EXTS:
            out.write(b"ERR bad request\n")
            out.flush()
            break
        data = read_exact(inp, int(f[3]))
        result, why = convert(desktop, f[1], int(f[2]), data)
        if result is None:
            out.write(("ERR %s\n" % why).encode("utf-8"))
        else:
            out.write(b"OK %d %d\n" % (len(result[0]), len(result[1])))
            out.write(result[0])
            out.write(result[1])
        out.flush()
    office.kill()


if __name__ == "__main__":
    serve()

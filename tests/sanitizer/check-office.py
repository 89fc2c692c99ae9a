#!/usr/bin/python3
"""check-office.py CORPUS OUT REF.pdf TOFU.pdf -- judges what tiergate-sanitize made of the office corpus.

Verdicts and page counts from the reports; the PDFs with pdffonts, pdfimages, pdftotext and the raw objects
(images only: no fonts, no text, no annotations or actions); the text beside them; the hidden sheet; the macro;
the Japanese page by its pixels against LibreOffice's own render (REF) and a render without CJK fonts (TOFU).
"""
import json
import os
import re
import subprocess
import sys
import tempfile

CORPUS, OUT, REF, TOFU = sys.argv[1:5]
JP = "令和六年度の予算執行について報告します。住民基本台帳"
PAGES = {"report.docx": 2, "report.doc": 2, "report.rtf": 2, "report.odt": 2, "ledger.xlsx": 2, "ledger.xls": 2,
         "ledger.ods": 2, "ledger-all.xlsx": 3, "slides.odp": 2, "slides.pptx": 2, "slides.ppt": 2,
         "macro.odt": 2, "long.docx": 60, "report.docm": 2, "ledger.xlsm": 2, "slides.pptm": 2,
         "embed.odt": 2, "embed.docx": 2}
failed = 0


def result(ok, name, why=""):
    global failed
    print(("ok " if ok else "FAIL ") + name + ("" if ok or not why else ": " + why))
    failed += not ok


def run(*cmd):
    p = subprocess.run(cmd, capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (cmd[0], p.returncode, p.stderr[:200]))
    return p.stdout


def report(name):
    with open(os.path.join(OUT, name + ".report.json")) as f:
        return json.load(f)


def images_only(pdf, pages):
    fonts = run("pdffonts", pdf).decode().splitlines()[2:]
    images = run("pdfimages", "-list", pdf).decode().splitlines()[2:]
    text = run("pdftotext", pdf, "-").decode()
    raw = run("qpdf", "--qdf", "--object-streams=disable", pdf, "-")
    bad = [k for k in (b"/Annots", b"/JavaScript", b"/OpenAction", b"/URI", b"/Font", b"/AA", b"BT")
           if re.search(re.escape(k) + rb"\b", raw)]
    why = []
    if fonts:
        why.append("%d fonts" % len(fonts))
    if len(images) != pages:
        why.append("%d images for %d pages" % (len(images), pages))
    if text.strip():
        why.append("text %r" % text.strip()[:40])
    if bad:
        why.append("objects %s" % bad)
    return why


def gray(pdf, page, dpi=50):
    with tempfile.TemporaryDirectory() as d:
        run("pdftoppm", "-gray", "-r", str(dpi), "-f", str(page), "-l", str(page), pdf, d + "/p")
        data = open(os.path.join(d, os.listdir(d)[0]), "rb").read()
    m = re.match(rb"P5\s+(\d+)\s+(\d+)\s+255\s", data)
    w, h = int(m.group(1)), int(m.group(2))
    return w, h, data[m.end():m.end() + w * h]


def diff(a, b):
    w, h = min(a[0], b[0]), min(a[1], b[1])
    total = 0
    for y in range(h):
        ra, rb = a[2][y * a[0]:y * a[0] + w], b[2][y * b[0]:y * b[0] + w]
        total += sum(abs(x - z) for x, z in zip(ra, rb))
    return total / (w * h)


def blocks(img, n=8):
    """8 x 8 block averages (2 mm at 100 dpi): anti-aliasing and one-pixel snapping even out, glyphs and tofu boxes stay apart."""
    w, h, px = img
    bw, bh = w // n, h // n
    out = bytearray(bw * bh)
    for by in range(bh):
        for bx in range(bw):
            total = 0
            for y in range(by * n, by * n + n):
                total += sum(px[y * w + bx * n:y * w + bx * n + n])
            out[by * bw + bx] = total // (n * n)
    return bw, bh, bytes(out)


def ink(img):
    return sum(1 for v in img[2] if v < 128) / len(img[2])


def check_outputs():
    for name, pages in PAGES.items():
        r = report(name)
        if r.get("action") != "flattened" or r.get("pages") != pages:
            result(False, "%s: flattened to %d pages" % (name, pages),
                   "action %s, pages %s, reason %s" % (r.get("action"), r.get("pages"), r.get("reason")))
            continue
        why = images_only(os.path.join(OUT, name + ".pdf"), pages)
        result(not why, "%s: flattened to %d pages, images only (no fonts, text, annotations)" % (name, pages),
               "; ".join(why))


def text_of(name):
    with open(os.path.join(OUT, name + ".txt"), encoding="utf-8") as f:
        return f.read()


def check_texts():
    for name in ("ledger.xlsx", "ledger.xls", "ledger.ods"):
        t = text_of(name)
        want = "=== 予算 ===\n科目\t\t金額\n道路\t\t1200\n\t橋\t300\n合計\t\t1500\n=== Notes ===\nnote\t外部リンクなし\n"
        result(t == want, "%s: the text beside holds the cells in row/column order under sheet names" % name,
               repr(t[:160]))
        result("SECRET" not in t and "Secret" not in t, "%s: the hidden sheet is absent from the text" % name)
    t = text_of("ledger-all.xlsx")
    result("=== Secret ===" in t and "SECRETMARKER" in t, "control: the same sheet visible is in the text", repr(t[-80:]))
    for name in ("report.docx", "report.doc", "report.rtf", "report.odt"):
        t = text_of(name)
        result(JP in t and "Second page" in t, "%s: the text beside holds the Japanese paragraph" % name, repr(t[:80]))
    for name in ("slides.odp", "slides.pptx", "slides.ppt"):
        t = text_of(name)
        result("=== slide 2 ===" in t and JP in t, "%s: the text beside holds each slide's text" % name, repr(t[:80]))
    t = text_of("macro.odt")
    result("MACRORAN" not in t and JP in t, "macro.odt: the macro never ran (its MACRORAN is in no output)", repr(t[-60:]))


def check_hidden_sheet():
    hidden = os.path.join(OUT, "ledger.xlsx.pdf")
    shown = os.path.join(OUT, "ledger-all.xlsx.pdf")
    secret = gray(shown, 3)
    pages = [gray(hidden, p) for p in (1, 2)]
    d = min(diff(secret, p) for p in pages)
    result(ink(secret) > 0.02 and d > 10,
           "hidden sheet not rendered: the visible-sheet control's page %d (ink %.3f) matches no page (min diff %.1f)"
           % (3, ink(secret), d), "ink %.3f diff %.1f" % (ink(secret), d))


def check_macros():
    """Macro-enabled forms (and the Basic macro document): pages only, the macro never run, a finding says so."""
    for name in ("report.docm", "ledger.xlsm", "slides.pptm", "macro.odt"):
        r = report(name)
        result(any("macros removed" in f for f in r.get("findings", [])), "%s: the findings say its macros were removed" % name,
               repr(r.get("findings")))
        t = text_of(name)
        result("MACRORAN" not in t, "%s: no macro output in the text beside the pages" % name)
    r = report("report.docx")
    result(not any("macros" in f for f in r.get("findings", [])), "control: a document without macros has no such finding",
           repr(r.get("findings")))


def dark(pdf, page):
    return sum(1 for v in gray(pdf, page, dpi=30)[2] if v < 100)


def check_embedded():
    """An embedded Calc object (an ODS inside the ODT, an OLE object with its EMF in the docx): drawn on its
    page as printed (its dark cells), never kept; a finding says so. Control: the same page without it."""
    base = dark(os.path.join(OUT, "report.docx.pdf"), 2)
    for name in ("embed.odt", "embed.docx"):
        r = report(name)
        ink = dark(os.path.join(OUT, name + ".pdf"), 2)
        result(ink > base + 1000, "%s: the embedded object is drawn on its page (dark pixels %d vs %d without)" %
               (name, ink, base))
        result(any("embedded objects" in f for f in r.get("findings", [])), "%s: the findings name the embedded object" % name,
               repr(r.get("findings")))


def check_japanese():
    ours = blocks(gray(os.path.join(OUT, "report.docx.pdf"), 1, 100))
    ref = blocks(gray(REF, 1, 100))
    tofu = blocks(gray(TOFU, 1, 100))
    d_ref, d_tofu, d_ctl = diff(ours, ref), diff(ours, tofu), diff(ref, tofu)
    result(d_ref * 2 < d_tofu and d_ctl > 1.0,   # at least twice as close to the real glyphs as to tofu
           "Japanese is drawn, not tofu: page 1 is %.2f from LibreOffice's own render, %.2f from a render without CJK "
           "fonts" % (d_ref, d_tofu), "ref %.2f tofu %.2f ref-vs-tofu %.2f" % (d_ref, d_tofu, d_ctl))


def keep_pages():
    """TG_KEEP=DIR: copies the three page renders for a look (debugging only)."""
    keep = os.environ.get("TG_KEEP")
    if keep:
        for n, pdf in (("ours", os.path.join(OUT, "report.docx.pdf")), ("ref", REF), ("tofu", TOFU)):
            run("pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-png", pdf, os.path.join(keep, n))


def main():
    keep_pages()
    for step in (check_outputs, check_texts, check_hidden_sheet, check_macros, check_embedded, check_japanese):
        try:
            step()
        except Exception as e:   # a missing file or a tool's failure is a FAIL of that step, not a crash
            result(False, step.__name__, "%s: %s" % (type(e).__name__, e))
    r = report("memo.jtd")
    result(r.get("action") == "blocked" and "ask the sender" in (r.get("reason") or ""),
           "一太郎 (.jtd) is blocked with what to ask the sender for", r.get("reason") or "")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

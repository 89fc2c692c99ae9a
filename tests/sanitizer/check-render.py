#!/usr/bin/env python3
"""check-render.py -- judges the flattened render cases (make-render-cases.py): squares and the inline image in place.

Usage: check-render.py OUTDIR   (OUTDIR holds NAME.pdf flattened by tiergate-sanitize)
Prints "ok ..." / "FAIL ..." lines for tests/run.sh.
"""
import os
import subprocess
import sys
import tempfile


def render(pdf):
    """Gray pixels of every page at 72 dpi (1 px = 1 pt), as a list of (width, height, bytes)."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", "72", "-gray", pdf, os.path.join(tmp, "p")], check=True)
        pages = []
        for name in sorted(os.listdir(tmp), key=lambda n: int(n.rsplit("-", 1)[1].split(".")[0])):
            data = open(os.path.join(tmp, name), "rb").read()
            parts = data.split(b"\n", 3)   # P5, "w h", maxval, pixels
            w, h = map(int, parts[1].split())
            pages.append((w, h, parts[3]))
        return pages


def pixel(page, x, y_pdf):
    """Gray value at PDF point (x, y) of a 300 pt page (PDF y grows upwards)."""
    w, h, px = page
    return px[(h - 1 - y_pdf) * w + x]


def expect(name, cond, detail):
    print(("ok " if cond else "FAIL ") + name + ("" if cond else ": " + detail))


def main():
    out = sys.argv[1]

    def page_of(name, i=0):
        path = os.path.join(out, name)
        if not os.path.exists(path):
            expect(f"{name}: flattened", False, "no output")
            return None
        return render(path)[i]

    for name, what in (("inline-raw.pdf", "uncompressed content"), ("inline-flate.pdf", "Flate content")):
        p = page_of(name)
        if p:
            expect(f"inline Flate image in {what}: the image is drawn", abs(pixel(p, 240, 240) - 128) < 16,
                   f"gray {pixel(p, 240, 240)} at the image, expected ~128")
            expect(f"inline Flate image in {what}: what follows EI is drawn", pixel(p, 40, 40) < 40,
                   f"gray {pixel(p, 40, 40)} at the square after the image")
    for name, what in (("truncated.pdf", "truncated Flate content: what was inflated is drawn"),
                       ("bad-adler.pdf", "Flate content with a wrong checksum is drawn"),
                       ("trailing.pdf", "Flate content with bytes after the stream is drawn")):
        p = page_of(name)
        if p:
            expect(what, pixel(p, 40, 40) < 40 and pixel(p, 150, 150) > 200,
                   f"gray {pixel(p, 40, 40)} at the square, {pixel(p, 150, 150)} on the paper")
    pages = render(os.path.join(out, "pages.pdf")) if os.path.exists(os.path.join(out, "pages.pdf")) else []
    wrong = [i + 1 for i, p in enumerate(pages) if pixel(p, 40 + 25 * i, 40 + 25 * i) > 40 or
             (i > 0 and pixel(p, 40, 40) < 200)]
    expect("9 pages rendered on several threads come out in order", len(pages) == 9 and not wrong,
           f"{len(pages)} pages, wrong squares on pages {wrong}")


if __name__ == "__main__":
    main()

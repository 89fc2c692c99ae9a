#!/usr/bin/env python3
"""make-render-cases.py -- PDFs that exercise the Flate decoder (sanitizer/inflate.c) and the page threads.

Each PDF draws black squares whose positions the test checks in the flattened
output; the comment on each case says what the decoder must get right.
Usage: make-render-cases.py DIR
"""
import os
import sys
import zlib


def pdf(pages, extra_objs=None):
    """pages: list of (content bytes, compress?) -> bytes of a PDF with a correct xref."""
    objs = {}
    n_pages = len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n_pages))
    objs[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objs[2] = f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode()
    for i, (content, mode) in enumerate(pages):
        page, cont = 3 + 2 * i, 4 + 2 * i
        objs[page] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] "
                      f"/Contents {cont} 0 R /Resources << >> >>").encode()
        if mode == "raw":
            body, filt = content, b""
        else:
            body = zlib.compress(content)
            if mode == "truncated":      # the end of the drawing is lost: what was inflated still renders
                body = body[: len(body) * 2 // 3]
            elif mode == "bad-adler":    # checksum wrong: zlib's "incorrect data check", ignored by MuPDF
                body = body[:-1] + bytes([body[-1] ^ 0xFF])
            elif mode == "trailing":     # bytes after the zlib stream, inside /Length
                body = body + b"\r\n%garbage after the stream\r\n"
            filt = b" /Filter /FlateDecode"
        objs[cont] = b"<< /Length %d%s >>\nstream\n" % (len(body), filt) + body + b"\nendstream"
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objs):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for num in sorted(objs):
        out += b"%010d 00000 n \n" % offsets[num]
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def square(x, y):
    return b"0 0 0 rg %d %d 40 40 re f\n" % (x, y)


def inline_flate_image():
    """An 8x8 gray inline image, Flate-compressed, then a square drawn after EI."""
    pixels = bytes([0x80] * 64)
    data = zlib.compress(pixels)
    return (b"q 80 0 0 80 200 200 cm\nBI /W 8 /H 8 /CS /G /BPC 8 /F /Fl ID\n" + data +
            b"\nEI Q\n" + square(20, 20))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    cases = {
        # the inline image's data lies inside the page's content: only its own bytes may be read
        "inline-raw.pdf": [(inline_flate_image(), "raw")],
        "inline-flate.pdf": [(inline_flate_image(), "flate")],
        # a square early in the content survives; one drawn after the cut does not matter
        "truncated.pdf": [(square(20, 20) + b"% padding\n" * 200 + square(200, 200), "truncated")],
        "bad-adler.pdf": [(square(20, 20), "bad-adler")],
        "trailing.pdf": [(square(20, 20), "trailing")],
        # pages in order across the render threads: page i has its square at a different place
        "pages.pdf": [(square(20 + 25 * i, 20 + 25 * i), "flate") for i in range(9)],
    }
    for name, pages in cases.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(pdf(pages))


if __name__ == "__main__":
    main()

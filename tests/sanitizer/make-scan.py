#!/usr/bin/python3
"""make-scan.py OUT.pdf [PAGES] [DPI]: a scanned-document PDF for the bench -- one photo-like JPEG per page.

Each page is synthesised (nothing downloaded): paper tint with scanner grain, lines of
"text" strokes, and a photograph-like block (gradients, blurred shapes, noise), saved as
a JPEG at DPI and put on a US Letter page by img2pdf, as a scanner's PDF would be.
"""
import io
import random
import sys

import img2pdf
from PIL import Image, ImageDraw, ImageFilter


def page(n, dpi):
    rnd = random.Random(n)
    w, h = int(8.5 * dpi), int(11 * dpi)
    grain = Image.effect_noise((w, h), 10).point(lambda v: 235 + (v - 128) // 6)
    paper = Image.merge("RGB", (grain, grain.point(lambda v: v - 3), grain.point(lambda v: v - 10)))
    d = ImageDraw.Draw(paper)
    y = int(0.8 * dpi)
    while y < h - int(0.8 * dpi):   # lines of words: dark strokes of varying width
        x = int(0.8 * dpi)
        while x < w - int(1.2 * dpi):
            ww = rnd.randint(dpi // 8, dpi // 2)
            d.rectangle([x, y, x + ww, y + dpi // 12], fill=(rnd.randint(20, 60),) * 3)
            x += ww + dpi // 10
        y += dpi // 5 if rnd.random() > 0.1 else dpi // 2
    pw, ph = w // 2, h // 3   # a photograph on the page
    photo = Image.merge("RGB", [Image.linear_gradient("L").rotate(rnd.randint(0, 359)).resize((pw, ph))
                                for _ in range(3)])
    pd = ImageDraw.Draw(photo)
    for _ in range(30):
        x0, y0 = rnd.randint(0, pw), rnd.randint(0, ph)
        r = rnd.randint(10, pw // 4)
        pd.ellipse([x0 - r, y0 - r, x0 + r, y0 + r], fill=tuple(rnd.randint(0, 255) for _ in range(3)))
    photo = photo.filter(ImageFilter.GaussianBlur(dpi / 40))
    noise = Image.effect_noise((pw, ph), 30).convert("RGB")
    photo = Image.blend(photo, noise, 0.12)
    paper.paste(photo, (int(0.8 * dpi), h // 3))
    buf = io.BytesIO()
    paper.save(buf, "JPEG", quality=85, dpi=(dpi, dpi))
    return buf.getvalue()


def main():
    out = sys.argv[1]
    pages = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    dpi = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    with open(out, "wb") as f:
        f.write(img2pdf.convert([page(n, dpi) for n in range(pages)]))


if __name__ == "__main__":
    main()

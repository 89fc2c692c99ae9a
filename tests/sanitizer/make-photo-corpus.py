#!/usr/bin/env python3
"""make-photo-corpus.py OUTDIR -- HEIC/HEIF and WebP test images, made now from generated pixels.

Sources are PNGs written here (a photo-like gradient, a drawing, a drawing with alpha); Debian's own
encoders make the rest: heif-enc (libheif-examples), cwebp and webpmux (webp), cjpeg (libjpeg-turbo-progs,
a JPEG carrying EXIF with a GPS marker for heif-enc to copy). Broken and bomb variants are cut or patched
from those. Nothing is downloaded; every file is described in OUTDIR/corpus.txt.
"""
import os
import struct
import subprocess
import sys
import zlib

OUT = sys.argv[1]
MARK = b"TGSECRETGPS35.6895N139.6917E"


def png(path, w, h, px, alpha=False):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    n = 4 if alpha else 3
    raw = b"".join(b"\0" + bytes(px[y * w * n:(y + 1) * w * n]) for y in range(h))
    hdr = struct.pack(">IIBBBBB", w, h, 8, 6 if alpha else 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", hdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def ppm(path, w, h, px):
    with open(path, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (w, h) + bytes(px))


def photo(w, h):   # smooth gradients (what a camera gives): lossy codecs keep them close
    px = []
    for y in range(h):
        for x in range(w):
            px += [(x * 255) // (w - 1), (y * 255) // (h - 1), (128 + (x + y) // 4) % 256]
    return px


def drawing(w, h, alpha=False):   # flat blocks of few colours, a transparent half
    px = []
    for y in range(h):
        for x in range(w):
            c = [(200, 30, 30), (30, 160, 60), (20, 40, 200), (250, 250, 250)][(x // 25 + y // 25) % 4]
            px += list(c) + ([255 if x < w // 2 else 96] if alpha else [])
    return px


def run(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def exif_jpeg(src_ppm, path):
    """cjpeg's JPEG with an APP1 Exif segment (a GPS-like marker in an ASCII tag) right after SOI."""
    run("cjpeg", "-quality", "95", "-outfile", path + ".plain", src_ppm)
    jpg = open(path + ".plain", "rb").read()
    tiff = b"II*\x00\x08\x00\x00\x00" + struct.pack("<H", 1) + struct.pack("<HHII", 0x010E, 2, len(MARK) + 1, 26) + \
        b"\x00\x00\x00\x00" + MARK + b"\x00"
    app1 = b"Exif\x00\x00" + tiff
    with open(path, "wb") as f:
        f.write(jpg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpg[2:])
    os.unlink(path + ".plain")


def patch(src, dst, find, offset, data):
    b = bytearray(open(src, "rb").read())
    at = b.find(find)
    assert at >= 0, (src, find)
    b[at + offset:at + offset + len(data)] = data
    open(dst, "wb").write(bytes(b))


def main():
    os.makedirs(OUT, exist_ok=True)
    o = lambda n: os.path.join(OUT, n)
    png(o("photo.png"), 320, 240, photo(320, 240))
    ppm(o("photo.ppm"), 320, 240, photo(320, 240))
    png(o("drawing.png"), 200, 150, drawing(200, 150))
    png(o("alpha.png"), 200, 150, drawing(200, 150, True), alpha=True)
    png(o("large.png"), 1100, 1000, list(bytes([90, 140, 200]) * (1100 * 1000)))   # 1.1 MP: over max_megapixels = 1
    run("heif-enc", "-q", "50", o("large.png"), "-o", o("large.heic"))
    run("cwebp", "-quiet", "-q", "50", o("large.png"), "-o", o("large.webp"))
    exif_jpeg(o("photo.ppm"), o("photo-exif.jpg"))
    run("heif-enc", "-q", "92", o("photo-exif.jpg"), "-o", o("photo.heic"))
    run("heif-enc", "-q", "92", o("alpha.png"), "-o", o("alpha.heic"))
    run("cwebp", "-quiet", "-q", "92", o("photo.png"), "-o", o("photo-plain.webp"))
    with open(o("exif.bin"), "wb") as f:
        f.write(b"Exif\x00\x00II*\x00" + MARK)
    run("webpmux", "-set", "exif", o("exif.bin"), o("photo-plain.webp"), "-o", o("photo.webp"))
    run("cwebp", "-quiet", "-lossless", o("drawing.png"), "-o", o("drawing.webp"))
    run("cwebp", "-quiet", "-lossless", "-exact", o("alpha.png"), "-o", o("alpha.webp"))
    for name in ("photo.heic", "photo.webp"):
        b = open(o(name), "rb").read()
        open(o("truncated-" + name), "wb").write(b[:len(b) * 6 // 10])
    # damaged: the decoder configuration (hvcC: the VPS/SPS/PPS NAL units) overwritten with noise
    b = bytearray(open(o("photo.heic"), "rb").read())
    m = b.find(b"hvcC") + 4
    b[m + 22:m + 90] = bytes((i * 37 + 11) % 256 for i in range(68))
    open(o("damaged.heic"), "wb").write(bytes(b))
    # bombs: the container claims 30000x30000 (ispe box) / 16384x16384 (VP8L header); the data is small
    patch(o("photo.heic"), o("bomb.heic"), b"ispe", 8, struct.pack(">II", 30000, 30000))
    bits = (16383 | (16383 << 14)).to_bytes(4, "little")
    patch(o("drawing.webp"), o("bomb.webp"), b"VP8L", 9, bits[:3] + bytes([(bits[3] & 0x0f) | 0x10]))
    with open(o("corpus.txt"), "w") as f:
        f.write("photo.heic: HEIC q92 of photo.png, with EXIF (marker %s)\n" % MARK.decode())
        f.write("photo.webp: lossy WebP q92 of photo.png, EXIF chunk added by webpmux\n")
        f.write("drawing.webp, alpha.webp: lossless WebP (PNG out); alpha.heic: HEIC with alpha\n")
        f.write("large.heic, large.webp: 1100x1000, one colour (over max_megapixels = 1)\n")
        f.write("truncated-*, damaged.heic, bomb.*: cut, noise in the hvcC box, dimensions patched\n")


main()

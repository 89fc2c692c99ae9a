#!/usr/bin/env python3
"""check-photo.py CORPUS OUT -- judges tiergate-sanitize's HEIC/HEIF and WebP results (make-photo-corpus.py).

Reads the reports, decodes every output independently of tiergate (djpeg for JPEG, zlib for PNG) and
compares it with the source pixels the corpus was made from: same dimensions, close pixels (exact for
lossless WebP), alpha over white, no metadata bytes left; broken files and bombs blocked with a reason.
"""
import json
import os
import struct
import subprocess
import sys
import zlib

C, OUT = sys.argv[1], sys.argv[2]
MARK = b"TGSECRETGPS"
failed = False


def result(ok, name, why=""):
    global failed
    print(("ok " if ok else "FAIL ") + name + ("" if ok or not why else ": " + why))
    failed |= not ok


def report(name):
    with open(os.path.join(OUT, name + ".report.json")) as f:
        return json.load(f)


def read_png(data):
    """RGB rows of a non-interlaced 8-bit PNG (grey, RGB, RGBA, palette): (w, h, [r,g,b,...])."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, idat, plte = 8, b"", b""
    while at < len(data):
        n, t = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + n]
        if t == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0, (depth, interlace)
        elif t == b"PLTE":
            plte = body
        elif t == b"IDAT":
            idat += body
        at += 12 + n
    bpp = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    raw, stride, prev, rows = zlib.decompress(idat), w * bpp, bytearray(w * bpp), []
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pred = [0, a, b, (a + b) // 2, a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else
                    b if abs(p - b) <= abs(p - c) else c][f]
            line[i] = (line[i] + pred) & 255
        rows.append(bytes(line))
        prev = line
    px = []
    for line in rows:
        for x in range(w):
            s = line[x * bpp:(x + 1) * bpp]
            px += list(plte[s[0] * 3:s[0] * 3 + 3]) if ctype == 3 else [s[0]] * 3 if ctype in (0, 4) else list(s[:3])
    return w, h, px, (ctype in (4, 6))


def read_jpeg(path):
    ppm = subprocess.run(["djpeg", "-pnm", path], capture_output=True, check=True).stdout
    parts = ppm.split(maxsplit=4)
    w, h = int(parts[1]), int(parts[2])
    body = parts[4]
    px = list(body) if parts[0] == b"P6" else [v for g in body for v in (g, g, g)]
    return w, h, px


def source(name):
    w, h, px, alpha = read_png(open(os.path.join(C, name), "rb").read())
    if alpha:   # the expected result: over white, as a viewer shows it
        raw = open(os.path.join(C, name), "rb").read()
        return w, h, composite(raw)
    return w, h, px


def composite(raw):
    # re-read with the alpha channel kept
    at, idat = 8, b""
    while at < len(raw):
        n, t = struct.unpack(">I4s", raw[at:at + 8])
        if t == b"IHDR":
            w, h = struct.unpack(">II", raw[at + 8:at + 16])
        if t == b"IDAT":
            idat += raw[at + 8:at + 8 + n]
        at += 12 + n
    d, px = zlib.decompress(idat), []   # make-photo-corpus writes filter 0 rows
    for y in range(h):
        line = d[y * (w * 4 + 1) + 1:(y + 1) * (w * 4 + 1)]
        for x in range(w):
            r, g, b, a = line[x * 4:x * 4 + 4]
            px += [(v * a + 255 * (255 - a) + 127) // 255 for v in (r, g, b)]
    return px


def mean_diff(a, b):
    return sum(abs(x - y) for x, y in zip(a, b)) / max(1, len(a))


def judge(name, src, kind, limit):
    r = report(name)
    out = os.path.join(OUT, r.get("output_name") or "-")
    ok = r["action"] == "reencoded" and os.path.exists(out) and r.get("output_type") == "image/" + kind
    result(ok, "%s: re-encoded as %s" % (name, kind.upper()), "%s %s %s" % (r["action"], r.get("reason"), r.get("output_name")))
    if not ok:
        return
    sw, sh, spx = source(src)
    data = open(out, "rb").read()
    w, h, px = read_jpeg(out) if kind == "jpeg" else read_png(data)[:3]
    result((w, h) == (sw, sh), "%s: same dimensions as its source (%dx%d)" % (name, sw, sh), "%dx%d" % (w, h))
    if (w, h) == (sw, sh):
        d = mean_diff(px, spx)
        result(d <= limit, "%s: pixels close to the source (mean difference %.2f <= %s)" % (name, d, limit), "%.2f" % d)
    result(MARK not in data and b"Exif" not in data, "%s: no EXIF/GPS bytes in the output" % name)
    result(any("decoded to pixels" in f for f in r["findings"]), "%s: the finding says it was decoded to pixels" % name)


def blocked(name, *words):
    r = report(name)
    why = r.get("reason") or ""
    ok = r["action"] == "blocked" and all(any(w in why for w in alt.split("|")) for alt in words)
    result(ok, "%s: blocked with a reason (%s)" % (name, " + ".join(words)), "%s: %s" % (r["action"], why))
    result(not any(f.startswith(name.rsplit(".", 1)[0] + ".") and not f.endswith(".json") for f in os.listdir(OUT)),
           "%s: no output written" % name)


def main():
    judge("photo.heic", "photo.png", "jpeg", 4)
    judge("photo.webp", "photo.png", "jpeg", 4)
    judge("drawing.webp", "drawing.png", "png", 0)
    judge("alpha.webp", "alpha.png", "png", 1)
    judge("alpha.heic", "alpha.png", "jpeg", 8)
    result(MARK in open(os.path.join(C, "photo.heic"), "rb").read() and
           MARK in open(os.path.join(C, "photo.webp"), "rb").read(), "control: the inputs carry the EXIF marker")
    blocked("truncated-photo.heic", "HEIF image could not be decoded")
    blocked("truncated-photo.webp", "WebP image could not be decoded")
    blocked("damaged.heic", "HEIF image could not be decoded")
    blocked("bomb.heic", "30000x30000", "pixel limit|maximum image size")
    blocked("bomb.webp", "16384x16384", "pixel limit")
    return 1 if failed else 0


sys.exit(main())

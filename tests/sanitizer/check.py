#!/usr/bin/env python3
# check.py -- judges tiergate-sanitize's results on the corpus with real tools; prints "ok NAME" / "FAIL NAME: why".
#
#   tests/sanitizer/check.py CORPUS_DIR OUT_DIR
#
# Verdicts against expected.txt; text outputs against expected-text.txt; every
# flattened PDF: qpdf --check, no fonts (pdffonts), one image per page (pdfimages),
# the original's page count, no active content (qpdf --show-object and our own
# scanner), pixels within a tolerance of a pdftoppm rendering of the original. Every
# rebuilt archive: each kept member is in the ZIP with exactly its sanitized bytes,
# and chosen members (ARCHIVE_MEMBERS) are judged like files of their own.
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile

CORPUS, OUT = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("BIN", "build/bin")
failures = 0


def ok(name):
    print("ok " + name)


def fail(name, why):
    global failures
    failures += 1
    print("FAIL %s: %s" % (name, why))


def tool(*args):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def report(name):
    with open(os.path.join(OUT, name + ".report.json"), encoding="utf-8") as f:
        return json.load(f)


def check_verdicts():
    reports = {}
    for line in open(os.path.join(HERE, "expected.txt"), encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        fields = re.split(r"\s{2,}", line.rstrip("\n"))
        name, action, reason, findings = (fields + ["-", "-"])[:4]
        try:
            r = report(name)
        except (OSError, ValueError) as e:
            fail("verdict " + name, "no report: %s" % e)
            continue
        reports[name] = r
        why = []
        if r["action"] != action:
            why.append("action %s, expected %s" % (r["action"], action))
        if reason != "-" and reason not in (r["reason"] or ""):
            why.append("reason %r lacks %r" % (r["reason"], reason))
        for want in ([] if findings == "-" else findings.split(",")):
            if not any(want in f for f in r["findings"]):
                why.append("finding %r missing from %s" % (want, r["findings"]))
        if r["action"] != "blocked" and not os.path.exists(os.path.join(OUT, r["output_name"] or "?")):
            why.append("no output file")
        if r["action"] == "blocked" and r["output_name"]:
            why.append("blocked but has an output")
        if why:
            fail("verdict " + name, "; ".join(why))
        else:
            ok("verdict %s: %s" % (name, action))
    return reports


def check_texts():
    for line in open(os.path.join(HERE, "expected-text.txt"), encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        out, want = line.rstrip("\n").split("|", 1)
        want = want.encode().decode("unicode_escape").encode("latin-1").decode("utf-8") if "\\x" in want else want
        try:
            text = open(os.path.join(OUT, out), encoding="utf-8").read()
        except (OSError, UnicodeDecodeError) as e:
            fail("text " + out, str(e))
            continue
        if want.startswith("!"):
            good = want[1:] not in text
        else:
            good = want in text
        label = "text %s %s %r" % (out, "lacks" if want.startswith("!") else "has", want.lstrip("!")[:30])
        ok(label) if good else fail(label, "got %r" % text[:200])


def pgm_pages(pdf, prefix):
    for f in os.listdir(OUT):
        if f.startswith(os.path.basename(prefix) + "-"):
            os.unlink(os.path.join(OUT, f))
    tool("pdftoppm", "-r", "20", "-gray", pdf, prefix)
    pages = sorted(f for f in os.listdir(OUT) if f.startswith(os.path.basename(prefix) + "-"))
    return [open(os.path.join(OUT, p), "rb").read() for p in pages]


def pgm_parse(data):
    parts = data.split(maxsplit=4)
    return int(parts[1]), int(parts[2]), parts[4]


def pixel_diff(orig, flat):
    a_pages, b_pages = pgm_pages(orig, os.path.join(OUT, "_ref")), pgm_pages(flat, os.path.join(OUT, "_flat"))
    if len(a_pages) != len(b_pages) or not a_pages:
        return None, "rendered %d vs %d pages" % (len(a_pages), len(b_pages))
    worst = 0.0   # worst page's mean abs difference, relative to how much ink the original page has
    for a, b in zip(a_pages, b_pages):
        (aw, ah, ap), (bw, bh, bp) = pgm_parse(a), pgm_parse(b)
        if abs(aw - bw) > 1 or abs(ah - bh) > 1:
            return None, "page size %dx%d vs %dx%d" % (aw, ah, bw, bh)
        w, h = min(aw, bw), min(ah, bh)
        # differences of a few levels are JPEG noise on white paper, not content
        total = sum(max(0, abs(ap[y * aw + x] - bp[y * bw + x]) - 4) for y in range(h) for x in range(w))
        ink = sum(255 - ap[y * aw + x] for y in range(h) for x in range(w))
        worst = max(worst, total / max(ink, 4 * w * h))   # floor: pages with almost no ink
    return worst, None


ACTIVE = re.compile(rb"/(JavaScript|JS|OpenAction|AA|Launch|URI|EmbeddedFiles?|AcroForm|XFA|RichMedia|Annots|Font)\b")


def check_pdf(name, r):
    return judge_pdf("pdf " + name, os.path.join(OUT, r["output_name"]), os.path.join(CORPUS, name), r["pages"])


def judge_pdf(label, flat, orig, pages):
    why = []
    rc, out = tool("qpdf", "--check", flat)
    if rc != 0:
        why.append("qpdf --check: " + out.strip().splitlines()[-1])
    rc, out = tool("pdffonts", flat)
    if len(out.strip().splitlines()) != 2:
        why.append("fonts present: " + out)
    rc, npages = tool("qpdf", "--show-npages", orig)
    rc2, nflat = tool("qpdf", "--show-npages", flat)
    if npages.strip() != nflat.strip() or int(nflat or 0) != pages:
        why.append("pages %s vs original %s" % (nflat.strip(), npages.strip()))
    rc, out = tool("pdfimages", "-list", flat)
    images = len(out.strip().splitlines()) - 2
    if images != int(nflat or -1):
        why.append("%d images for %s pages" % (images, nflat.strip()))
    qdf = subprocess.run(["qpdf", "--qdf", "--object-streams=disable", flat, "-"], stdout=subprocess.PIPE).stdout
    hits = set(m.decode() for m in ACTIVE.findall(qdf))
    if hits:
        why.append("active content left: %s" % sorted(hits))
    worst, err = pixel_diff(orig, flat)
    if err:
        why.append(err)
    elif worst > 0.35:   # a blank page scores 1.0; a faithful rendering ~0.05-0.2
        why.append("pixels differ from the original's rendering: %.2f of its ink" % worst)
    if why:
        fail(label, "; ".join(why))
    else:
        ok("%s: qpdf check, no fonts/actions, %s pages = %s images, pixel diff %.2f of the ink" % (label, nflat.strip(), images, worst))
    return flat


def check_rescan(flats):
    """our own scanner over the outputs: no finding may remain."""
    rescan = os.path.join(OUT, "_rescan")
    subprocess.run([os.path.join(BIN, "tiergate-sanitize"), "--out", rescan] + flats, stdout=subprocess.DEVNULL)
    for f in flats:
        r = json.load(open(os.path.join(rescan, os.path.basename(f) + ".report.json")))
        label = "rescan of flattened " + os.path.basename(f)
        ok(label) if r["action"] == "flattened" and not r["findings"] else fail(label, str(r["findings"]))


def check_images(reports):
    for name, marker in (("photo.jpg", b"SECRET-EXIF"), ("scan.png", b"SECRET-PNG"), ("polyglot.pdf", b"PK\x03\x04"),
                         ("dot.gif", b"SECRET-GIF"), ("photo-polyglot.jpg", b"PK\x03\x04")):
        r = reports.get(name)
        if not r or not r["output_name"]:
            continue
        data = open(os.path.join(OUT, r["output_name"]), "rb").read()
        label = "%s output carries no %r" % (name, marker.decode("latin-1"))
        ok(label) if marker not in data and b"hidden.txt" not in data else fail(label, "marker found")
    for name in ("photo.jpg", "scan.png", "gradient.bmp"):
        r = reports.get(name)
        if not r or not r["output_name"]:
            continue
        rc, a = tool("file", "-b", os.path.join(CORPUS, name))
        rc, b = tool("file", "-b", os.path.join(OUT, r["output_name"]))
        # JPEG: the last WxH (JFIF says "density 1x1" first); others: the first (BMP adds its resolution after)
        dims = lambda s: (re.findall(r"(\d+) ?x ?(\d+)", s) or [None])[-1 if s.startswith("JPEG") else 0]
        da, db = dims(a), dims(b)
        # a photograph stays a JPEG (PNG would be several times larger); other images become PNG
        want = "JPEG" if a.startswith("JPEG") else "PNG"
        label = "%s re-encoded at its own size as %s" % (name, want)
        if da and db and da == db and b.startswith(want) and r["output_name"].endswith(".jpg" if want == "JPEG" else ".png"):
            ok(label + " (%sx%s)" % db)
        else:
            fail(label, "%s -> %s (%s)" % (a.strip(), b.strip(), r["output_name"]))


def member_path(m):
    """where a member's output sits in the rebuilt ZIP: its directory, its own output name."""
    d = os.path.dirname(m["name"])
    return (d + "/" if d else "") + m["output_name"]


def check_archive(name, r):
    """every member the report keeps is in the ZIP with exactly its sanitized bytes; nothing else is."""
    label = "archive %s: members are the sanitized outputs" % name
    try:
        z = zipfile.ZipFile(os.path.join(OUT, r["output_name"]))
    except (OSError, zipfile.BadZipFile) as e:
        fail(label, str(e))
        return None
    kept = [m for m in r.get("members", []) if m["action"] != "blocked"]
    want = {member_path(m): m for m in kept}
    why = []
    if sorted(want) != sorted(z.namelist()):
        why.append("zip has %s, report keeps %s" % (sorted(z.namelist()), sorted(want)))
    for p, m in want.items():
        if p in z.namelist() and hashlib.sha256(z.read(p)).hexdigest() != m["sha256_out"]:
            why.append("%s differs from the member's sanitized output" % p)
    if any(p.startswith("/") or ".." in p.split("/") for p in z.namelist()):
        why.append("unsafe path in %s" % z.namelist())
    fail(label, "; ".join(why)) if why else ok(label + " (%d kept)" % len(kept))
    return z


# (archive in the corpus, member path in the rebuilt ZIP, what it must be)
ARCHIVE_MEMBERS = [
    ("bundle.tar.gz", "docs/report.pdf", "pdf:plain.pdf"),
    ("bundle.tar.gz", "docs/report.docx.txt", "text:" + "三層分離の無害化テスト"),
    ("bundle.tar.gz", "tool.exe", "absent"),
    ("links.tar", "readme.txt", "text:読んでください"),
    ("links.tar", "escape.txt", "text:tar slip"),
    ("links.tar", "passwd", "absent"),
    ("links.tar", "copy.txt", "absent"),
    ("links.tar", "pipe", "absent"),
    ("pax-long.tar", "資料/" + "long-directory-name-" * 8 + "/会議メモ.txt", "text:長い名前のメモ"),
    ("nested-zip.tar.gz", "inner.zip", "zip:inner.pdf=pdf:plain.pdf,note.txt=text:inner note"),
    ("docs.zip", "report.pdf", "pdf:plain.pdf"),
]


def judge_member(label, data, want, flats):
    kind, _, arg = want.partition(":")
    if kind == "text":
        text = data.decode("utf-8", "replace")
        ok(label) if arg in text else fail(label, "got %r" % text[:200])
    elif kind == "pdf":
        flat = os.path.join(OUT, "_members", "%d.pdf" % len(flats))
        os.makedirs(os.path.dirname(flat), exist_ok=True)
        open(flat, "wb").write(data)
        rc, n = tool("qpdf", "--show-npages", os.path.join(CORPUS, arg))
        flats.append(judge_pdf(label, flat, os.path.join(CORPUS, arg), int(n or 0)))
    elif kind == "zip":
        inner = zipfile.ZipFile(io.BytesIO(data))
        for spec in arg.split(","):
            member, _, inner_want = spec.partition("=")
            if member not in inner.namelist():
                fail(label + " " + member, "not in %s" % inner.namelist())
            else:
                judge_member(label + " " + member, inner.read(member), inner_want, flats)


def check_archive_members(reports, flats):
    zips = {}
    for name, r in sorted(reports.items()):
        if r["action"] == "archive":
            zips[name] = check_archive(name, r)
    for name, member, want in ARCHIVE_MEMBERS:
        z = zips.get(name)
        label = "%s rebuilt: %s is %s" % (name, member, want.split(":")[0])
        if z is None:
            fail(label, "no rebuilt archive")
        elif want == "absent":
            gone = not any(p == member or p.startswith(member + ".") for p in z.namelist())
            ok(label) if gone else fail(label, "present in %s" % z.namelist())
        elif member not in z.namelist():
            fail(label, "not in %s" % z.namelist())
        else:
            judge_member(label, z.read(member), want, flats)


def main():
    reports = check_verdicts()
    check_texts()
    flats = [check_pdf(n, r) for n, r in sorted(reports.items()) if r["action"] == "flattened"]
    check_archive_members(reports, flats)
    check_rescan(flats)
    check_images(reports)
    sys.exit(1 if failures else 0)


main()

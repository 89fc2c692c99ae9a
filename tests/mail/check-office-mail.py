#!/usr/bin/env python3
"""check-office-mail.py -- a delivered mail whose attachments were office files: check-office-mail.py MAILDIR-FILE WORKDIR

The mail (built by 62-mail-office.sh) carried report.docx and bundle.zip (ledger.xlsx + note.txt).
Each office document must arrive printed as an image-only PDF (no fonts, no text, no BT/Font/
annotation objects: pdffonts, pdfimages, pdftotext, qpdf) with its text beside it, the ZIP rebuilt
with both inside; never the original bytes. Python's email and zipfile modules read it, not tiergate.
"""
import email
import email.policy
import io
import os
import re
import subprocess
import sys
import zipfile

JP = "令和六年度の予算執行について報告します。住民基本台帳"
MAIL, WORK = sys.argv[1], sys.argv[2]
failed = False


def result(ok, name, why=""):
    global failed
    print(("ok " if ok else "FAIL ") + name + ("" if ok or not why else ": " + why))
    failed |= not ok


def run(*cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if p.returncode != 0:
        raise RuntimeError("%s exit %d: %s" % (cmd[0], p.returncode, p.stderr.decode(errors="replace")[:200]))
    return p.stdout


def images_only(data, name):
    pdf = os.path.join(WORK, re.sub(r"[^A-Za-z0-9.]", "_", name))
    with open(pdf, "wb") as f:
        f.write(data)
    try:
        run("qpdf", "--check", pdf)
        fonts = run("pdffonts", pdf).decode().splitlines()
        images = run("pdfimages", "-list", pdf).decode().splitlines()[2:]
        text = run("pdftotext", pdf, "-").decode()
        raw = run("qpdf", "--qdf", "--object-streams=disable", pdf, "-")
    except RuntimeError as e:
        return [str(e)]
    why = []
    if not fonts or not fonts[0].startswith("name"):
        why.append("pdffonts printed no table")
    elif fonts[2:]:
        why.append("%d fonts" % len(fonts[2:]))
    if not images:
        why.append("no page images")
    if text.strip():
        why.append("text %r" % text.strip()[:40])
    bad = [k for k in (b"/Annots", b"/JavaScript", b"/OpenAction", b"/URI", b"/Font", b"/AA", b"BT")
           if re.search(re.escape(k) + rb"\b", raw)]
    if bad:
        why.append("objects %s" % bad)
    return why


def attachments(msg):
    out = {}
    for part in msg.walk():
        name = part.get_filename()
        if name and not part.is_multipart():
            out[str(email.header.make_header(email.header.decode_header(name)))] = \
                (part.get_content_type(), part.get_payload(decode=True) or b"")
    return out


def main():
    msg = email.message_from_bytes(open(MAIL, "rb").read(), policy=email.policy.compat32)
    att = attachments(msg)
    names = sorted(att)
    result("report.docx" not in att and "bundle.zip" in att and "report.docx.pdf" in att,
           "mail: the docx arrives as report.docx.pdf, the ZIP rebuilt, no original", repr(names))
    kind, pdf = att.get("report.docx.pdf", ("", b""))
    why = images_only(pdf, "report.docx.pdf") if kind == "application/pdf" else ["type %r" % kind]
    result(not why, "mail: report.docx.pdf holds page images only (no fonts, text or text objects)", "; ".join(why))
    kind, txt = att.get("report.docx.txt", ("", b""))
    result(kind == "text/plain" and JP in txt.decode("utf-8", "replace"),
           "mail: report.docx.txt beside it holds the Japanese paragraph", repr(txt[:60]))
    try:
        z = zipfile.ZipFile(io.BytesIO(att.get("bundle.zip", ("", b""))[1]))
        members = {i.filename: z.read(i) for i in z.infolist()}
    except zipfile.BadZipFile as e:
        members = {"(bad zip: %s)" % e: b""}
    result("ledger.xlsx.pdf" in members and "ledger.xlsx" not in members and "note.txt" in members,
           "mail: the rebuilt ZIP holds ledger.xlsx.pdf (not the xlsx) and its other member", repr(sorted(members)))
    why = images_only(members.get("ledger.xlsx.pdf", b""), "ledger.xlsx.pdf")
    result(not why, "mail: the ZIP's ledger.xlsx.pdf holds page images only", "; ".join(why))
    txt = members.get("ledger.xlsx.txt", b"").decode("utf-8", "replace")
    result("=== 予算 ===" in txt and "SECRET" not in txt,
           "mail: the ZIP's ledger.xlsx.txt holds the visible sheet's cells, not the hidden one", repr(txt[:60]))
    return 1 if failed else 0


sys.exit(main())

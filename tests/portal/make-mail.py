#!/usr/bin/python3
"""make-mail.py OUT FROM TO... -- a mail from the internet with a macro workbook (budget.xlsx holding xl/vbaProject.bin)."""
import io
import sys
import zipfile
from email.message import EmailMessage

out, sender, rcpts = sys.argv[1], sys.argv[2], sys.argv[3:]
CT = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/>'
      b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
      b'</Types>')
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("[Content_Types].xml", CT)
    z.writestr("xl/workbook.xml", b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>')
    z.writestr("xl/sharedStrings.xml", '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               '<si><t>令和7年度 予算集計</t></si></sst>'.encode())
    z.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"Attribute VB_Name = \"Module1\"\nSub AutoOpen()\n" * 20)
msg = EmailMessage()
msg["From"] = sender
msg["To"] = ", ".join(rcpts)
msg["Subject"] = "予算集計表（マクロ付き）"
msg["Message-ID"] = "<portal-macro-xlsx@example.co.jp>"
msg.set_content("予算集計表を送ります。マクロを有効にしてご利用ください。\n")
msg.add_attachment(buf.getvalue(), maintype="application", subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   filename="budget.xlsx")
open(out, "wb").write(bytes(msg))

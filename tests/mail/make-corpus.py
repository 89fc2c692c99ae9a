#!/usr/bin/env python3
# make-corpus.py -- writes the mail corpus (NAME.eml + NAME.expect) as Japanese mail clients write mail.
# Run once; the outputs are committed so the corpus never changes under a test. Each .expect line:
#   verdict: sanitized|quarantined      subject: TEXT        text: TEXT (must appear in body+notice)
#   no-text: TEXT (must not appear)     attachment: ACTION NAME (a part of the report; NAME "-" = any)
#   delivered: NAME (a delivered attachment file name, decoded)   header: NAME (kept byte for byte)
import base64, io, os, sys, zipfile, zlib, struct


def zput(z, name, data):
    """A zip member with a fixed date, so the corpus is the same on every run."""
    z.writestr(zipfile.ZipInfo(name, date_time=(2026, 11, 1, 9, 0, 0)), data, zipfile.ZIP_DEFLATED)

HERE = os.path.dirname(os.path.abspath(__file__))

def b64(data, width=76):
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + width] for i in range(0, len(s), width))

def w2047(text, cs="ISO-2022-JP"):
    return "=?%s?B?%s?=" % (cs, base64.b64encode(text.encode(cs.lower().replace("shift_jis", "cp932"))).decode())

def pdf(text="Hello tiergate", pages=1):
    """A small valid PDF with one line of text (Helvetica) on each page."""
    kids = " ".join("%d 0 R" % (4 + 2 * i) for i in range(pages))
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for i in range(pages):
        stream = ("BT /F1 18 Tf 20 100 Td (%s - page %d) Tj ET" % (text, i + 1)).encode()
        objs.append("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                    "/Resources << /Font << /F1 3 0 R >> >> >>" % (5 + 2 * i))
        objs.append("<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream.decode()))
    out = io.BytesIO(); out.write(b"%PDF-1.4\n"); offs = []
    for i, o in enumerate(objs):
        offs.append(out.tell()); out.write(("%d 0 obj\n%s\nendobj\n" % (i + 1, o)).encode())
    x = out.tell()
    out.write(("xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)).encode())
    for o in offs: out.write(("%010d 00000 n \n" % o).encode())
    out.write(("trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)).encode())
    return out.getvalue()

def docx(text="議事録の本文です"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        zput(z, "[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        zput(z, "_rels/.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
        zput(z, "word/document.xml", '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>%s</w:t></w:r></w:p></w:body></w:document>' % text)
    return buf.getvalue()

def png():
    raw = b"".join(b"\x00" + bytes([x * 16 % 256, 80, 160] * 16) for x in range(16))
    def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
            + chunk(b"tEXt", b"Comment\x00secret GPS 35.6,139.7") + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

def zipfile_bytes():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        zput(z, "readme.txt", "zip member text")
    return buf.getvalue()

EXE = b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + b"\x4c\x01" + b"\x00" * 200

def head(subject_raw, client="Microsoft Outlook 16.0", extra=""):
    return ("Return-Path: <taro@example.co.jp>\n"
            "Received: from mx.example.co.jp (mx.example.co.jp [198.51.100.25])\n\tby mail.city.example.lg.jp; Sun, 22 Nov 2026 10:00:00 +0900\n"
            "From: =?ISO-2022-JP?B?GyRCOzNFRBsoQiAbJEJCQE86GyhC?= <taro@example.co.jp>\n"
            "To: soumu@city.example.lg.jp\n"
            "Subject: %s\n"
            "Date: Sun, 22 Nov 2026 10:00:00 +0900\n"
            "Message-ID: <%s@example.co.jp>\n"
            "X-Mailer: %s\n%s" % (subject_raw, "%MSGID%", client, extra))

def mixed(parts, boundary="----=_NextPart_000_0001_01DA0000.12345678"):
    s = "MIME-Version: 1.0\nContent-Type: multipart/mixed;\n\tboundary=\"%s\"\n\nThis is a multi-part message in MIME format.\n\n" % boundary
    for p in parts:
        s += "--%s\n%s\n" % (boundary, p)
    return s + "--%s--\n" % boundary

def text_part(text, cs="ISO-2022-JP", cte="7bit"):
    data = text.encode(cs.lower().replace("shift_jis", "cp932"))
    if cte == "base64":
        body = b64(data)
    else:
        body = data.decode("latin-1")
    return "Content-Type: text/plain; charset=\"%s\"\nContent-Transfer-Encoding: %s\n\n%s\n" % (cs, cte, body)

def att(data, ctype, disp_params, ct_params=""):
    return "Content-Type: %s%s\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment%s\n\n%s\n" % (ctype, ct_params, disp_params, b64(data))

def build():
    CORPUS = {}

    def add(name, msg, expect):
        CORPUS[name] = (msg.replace("%MSGID%", name.replace("_", "-")), expect)

    J = "会議のお知らせ"
    BODY = "お世話になっております。\n来週の会議の資料を送ります。\nよろしくお願いいたします。"

    add("01_outlook_iso2022jp_plain",
        head(w2047(J)) + "MIME-Version: 1.0\n" + text_part(BODY),
        ["verdict: sanitized", "subject: " + J, "text: 来週の会議の資料", "header: Received", "header: From"])
    add("02_outlook_quoted_2047_pdf",
        head(w2047("見積書の送付")) + mixed([text_part(BODY), att(pdf(), "application/pdf", ";\n\tfilename=\"%s\"" % w2047("見積書.pdf"), ";\n\tname=\"%s\"" % w2047("見積書.pdf"))]),
        ["subject: 見積書の送付", "text: 来週の会議", "attachment: flattened 見積書.pdf", "delivered: 見積書.pdf", "text: 画像化したPDF"])
    add("03_thunderbird_utf8_2231_docx",
        head("=?UTF-8?B?%s?=" % base64.b64encode("議事録（第3回）".encode()).decode(), "Mozilla Thunderbird") +
        mixed([text_part("議事録を添付します。", "UTF-8", "base64"),
               att(docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ";\n filename*=UTF-8''%E8%AD%B0%E4%BA%8B%E9%8C%B2.docx")], "------------0123456789ABCDEF"),
        ["subject: 議事録（第3回）", "text: 議事録を添付します", "attachment: flattened 議事録.docx",
         "delivered: 議事録.docx.pdf", "delivered: 議事録.docx.txt"])
    add("04_thunderbird_2231_split_iso2022jp",
        head(w2047("資料")) + mixed([text_part("資料です。"),
            att(pdf(), "application/pdf", ";\n filename*0*=ISO-2022-JP''%1B;\n filename*1*=%24B%3BqNA%1B%28B.pdf")]),
        ["subject: 資料", "attachment: flattened 資料.pdf", "delivered: 資料.pdf"])
    add("05_becky_sjis_cp932",
        head(w2047("㈱髙橋商事より①", "Shift_JIS"), "Becky! ver. 2.81.04") + "MIME-Version: 1.0\n" +
        text_part("㈱髙橋商事の髙橋です。\n①見積 ②納期 ～ 以上", "Shift_JIS", "8bit"),
        ["subject: ㈱髙橋商事より①", "text: ㈱髙橋商事の髙橋です", "text: ①見積 ②納期 ～ 以上"])
    add("06_webmail_html_only",
        head("=?UTF-8?B?%s?=" % base64.b64encode("HTMLのみ".encode()).decode(), "Roundcube Webmail") +
        "MIME-Version: 1.0\nContent-Type: text/html; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n" +
        b64('<html><body><p>詳しくは<a href="http://evil.example/x">こちら</a>をご覧ください。</p><script>alert(1)</script></body></html>'.encode()) + "\n",
        ["subject: HTMLのみ", "text: 詳しくは", "text: http://evil.example/x", "no-text: <a href", "no-text: alert(1)", "text: HTMLメールをテキストに変換"])
    add("07_alternative_keeps_text",
        head(w2047(J)) + "MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"alt1\"\n\n--alt1\n" + text_part("テキスト版の本文") +
        "--alt1\nContent-Type: text/html; charset=UTF-8\n\n" + "<p>HTML版だけの文</p>".encode().decode("latin-1") + "\n--alt1--\n",
        ["text: テキスト版の本文", "no-text: HTML版だけの文"])
    add("08_related_html_inline_image",
        head(w2047(J), "Microsoft Outlook 16.0") + "MIME-Version: 1.0\nContent-Type: multipart/related; boundary=\"rel1\"; type=\"text/html\"\n\n--rel1\n"
        "Content-Type: text/html; charset=\"iso-2022-jp\"\nContent-Transfer-Encoding: 7bit\n\n" + '<p>地図です<img src="cid:map1"></p>'.encode("iso-2022-jp").decode("latin-1") +
        "\n--rel1\nContent-Type: image/png; name=\"map.png\"\nContent-Transfer-Encoding: base64\nContent-ID: <map1>\n\n" + b64(png()) + "\n--rel1--\n",
        ["text: 地図です", "attachment: reencoded map.png", "no-text: secret GPS"])
    add("09_iso2022jp_cp50220_kana",
        head("=?ISO-2022-JP?B?GyRCLSEtahsoQg==?=") + "MIME-Version: 1.0\nContent-Type: text/plain; charset=ISO-2022-JP\n\n" +
        (b"\x1b$B-!-j\x1b(B \x1b(I1\x1b(B \x1b$Bz\\\x1b(B\n").decode("latin-1"),
        ["text: ①㈱", "text: ｱ", "no-text: \ufffd"])
    add("10_eucjp_body",
        head(w2047("EUC")) + "MIME-Version: 1.0\nContent-Type: text/plain; charset=EUC-JP\nContent-Transfer-Encoding: 8bit\n\n" + "日本語のEUC本文".encode("euc_jp").decode("latin-1") + "\n",
        ["text: 日本語のEUC本文"])
    add("11_unlabelled_sjis",
        head("unlabelled") + "MIME-Version: 1.0\nContent-Type: text/plain\nContent-Transfer-Encoding: 8bit\n\n" + "ラベルなしのシフトJIS本文です".encode("cp932").decode("latin-1") + "\n",
        ["text: ラベルなしのシフトJIS本文です"])
    add("12_mislabelled_latin1",
        head("mislabelled") + "MIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n" + "実はUTF-8の本文".encode("utf-8").decode("latin-1") + "\n",
        ["text: 実はUTF-8の本文"])
    add("13_gmime_bug1_padded_words",
        head("=?UTF-8?B?5pel5g==?= =?UTF-8?B?nKzoqp4=?=") + "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\nbody\n",
        ["subject: 日本語"])
    add("14_gmime_bug2_chunked_base64",
        head("chunked") + "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n" +
        base64.b64encode("前半".encode()).decode() + base64.b64encode("後半VIRUS!!".encode()).decode() + "\n",
        ["text: 前半後半VIRUS!!"])
    import binascii
    def uuenc(data, name):
        lines = ["begin 644 %s" % name]
        for i in range(0, len(data), 45):
            lines.append(binascii.b2a_uu(data[i:i + 45]).decode().rstrip("\n"))
        return "\n".join(lines + ["`", "end"]) + "\n"
    add("15_uuencode_in_body",
        head("uuencode", "Becky! ver. 2.81.04") + "MIME-Version: 1.0\nContent-Type: text/plain; charset=US-ASCII\n\nPlease see the file.\n" + uuenc(EXE, "setup.exe") + "thanks\n",
        ["text: Please see the file.", "text: thanks", "attachment: blocked setup.exe", "no-text: begin 644"])
    add("16_missing_boundary_param",
        head("broken") + "MIME-Version: 1.0\nContent-Type: multipart/mixed\n\n--xyz\nContent-Type: text/plain\n\nboundary was never declared\n--xyz--\n",
        ["verdict: sanitized", "text: boundary was never declared"])
    add("17_boundary_never_found",
        head("broken2") + "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"nothere\"\n\n--other\nContent-Type: text/plain\n\nvisible text line\n--other\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n" + b64(EXE * 3) + "\n--other--\n",
        ["text: visible text line", "no-text: TVqQAAAAAAAA"])
    add("18_bad_base64_attachment",
        head("badb64") + mixed([text_part("本文"), "Content-Type: application/pdf; name=\"a.pdf\"\nContent-Transfer-Encoding: base64\n\n!!!!****not base64 at all ####\n"]),
        ["text: 本文", "attachment: blocked a.pdf"])
    add("19_bad_charset_label",
        head("badcs") + "MIME-Version: 1.0\nContent-Type: text/plain; charset=\"x-no-such-charset\"\nContent-Transfer-Encoding: 8bit\n\n" + "不明な文字コード名".encode().decode("latin-1") + "\n",
        ["text: 不明な文字コード名"])
    inner = head(w2047("転送元")).replace("%MSGID%", "inner") + mixed([text_part("内側の本文"), att(pdf(), "application/pdf", "; filename=\"inner.pdf\"")], "inner-b")
    add("20_nested_forward",
        head(w2047("Fw: 転送")) + mixed([text_part("転送します"), "Content-Type: message/rfc822\nContent-Disposition: attachment\n\n" + inner]),
        ["text: 転送します", "attachment: message -", "attachment: flattened inner.pdf"])
    deep = "Subject: level5\n\ninnermost\n"
    for i in range(4, -1, -1):
        deep = "Subject: level%d\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"d%d\"\n\n--d%d\nContent-Type: text/plain\n\nlevel %d\n--d%d\nContent-Type: message/rfc822\n\n%s\n--d%d--\n" % (i, i, i, i, i, deep, i)
    add("21_nested_too_deep", head("deep") + "MIME-Version: 1.0\n" + deep.split("\n", 2)[2],
        ["verdict: sanitized", "attachment: removed -"])
    add("22_smime_encrypted",
        head("secret") + "MIME-Version: 1.0\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=\"smime.p7m\"\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"smime.p7m\"\n\n" + b64(os.urandom(0) + b"\x30\x82\x01\x00" + bytes(range(200))) + "\n",
        ["verdict: quarantined", "text: 隔離", "text: S/MIME"])
    add("23_pgp_mime_encrypted",
        head("pgp") + "MIME-Version: 1.0\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"enc\"\n\n--enc\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n--enc\nContent-Type: application/octet-stream\n\n-----BEGIN PGP MESSAGE-----\nhQEMA\n-----END PGP MESSAGE-----\n--enc--\n",
        ["verdict: quarantined", "text: PGP"])
    add("24_smime_signed",
        head(w2047("署名付き")) + "MIME-Version: 1.0\nContent-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"sig\"\n\n--sig\n" + text_part("署名された本文") +
        "--sig\nContent-Type: application/pkcs7-signature; name=\"smime.p7s\"\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"smime.p7s\"\n\n" + b64(bytes(range(100))) + "\n--sig--\n",
        ["text: 署名された本文", "text: 署名はこのメールには適用されません", "attachment: removed -"])
    add("25_exe_attachment",
        head("tool") + mixed([text_part("ツールです"), att(EXE, "application/octet-stream", "; filename=\"tool.exe\"")]),
        ["attachment: blocked tool.exe", "text: 削除しました"])
    add("26_exe_named_pdf",
        head("invoice") + mixed([text_part("請求書"), att(EXE, "application/pdf", "; filename=\"invoice.pdf\"")]),
        ["attachment: blocked invoice.pdf"])
    add("27_zip_attachment",
        head("zip") + mixed([text_part("圧縮ファイル"), att(zipfile_bytes(), "application/zip", "; filename=\"files.zip\"")]),
        ["attachment: archive files.zip"])
    add("28_png_image",
        head("photo") + mixed([text_part("写真"), att(png(), "image/png", "; filename=\"photo.png\"")]),
        ["attachment: reencoded photo.png", "delivered: photo.png"])
    add("29_qp_utf8_body",
        head("qp") + "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable\n\n" +
        "".join("=%02X" % b for b in "引用符付き印字可能".encode()) + "=\n end\n",
        ["text: 引用符付き印字可能 end"])
    add("30_outlook_unquoted_2047_filename",
        head("unquoted") + mixed([text_part("添付"), "Content-Type: application/pdf; name=%s\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=%s\n\n%s\n" % (w2047("報告書.pdf", "Shift_JIS"), w2047("報告書.pdf", "Shift_JIS"), b64(pdf()))]),
        ["attachment: flattened 報告書.pdf", "delivered: 報告書.pdf"])
    add("31_rfc822_base64_encoded",
        head("b64 msg") + mixed([text_part("base64の添付メール"), "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"fwd.eml\"\n\n" + b64("Subject: inner\n\n内側のメール\n".encode())]),
        ["attachment: message fwd.eml"])
    add("32_forged_stamp_removed",
        head("forged", extra="X-Tiergate-Sanitized: sanitized; forged=yes\n") + "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\nhello\n",
        ["no-header: forged=yes", "text: hello"])
    add("33_inline_pgp_message",
        head("inline pgp") + "MIME-Version: 1.0\nContent-Type: text/plain\n\n-----BEGIN PGP MESSAGE-----\nhQEMA123\n-----END PGP MESSAGE-----\n",
        ["verdict: quarantined"])
    LONG = "令和６年度　第２回　総務課　定例会議　議事録（確定版）.pdf"
    add("34_long_japanese_filename",
        head(w2047("長いファイル名")) + mixed([text_part("長い名前"), att(pdf(), "application/pdf", ";\n filename=\"%s\"" % " ".join(w2047(LONG[i:i + 8]) for i in range(0, len(LONG), 8)))]),
        ["attachment: flattened " + LONG, "delivered: " + LONG])

    add("35_raw_sjis_filename_old_client",
        head(w2047("添付", "Shift_JIS"), "Becky! ver. 2.24") + mixed([text_part("生のシフトJISのファイル名", "Shift_JIS", "8bit"),
            "Content-Type: application/pdf; name=\"%s\"\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"%s\"\n\n%s\n"
            % ("請求書.pdf".encode("cp932").decode("latin-1"), "請求書.pdf".encode("cp932").decode("latin-1"), b64(pdf()))]),
        ["text: 生のシフトJISのファイル名", "attachment: flattened 請求書.pdf", "delivered: 請求書.pdf"])
    add("36_raw_jis_subject_unencoded",
        head("お知らせ".encode("iso2022_jp").decode("latin-1"), "old mailer") + "MIME-Version: 1.0\n" + text_part("本文"),
        ["subject: お知らせ", "text: 本文"])
    # charset labels glibc's iconv does not know by that name: mapped, not guessed (IANA aliases of UTF-7)
    U7 = "日本語の会議"
    add("37_utf7_alias_labels",
        head("=?UNICODE-1-1-UTF-7?Q?%s?=" % U7.encode("utf-7").decode()) + "MIME-Version: 1.0\n" +
        "Content-Type: text/plain; charset=\"csUnicode11UTF7\"\nContent-Transfer-Encoding: 7bit\n\n" +
        ("本文は%sです" % U7).encode("utf-7").decode() + "\n",
        ["subject: " + U7, "text: 本文は" + U7 + "です"])
    # a UTF-8 BOM before the first header (a client that saved the mail as "UTF-8 with BOM")
    add("38_utf8_bom_before_headers",
        "\ufeff".encode("utf-8").decode("latin-1") + head(w2047("BOM付き")) + "MIME-Version: 1.0\n" + text_part(BODY),
        ["subject: BOM付き", "header: From", "header: Message-ID", "text: 来週の会議の資料"])

    for name, (msg, expect) in CORPUS.items():
        with open(os.path.join(HERE, name + ".eml"), "wb") as f:
            f.write(msg.replace("\n", "\r\n").encode("latin-1") if name.startswith("0") else msg.encode("latin-1"))
        with open(os.path.join(HERE, name + ".expect"), "w") as f:
            f.write("\n".join(expect) + "\n")
    print(len(CORPUS), "mails")


if __name__ == "__main__":
    build()

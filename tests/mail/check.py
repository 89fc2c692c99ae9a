#!/usr/bin/env python3
# check.py -- compares one rebuilt mail with its expectations: check.py [--lf] ORIG.eml OUT.eml REPORT.json NAME.expect
# --delivered: OUT is a Maildir copy: LF where the sender wrote CRLF, and Return-Path is the MTA's own.
# Python's email package decodes the output independently of tiergate (RFC 2231/2047, base64).
# Prints one line per problem; exit 0 when there is none, 1 when there are problems, and
# 2 (before judging anything) when NAME.expect has a line that is not "KEY: VALUE" with a
# known KEY: "FILE:LINE: unknown key 'KEY'" -- a misspelt expectation is never skipped.
import email, email.policy, json, re, sys

lf = sys.argv[1] == "--delivered"
if lf:
    del sys.argv[1]
orig_raw, out_raw = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
if lf:
    orig_raw, out_raw = orig_raw.replace(b"\r\n", b"\n"), out_raw.replace(b"\r\n", b"\n")
report = json.load(open(sys.argv[3]))
KEYS = ("verdict", "subject", "text", "no-text", "attachment", "delivered", "header", "no-header")

def read_expect(path):
    lines, bad = [], []
    for number, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if not line.strip():
            continue
        key, sep, val = line.partition(": ")
        if not sep or key not in KEYS:
            bad.append("%s:%d: unknown key %r (a line is KEY: VALUE, KEY one of %s)" % (path, number,
                key if sep else line, ", ".join(KEYS)))
        lines.append((key, val))
    if bad:
        print("\n".join(bad))
        sys.exit(2)
    return lines

expect = read_expect(sys.argv[4])
problems = []

def header_block(raw):
    m = re.search(rb"\r?\n\r?\n", raw)
    return raw[:m.start() + 1] if m else raw

def fields(block):
    return re.findall(rb"^[^ \t\r\n][^\n]*\n(?:[ \t][^\n]*\n)*", block + b"\n", re.M)

msg = email.message_from_bytes(out_raw, policy=email.policy.compat32)
texts, delivered = [], []
for part in msg.walk():
    if part.is_multipart() or part.get_content_type() == "message/rfc822":
        continue
    payload = part.get_payload(decode=True) or b""
    if part.get_content_type() == "text/plain":
        try:
            texts.append(payload.decode("utf-8"))
        except UnicodeDecodeError:
            problems.append("a text part is not UTF-8")
    name = part.get_filename()
    if name:
        delivered.append(str(email.header.make_header(email.header.decode_header(name))) if "=?" in name else name)
text = "\n".join(texts)
out_head = header_block(out_raw)
if out_head.lower().count(b"\nx-tiergate-sanitized: ") != 1:
    problems.append("X-Tiergate-Sanitized not present exactly once")
replaced = rb"(?i)(content-|mime-version:|x-tiergate-sanitized:" + (rb"|return-path:" if lf else b"") + rb")"
# a UTF-8 BOM before the first header is not part of it: the rebuild keeps the field without it
orig_head = header_block(orig_raw[3:] if orig_raw.startswith(b"\xef\xbb\xbf") else orig_raw)
kept = [f for f in fields(orig_head) if not re.match(replaced, f)]
for f in kept:
    if f not in out_head:
        problems.append("header not kept byte for byte: %r" % f[:60])

for key, val in expect:
    if key == "verdict" and report["verdict"] != val:
        problems.append("verdict %s, expected %s" % (report["verdict"], val))
    elif key == "subject" and report.get("subject") != val:
        problems.append("subject %r, expected %r" % (report.get("subject"), val))
    elif key == "text" and val not in text:
        problems.append("text lacks %r" % val)
    elif key == "no-text" and val in text:
        problems.append("text has %r" % val)
    elif key == "attachment":
        action, _, name = val.partition(" ")
        if not any(p["action"] == action and (name == "-" or p.get("name") == name) for p in report["parts"]):
            problems.append("no part %s %s in %s" % (action, name, [(p["action"], p.get("name")) for p in report["parts"]]))
    elif key == "delivered" and val not in delivered:
        problems.append("no delivered attachment named %r (have %r)" % (val, delivered))
    elif key == "header" and not any(f.lower().startswith(val.lower().encode() + b":") for f in kept):
        problems.append("original has no header %s" % val)
    elif key == "no-header" and val.encode() in out_head:
        problems.append("header block still has %r" % val)
for p in problems:
    print(p)
sys.exit(1 if problems else 0)

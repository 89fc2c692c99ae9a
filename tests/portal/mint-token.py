#!/usr/bin/python3
"""mint-token.py KEYFILE QID RCPT EXPIRY -- a request-link token as the milter makes it (for forged/expired/other-user cases)."""
import base64
import hashlib
import hmac
import sys

key = open(sys.argv[1], "rb").read()
if len(key) != 32:
    key = bytes.fromhex(key.decode().strip())
qid, rcpt, exp = sys.argv[2], sys.argv[3], sys.argv[4]
msg = b"tiergate-release-v1\0" + qid.encode() + b"\0" + rcpt.encode() + b"\0" + exp.encode()
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
print("%s.%s.%s.%s" % (qid, exp, b64(rcpt.encode()), b64(hmac.new(key, msg, hashlib.sha256).digest())))

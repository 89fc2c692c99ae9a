#!/usr/bin/python3
"""find-link.py MAILFILE RCPT -- the request link for RCPT in the notice of a delivered, sanitized mail."""
import email
import email.policy
import re
import sys

msg = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
rcpt = sys.argv[2]
for part in msg.walk():
    if part.get_content_type() != "text/plain":
        continue
    text = part.get_content()
    m = re.search(r"(?:宛先|for) " + re.escape(rcpt) + r":\n\s*(https://\S+)", text)
    if m:
        print(m.group(1))
        sys.exit(0)
sys.exit(1)

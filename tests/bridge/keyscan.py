#!/usr/bin/env python3
# keyscan.py -- does a process's memory hold a private key? Exit 0: found, 1: not found, 2: cannot read.
#
#   keyscan.py PID KEY.pem [KEY.pem ...]
#
# Looks in every readable mapping of PID (/proc/PID/mem, as root) for each key's secret
# numbers (EC: the private scalar; RSA: d, p and q) in big- and little-endian byte order
# (OpenSSL's BIGNUM limbs are little-endian), and for the PEM file's base64 body.
import re, subprocess, sys

def secrets(path):
    text = subprocess.run(["openssl", "pkey", "-in", path, "-text", "-noout"], check=True,
                          capture_output=True, text=True).stdout
    found = []
    for label in ("priv", "privateExponent", "prime1", "prime2"):
        m = re.search(r"^%s:\s*\n((?:\s+[0-9a-f:]+\n)+)" % label, text, re.M)
        if m:
            raw = bytes.fromhex(re.sub(r"[\s:]", "", m.group(1))).lstrip(b"\0")
            found += [(label, raw), (label + " (little-endian)", raw[::-1])]
    body = "".join(l for l in open(path) if not l.startswith("-----")).replace("\n", "")
    found.append(("PEM text", body[64:128].encode()))
    return found

def regions(pid):
    for line in open("/proc/%d/maps" % pid):
        addr, perms = line.split()[:2]
        if perms[0] == "r":
            lo, hi = (int(x, 16) for x in addr.split("-"))
            yield lo, hi

def main():
    pid = int(sys.argv[1])
    wanted = [(p, label, raw) for p in sys.argv[2:] for label, raw in secrets(p)]
    try:
        mem = open("/proc/%d/mem" % pid, "rb", 0)
    except OSError as e:
        print("cannot read the memory of %d: %s" % (pid, e))
        return 2
    hits, scanned = set(), 0
    for lo, hi in regions(pid):
        try:
            mem.seek(lo)
            chunk = mem.read(hi - lo)
        except (OSError, ValueError, OverflowError):
            continue
        scanned += len(chunk)
        for p, label, raw in wanted:
            if raw in chunk:
                hits.add("%s: %s" % (p, label))
    print("scanned %d KB of %d" % (scanned // 1024, pid))
    for h in sorted(hits):
        print("found " + h)
    return 0 if hits else 1

sys.exit(main())

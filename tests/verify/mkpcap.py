#!/usr/bin/env python3
# mkpcap.py -- writes small synthetic pcaps for tiergate-verify's own tests (no capture needed).
#
#   mkpcap.py OUT.pcap          four flows on the address plan of conf/README.md, decided
#                               by rules of conf/alpha.conf that need no application:
#     1 203.0.113.5:40001  -> 10.30.0.20:8443   TCP SYN   accept  internet-telework
#     2 198.51.100.10:40002 -> 10.20.1.5:445    TCP SYN   reject  internet-to-lgwan-refused
#     3 10.10.1.5:40003    -> 10.20.0.123:123   UDP NTP   accept  mynumber-ntp
#     4 10.10.1.5:40004    -> 198.51.100.10:80  TCP SYN   drop    (default)
import struct
import sys


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ip4(addr):
    return bytes(int(x) for x in addr.split("."))


def packet(src, sport, dst, dport, proto, payload=b""):
    if proto == 6:
        l4 = struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, 5 << 4, 0x02, 64240, 0, 0) + payload
    else:
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, proto, len(l4))
    csum = checksum(pseudo + l4)
    at = 16 if proto == 6 else 6
    l4 = l4[:at] + struct.pack("!H", csum) + l4[at + 2:]
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0x4000, 64, proto, 0, ip4(src), ip4(dst))
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + hdr + l4


def main():
    ntp = b"\x23" + b"\0" * 47
    flows = [
        ("203.0.113.5", 40001, "10.30.0.20", 8443, 6, b""),
        ("198.51.100.10", 40002, "10.20.1.5", 445, 6, b""),
        ("10.10.1.5", 40003, "10.20.0.123", 123, 17, ntp),
        ("10.10.1.5", 40004, "198.51.100.10", 80, 6, b""),
    ]
    with open(sys.argv[1], "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, flow in enumerate(flows):
            frame = packet(*flow)
            out.write(struct.pack("<IIII", 1795314424 + i, 0, len(frame), len(frame)))
            out.write(frame)


main()

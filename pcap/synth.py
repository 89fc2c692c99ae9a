#!/usr/bin/python3
# synth.py -- writes the synthetic fixtures (malformed packets, link-type variants, damaged files) and bench pcaps.
#
#   synth.py DIR                 malformed.pcap, truncated-packets.pcap, truncated-file.pcap,
#                                not-a-pcap.pcap, syn-flood.pcap, http-dmz-internet-{raw,sll,sll2,null}.pcap,
#                                http-dmz-internet.pcapng (from DIR/http-dmz-internet.pcap, tls-dmz-internet.pcap)
#   synth.py clean IN OUT        drops IPv6 link-local chatter (NDP, MLD, fe80::/ff02::) from a capture
#   synth.py mix K OUT FIXTURE...    each fixture K times, client port shifted per copy (raw IP)
#   synth.py syns N OUT / pending N OUT   N one-packet flows: TCP SYNs (no payload), or UDP
#                                datagrams to port 53 nDPI cannot name (keep their nDPI state)
#   synth.py names-ech OUT       a DNS answer, then two ClientHellos with the answered name: one
#                                with an encrypted_client_hello extension (no real client sends ECH here)
#   synth.py cat OUT IN...       IN files (one link type) one after another into OUT
#   synth.py corpus DIR PCAP...  fuzz corpus files (tests/fuzz/fuzz_decode.c framing), one per pcap
#   synth.py flows N OUT [FIXTURE...]   a bench pcap: N short TCP flows (handshake, request,
#                                answer, FINs) with distinct addresses/ports, plus the fixtures'
#                                packets repeated with shifted ports (raw IP link type)
import struct
import sys

LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_NULL, LINKTYPE_SLL, LINKTYPE_SLL2 = 1, 101, 0, 113, 276


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(src, dst, proto, payload, ihl=5, total=None, frag=0, ident=1, ttl=64):
    src_b = bytes(int(x) for x in src.split("."))
    dst_b = bytes(int(x) for x in dst.split("."))
    tl = total if total is not None else ihl * 4 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tl, ident, frag, ttl, proto, 0, src_b, dst_b)
    h += b"\0" * (ihl * 4 - 20) if ihl > 5 else b""
    h = h[:10] + struct.pack("!H", csum(h[:20])) + h[12:]
    return h[: max(ihl, 5) * 4] + payload if ihl >= 5 else h[:20] + payload


def tcp(sport, dport, flags, seq=1, ack=0, payload=b"", doff=5, pad=True):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, 65535, 0, 0) + \
        b"\0" * (doff * 4 - 20 if doff > 5 and pad else 0) + payload


def udp(sport, dport, payload, length=None):
    return struct.pack("!HHHH", sport, dport, length if length is not None else 8 + len(payload), 0) + payload


def ip6(src, dst, nh, payload):
    import socket
    return struct.pack("!IHBB", 0x60000000, len(payload), nh, 64) + \
        socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) + payload


def write_pcap(path, packets, linktype=LINKTYPE_RAW, snaplen=65535):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        for ts, data, wirelen in packets:
            f.write(struct.pack("<IIII", int(ts), int((ts % 1) * 1e6), len(data), wirelen))
            f.write(data)


def read_pcap(path):
    with open(path, "rb") as f:
        raw = f.read()
    magic, _, _, _, _, _, linktype = struct.unpack("<IHHiIII", raw[:24])
    assert magic == 0xA1B2C3D4, path
    off, out = 24, []
    while off + 16 <= len(raw):
        sec, usec, incl, orig = struct.unpack("<IIII", raw[off:off + 16])
        out.append((sec + usec / 1e6, raw[off + 16:off + 16 + incl], orig))
        off += 16 + incl
    return linktype, out


C, D = "203.0.113.5", "10.30.0.20"


def malformed(dirname):
    t = 1790000000.0
    good = ip4(C, D, 6, tcp(40000, 8443, 0x02))
    pkts = [
        ip4(C, D, 6, tcp(40001, 8443, 0x02))[:20].replace(b"\x45", b"\x44", 1),     # IHL 4
        ip4(C, D, 6, tcp(40002, 8443, 0x02), total=200),                            # longer than captured
        ip4(C, D, 6, tcp(40003, 8443, 0x02)[:10]),                                  # short TCP header
        ip4(C, D, 6, tcp(40004, 8443, 0x03)),                                       # SYN+FIN
        ip4(C, D, 6, tcp(40005, 8443, 0x02, doff=15, pad=False)),                              # data offset past the end
        ip4(C, D, 17, udp(40006, 53, b"x" * 10, length=300)),                       # UDP length past the end
        ip4(C, D, 6, tcp(40007, 8443, 0x02)[:8], frag=0x2000, ident=77),            # first fragment too short
        ip4(C, D, 6, b"\x00" * 16, frag=0x0001, ident=78),                          # offset 8 over TCP
        b"\x55" + good[1:],                                                          # IP version 5
        ip6("2001:db8:113::5", "fd00:30::20", 43, bytes([6, 0, 0, 1, 0, 0, 0, 0]) + tcp(40010, 8443, 0x02)),  # RH0
        ip6("2001:db8:113::5", "fd00:30::20", 60,
            b"".join(bytes([60 if i < 9 else 6, 0, 1, 4, 0, 0, 0, 0]) for i in range(10)) + tcp(40011, 8443, 0x02)),
        ip6("2001:db8:113::5", "fd00:30::20", 6, tcp(40012, 8443, 0x02))[:30],      # truncated IPv6 header
        b"",                                                                        # empty
    ]
    recs = [(t, good, len(good))]
    for i, p in enumerate(pkts):
        recs.append((t + 0.01 * (i + 1), p, len(p)))
    recs.append((t + 1, ip4(C, D, 6, tcp(40000, 8443, 0x10, seq=2, ack=1)), 40))
    write_pcap(dirname + "/malformed.pcap", recs)


def strip_ether(recs):
    return [(t, d[14:], w - 14) for t, d, w in recs]


def link_variants(dirname):
    lt, recs = read_pcap(dirname + "/http-dmz-internet.pcap")
    assert lt == LINKTYPE_ETHERNET
    ip = strip_ether(recs)
    write_pcap(dirname + "/http-dmz-internet-raw.pcap", ip, LINKTYPE_RAW)
    fam = lambda d: 2 if d[0] >> 4 == 4 else 10
    write_pcap(dirname + "/http-dmz-internet-null.pcap",
               [(t, struct.pack("<I", fam(d)) + d, w + 4) for t, d, w in ip], LINKTYPE_NULL)
    sll = lambda d: struct.pack("!HHH8sH", 4, 1, 6, b"\x02\0\0\0\0\x01\0\0", 0x0800) + d
    write_pcap(dirname + "/http-dmz-internet-sll.pcap", [(t, sll(d), w + 16) for t, d, w in ip], LINKTYPE_SLL)
    sll2 = lambda d: struct.pack("!HHIHBB8s", 0x0800, 0, 2, 1, 4, 6, b"\x02\0\0\0\0\x01\0\0") + d
    write_pcap(dirname + "/http-dmz-internet-sll2.pcap", [(t, sll2(d), w + 20) for t, d, w in ip], LINKTYPE_SLL2)
    write_pcapng(dirname + "/http-dmz-internet.pcapng", recs)


def write_pcapng(path, recs):
    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        return struct.pack("<II", btype, len(body) + 12) + body + struct.pack("<I", len(body) + 12)
    with open(path, "wb") as f:
        f.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        f.write(block(1, struct.pack("<HHI", LINKTYPE_ETHERNET, 0, 65535)))
        for t, d, w in recs:
            us = int(round(t * 1e6))
            f.write(block(6, struct.pack("<IIIII", 0, us >> 32, us & 0xFFFFFFFF, len(d), w) + d))


def damaged(dirname):
    with open(dirname + "/http-dmz-internet.pcap", "rb") as f:
        raw = f.read()
    with open(dirname + "/truncated-file.pcap", "wb") as f:
        f.write(raw[: len(raw) * 2 // 3])
    with open(dirname + "/not-a-pcap.pcap", "w") as f:
        f.write("This is a text file someone named .pcap by mistake.\n")
    lt, recs = read_pcap(dirname + "/tls-dmz-internet.pcap")
    write_pcap(dirname + "/truncated-packets.pcap", [(t, d[:80], w) for t, d, w in recs], lt, snaplen=80)


def short_flow(i, t):
    """One HTTP-like flow from the screen-transfer server: handshake, request, answer, FIN both ways."""
    a = "10.30.0.30"
    b = "198.51.100.%d" % (10 + i // 60000)
    sp = 1024 + i % 60000
    req = b"GET /page%d HTTP/1.1\r\nHost: www.example.jp\r\n\r\n" % i
    resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    seg = [
        (a, b, sp, 80, 0x02, 1000, 0, b""), (b, a, 80, sp, 0x12, 5000, 1001, b""),
        (a, b, sp, 80, 0x10, 1001, 5001, b""), (a, b, sp, 80, 0x18, 1001, 5001, req),
        (b, a, 80, sp, 0x18, 5001, 1001 + len(req), resp), (a, b, sp, 80, 0x11, 1001 + len(req), 5001 + len(resp), b""),
        (b, a, 80, sp, 0x11, 5001 + len(resp), 1002 + len(req), b""),
        (a, b, sp, 80, 0x10, 1002 + len(req), 5002 + len(resp), b""),
    ]
    out = []
    for k, (s, d, ps, pd, fl, sq, ak, pl) in enumerate(seg):
        p = ip4(s, d, 6, tcp(ps, pd, fl, sq, ak, pl))
        out.append((t + k * 0.0001, p, len(p)))
    return out


def is_chatter(d):
    if len(d) < 14 + 40 or d[12:14] != b"\x86\xdd":
        return False
    src, dst = d[14 + 8:14 + 24], d[14 + 24:14 + 40]
    if src[:2] == b"\xfe\x80" or dst[0] == 0xFF or src == bytes(16):
        return True
    return d[14 + 6] == 58 and 130 <= d[14 + 40] <= 143


def clean(src, dst):
    lt, recs = read_pcap(src)
    write_pcap(dst, [r for r in recs if not is_chatter(r[1])], lt)


def l4_offset(d):
    if d[0] >> 4 == 4:
        return (d[0] & 15) * 4 if (struct.unpack("!H", d[6:8])[0] & 0x1FFF) == 0 else None, d[9]
    if d[0] >> 4 == 6 and d[6] in (6, 17):
        return 40, d[6]
    return None, None


def shift_ports(recs, port):
    """Gives the fixture's client port a new value in every packet (both directions)."""
    out, client = [], None
    for d in recs:
        off, proto = l4_offset(d)
        if off is None or proto not in (6, 17) or len(d) < off + 4:
            out.append(d)
            continue
        sp, dp = struct.unpack("!HH", d[off:off + 4])
        client = client if client is not None else sp
        b = bytearray(d)
        if sp == client:
            b[off:off + 2] = struct.pack("!H", port)
        elif dp == client:
            b[off + 2:off + 4] = struct.pack("!H", port)
        out.append(bytes(b))
    return out


def mix(k, path, fixtures):
    fx = [ip_packets(f) for f in fixtures]
    recs, t, n = [], 1790000000.0, 0
    for r in range(k):
        for pk in fx:
            n += 1
            for d in shift_ports(pk, 1024 + n % 64000):
                t += 0.00001
                recs.append((t, d, len(d)))
    write_pcap(path, recs, LINKTYPE_RAW)


def one_packet_flows(n, path, kind):
    """Distinct flows by client address and port: SYNs from 198.18.0.0/16 (a flood's sources) or
    UDP datagrams from the DMZ to internet port 53 whose bytes are no DNS."""
    recs, t = [], 1790000000.0
    if kind == "syns":
        tmpl = ip4("198.18.0.1", "10.30.0.20", 6, tcp(1, 8443, 0x02))
    else:
        tmpl = ip4("10.30.0.30", "198.51.100.10", 17, udp(1, 53, bytes(range(7, 39))))
    for i in range(n):
        b = bytearray(tmpl)
        if kind == "syns":
            b[14:16] = bytes([(i >> 8) & 0xFF, i & 0xFF])
        else:
            b[19] = 10 + i // 64000
        b[20:22] = struct.pack("!H", 1024 + i % 64000)
        t += 0.000001
        recs.append((t, bytes(b), len(b)))
    write_pcap(path, recs, LINKTYPE_RAW)


def ip_packets(path):
    lt, recs = read_pcap(path)
    return [d for _, d, _ in (strip_ether(recs) if lt == LINKTYPE_ETHERNET else recs)]


def corpus(outdir, pcaps):
    import os
    for path in pcaps:
        pkts = ip_packets(path)[:24]
        blob = b"".join(struct.pack("!HB", len(d), 0) + d for d in pkts)
        name = os.path.basename(path).rsplit(".", 1)[0]
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(blob)


def syn_flood(dirname):
    """20 HTTP flows open their sessions, 1500 spoofed SYNs arrive, then the 20 finish."""
    t, first, rest = 1790000000.0, [], []
    for i in range(20):
        pk = short_flow(i, 0)
        first += [d for _, d, _ in pk[:4]]          # handshake + request
        rest += [d for _, d, _ in pk[4:]]           # answer + FINs
    flood = [ip4("198.18.%d.%d" % (i // 250, i % 250 + 1), "10.30.0.20", 6, tcp(1024 + i, 8443, 0x02))
             for i in range(1500)]
    recs = []
    for d in first + flood + rest:
        t += 0.0001
        recs.append((t, d, len(d)))
    write_pcap(dirname + "/syn-flood.pcap", recs, LINKTYPE_RAW)


def dns_msg(qid, name, answer=None):
    q = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0" + struct.pack("!HH", 1, 1)
    if answer is None:
        return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q
    rr = struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + bytes(int(x) for x in answer.split("."))
    return struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + q + rr


def client_hello(sni, ech):
    ext = b""
    if sni:
        n = sni.encode()
        ext += struct.pack("!HHHBH", 0, len(n) + 5, len(n) + 3, 0, len(n)) + n
    ext += struct.pack("!HHB", 0x002B, 3, 2) + b"\x03\x04"                    # supported_versions
    ext += struct.pack("!HHHH", 0x000A, 4, 2, 0x001D)                           # supported_groups
    ext += struct.pack("!HHHHH", 0x0033, 2 + 4 + 32, 36, 0x001D, 32) + b"\x11" * 32   # key_share
    if ech:   # encrypted_client_hello, outer: kdf/aead, config id, enc, payload (opaque here)
        body = b"\x00" + struct.pack("!HHB", 1, 1, 7) + struct.pack("!H", 32) + b"\x22" * 32 + \
            struct.pack("!H", 144) + b"\x33" * 144
        ext += struct.pack("!HH", 0xFE0D, len(body)) + body
    hello = b"\x03\x03" + b"\x44" * 32 + b"\x20" + b"\x55" * 32 + struct.pack("!HH", 2, 0x1301) + \
        b"\x01\x00" + struct.pack("!H", len(ext)) + ext
    hs = b"\x01" + struct.pack("!I", len(hello))[1:] + hello
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def names_ech(path):
    """The resolver answers teams.microsoft.com -> 198.51.100.10, then a ClientHello to it that
    carries that SNI (the outer, public name) and an encrypted_client_hello extension."""
    cl, dns, srv = "10.20.1.5", "198.51.100.53", "198.51.100.10"
    t, pk = 1700000000.0, []

    def add(src, dst, proto, payload):
        nonlocal t
        t += 0.001
        d = ip4(src, dst, proto, payload)
        pk.append((t, d, len(d)))
    add(cl, dns, 17, udp(40001, 53, dns_msg(0x1234, "teams.microsoft.com")))
    add(dns, cl, 17, udp(53, 40001, dns_msg(0x1234, "teams.microsoft.com", srv)))
    for sport, ech in ((41000, True), (41002, False)):
        ch = client_hello("teams.microsoft.com", ech)
        add(cl, srv, 6, tcp(sport, 443, 0x02, seq=100))
        add(srv, cl, 6, tcp(443, sport, 0x12, seq=500, ack=101))
        add(cl, srv, 6, tcp(sport, 443, 0x10, seq=101, ack=501))
        add(cl, srv, 6, tcp(sport, 443, 0x18, seq=101, ack=501, payload=ch))
        add(srv, cl, 6, tcp(443, sport, 0x10, seq=501, ack=101 + len(ch)))
        add(cl, srv, 6, tcp(sport, 443, 0x11, seq=101 + len(ch), ack=501))
        add(srv, cl, 6, tcp(443, sport, 0x11, seq=501, ack=102 + len(ch)))
        add(cl, srv, 6, tcp(sport, 443, 0x10, seq=102 + len(ch), ack=502))
    write_pcap(path, pk)


def flows(n, path, fixtures):
    recs, t = [], 1790000000.0
    for i in range(n):
        recs.extend(short_flow(i, t + i * 0.0002))
    for j, fx in enumerate(fixtures):
        lt, fr = read_pcap(fx)
        if lt == LINKTYPE_ETHERNET:
            fr = strip_ether(fr)
        for t0, d, w in fr:
            recs.append((t + n * 0.0002 + j * 0.001, d, w))
    write_pcap(path, recs, LINKTYPE_RAW)


if __name__ == "__main__":
    if sys.argv[1] == "clean":
        clean(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "mix":
        mix(int(sys.argv[2]), sys.argv[3], sys.argv[4:])
    elif sys.argv[1] in ("syns", "pending"):
        one_packet_flows(int(sys.argv[2]), sys.argv[3], sys.argv[1])
    elif sys.argv[1] == "cat":
        parts = [read_pcap(f) for f in sys.argv[3:]]
        write_pcap(sys.argv[2], [r for _, recs in parts for r in recs], parts[0][0])
    elif sys.argv[1] == "corpus":
        corpus(sys.argv[2], sys.argv[3:])
    elif sys.argv[1] == "names-ech":
        names_ech(sys.argv[2])
    elif sys.argv[1] == "flows":
        flows(int(sys.argv[2]), sys.argv[3], sys.argv[4:])
    else:
        malformed(sys.argv[1])
        link_variants(sys.argv[1])
        damaged(sys.argv[1])
        syn_flood(sys.argv[1])

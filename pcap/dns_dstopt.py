#!/usr/bin/python3
# dns_dstopt.py -- one DNS query over IPv6 carrying a destination-options extension header (kernel-built).
#
#   dns_dstopt.py SERVER NAME     sends an A query for NAME to SERVER:53, waits for the answer
import socket
import struct
import sys

server, name = sys.argv[1], sys.argv[2].encode()
query = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + \
    b"".join(bytes([len(p)]) + p for p in name.split(b".")) + b"\0" + struct.pack("!HH", 1, 1)
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(2)
padn = bytes([0, 0, 1, 4, 0, 0, 0, 0])   # next header and length are filled in by the kernel
s.sendmsg([query], [(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, padn)], 0, (server, 53))
s.recv(4096)

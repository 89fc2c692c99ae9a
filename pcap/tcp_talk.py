#!/usr/bin/python3
# tcp_talk.py -- tiny TCP peers for fixtures: say given bytes, read the answer, close (RDP-like, FTP-like, ...).
#
#   tcp_talk.py server ADDR PORT GREETING_HEX REPLY_HEX   one connection: send greeting (may be ""),
#                                                          read once, send reply, read until close
#   tcp_talk.py client ADDR PORT HEX [HEX...]             connect, send each message and read once after it
import socket
import sys


def serve(addr, port, greeting, reply):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1)
    s.settimeout(10)
    c, _ = s.accept()
    c.settimeout(5)
    if greeting:
        c.sendall(greeting)
    try:
        while c.recv(4096):
            if reply:
                c.sendall(reply)
    except OSError:
        pass
    c.close()


def talk(addr, port, messages):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.create_connection((addr, port), timeout=5) if fam == socket.AF_INET else \
        socket.create_connection((addr, port, 0, 0), timeout=5)
    s.settimeout(1)
    for m in messages:
        s.sendall(m)
        try:
            s.recv(4096)
        except OSError:
            pass
    s.close()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        serve(sys.argv[2], int(sys.argv[3]), bytes.fromhex(sys.argv[4]), bytes.fromhex(sys.argv[5]))
    else:
        talk(sys.argv[2], int(sys.argv[3]), [bytes.fromhex(h) for h in sys.argv[4:]])

#!/usr/bin/python3
# spoofdns.py MODE: a UDP DNS server on 127.0.0.1 that answers every
# query twice: first a spoofed reply, then the real one, as an off-path
# attacker racing a real server would.  MODE is "id" (the spoof carries
# another ID), "name" (the right ID, another question name) or "type"
# (the right ID, another question type); each spoof says NXDOMAIN.
# MODE "tcp-name" or "tcp-type" answers UDP truncated instead (TC set, no
# records), and on TCP, on the same port, sends only the spoof: the
# right ID, another question name or type, NXDOMAIN.
# Prints its port, serves the small zone below, and exits after 60 s.
import select
import socket
import sys
import time

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

ZONE = {
    ("1.2.0.192.in-addr.arpa.", "PTR"): "mail.example.test.",
    ("mail.example.test.", "A"): "192.0.2.1",
}

mode = sys.argv[1]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
port = u.getsockname()[1]
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", port))
t.listen(8)
print(port, flush=True)


def spoofed(q, how):
    qq = q.question[0]
    spoof = dns.message.make_response(q)
    spoof.set_rcode(dns.rcode.NXDOMAIN)
    if how == "id":
        spoof.id = (q.id + 1) % 65536
    elif how == "name":
        spoof.question[0] = dns.rrset.RRset(
            dns.name.from_text("other.example.test."), qq.rdclass, qq.rdtype)
    elif how == "type":
        spoof.question[0] = dns.rrset.RRset(
            qq.name, qq.rdclass, dns.rdatatype.TXT)
    return spoof


def tcp_answer(c):
    c.settimeout(5)
    try:
        n = int.from_bytes(c.recv(2), "big")
        wire = b""
        while len(wire) < n:
            wire += c.recv(n - len(wire))
        q = dns.message.from_wire(wire)
        out = spoofed(q, mode[4:]).to_wire()
        c.sendall(len(out).to_bytes(2, "big") + out)
    except Exception:
        pass
    c.close()


end = time.monotonic() + 60
while time.monotonic() < end:
    r, _, _ = select.select([u, t], [], [], 1)
    if t in r:
        tcp_answer(t.accept()[0])
    if u not in r:
        continue
    wire, peer = u.recvfrom(65535)
    try:
        q = dns.message.from_wire(wire)
    except Exception:
        continue
    qq = q.question[0]
    name, rtype = qq.name.to_text(), dns.rdatatype.to_text(qq.rdtype)

    if mode.startswith("tcp-"):
        tc = dns.message.make_response(q)
        tc.flags |= dns.flags.TC
        u.sendto(tc.to_wire(), peer)
        continue
    u.sendto(spoofed(q, mode).to_wire(), peer)

    real = dns.message.make_response(q)
    real.flags |= dns.flags.AA
    key = (name.lower(), rtype)
    if key in ZONE:
        real.answer.append(dns.rrset.from_text(name, 300, "IN", rtype,
                                               ZONE[key]))
    elif any(n == name.lower() for n, _ in ZONE):
        pass
    else:
        real.set_rcode(dns.rcode.NXDOMAIN)
    u.sendto(real.to_wire(), peer)

#!/usr/bin/python3
"""dkimpy (python3-dkim) as a peer, with keys from a zone file.
  dkimpy.py verify ZONE < msg        prints one pass/fail per signature
  dkimpy.py sign KEY DOMAIN SELECTOR ALG CANON < msg > signed
(ALG rsa-sha256 or ed25519-sha256; an Ed25519 KEY is the PEM key.)"""
import re
import sys

import dkim
from cryptography.hazmat.primitives import serialization


def zone(path):
    recs = {}
    for line in open(path):
        m = re.match(r"(\S+)\.\s.*\bTXT\b(.*)", line)
        if m:
            recs[m.group(1).lower()] = "".join(
                re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2))).encode()
    return recs


def main():
    data = sys.stdin.buffer.read()
    if sys.argv[1] == "verify":
        recs = zone(sys.argv[2])
        d = dkim.DKIM(data)
        n = len([h for h in d.headers if h[0].lower() == b"dkim-signature"])
        for i in range(n):
            try:
                ok = dkim.DKIM(data).verify(
                    idx=i, dnsfunc=lambda name, timeout=5:
                    recs.get(name.decode().rstrip(".").lower()))
            except dkim.DKIMException:
                ok = False
            print("pass" if ok else "fail")
        return
    key, domain, sel, alg, canon = sys.argv[2:7]
    pem = open(key, "rb").read()
    if alg.startswith("ed25519"):
        k = serialization.load_pem_private_key(pem, None)
        pem = k.private_bytes(serialization.Encoding.Raw,
                              serialization.PrivateFormat.Raw,
                              serialization.NoEncryption())
        import base64
        pem = base64.b64encode(pem)
    c = [x.encode() for x in canon.split("/")]
    sig = dkim.sign(data, sel.encode(), domain.encode(), pem,
                    canonicalize=(c[0], c[1]), signature_algorithm=alg.encode())
    sys.stdout.buffer.write(sig + data)


main()

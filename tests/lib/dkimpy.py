#!/usr/bin/python3
"""dkimpy (python3-dkim) as a peer, with keys from a zone file.
  dkimpy.py verify ZONE < msg        prints one pass/fail per signature
  dkimpy.py sign KEY DOMAIN SELECTOR ALG CANON < msg > signed
  dkimpy.py kat KEY TIME < signed    prints "bh=... b=..." as dkimpy makes
      them for the first DKIM-Signature's tags (its order, its h= list,
      t=TIME), over the message without that field
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


def raw_ed25519(pem):
    k = serialization.load_pem_private_key(pem, None)
    return k.private_bytes(serialization.Encoding.Raw,
                           serialization.PrivateFormat.Raw,
                           serialization.NoEncryption())


def kat(pem, when, data):
    """dkimpy's own signing steps (DKIM.sign/gen_header without its tag
    set and folding, which always adds i= and q=): body canonicalization
    and hash, header selection bottom-up from h=, header canonicalization,
    RSASSA-PKCS1-v1_5 or Ed25519 over the SHA-256 (RFC 8463)."""
    import base64
    import nacl.signing
    if b"\r\n" not in data:
        data = data.replace(b"\n", b"\r\n")
    msg = dkim.DKIM(data)
    sigs = [v for k, v in msg.headers if k.lower() == b"dkim-signature"]
    tags = []
    for part in re.sub(rb"\s+", b" ", sigs[0]).split(b";"):
        if part.strip():
            k, v = part.split(b"=", 1)
            tags.append([k.strip(), v.strip()])
    # The message as it was before signing: without our fields.
    body = data.split(b"\r\n\r\n", 1)
    lines = re.split(rb"\r\n(?![ \t])", body[0])
    body[0] = b"\r\n".join(x for x in lines
                            if not x.lower().startswith(b"dkim-signature:"))
    d = dkim.DKIM(b"\r\n\r\n".join(body))
    t = dict((k, v) for k, v in tags)
    policy = dkim.CanonicalizationPolicy.from_c_value(t[b"c"])
    bh = base64.b64encode(dkim.hashlib.sha256(
        policy.canonicalize_body(d.body)).digest())
    include = [x.lower() for x in re.split(rb"\s*:\s*", t[b"h"])]
    for tag in tags:
        if tag[0] == b"bh":
            tag[1] = bh
        elif tag[0] == b"t":
            tag[1] = when.encode()
        elif tag[0] == b"b":
            tag[1] = b""
    value = b" " + b"; ".join(b"=".join(x) for x in tags)
    if t[b"c"].startswith(b"simple"):
        # Simple header canonicalization hashes the field as written.
        value = sigs[0]
    h = dkim.HashThrough(dkim.hashlib.sha256())
    dkim.hash_headers(h, policy, policy.canonicalize_headers(d.headers),
                      include, (b"DKIM-Signature", value), t)
    if t[b"a"] == b"ed25519-sha256":
        sig = nacl.signing.SigningKey(raw_ed25519(pem)).sign(
            h.digest()).signature
    else:
        sig = dkim.RSASSA_PKCS1_v1_5_sign(h, dkim.parse_pem_private_key(pem))
    print("bh=%s b=%s" % (bh.decode(), base64.b64encode(bytes(sig)).decode()))


def main():
    data = sys.stdin.buffer.read()
    if sys.argv[1] == "kat":
        kat(open(sys.argv[2], "rb").read(), sys.argv[3], data)
        return
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

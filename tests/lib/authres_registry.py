#!/usr/bin/python3
# authres_registry.py REGISTRY: reads Authentication-Results fields, one
# a line (unfolded), on stdin and checks each result against REGISTRY
# (tests/data/authres-registry): the method is registered, its result is
# one of the method's names, and every property is registered for it.
# Prints one line per problem and exits 1 if there was any; prints
# "ok N" (results checked) otherwise.
import sys

results, props = {}, {}
for line in open(sys.argv[1]):
    w = line.split()
    if not w or w[0].startswith("#"):
        continue
    if w[0] == "result":
        results[w[1]] = set(w[2:])
    elif w[0] == "property":
        props.setdefault(w[1], set()).add(w[2])


def tokens(v):
    """Splits a value into words, ';' and '=' apart, dropping comments
    and keeping a quoted-string whole (RFC 5322 section 3.2)."""
    out, i, n = [], 0, len(v)
    while i < n:
        c = v[i]
        if c in " \t":
            i += 1
        elif c == "(":
            depth = 0
            while i < n:
                if v[i] == "\\":
                    i += 1
                elif v[i] == "(":
                    depth += 1
                elif v[i] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                i += 1
            i += 1
        elif c in ";=":
            out.append(c)
            i += 1
        elif c == '"':
            j = i + 1
            while j < n and v[j] != '"':
                j += 2 if v[j] == "\\" else 1
            if j >= n:
                out.append("\x00unterminated")
            out.append(v[i:j + 1])
            i = j + 1
        else:
            j = i
            while j < n and v[j] not in " \t;=(\"":
                j += 1
            out.append(v[i:j])
            i = j
    return out


bad, checked = [], 0
for field in sys.stdin:
    field = field.rstrip("\n")
    if not field.lower().startswith("authentication-results:"):
        continue
    t = tokens(field.split(":", 1)[1])
    parts, cur = [], []
    for w in t:
        if w == ";":
            parts.append(cur)
            cur = []
        else:
            cur.append(w)
    parts.append(cur)
    if any("\x00unterminated" in p for p in parts):
        bad.append("unterminated quoted-string: " + field)
        continue
    if parts[1:] == [["none"]]:
        checked += 1
        continue
    for p in parts[1:]:
        if len(p) < 3 or p[1] != "=":
            bad.append("not method=result: %r in %s" % (p, field))
            continue
        method, result, rest = p[0].lower(), p[2].lower(), p[3:]
        checked += 1
        if method not in results:
            bad.append("unregistered method %s: %s" % (method, field))
            continue
        if result not in results[method]:
            bad.append("%s has no result %s: %s" % (method, result, field))
        if len(rest) % 3 != 0:
            bad.append("bad property list %r: %s" % (rest, field))
            continue
        for k in range(0, len(rest), 3):
            prop, eq, val = rest[k:k + 3]
            if eq != "=" or val in ("", "=", ";"):
                bad.append("bad property %r: %s" % (rest[k:k + 3], field))
            elif prop.lower() != "reason" and \
                    prop.lower() not in props.get(method, ()):
                bad.append("%s has no property %s: %s" % (method, prop,
                                                          field))
for b in bad:
    print(b)
if not bad:
    print("ok %d" % checked)
sys.exit(1 if bad else 0)

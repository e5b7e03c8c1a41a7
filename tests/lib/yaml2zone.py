#!/usr/bin/python3
"""Converts the SPF suites' zone data (zonedata: name: [ {TXT: ...} ]) of
testdata/*/zone.yml into an RFC 1035 zone file for --resolver zone:FILE.
TIMEOUT and SERVFAIL entries cannot be written in a zone file and are
left out (the name then does not exist)."""
import sys
import yaml


def strings(v):
    if isinstance(v, list):
        parts = v
    else:
        parts = [v[i:i + 255] for i in range(0, len(v), 255)] or [""]
    return " ".join('"%s"' % p.replace("\\", "\\\\").replace('"', '\\"')
                    for p in parts)


def main():
    print("$ORIGIN .\n$TTL 300")
    for path in sys.argv[1:]:
        data = yaml.safe_load(open(path))
        for name, recs in (data.get("zonedata") or {}).items():
            for r in recs or []:
                if not isinstance(r, dict):
                    continue
                for t, v in r.items():
                    if t == "TXT":
                        print("%s. IN TXT %s" % (name, strings(v)))
                    elif t in ("A", "AAAA", "MX", "CNAME"):
                        print("%s. IN %s %s" % (name, t, v if not
                              isinstance(v, list) else " ".join(map(str, v))))


main()

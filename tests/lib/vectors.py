#!/usr/bin/python3
"""Runs the known-answer vectors of testdata/dkim or testdata/domainkeys
through mg-dkim-verify: vectors.py VECTORS.yml METHOD TMPDIR [options].
Prints one line per vector and exits 1 when any came out wrong.  A
vector's index counts the signature fields of its kind (DKIM-Signature, or
DomainKey-Signature), topmost first; "fail" means anything but pass."""
import os
import re
import subprocess
import sys
import yaml

sys.path.insert(0, os.path.dirname(__file__))


def zone_file(zone_yml, tmp):
    out = os.path.join(tmp, os.path.basename(os.path.dirname(zone_yml)) +
                       ".zone")
    if not os.path.exists(out):
        with open(out, "w") as f:
            subprocess.run(["/usr/bin/python3", os.path.join(
                os.path.dirname(__file__), "yaml2zone.py"), zone_yml],
                stdout=f, check=True)
    return out


def results(output, method):
    """The METHOD=RESULT items of the unfolded Authentication-Results."""
    text = re.sub(r"\r?\n[ \t]+", " ", output)
    return re.findall(r";\s*" + method + r"=([a-z]+)", text)


def main():
    vec_yml, method, tmp = sys.argv[1:4]
    extra = sys.argv[4:]
    base = os.path.dirname(vec_yml)
    bad = 0
    for v in yaml.safe_load(open(vec_yml))["vectors"]:
        zone = zone_file(os.path.join(base, v["zone"]), tmp)
        with open(os.path.join(base, v["message"]), "rb") as msg:
            p = subprocess.run(["mg-dkim-verify", "-H", "mx.test",
                                "--resolver", "zone:" + zone] + extra,
                               stdin=msg, capture_output=True)
        res = results(p.stdout.decode("latin-1"), method)
        got = res[v["index"]] if v["index"] < len(res) else "missing"
        ok = p.returncode == 0 and (got == "pass") == (v["expect"] == "pass")
        bad += not ok
        print("%s %s: expect %s, got %s%s" % ("ok" if ok else "WRONG",
              v["id"], v["expect"], got, "" if ok else "\n" +
              p.stdout.decode("latin-1") + p.stderr.decode("latin-1")))
    sys.exit(1 if bad else 0)


main()

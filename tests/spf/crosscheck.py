#!/usr/bin/python3
"""Cross-checks mg-spf against pyspf (Debian's python3-spf): the same
inputs, the same DNS data from one loopback server (suite.py's), the
same results expected.  The sample is every test of an openspf YAML
suite, whatever the suite itself expects.

Usage: crosscheck.py MG-SPF YAML
Prints each disagreement (BOTH-ALLOWED where the suite accepts either
answer, which counts as agreeing) and "CROSSCHECK: N agree, M differ of T".
"""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yaml
import dns.resolver
import spf
import suite


def pyspf(port, t):
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = ['127.0.0.1']
    r.port = port
    r.timeout = r.lifetime = 1
    dns.resolver.default_resolver = r
    q = spf.query(i=t['host'], s=t['mailfrom'], h=t['helo'],
                  receiver='receiver.example', timeout=2)
    res, _, _ = q.check()
    return {'error': 'temperror', 'unknown': 'permerror'}.get(res, res)


def main():
    prog, path = sys.argv[1:]
    agree, differ = 0, []
    for doc in yaml.safe_load_all(open(path, 'rb')):
        if not doc:
            continue
        zone, timeout = suite.load_zone(doc.get('zonedata'))
        srv = suite.Server(zone, timeout)
        for name, t in doc['tests'].items():
            mine, _ = suite.run_test(prog, '127.0.0.1:%d' % srv.port, t,
                                     'receiver.example')
            theirs = pyspf(srv.port, t)
            allowed = t['result'] if isinstance(t['result'], list) \
                else [t['result']]
            if mine == theirs:
                agree += 1
            elif mine in allowed and theirs in allowed:
                # The suite allows both (the order of a PTR answer).
                agree += 1
                print('BOTH-ALLOWED %s: mg-spf %s, pyspf %s' % (
                    name, mine, theirs))
            else:
                differ.append(name)
                print('DIFFER %s: mg-spf %s, pyspf %s (suite: %s)' % (
                    name, mine, theirs, t['result']))
        srv.close()
    print('CROSSCHECK: %d agree, %d differ of %d' % (
        agree, len(differ), agree + len(differ)))
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/python3
"""Runs an openspf test suite (RFC 7208 or RFC 4408 YAML) against mg-spf.

Each scenario's zonedata is served by a DNS server on 127.0.0.1 (UDP and
TCP, a random port) written here on dnspython: a name listed as TIMEOUT
gets no answer at all, an answer too big for 512 bytes of UDP is sent
truncated so the client asks again over TCP, and SPF records are also
served as TXT when the name has no TXT of its own (the suite's rule for
RFC 7208 drivers).  With --zone, scenarios without TIMEOUT are instead
written as zone files and checked with --resolver zone:FILE.

Usage: suite.py [--zone] [--only NAME,...] [--known FILE] MG-SPF YAML
       suite.py --serve ADDR PORT COUNTFILE YAML [DELAY_MS]
       (for bench/spf.sh and the time-budget test: serve the first
       scenario's zonedata until killed or 600 s pass, writing the number
       of queries answered to COUNTFILE; each UDP answer waits DELAY_MS)
Prints one line per test and "SUITE: N passed, M failed of T".  With
--known, exits 1 unless the failing tests are exactly those listed in
FILE (one name a line, '#' comments), so a new failure and a newly
passing test both show.
"""
import os, socket, subprocess, sys, tempfile, threading, time
import yaml
import dns.message, dns.rrset, dns.rdatatype, dns.rdataclass, dns.rcode
import dns.flags, dns.name, dns.rdata

STOP_AFTER = 600            # seconds: the server never outlives a run


def norm(name):
    return name.lower().rstrip('.')


def txt_rdata(v, rtype='TXT'):
    """A TXT rdata from a YAML value: a string or a list of strings."""
    parts = v if isinstance(v, list) else [v]
    chunks = []
    for p in parts:
        b = p.encode('utf-8') if isinstance(p, str) else bytes(p)
        if not b:
            chunks.append(b'')
        while b:
            chunks.append(b[:255])
            b = b[255:]
    cls = dns.rdata.get_rdata_class(dns.rdataclass.IN,
                                    dns.rdatatype.from_text(rtype))
    return cls(dns.rdataclass.IN, dns.rdatatype.from_text(rtype), chunks)


def load_zone(zonedata):
    """name -> list of (type, rdata); names listed as TIMEOUT in a set."""
    zone, timeout = {}, set()
    for name, rrs in (zonedata or {}).items():
        n = norm(name)
        recs = zone.setdefault(n, [])
        for r in rrs:
            if r == 'TIMEOUT':
                timeout.add(n)
                continue
            for k, v in r.items():
                if k == 'TXT' and v == 'NONE':
                    recs.append(('NOTXT', None))   # no TXT, and no copy
                elif k in ('SPF', 'TXT'):
                    recs.append((k, txt_rdata(v, k)))
                elif k in ('A', 'AAAA'):
                    for a in (v if isinstance(v, list) else [v]):
                        recs.append((k, dns.rdata.from_text('IN', k, a)))
                elif k == 'MX':
                    recs.append((k, dns.rdata.from_text(
                        'IN', 'MX', '%d %s.' % (v[0], v[1].rstrip('.')))))
                elif k in ('PTR', 'CNAME'):
                    recs.append((k, dns.rdata.from_text(
                        'IN', k, v.rstrip('.') + '.')))
        if any(t == 'SPF' for t, _ in recs) and \
                not any(t in ('TXT', 'NOTXT') for t, _ in recs):
            recs.extend(('TXT', txt_rdata_from(r)) for t, r in list(recs)
                        if t == 'SPF')
    return zone, timeout


def txt_rdata_from(spf):
    return dns.rdata.get_rdata_class(dns.rdataclass.IN, dns.rdatatype.TXT)(
        dns.rdataclass.IN, dns.rdatatype.TXT, spf.strings)


def answer(zone, timeout, wire):
    """The reply to a query, or None to stay silent."""
    try:
        q = dns.message.from_wire(wire)
    except Exception:
        return None
    r = dns.message.make_response(q)
    r.flags |= dns.flags.AA
    if not q.question:
        return r
    qn = q.question[0].name
    qt = dns.rdatatype.to_text(q.question[0].rdtype)
    owner = qn
    name = norm(b'.'.join(qn.labels).decode('latin-1'))
    for _ in range(10):
        if name not in zone:
            if name in timeout:
                return None
            r.set_rcode(dns.rcode.NXDOMAIN)
            return r
        recs = zone[name]
        cn = [d for t, d in recs if t == 'CNAME']
        if cn and qt != 'CNAME':
            rs = dns.rrset.from_rdata(owner,
                                      300, cn[0])
            r.answer.append(rs)
            owner = cn[0].target
            name = norm(b'.'.join(owner.labels).decode('latin-1'))
            continue
        got = [d for t, d in recs if t == qt]
        if got:
            r.answer.append(dns.rrset.from_rdata_list(
                owner, 300, got))
        elif name in timeout:
            return None     # a TIMEOUT name answers only what it lists
        return r
    return r


class Server:
    def __init__(self, zone, timeout, addr='127.0.0.1', port=0,
                 countfile=None, delay=0.0):
        self.zone, self.timeout, self.delay = zone, timeout, delay
        self.count, self.countfile = 0, countfile
        for _ in range(50):
            self.u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.u.bind((addr, port))
            self.port = self.u.getsockname()[1]
            self.t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self.t.bind((addr, self.port))
                break
            except OSError:
                self.u.close()
                self.t.close()
        self.t.listen(16)
        self.u.settimeout(0.5)
        self.t.settimeout(0.5)
        self.done = False
        self.end = time.monotonic() + STOP_AFTER
        for f in (self.udp, self.tcp):
            threading.Thread(target=f, daemon=True).start()

    def udp(self):
        while not self.done and time.monotonic() < self.end:
            try:
                wire, peer = self.u.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            r = answer(self.zone, self.timeout, wire)
            self.counted()
            if r is None:
                continue
            out = r.to_wire()
            if self.delay:
                time.sleep(self.delay)
            if len(out) > 512:
                r.answer = []
                r.flags |= dns.flags.TC
                out = r.to_wire()
            self.u.sendto(out, peer)

    def tcp(self):
        while not self.done and time.monotonic() < self.end:
            try:
                c, _ = self.t.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            c.settimeout(2)
            try:
                ln = c.recv(2)
                if len(ln) == 2:
                    n = int.from_bytes(ln, 'big')
                    wire = b''
                    while len(wire) < n:
                        b = c.recv(n - len(wire))
                        if not b:
                            break
                        wire += b
                    r = answer(self.zone, self.timeout, wire)
                    self.counted()
                    if r is not None:
                        out = r.to_wire()
                        c.sendall(len(out).to_bytes(2, 'big') + out)
            except OSError:
                pass
            c.close()

    def counted(self):
        self.count += 1
        if self.countfile:
            with open(self.countfile, 'w') as f:
                f.write('%d\n' % self.count)

    def close(self):
        self.done = True
        self.u.close()
        self.t.close()


def zone_file(zone, path):
    """Writes the zone as an RFC 1035 file; False if it cannot be."""
    with open(path, 'w') as f:
        f.write('$TTL 300\n')
        for name, recs in zone.items():
            if any(len(l) > 63 for l in name.split('.')) or '..' in name \
                    or not name:
                continue
            for t, d in recs:
                if t == 'SPF':
                    continue
                owner = dns.name.Name([l.encode('latin-1')
                                       for l in name.split('.')] + [b''])
                f.write('%s IN %s %s\n' % (owner.to_text(), t, d.to_text()))
    return True


def run_test(prog, resolver, t, receiver):
    args = [prog, '--resolver', resolver, '--ip', t['host'],
            '--helo', t['helo'], '--from', t['mailfrom'],
            '-H', receiver, '--cache', 'no', '--dns-timeout', '300',
            '--temperror-action', 'header']
    if os.environ.get('SUITE_VERBOSE'):
        args.append('-x')
    if not t['mailfrom']:
        args[args.index('--from') + 1] = ''
    p = subprocess.run(args, capture_output=True, text=True,
                       errors='replace', timeout=30)
    out = p.stdout
    if os.environ.get('SUITE_VERBOSE'):
        sys.stdout.write(p.stderr)
    if p.returncode == 100 and out.startswith('550 5.7.23 '):
        return 'fail', out[len('550 5.7.23 '):].strip()
    for line in out.splitlines():
        if line.startswith('Received-SPF: '):
            return line.split()[1], None
    return 'crash(%d): %s %s' % (p.returncode, out.strip(),
                                  p.stderr.strip()[-200:]), None


def serve(addr, port, countfile, path, delay_ms='0'):
    doc = [d for d in yaml.safe_load_all(open(path, 'rb')) if d][0]
    zone, timeout = load_zone(doc.get('zonedata'))
    srv = Server(zone, timeout, addr, int(port), countfile,
                 int(delay_ms) / 1000.0)
    srv.counted()
    srv.count = 0
    while time.monotonic() < srv.end:
        time.sleep(0.5)
    return 0


def main():
    argv = sys.argv[1:]
    if argv and argv[0] == '--serve':
        return serve(*argv[1:6])
    use_zone, only, known = False, None, None
    while argv and argv[0].startswith('--'):
        o = argv.pop(0)
        if o == '--zone':
            use_zone = True
        elif o == '--only':
            only = set(argv.pop(0).split(','))
        elif o == '--known':
            known = argv.pop(0)
    prog, suite = argv
    docs = [d for d in yaml.safe_load_all(open(suite, 'rb')) if d]
    passed, failed = 0, []
    tmp = tempfile.mkdtemp(prefix='spfsuite.')
    for i, doc in enumerate(docs):
        zone, timeout = load_zone(doc.get('zonedata'))
        srv = None
        if use_zone and not timeout:
            path = os.path.join(tmp, 'z%d.zone' % i)
            zone_file(zone, path)
            resolver = 'zone:' + path
        else:
            srv = Server(zone, timeout)
            resolver = '127.0.0.1:%d' % srv.port
        for name, t in doc['tests'].items():
            if only and name not in only:
                continue
            want = t['result'] if isinstance(t['result'], list) \
                else [t['result']]
            got, exp = run_test(prog, resolver, t, 'receiver.example')
            why = ''
            if got not in want:
                why = 'expected %s, got %s' % ('|'.join(want), got)
            elif got == 'fail' and t.get('explanation') not in \
                    (None, 'DEFAULT') and exp != t['explanation']:
                why = 'explanation %r, want %r' % (exp, t['explanation'])
            if why:
                failed.append(name)
                print('FAIL %s (%s): %s' % (name, t.get('spec', '-'), why))
            else:
                passed += 1
                print('ok   %s' % name)
        if srv:
            srv.close()
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)
    print('SUITE: %d passed, %d failed of %d' % (passed, len(failed),
                                                 passed + len(failed)))
    if known is not None:
        want = set()
        for line in open(known):
            line = line.split('#')[0].strip()
            if line:
                want.add(line)
        new, fixed = set(failed) - want, want - set(failed)
        if new:
            print('NEW FAILURES: ' + ' '.join(sorted(new)))
        if fixed and not only:
            print('NOW PASSING (update %s): %s' % (known,
                                                   ' '.join(sorted(fixed))))
        return 1 if new or (fixed and not only) else 0
    return 0


if __name__ == '__main__':
    sys.exit(main())

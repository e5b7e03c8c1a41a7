#!/bin/sh
# gen-list.sh: writes COUNT random list entries (list.h syntax) to stdout,
# the same ones for the same seed, for benchmarks of list files.
#
#	-k KIND	cidr4, cidr6, cidr (both), host, addr, or mixed (default):
#		mixed is 40% IPv4 CIDRs, 20% IPv6, 20% hosts, 20% addresses
#	-q	write lookup keys instead: for each entry, an IP, host name or
#		address that it matches (one a line, in the same order), so a
#		benchmark can replay hits; shuffle or alter them for misses
#	-s SEED	the random seed (default 1)
#
# Entries carry values (deny, allow, a reply text) like real lists.  No
# globs are generated: they are scanned linearly and meant to stay few.
# Example: bench/gen-list.sh -k cidr -s 7 1000000 > /tmp/big.list
usage() {
	echo "usage: gen-list.sh [-q] [-k cidr|cidr4|cidr6|host|addr|mixed]" \
	    "[-s seed] count" >&2
	exit 2
}

kind=mixed seed=1 queries=0
while getopts k:qs: opt; do
	case $opt in
	k) kind=$OPTARG ;;
	q) queries=1 ;;
	s) seed=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
case $kind in cidr|cidr4|cidr6|host|addr|mixed) ;; *) usage ;; esac
case $1$seed in *[!0-9]*) usage ;; esac

exec /usr/bin/python3 - "$kind" "$seed" "$1" "$queries" <<'EOF'
import ipaddress, random, sys

kind, seed, count, queries = sys.argv[1], int(sys.argv[2]), \
    int(sys.argv[3]), sys.argv[4] == "1"
r = random.Random(seed)
values = ["deny", "allow", "550 5.7.1 listed here", ""]
out = sys.stdout

def bits(n):
    return r.getrandbits(n)

def dotted(a):
    return "%d.%d.%d.%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)

def cidr4():
    plen = 8 + bits(5) % 25
    mask = (0xffffffff << (32 - plen)) & 0xffffffff
    net = bits(32) & mask
    host = net | (bits(32) & ~mask & 0xffffffff)
    return "%s/%d" % (dotted(net), plen), dotted(host)

def cidr6():
    plen = r.choice([32, 48, 56, 64, 64, 64, 128])
    net = ipaddress.IPv6Network(((0x2 << 124) | bits(125), plen),
        strict=False)
    host = net.network_address + bits(128) % net.num_addresses
    return str(net), str(host)

def host():
    name = "h%d.n%d.example%d.net" % (bits(20), bits(16), bits(7))
    form = bits(2)
    if form == 0:
        return name, name
    if form == 1:
        return "*." + name, "x%d.%s" % (bits(8), name)
    if form == 2:
        return "." + name, name
    return "." + name, "mx.%s" % name

def addr():
    user, dom = "u%d" % bits(16), "d%d.example%d.org" % (bits(20), bits(7))
    form = bits(2)
    if form == 0:
        return "%s@%s" % (user, dom), "%s@%s" % (user, dom)
    if form == 1:
        return "@" + dom, "%s@%s" % (user, dom)
    if form == 2:
        return "*@*." + dom, "%s@mx.%s" % (user, dom)
    return "%s@*" % user, "%s@elsewhere.example" % user

gens = {"cidr4": [cidr4], "cidr6": [cidr6], "cidr": [cidr4, cidr6],
    "host": [host], "addr": [addr],
    "mixed": [cidr4, cidr4, cidr6, host, addr]}[kind]
for i in range(count):
    entry, query = gens[i % len(gens)]()
    v = r.choice(values)
    if queries:
        out.write(query + "\n")
    else:
        out.write(entry + (" " + v if v else "") + "\n")
EOF

#!/bin/bash
# bench/spf.sh: mg-spf as a whole process next to libspf2's spfquery and
# pyspf, in the same run, on a policy with an include chain of three
# levels and a macro (bench/spf-policy.yml), against two DNS servers on
# loopback in turn:
#
#   nsd (127.0.3.53)            a real server, answering in microseconds,
#                               so the checks' own cost shows;
#   tests/spf/suite.py --serve  (127.0.3.54) a dnspython server that
#                               counts the queries, at about 0.4 ms an
#                               answer, which then dominates every check.
#
# For each: wall-clock and CPU ms per check, queries per check (counting
# server), the ratios, and a repeated check answered from mg-spf's cache.
#
# spfquery and pyspf read /etc/resolv.conf, so the run happens in a
# private mount namespace (unshare -m, as root) where a resolv.conf
# naming the server in use is bound over the real one; the machine's own
# file is never touched.  Both servers are started here, on loopback, and
# stopped by their pids.  Usage: bench/spf.sh [N]   (default 200)
set -eu
cd "$(dirname "$0")/.."
N=${1:-200}
NSD_ADDR=127.0.3.53
PY_ADDR=127.0.3.54
PY=/usr/bin/python3

if [ "${MG_BENCH_INNER:-}" != 1 ]; then
	for c in spfquery nsd; do
		command -v $c >/dev/null || { echo "bench: needs $c" >&2; exit 1; }
	done
	[ -x bin/mg-spf ] || make bin/mg-spf >/dev/null
	exec unshare -m env MG_BENCH_INNER=1 bash "$0" "$@"
fi

T=$(mktemp -d /tmp/mg-bench-spf.XXXXXX)
SRV= NSD=
trap 'kill $SRV $NSD 2>/dev/null; umount /etc/resolv.conf 2>/dev/null; rm -rf "$T"' EXIT
: > "$T/resolv.conf"
mount --bind "$T/resolv.conf" /etc/resolv.conf
# use ADDR: points resolv.conf (the bound file, rewritten in place) at ADDR.
use() { printf 'nameserver %s\noptions timeout:2 attempts:1\n' "$1" > "$T/resolv.conf"; }

$PY tests/spf/suite.py --serve "$PY_ADDR" 53 "$T/count" bench/spf-policy.yml &
SRV=$!
# nsd serves the same records, written from the YAML by the suite's own
# zone writer, under an SOA of its own.
echo 'bench.example.com. IN SOA ns.bench.example.com. hostmaster.bench.example.com. 1 3600 600 86400 300' > "$T/soa"
$PY - "$T/records" <<'PY'
import sys
sys.path.insert(0, 'tests/spf')
import suite, yaml
doc = [d for d in yaml.safe_load_all(open('bench/spf-policy.yml')) if d][0]
suite.zone_file(suite.load_zone(doc['zonedata'])[0], sys.argv[1])
PY
cat "$T/records" "$T/soa" > "$T/bench.zone"
cat > "$T/nsd.conf" <<CONF
server:
	ip-address: $NSD_ADDR
	port: 53
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: "$T"
	pidfile: "$T/nsd.pid"
	database: ""
	zonelistfile: "$T/zone.list"
	xfrdfile: "$T/xfrd.state"
	xfrdir: "$T"
	logfile: "$T/nsd.log"
	server-count: 1
	hide-version: yes
	# Response rate limiting would drop a benchmark's repeated answers.
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
remote-control:
	control-enable: no
zone:
	name: "bench.example.com"
	zonefile: "$T/bench.zone"
CONF
nsd -d -c "$T/nsd.conf" > "$T/nsd.out" 2>&1 &
NSD=$!
for _ in $(seq 1 50); do
	[ -s "$T/count" ] && drill -Q -p 53 @$NSD_ADDR bench.example.com TXT \
	    >/dev/null 2>&1 && break
	sleep 0.1
done

IP=192.0.2.5 FROM=alice@bench.example.com HELO=mail.example.net
count() { cat "$T/count"; }

# run SERVER NAME CMD...: N checks, prints "SERVER NAME wall-ms/check
# cpu-ms/check queries/check result"; CPU is user plus system time of
# the checks; queries are counted by the dnspython server only.
run() {
	local srv=$1 name=$2 q0 q1 res tm
	shift 2
	res=$("$@" 2>/dev/null | head -n 1 || true)
	q0=$(count)
	tm=$( { TIMEFORMAT='%R %U %S'; time for _ in $(seq 1 "$N"); do
	    "$@" >/dev/null 2>&1 || true; done; } 2>&1 )
	q1=$(count)
	echo "$tm" | awk -v n="$N" -v q="$((q1 - q0))" -v srv="$srv" \
	    -v name="$name" -v res="$res" '{
	    qs = srv == "nsd" ? "     -" : sprintf("%6.1f", q / n)
	    printf "%-7s %-9s %7.2f ms/check %6.2f ms CPU %s queries/check  %s\n",
	    srv, name, $1 * 1000 / n, ($2 + $3) * 1000 / n, qs, substr(res, 1, 28) }' |
	    tee -a "$T/results"
}

MG="bin/mg-spf -H bench --ip $IP --helo $HELO --from $FROM"
for srv in nsd dnspy; do
	if [ $srv = nsd ]; then a=$NSD_ADDR; else a=$PY_ADDR; fi
	use $a
	run $srv mg-spf $MG --resolver $a:53 --cache no
	run $srv spfquery spfquery -ip $IP -sender $FROM -helo $HELO
	NPY=$N; N=$(( N / 10 > 5 ? N / 10 : 5 ))
	run $srv pyspf $PY -c "import spf,sys; print(spf.check2(i='$IP', s='$FROM', h='$HELO'))"
	N=$NPY
	rm -f "$T"/*.db "$T"/*.lock
	$MG --resolver $a:53 --cache yes --statedir "$T" >/dev/null 2>&1 || true
	run $srv cached $MG --resolver $a:53 --cache yes --statedir "$T"
done

awk '{ ms[$1, $2] = $3; cpu[$1, $2] = $5; q[$1, $2] = $8 }
END {
	for (i = 1; i <= 2; i++) {
		s = i == 1 ? "nsd" : "dnspy"
		printf "\n%s:\n", s == "nsd" ? "against nsd" : \
		    "against the counting dnspython server"
		printf "  spfquery / mg-spf: %.2fx wall, %.2fx CPU (target >= 1)\n",
		    ms[s, "spfquery"] / ms[s, "mg-spf"], cpu[s, "spfquery"] / cpu[s, "mg-spf"]
		printf "  pyspf / mg-spf:    %.1fx wall (target >= 10)\n",
		    ms[s, "pyspf"] / ms[s, "mg-spf"]
		printf "  cached mg-spf:     %.2f ms vs %.2f ms uncached\n",
		    ms[s, "cached"], ms[s, "mg-spf"]
	}
	printf "\nqueries per check: mg-spf %.1f, spfquery %.1f, pyspf %.1f, cached mg-spf %.1f (target: no more than spfquery)\n",
	    q["dnspy", "mg-spf"], q["dnspy", "spfquery"], q["dnspy", "pyspf"], q["dnspy", "cached"]
}' "$T/results"

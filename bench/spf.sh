#!/bin/bash
# bench/spf.sh: mg-spf as a whole process next to libspf2's spfquery and
# pyspf, in the same run, against one DNS server on loopback that counts
# the queries, on a policy with an include chain of three levels and a
# macro (bench/spf-policy.yml).  Prints wall-clock and CPU ms per check,
# queries per check and the ratios; then a repeated check answered from
# mg-spf's cache.
#
# spfquery and pyspf read /etc/resolv.conf, so the run happens in a
# private mount namespace (unshare -m, as root) where a resolv.conf
# naming the loopback server is bound over the real one; the machine's
# own file is never touched.  Usage: bench/spf.sh [N]   (default 200)
set -eu
cd "$(dirname "$0")/.."
N=${1:-200}
ADDR=127.0.3.53
PY=/usr/bin/python3

if [ "${MG_BENCH_INNER:-}" != 1 ]; then
	command -v spfquery >/dev/null || { echo "bench: needs spfquery" >&2; exit 1; }
	[ -x bin/mg-spf ] || make bin/mg-spf >/dev/null
	exec unshare -m env MG_BENCH_INNER=1 bash "$0" "$@"
fi

T=$(mktemp -d /tmp/mg-bench-spf.XXXXXX)
trap 'kill $SRV 2>/dev/null; umount /etc/resolv.conf 2>/dev/null; rm -rf "$T"' EXIT
printf 'nameserver %s\noptions timeout:2 attempts:1\n' "$ADDR" > "$T/resolv.conf"
mount --bind "$T/resolv.conf" /etc/resolv.conf
$PY tests/spf/suite.py --serve "$ADDR" 53 "$T/count" bench/spf-policy.yml &
SRV=$!
for i in $(seq 1 50); do [ -s "$T/count" ] && break; sleep 0.1; done

IP=192.0.2.5 FROM=alice@bench.example.com HELO=mail.example.net
count() { cat "$T/count"; }

# run NAME CMD...: N checks, prints "NAME wall-ms/check cpu-ms/check
# queries/check result"; CPU is user plus system time of the checks.
run() {
	local name=$1 q0 q1 res tm
	shift
	res=$("$@" 2>/dev/null | head -n 1 || true)
	q0=$(count)
	tm=$( { TIMEFORMAT='%R %U %S'; time for _ in $(seq 1 "$N"); do
	    "$@" >/dev/null 2>&1 || true; done; } 2>&1 )
	q1=$(count)
	echo "$tm" | awk -v n="$N" -v q="$((q1 - q0))" -v name="$name" \
	    -v res="$res" '{ printf "%-10s %8.2f ms/check %6.2f ms CPU %6.1f queries/check  %s\n",
	    name, $1 * 1000 / n, ($2 + $3) * 1000 / n, q / n, substr(res, 1, 30) }' |
	    tee -a "$T/results"
}

MG="bin/mg-spf -H bench --resolver $ADDR:53 --ip $IP --helo $HELO --from $FROM"
run mg-spf $MG --cache no
run spfquery spfquery -ip $IP -sender $FROM -helo $HELO
NPY=$N; N=$(( N / 10 > 5 ? N / 10 : 5 ))
run pyspf $PY -c "import spf,sys; print(spf.check2(i='$IP', s='$FROM', h='$HELO'))"
N=$NPY
$MG --cache yes --statedir "$T" >/dev/null 2>&1 || true
run cached $MG --cache yes --statedir "$T"

awk '{ ms[$1] = $2; cpu[$1] = $4; q[$1] = $7 }
END {
	printf "\nspfquery / mg-spf: %.2fx wall, %.2fx CPU (target >= 1)\n",
	    ms["spfquery"] / ms["mg-spf"], cpu["spfquery"] / cpu["mg-spf"]
	printf "pyspf / mg-spf:    %.1fx (target >= 10)\n", ms["pyspf"] / ms["mg-spf"]
	printf "queries: mg-spf %.1f, spfquery %.1f per check (target: no more)\n", q["mg-spf"], q["spfquery"]
	printf "cached / uncached mg-spf: %.2f ms vs %.2f ms, %.1f queries\n", ms["cached"], ms["mg-spf"], q["cached"]
}' "$T/results"

#!/bin/sh
# bench/screen.sh: the cost of one mg-screen decision, as a whole process,
# with IP and host lists of 1k, 100k and 1M entries.  The compiled lists
# (.mgc) are mapped, not read, so the cost should stay nearly flat.
# Usage: sh bench/screen.sh [runs]   (default 300 runs per size)
set -eu
cd "$(dirname "$0")/.."
runs=${1:-300}
[ -x bin/mg-screen ] || make -s all
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export MG_CONFIG=/dev/null

now_ns() { date +%s%N; }

# Runs mg-screen $runs times with the given options; prints µs per run.
per_run() {
	t0=$(now_ns)
	i=0
	while [ $i -lt "$runs" ]; do
		bin/mg-screen "$@" >/dev/null 2>&1 || [ $? -eq 100 ]
		i=$((i + 1))
	done
	t1=$(now_ns)
	echo $(((t1 - t0) / runs / 1000))
}

printf '%-9s %12s %14s %14s %16s\n' entries "compile (s)" "no list (µs)" \
    "ip list (µs)" "ip+host (µs)"
for n in 1000 100000 1000000; do
	sh bench/gen-list.sh -k cidr -s 1 $n >"$dir/ip"
	sh bench/gen-list.sh -k host -s 2 $n >"$dir/host"
	# An index is trusted without rereading the text only when the text
	# is older than the 2 s timestamp tick list.h guards against.
	touch -d "-1 hour" "$dir/ip" "$dir/host"
	# A client in the middle of the list, and a HELO name that matches.
	ip=$(sh bench/gen-list.sh -q -k cidr -s 1 $n | sed -n "$((n / 2))p")
	helo=$(sh bench/gen-list.sh -q -k host -s 2 $n | sed -n "$((n / 3))p")
	t0=$(now_ns)
	bin/mg-screen compile "$dir/ip" "$dir/host" >/dev/null
	t1=$(now_ns)
	comp=$(echo "$t0 $t1" | awk '{ printf "%.2f", ($2 - $1) / 1e9 }')
	base=$(per_run --ip "$ip")
	one=$(per_run --ip "$ip" --ip-rules "$dir/ip")
	two=$(per_run --ip "$ip" --ip-rules "$dir/ip" --host-rules "$dir/host" \
	    --helo "$helo" --resolver "zone:/dev/null")
	printf '%-9s %12s %14s %14s %16s\n' $n "$comp" "$base" "$one" "$two"
done
echo "($runs runs per cell; lists compiled to .mgc; $(nproc) cores)"

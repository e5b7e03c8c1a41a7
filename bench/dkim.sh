#!/bin/sh
# bench/dkim.sh: signing and verifying 10 KB and 10 MB messages as whole
# processes, next to opendkim-testmsg (the same library; it signs only
# rsa-sha1) and dkimpy in the same run, and 10 MB against the time
# `openssl dgst -sha256` needs for the same bytes.
# Usage: sh bench/dkim.sh [runs]   (default 50 runs for 10 KB)
set -eu
cd "$(dirname "$0")/.."
runs=${1:-50}
[ -x bin/mg-dkim-sign ] || make -s all
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export MG_CONFIG=/dev/null
PY=/usr/bin/python3

now_ns() { date +%s%N; }

# Runs "$@" (stdin from $in) $n times; prints ms per run with 2 decimals.
per_run() {
	n=$1
	shift
	t0=$(now_ns)
	i=0
	while [ $i -lt "$n" ]; do
		"$@" < "$in" > /dev/null 2>&1 || true
		i=$((i + 1))
	done
	t1=$(now_ns)
	echo "$t0 $t1 $n" | awk '{ printf "%.2f", ($2 - $1) / $3 / 1e6 }'
}

bin/mg-dkim-sign genkey -d example.org -s rsa -k "$dir/rsa.pem" > "$dir/rsa.rec"
{ echo '$ORIGIN .'; cat "$dir/rsa.rec"; } > "$dir/zone"
mk() {
	{ printf 'From: Joe <joe@example.org>\nTo: you@example.net\n'
	  printf 'Subject: bench\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n'
	  printf 'Message-ID: <b@example.org>\n\n'
	  head -c "$1" /dev/urandom | base64 -w 76; } > "$2"
}
mk 7500 "$dir/10k.eml"
mk 7700000 "$dir/10m.eml"

sign_mg() { bin/mg-dkim-sign -d example.org -s rsa -k "$dir/rsa.pem" -m; }
sign_od() { opendkim-testmsg -t "$dir" -d example.org -s rsa -k "$dir/rsa.pem"; }
sign_py() { "$PY" tests/lib/dkimpy.py sign "$dir/rsa.pem" example.org rsa rsa-sha256 relaxed/relaxed; }
verify_mg() { bin/mg-dkim-verify -H mx -r "zone:$dir/zone"; }
verify_py() { "$PY" tests/lib/dkimpy.py verify "$dir/zone"; }

for size in 10k 10m; do
	n=$runs
	[ $size = 10k ] || n=3
	in="$dir/$size.eml"
	sign_mg < "$in" > "$dir/$size.signed"
	mg=$(per_run $n sign_mg)
	od=$(per_run $n sign_od)
	py=$(per_run $n sign_py)
	echo "$size sign (ms/msg): mg-dkim-sign $mg, opendkim-testmsg $od (rsa-sha1), dkimpy $py" |
	    awk -v mg="$mg" -v od="$od" -v py="$py" '{ printf "%s\n    opendkim-testmsg/mg %.2fx, dkimpy/mg %.1fx\n", $0, od / mg, py / mg }'
	in="$dir/$size.signed"
	mv=$(per_run $n verify_mg)
	pv=$(per_run $n verify_py)
	echo "$size verify (ms/msg): mg-dkim-verify $mv, dkimpy $pv" |
	    awk -v mg="$mv" -v py="$pv" '{ printf "%s\n    dkimpy/mg %.1fx\n", $0, py / mg }'
done
in="$dir/10m.eml"
sha=$(per_run 3 openssl dgst -sha256)
mg=$(per_run 3 sign_mg)
in="$dir/10m.signed"
mv=$(per_run 3 verify_mg)
echo "10m: openssl dgst -sha256 $sha ms; sign $mg ms; verify $mv ms" |
    awk -v s="$sha" -v g="$mg" -v v="$mv" '{ printf "%s\n    sign/sha256 %.2fx, verify/sha256 %.2fx (target <= 1.5x)\n", $0, g / s, v / s }'

#!/bin/bash
# bench/dkim.sh: signing and verifying 10 KB and 10 MB messages as whole
# processes, next to opendkim-testmsg (the same library; it signs only
# rsa-sha1) and dkimpy in the same run, and 10 MB against the time
# `openssl dgst -sha256` needs for the same bytes.  Each figure is the
# median of its runs (the machine is shared; medians resist the noise),
# timed in bash itself, so no extra process is counted.
# Usage: bash bench/dkim.sh [runs]   (default 41 for 10 KB, 15 for 10 MB)
#
# The issue's targets, printed as ratios:
#   opendkim-testmsg/mg >= 1 (no slower per message),
#   dkimpy/mg >= 10, mg/openssl-dgst <= 1.5 for 10 MB.
set -eu
cd "$(dirname "$0")/.."
runs=${1:-41}
big=$(( runs < 15 ? runs : 15 ))
[ -x bin/mg-dkim-sign ] || make -s all
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export MG_CONFIG=/dev/null
PY=/usr/bin/python3

# median N CMD...: runs CMD N times with stdin from $in; prints the median
# wall time in ms.
median() {
	local n=$1 i t0 t1
	shift
	for ((i = 0; i < n; i++)); do
		t0=$EPOCHREALTIME
		"$@" < "$in" > /dev/null 2>&1 || true
		t1=$EPOCHREALTIME
		echo "$t0 $t1"
	done | awk '{ print ($2 - $1) * 1000 }' | sort -n |
	    awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

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

echo "relaxed/relaxed rsa-sha256 (2048 bits), medians in ms per message"
for size in 10k 10m; do
	n=$runs
	[ $size = 10k ] || n=$big
	in="$dir/$size.eml"
	sign_mg < "$in" > "$dir/$size.signed" 2>/dev/null
	# Check the bench measures real work: the signature must verify.
	verify_mg < "$dir/$size.signed" 2>/dev/null | grep -q 'dkim=pass' ||
	    { echo "bench: $size signature does not verify" >&2; exit 1; }
	mg=$(median "$n" sign_mg)
	od=$(median "$n" sign_od)
	py=$(median "$(( n < 9 ? n : 9 ))" sign_py)
	echo "$size sign:   mg-dkim-sign $mg, opendkim-testmsg $od (rsa-sha1)," \
	    "dkimpy $py"
	echo "    opendkim-testmsg/mg $(ratio "$od" "$mg")x (target >= 1)," \
	    "dkimpy/mg $(ratio "$py" "$mg")x (target >= 10)"
	in="$dir/$size.signed"
	mv=$(median "$n" verify_mg)
	pv=$(median "$(( n < 9 ? n : 9 ))" verify_py)
	echo "$size verify: mg-dkim-verify $mv, dkimpy $pv"
	echo "    dkimpy/mg $(ratio "$pv" "$mv")x (target >= 10)"
	if [ $size = 10m ]; then
		in="$dir/10m.eml"
		sha=$(median "$n" openssl dgst -sha256)
		sig=$(median "$n" sign_mg)
		in="$dir/10m.signed"
		ver=$(median "$n" verify_mg)
		echo "10m: openssl dgst -sha256 $sha; sign $sig; verify $ver"
		echo "    sign/sha256 $(ratio "$sig" "$sha")x," \
		    "verify/sha256 $(ratio "$ver" "$sha")x (target <= 1.5)"
	fi
done

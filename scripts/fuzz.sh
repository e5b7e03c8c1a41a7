#!/bin/sh
# fuzz.sh: run each libFuzzer target (built by `make fuzz') for a time,
# under the address and undefined sanitizers it was built with, and print
# one line a target: its name, the runs libFuzzer made, and whether it
# found a crash.  Corpora grow under build/fuzz/corpus/NAME, from the
# seeds in fuzz/corpus/NAME where there are some; a crash is kept as
# build/fuzz/crash-NAME-*.
#   usage: sh scripts/fuzz.sh [-t SECONDS] [-j JOBS] [TARGET ...]
# SECONDS defaults to 180 a target; JOBS (targets at once) to 1.
# Exits 1 when any target failed.
cd "$(dirname "$0")/.." || exit 111
secs=180 jobs=1
while getopts t:j: o; do
	case $o in
	t) secs=$OPTARG ;;
	j) jobs=$OPTARG ;;
	*) echo "usage: sh scripts/fuzz.sh [-t SECONDS] [-j JOBS] [TARGET ...]" >&2
	   exit 100 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- $(ls build/fuzz | grep -v '\.d$' | grep '^fuzz_')
[ $# -gt 0 ] || { echo "fuzz.sh: no targets: run make fuzz" >&2; exit 111; }
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# Each target's line also goes to this file: the jobs run in the
# background, so their exit codes are read back from their lines.
results=$(mktemp)
trap 'rm -f "$results"' EXIT
one() {
	t=$1
	mkdir -p "build/fuzz/corpus/$t"
	seeds=
	[ -d "fuzz/corpus/$t" ] && seeds=fuzz/corpus/$t
	"build/fuzz/$t" -max_total_time="$secs" -rss_limit_mb=2048 \
	    -artifact_prefix="build/fuzz/crash-$t-" "build/fuzz/corpus/$t" \
	    $seeds >"build/fuzz/$t.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "build/fuzz/$t.log")
	if [ "$rc" = 0 ]; then
		echo "$t: ${runs:-?} runs in $secs s, no crash"
	else
		echo "$t: FAILED (exit $rc), see build/fuzz/$t.log"
	fi | tee -a "$results"
}
# POSIX sh has no wait -n: the targets run in batches of JOBS.
n=0
for t; do
	one "$t" &
	n=$((n + 1))
	if [ "$n" -ge "$jobs" ]; then
		wait
		n=0
	fi
done
wait
! grep -q FAILED "$results"

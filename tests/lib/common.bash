# Shared set-up for the bats tests: the libraries, the freshly built
# programs first on PATH, and a private temp dir per test.
bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
# MG_SHIM_DIR (tests/served.bats) puts stand-ins before the programs.
PATH="${MG_SHIM_DIR:+$MG_SHIM_DIR:}$TOP/bin:$PATH:/usr/sbin:/sbin"
DATA="$TOP/tests/data"
export MG_CONFIG=/dev/null
unset MG_STATEDIR MG_RESOLVER TCPREMOTEIP TCPREMOTEHOST SMTPHELOHOST \
    SMTPMAILFROM SMTPRCPTTO SMTPAUTHUSER RELAYCLIENT MG_AUTHRES

common_setup() {
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/mg-test.XXXXXX")
	export T
}

common_teardown() {
	# A test skipped in setup never made $T; that is no failure.
	if [ -n "${T:-}" ]; then
		rm -rf "$T"
	fi
}

# The header fields a run printed on stdout ($output), unfolded.
unfolded() {
	printf '%s\n' "$output" | awk '/^[ \t]/ { sub(/^[ \t]+/, " "); printf "%s", $0; next } NR > 1 { print "" } { printf "%s", $0 } END { print "" }'
}

# Replaces $output and $lines with their unfolded form.
unfold_output() {
	output=$(unfolded)
	mapfile -t lines <<<"$output"
}

# Runs a command with the clock set to WHEN ("2026-11-28 12:00:00").
# libfaketime is preloaded directly: the faketime(1) wrapper names shared
# memory after its pid and fails when a stale segment holds that name.
FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1)
at_time() {
	local when=$1
	shift
	LD_PRELOAD=$FAKETIME_LIB FAKETIME="@$when" "$@"
}

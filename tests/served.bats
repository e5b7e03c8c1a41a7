#!/usr/bin/env bats
# The served form (--serve, Postfix's policy protocol) decides as the
# one-process form: each program's own bats file runs again with
# tests/lib/served first on PATH, whose shim asks --serve the envelope of
# every plain check the tests make and compares the answers.

load lib/common

setup() {
	common_setup
}

teardown() {
	common_teardown
}

# Runs tests/NAME.bats through the shim: its tests must still pass, no
# answer may differ, and at least MIN checks must have been compared.
replay() {
	local name=$1 min=$2
	run env MG_SHIM_DIR="$TOP/tests/lib/served" SERVED_LOG="$T/diff" \
	    SERVED_COUNT="$T/count" bats "$TOP/tests/$name.bats"
	assert_success
	[ ! -s "$T/diff" ] || { cat "$T/diff"; false; }
	echo "compared: $(wc -l <"$T/count")"
	[ "$(wc -l <"$T/count")" -ge "$min" ]
}

@test "mg-screen --serve gives the one-process form's answer in every mg-screen test" {
	replay mg-screen 100
}

@test "mg-relaycheck --serve gives the one-process form's answer in every mg-relaycheck test" {
	replay mg-relaycheck 100
}

@test "mg-spf --serve gives the one-process form's answer in every mg-spf test" {
	replay mg-spf 40
}

@test "mg-greylist --serve gives the one-process form's answer in every mg-greylist test" {
	replay mg-greylist 60
}

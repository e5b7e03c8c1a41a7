#!/usr/bin/env bats
# make install: binaries, man pages and examples where PREFIX and DESTDIR
# say, and nothing outside DESTDIR.

load lib/common

setup() {
	common_setup
}

teardown() {
	common_teardown
}

@test "make install puts programs, man pages and examples under DESTDIR and PREFIX" {
	run make -s -C "$TOP" install PREFIX=/opt/mg DESTDIR="$T/root"
	assert_success
	for p in "$TOP"/cmd/mg-*; do
		n=$(basename "$p")
		[ -x "$T/root/opt/mg/bin/$n" ]
		[ -f "$T/root/opt/mg/share/man/man1/$n.1" ]
	done
	[ -f "$T/root/opt/mg/share/man/man5/mailguard.conf.5" ]
	[ -f "$T/root/opt/mg/share/man/man7/mailguard.7" ]
	[ -f "$T/root/opt/mg/share/mailguard/examples/mailguard.conf" ]
	run "$T/root/opt/mg/bin/mg-screen" --ip 192.0.2.1
	assert_success
}

@test "every program answers --help with its usage on stdout and exit 0" {
	for p in "$TOP"/cmd/mg-*; do
		n=$(basename "$p")
		run --separate-stderr "$TOP/bin/$n" --help
		assert_success
		assert_line --index 0 --regexp "^usage: $n "
		assert_equal "$stderr" ""
	done
	run --separate-stderr "$TOP/bin/mg-screen" -h
	assert_success
	assert_line --index 0 --regexp '^usage: mg-screen '
	# An unknown option is still a usage error that defers.
	run --separate-stderr "$TOP/bin/mg-screen" --bogus
	assert_equal "$status" 111
}

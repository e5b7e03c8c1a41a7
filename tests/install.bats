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

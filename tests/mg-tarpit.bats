#!/usr/bin/env bats
# Black-box tests of mg-tarpit: delay sequences, exemptions, the dynamic
# screen's events, and real sleeping.

load lib/common

# faketime preloads itself ahead of the sanitizer runtime of a
# SANITIZE=1 build; let ASan run all the same.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

# ft TIME CMD...: runs CMD with the wall clock frozen at TIME, through
# libfaketime itself: the faketime wrapper fails now and then when many
# start at once (sem_open: File exists).
FAKELIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 | head -n 1)
ft() {
	local when=$1
	shift
	LD_PRELOAD="$FAKELIB" FAKETIME="$when" FAKETIME_DONT_FAKE_MONOTONIC=1 "$@"
}

setup() {
	common_setup
}

teardown() {
	common_teardown
}

# seq_of ARGS...: the printed delays of recipients 1 to 9.
seq_of() {
	local k out=
	for k in 0 1 2 3 4 5 6 7 8; do
		out+="$(mg-tarpit --print --ip 192.0.2.1 --rcpt-count $k "$@" 2>/dev/null) "
	done
	echo "$out"
}

@test "mg-tarpit defers an SMTPRCPTCOUNT that is too large or not a number" {
	for v in 9223372036854775807 18446744073709551616 1000001 abc 3x -1; do
		SMTPRCPTCOUNT=$v run --separate-stderr mg-tarpit --after 2 --print
		assert_equal "$status" 111
		assert_output "451 4.3.0 temporary failure (tarpit error)"
		[[ "$stderr" == *"SMTPRCPTCOUNT $v: "* ]]
	done
	SMTPRCPTCOUNT=1000000 run --separate-stderr mg-tarpit --after 2 --max 60 --print
	assert_success
	assert_output "60"
}

@test "mg-tarpit delays nobody unless configured" {
	run --separate-stderr mg-tarpit --print --ip 192.0.2.1 --rcpt-count 50
	assert_success
	assert_output "0"
	[[ "$stderr" == *"decision=accept ip=192.0.2.1 stage=rcpt rcpt=51 delay=0"* ]]
}

@test "mg-tarpit grows the delay by the factor after N recipients, up to the cap" {
	run seq_of --after 2
	assert_output "0 0 10 15 22.5 33.75 50.625 60 60 "
	run seq_of --after 3 --delay 2 --factor 2 --max-delay 20
	assert_output "0 0 0 2 4 8 16 20 20 "
	run seq_of --after 1 --delay 0.5 --factor 1
	assert_output "0 0.5 0.5 0.5 0.5 0.5 0.5 0.5 0.5 "
}

@test "mg-tarpit counts recipients from SMTPRCPTCOUNT" {
	SMTPRCPTCOUNT=3 TCPREMOTEIP=192.0.2.1 run --separate-stderr mg-tarpit --print --after 2
	assert_success
	assert_output "15"
}

@test "mg-tarpit delays the HELO reply when asked" {
	run --separate-stderr mg-tarpit --print --ip 192.0.2.1 --helo-delay 7.25 helo
	assert_success
	assert_output "7.25"
	[[ "$stderr" == *"stage=helo delay=7.25"* ]]
}

@test "mg-tarpit sleeps for the delay in a chain and prints nothing" {
	t0=$(date +%s%N)
	run --separate-stderr mg-tarpit --ip 192.0.2.1 --after 1 --rcpt-count 1 --delay 0.4
	t1=$(date +%s%N)
	assert_success
	assert_output ""
	[ $(( (t1 - t0) / 1000000 )) -ge 400 ]
	t0=$(date +%s%N)
	run --separate-stderr mg-tarpit --ip 192.0.2.1 --after 1 --rcpt-count 0 --delay 5
	t1=$(date +%s%N)
	[ $(( (t1 - t0) / 1000000 )) -lt 2000 ]
}

@test "mg-tarpit exempts authenticated, relaying and whitelisted clients" {
	run --separate-stderr mg-tarpit --print --ip 192.0.2.1 --after 1 --rcpt-count 5 --auth-user bob
	assert_output "0"
	RELAYCLIENT= run --separate-stderr mg-tarpit --print --ip 192.0.2.1 --after 1 --rcpt-count 5
	assert_output "0"
	RELAYCLIENT= run --separate-stderr mg-tarpit --print --ip 192.0.2.1 --after 1 --rcpt-count 5 --exempt-relayclient no
	assert_output "50.625"
	printf '198.51.100.0/24\n*.friend.example\n' > "$T/wl"
	run --separate-stderr mg-tarpit --print --ip 198.51.100.7 --after 1 --rcpt-count 5 -w "$T/wl"
	assert_output "0"
	run --separate-stderr mg-tarpit --print --ip 192.0.2.1 --host mx.friend.example --after 1 --rcpt-count 5 -w "$T/wl"
	assert_output "0"
	run --separate-stderr mg-tarpit --print --ip 192.0.2.1 --host mx.stranger.example --after 1 --rcpt-count 5 -w "$T/wl"
	assert_output "50.625"
}

@test "mg-tarpit gives clients with recent dynamic-screen events the larger delay" {
	ft '2024-03-01 12:00:00' mg-screen -d "$T" record auth-fail --ip 192.0.2.9 2>/dev/null
	dyn=(--dyn-event auth-fail --dyn-event unknown-rcpt --dyn-delay 30 -d "$T")
	run --separate-stderr ft '2024-03-01 12:30:00' mg-tarpit --print --ip 192.0.2.9 "${dyn[@]}"
	assert_success
	assert_output "30"
	[[ "$stderr" == *'why="recent dynamic-screen events"'* ]]
	run --separate-stderr ft '2024-03-01 12:30:00' mg-tarpit --print --ip 192.0.2.10 "${dyn[@]}"
	assert_output "0"
	# Past the window the events no longer count.
	run --separate-stderr ft '2024-03-01 13:00:01' mg-tarpit --print --ip 192.0.2.9 "${dyn[@]}"
	assert_output "0"
	# A larger ordinary delay wins.
	run --separate-stderr ft '2024-03-01 12:30:00' mg-tarpit --print --ip 192.0.2.9 "${dyn[@]}" \
	    --after 1 --rcpt-count 8 --max-delay 45
	assert_output "45"
}

@test "mg-tarpit defers when the dynamic store is unusable" {
	head -c 4096 /dev/urandom > "$T/dynamic.db"
	run --separate-stderr mg-tarpit --print --ip 192.0.2.9 --dyn-event auth-fail --dyn-delay 30 -d "$T"
	assert_equal "$status" 111
	assert_output "451 4.3.0 temporary failure (tarpit error)"
	[[ "$stderr" == *"dynamic.db"* ]]
}

@test "mg-tarpit defers bad options and numbers with a reply line" {
	run --separate-stderr mg-tarpit --bogus
	assert_equal "$status" 111
	assert_output "451 4.3.0 temporary failure (usage error)"
	run --separate-stderr mg-tarpit --print --factor 0.5 --ip 192.0.2.1
	assert_equal "$status" 111
	[[ "$stderr" == *"option --factor: 0.5: must be at least 1"* ]]
	run --separate-stderr mg-tarpit --print --delay 1.2345 --ip 192.0.2.1
	assert_equal "$status" 111
	[[ "$stderr" == *"option --delay: 1.2345"* ]]
	run --separate-stderr mg-tarpit --print --max-delay 99999 --ip 192.0.2.1
	assert_equal "$status" 111
	[[ "$stderr" == *"too large"* ]]
	run --separate-stderr mg-tarpit --print --ip 192.0.2.1 data
	assert_equal "$status" 111
}

@test "mg-tarpit reads its section of the config file" {
	printf '[mg-tarpit]\nafter 1\ndelay 3\nfactor 2\n' > "$T/mg.conf"
	run --separate-stderr mg-tarpit -c "$T/mg.conf" --print --ip 192.0.2.1 --rcpt-count 2
	assert_output "6"
}

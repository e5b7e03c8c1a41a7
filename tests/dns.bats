#!/usr/bin/env bats
# libcommon/dns.c against real servers on 127.0.0.1: nsd for answers,
# truncation and SERVFAIL, a listener that never answers for timeouts.
# build/unit/test_dnsq is the query tool (make unit builds it).

load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash
load lib/dnsserver.bash

bats_require_minimum_version 1.5.0

DNSQ=build/unit/test_dnsq

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

setup_file() {
	cd "$BATS_TEST_DIRNAME/.."
	[ -x "$DNSQ" ] || make build/unit/test_dnsq >&2
	dns_server_start tests/data/dns/big.zone \
	    broken.test=tests/data/dns/broken.zone
	echo "$DNS_PID" > "$BATS_FILE_TMPDIR/nsd.pid"
}

teardown_file() {
	DNS_PID=$(cat "$BATS_FILE_TMPDIR/nsd.pid" 2>/dev/null)
	dns_server_stop
}

setup() {
	cd "$BATS_TEST_DIRNAME/.."
	NS="127.0.0.1:$DNS_PORT"
}

teardown() {
	silent_server_stop
	if [ -n "${SPOOF_PID:-}" ]; then
		kill "$SPOOF_PID" 2>/dev/null
		wait "$SPOOF_PID" 2>/dev/null
	fi
	true
}

# spoof_start MODE: tests/lib/spoofdns.py on a free port; SPOOF_PORT.
spoof_start() {
	local out="$BATS_TEST_TMPDIR/spoof.port" i
	"$_dns_python" tests/lib/spoofdns.py "$1" > "$out" 2>&1 &
	SPOOF_PID=$!
	for i in $(seq 50); do
		[ -s "$out" ] && break
		sleep 0.1
	done
	SPOOF_PORT=$(head -n 1 "$out")
	[[ "$SPOOF_PORT" =~ ^[0-9]+$ ]]
}

@test "an A record comes back from nsd with its TTL" {
	run --separate-stderr "$DNSQ" --resolver "$NS" mx.example.org A
	assert_success
	assert_equal "${lines[0]}" "ok 300"
	assert_equal "${lines[1]}" "192.0.2.25"
	assert_equal "${#lines[@]}" 2
}

@test "MX and TXT answers come back from nsd" {
	run --separate-stderr "$DNSQ" --resolver "$NS" EXAMPLE.org. MX
	assert_success
	assert_output "ok 300
10 mx.example.org"
	run --separate-stderr "$DNSQ" --resolver "$NS" example.org TXT
	assert_output "ok 300
v=spf1 -all"
}

@test "a CNAME is followed and A and AAAA come together" {
	run --separate-stderr "$DNSQ" --resolver "$NS" www.example.org ADDRS
	assert_success
	assert_output "ok 300
192.0.2.25
2001:db8::25"
}

@test "a TXT past 512 bytes is truncated on UDP and read whole over TCP" {
	# drill asks over UDP without EDNS and does not fall back: TC is set.
	run drill -p "$DNS_PORT" @127.0.0.1 big.example.org TXT
	assert_output --regexp 'flags: qr aa tc'
	run --separate-stderr "$DNSQ" --resolver "$NS" big.example.org TXT
	assert_success
	assert_equal "${lines[0]}" "ok 300"
	assert_equal "${#lines[1]}" 1530
	[[ ${lines[1]} == ppp*uuu ]]
}

@test "NXDOMAIN, NODATA and an empty non-terminal are told apart" {
	run --separate-stderr "$DNSQ" --resolver "$NS" nosuch.example.org A
	assert_success
	assert_output "nxdomain 60"
	assert_equal "$stderr" "test_dnsq: NXDOMAIN from $NS"
	run --separate-stderr "$DNSQ" --resolver "$NS" mx.example.org MX
	assert_output "nodata 60"
	run --separate-stderr "$DNSQ" --resolver "$NS" ent.example.org A
	assert_output "nodata 60"
}

@test "SERVFAIL from a zone nsd could not load is a temporary servfail" {
	run --separate-stderr "$DNSQ" --resolver "$NS" x.broken.test A
	assert_success
	assert_output "servfail 0"
	assert_equal "$stderr" "test_dnsq: SERVFAIL from $NS"
}

@test "REFUSED for a zone nsd does not serve is an error" {
	run --separate-stderr "$DNSQ" --resolver "$NS" www.example.net A
	assert_output "error 0"
	assert_equal "$stderr" "test_dnsq: REFUSED from $NS"
}

@test "a silent server gives timeout within timeout times tries" {
	silent_server_start
	start=$(now_ms)
	run --separate-stderr "$DNSQ" --resolver "127.0.0.1:$SILENT_PORT" \
	    --timeout 500 --tries 2 mx.example.org A
	elapsed=$(($(now_ms) - start))
	assert_success
	assert_output "timeout 0"
	assert_equal "$stderr" \
	    "test_dnsq: timeout after 500 ms from 127.0.0.1:$SILENT_PORT"
	[ "$elapsed" -ge 1000 ]
	[ "$elapsed" -lt 10000 ]
}

@test "after a silent server the next one in the list answers" {
	silent_server_start
	run --separate-stderr "$DNSQ" \
	    --resolver "127.0.0.1:$SILENT_PORT,$NS" --timeout 300 --tries 1 \
	    mx.example.org A
	assert_success
	assert_output "ok 300
192.0.2.25"
}

@test "the same resolver still tries a server after it timed out" {
	# ldns marks a failed server dead for good, and its next query would
	# fail at once; dns.c revives it, so A and then AAAA both wait.
	silent_server_start
	start=$(now_ms)
	run --separate-stderr "$DNSQ" --resolver "127.0.0.1:$SILENT_PORT" \
	    --timeout 300 --tries 1 mx.example.org ADDRS
	elapsed=$(($(now_ms) - start))
	assert_output "timeout 0"
	[ "$elapsed" -ge 600 ]
	assert_equal "$stderr" \
	    "test_dnsq: timeout after 300 ms from 127.0.0.1:$SILENT_PORT"
}

@test "a bad resolver spec is refused with the reason" {
	run --separate-stderr "$DNSQ" --resolver 999.1.1.1 x.example.org A
	assert_failure 1
	assert_equal "$stderr" \
	    'test_dnsq: bad resolver "999.1.1.1": not an IP address'
	run --separate-stderr "$DNSQ" --resolver "127.0.0.1:70000" x.org A
	assert_failure 1
	assert_equal "$stderr" \
	    'test_dnsq: bad resolver "127.0.0.1:70000": bad port'
}

@test "a reply with a wrong ID is dropped and the real answer still counts" {
	spoof_start id
	run --separate-stderr mg-screen --ip 192.0.2.1 --require-ptr reject --require-fcrdns reject --resolver "127.0.0.1:$SPOOF_PORT"
	assert_success
	assert_output --partial "iprev=pass (mail.example.test)"
}

@test "a reply whose question names another name or type is dropped, not believed" {
	for mode in name type; do
		spoof_start "$mode"
		run --separate-stderr mg-screen --ip 192.0.2.1 --require-ptr reject --require-fcrdns reject --resolver "127.0.0.1:$SPOOF_PORT"
		assert_success
		assert_output --partial "iprev=pass (mail.example.test)"
		kill "$SPOOF_PID"
		wait "$SPOOF_PID" 2>/dev/null || true
		SPOOF_PID=
	done
}

@test "an answer over TCP to another question name or type is an error, not NXDOMAIN" {
	for mode in tcp-name tcp-type; do
		spoof_start "$mode"
		run --separate-stderr mg-screen --ip 192.0.2.1 --require-ptr reject --resolver "127.0.0.1:$SPOOF_PORT"
		assert_equal "$status" 111
		assert_output --partial "451 4.4.3 temporary DNS failure"
		[[ "$stderr" == *"iprev=temperror"* ]]
		run --separate-stderr "$DNSQ" --resolver "127.0.0.1:$SPOOF_PORT" 1.2.0.192.in-addr.arpa PTR
		assert_output "error 0"
		assert_equal "$stderr" "test_dnsq: mismatched answer from 127.0.0.1:$SPOOF_PORT over TCP"
		kill "$SPOOF_PID"
		wait "$SPOOF_PID" 2>/dev/null || true
		SPOOF_PID=
	done
}

#!/usr/bin/env bats
# Black-box tests of mg-greylist: timers pinned with faketime, the store
# a real GDBM file, concurrency with real processes.

load lib/common

# faketime preloads itself ahead of the sanitizer runtime of a
# SANITIZE=1 build; let ASan run all the same.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
# Checks run at a frozen wall clock ("faketime -f TIME"), so a slow start
# cannot add a second; lock waits keep the real monotonic clock.
export FAKETIME_DONT_FAKE_MONOTONIC=1

T0='2024-03-01 12:00:00'

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
	mkdir "$T/st"
}

teardown() {
	common_teardown
}

# at TIME ARGS...: one check at TIME on the test's store.
at() {
	local when=$1
	shift
	run --separate-stderr ft "$when" mg-greylist -d "$T/st" \
	    --enable yes -H mx.test "$@"
}

env1=(--ip 192.0.2.7 --from alice@example.com --rcpt bob@example.org)

# --- contract ---------------------------------------------------------------

@test "mg-greylist accepts silently unless greylisting is enabled" {
	run --separate-stderr mg-greylist -d "$T/st" "${env1[@]}"
	assert_success
	assert_output ""
	[ ! -e "$T/st/greylist.db" ]
}

@test "mg-greylist defers a bad option with a reply line" {
	run --separate-stderr mg-greylist --bogus
	assert_equal "$status" 111
	assert_output "451 4.3.0 temporary failure (usage error)"
	[[ "$stderr" == *"usage: mg-greylist"* ]]
}

@test "mg-greylist defers when the sender or the client is missing" {
	at "$T0" --ip 192.0.2.7 --rcpt bob@example.org
	assert_equal "$status" 111
	assert_output --partial "451 4.3.0"
	[[ "$stderr" == *"no envelope sender"* ]]
	at "$T0" --from a@example.com --rcpt bob@example.org
	assert_equal "$status" 111
	[[ "$stderr" == *"no client address"* ]]
}

@test "mg-greylist reads the tcpserver and qmail-spp environment and speaks spp" {
	TCPREMOTEIP=192.0.2.7 SMTPMAILFROM=alice@example.com \
	    SMTPRCPTTO=bob@example.org at "$T0" --spp
	assert_success
	assert_output "E451 4.7.1 greylisted, please try again in 300 seconds"
}

@test "mg-greylist is enabled from its config file section" {
	printf '[mg-greylist]\nenable yes\ndelay 2m\nstatedir %s\n' "$T/st" > "$T/mg.conf"
	run --separate-stderr ft "$T0" mg-greylist -c "$T/mg.conf" "${env1[@]}"
	assert_equal "$status" 111
	assert_output "451 4.7.1 greylisted, please try again in 120 seconds"
}

# --- timers -----------------------------------------------------------------

@test "mg-greylist defers a new triplet, then an early retry with the seconds left" {
	at "$T0" "${env1[@]}"
	assert_equal "$status" 111
	assert_output "451 4.7.1 greylisted, please try again in 300 seconds"
	[[ "$stderr" == *"decision=defer"*"greylist=new"* ]]
	at '2024-03-01 12:04:00' "${env1[@]}"
	assert_equal "$status" 111
	assert_output "451 4.7.1 greylisted, please try again in 60 seconds"
	[[ "$stderr" == *"greylist=early left=60"* ]]
}

@test "mg-greylist passes a retry after the delay and says how long it took" {
	at "$T0" "${env1[@]}"
	at '2024-03-01 12:06:00' "${env1[@]}"
	assert_success
	assert_output "X-Greylist: delayed 360 seconds by mg-greylist at mx.test"
	at '2024-03-01 12:07:00' "${env1[@]}"
	assert_success
	assert_output ""
	[[ "$stderr" == *"greylist=known"* ]]
}

@test "mg-greylist passes exactly at the end of the delay" {
	at "$T0" "${env1[@]}" --delay 1m
	at '2024-03-01 12:00:59' "${env1[@]}" --delay 1m
	assert_equal "$status" 111
	assert_output --partial "in 1 seconds"
	at '2024-03-01 12:01:00' "${env1[@]}" --delay 1m
	assert_success
}

@test "mg-greylist starts again when the first retry misses the retry window" {
	at "$T0" "${env1[@]}"
	at '2024-03-03 11:59:59' "${env1[@]}"
	assert_success
	at "$T0" --ip 192.0.2.7 --from carol@example.com --rcpt bob@example.org
	at '2024-03-03 12:00:00' --ip 192.0.2.7 --from carol@example.com --rcpt bob@example.org
	assert_equal "$status" 111
	assert_output "451 4.7.1 greylisted, please try again in 300 seconds"
	at '2024-03-03 12:00:00' --ip 192.0.2.7 --from carol@example.com \
	    --rcpt bob@example.org --retry-window 3d
	assert_equal "$status" 111
}

@test "mg-greylist forgets a passed triplet after its lifetime unless a pass renews it" {
	at "$T0" "${env1[@]}"
	at '2024-03-01 12:10:00' "${env1[@]}"
	assert_success
	# 30 days later: still known, and the pass renews it for 35 days.
	at '2024-03-31 12:10:00' "${env1[@]}"
	assert_success
	assert_output ""
	at '2024-05-04 12:00:00' "${env1[@]}"
	assert_success
	# Without a pass for 35 days it is gone.
	at '2024-06-09 12:00:00' "${env1[@]}"
	assert_equal "$status" 111
	[[ "$stderr" == *"greylist=new"* ]]
}

@test "mg-greylist never passes early when the clock jumps backwards" {
	at "$T0" "${env1[@]}"
	at '2024-03-01 11:00:00' "${env1[@]}"
	assert_equal "$status" 111
	assert_output "451 4.7.1 greylisted, please try again in 300 seconds"
	[[ "$stderr" == *"greylist=new"* ]]
	at '2024-03-01 11:04:00' "${env1[@]}"
	assert_equal "$status" 111
	at '2024-03-01 11:05:00' "${env1[@]}"
	assert_success
}

# --- keys -------------------------------------------------------------------

@test "mg-greylist keys on the client /24 by default and on the exact IP when asked" {
	at "$T0" "${env1[@]}"
	at '2024-03-01 12:06:00' --ip 192.0.2.200 --from alice@example.com --rcpt bob@example.org
	assert_success
	at '2024-03-01 12:07:00' --ip 192.0.3.7 --from alice@example.com --rcpt bob@example.org
	assert_equal "$status" 111
	rm -f "$T/st"/*
	at "$T0" "${env1[@]}" --key-net ip
	at '2024-03-01 12:06:00' --ip 192.0.2.200 --from alice@example.com \
	    --rcpt bob@example.org --key-net ip
	assert_equal "$status" 111
}

@test "mg-greylist keys IPv6 clients on their /64, or a configured prefix" {
	at "$T0" --ip 2001:db8:1:2::10 --from a@example.com --rcpt b@example.org
	at '2024-03-01 12:06:00' --ip 2001:db8:1:2:ffff::1 --from a@example.com --rcpt b@example.org
	assert_success
	at '2024-03-01 12:06:00' --ip 2001:db8:1:3::10 --from a@example.com --rcpt b@example.org
	assert_equal "$status" 111
	at '2024-03-01 12:06:00' --ip 2001:db8:1:3::10 --from a@example.com \
	    --rcpt b@example.org --v6-prefix 48
	at '2024-03-01 12:12:00' --ip 2001:db8:1:4::10 --from a@example.com \
	    --rcpt b@example.org --v6-prefix 48
	assert_success
}

@test "mg-greylist with key-net none ignores the client entirely" {
	at "$T0" "${env1[@]}" --key-net none --auto-whitelist 0
	at '2024-03-01 12:06:00' --ip 203.0.113.9 --from alice@example.com \
	    --rcpt bob@example.org --key-net none --auto-whitelist 0
	assert_success
}

@test "mg-greylist strips BATV tags, SRS hashes and VERP numbers from the sender" {
	at "$T0" --ip 192.0.2.7 --from 'prvs=1234abcdef=alice@Example.COM' --rcpt bob@example.org -x
	[[ "$stderr" == *'key "t 192.0.2.0/24 alice@example.com bob@example.org"'* ]]
	at '2024-03-01 12:06:00' --ip 192.0.2.7 --from 'alice+prvs=2345bcdef0@example.com' --rcpt bob@example.org
	assert_success
	at '2024-03-01 12:06:00' --ip 192.0.2.7 --from alice@EXAMPLE.com --rcpt bob@example.org
	assert_success
	at "$T0" --ip 192.0.2.7 --from 'SRS0=HHH1=TT=example.net=carol@fwd.example' --rcpt b@example.org -x
	[[ "$stderr" == *'key "t 192.0.2.0/24 SRS#=#=#=example.net=carol@fwd.example b@example.org"'* ]]
	at '2024-03-01 12:06:00' --ip 192.0.2.7 --from 'SRS0=ab9Z=QX=example.net=carol@fwd.example' --rcpt b@example.org
	assert_success
	at "$T0" --ip 192.0.2.7 --from 'list-bounces-1234-bob=example.org@lists.example' --rcpt bob@example.org
	at '2024-03-01 12:06:00' --ip 192.0.2.7 --from 'list-bounces-98765-bob=example.org@lists.example' --rcpt bob@example.org
	assert_success
	assert_output --partial "X-Greylist: delayed 360 seconds"
}

@test "mg-greylist keeps a null sender and a different local part apart" {
	at "$T0" --ip 192.0.2.7 --from '' --rcpt bob@example.org -x
	[[ "$stderr" == *'key "t 192.0.2.0/24 <> bob@example.org"'* ]]
	at '2024-03-01 12:06:00' --ip 192.0.2.7 --from 'mallory@example.com' --rcpt bob@example.org
	assert_equal "$status" 111
}

@test "mg-greylist keys on the SPF-passed domain so a sender's IP pool passes after one retry" {
	export MG_AUTHRES='mx.test; spf=pass (sender SPF authorized) smtp.mailfrom=news@bigsender.example; iprev=pass'
	at "$T0" --ip 198.51.100.1 --from news@bigsender.example --rcpt bob@example.org -x
	assert_equal "$status" 111
	[[ "$stderr" == *'key "t spf:bigsender.example news@bigsender.example bob@example.org"'* ]]
	at '2024-03-01 12:06:00' --ip 203.0.113.77 --from news@bigsender.example --rcpt bob@example.org
	assert_success
	assert_output --partial "X-Greylist: delayed 360 seconds"
	# An SPF pass for another domain does not count.
	at '2024-03-01 12:06:00' --ip 203.0.113.77 --from other@else.example --rcpt bob@example.org -x
	assert_equal "$status" 111
	[[ "$stderr" == *'key "t 203.0.113.0/24 '* ]]
	unset MG_AUTHRES
	at '2024-03-01 12:07:00' --ip 192.0.2.1 --from news@bigsender.example --rcpt bob@example.org --spf-pass BigSender.example
	assert_success
	at '2024-03-01 12:07:00' --ip 192.0.2.1 --from news@bigsender.example --rcpt bob@example.org --spf-pass bigsender.example --spf-aware no
	assert_equal "$status" 111
}

@test "mg-greylist reads unterminated quotes in earlier results safely" {
	at "$T0" --ip 198.51.100.1 --from a@s.example --rcpt b@example.org -x \
	    --auth-results 'mx; dkim=pass header.b="abc; spf=pass smtp.mailfrom=s.example'
	assert_equal "$status" 111
	[[ "$stderr" == *'key "t 198.51.100.0/24 '* ]]
	at "$T0" --ip 198.51.100.1 --from a@s.example --rcpt b@example.org -x \
	    --auth-results 'mx; x="a"; spf=pass smtp.mailfrom="s.example"'
	[[ "$stderr" == *'key "t spf:s.example '* ]]
}

@test "mg-greylist ignores SPF results other than pass" {
	at "$T0" --ip 198.51.100.1 --from a@s.example --rcpt b@example.org -x \
	    --auth-results 'mx; spf=softfail smtp.mailfrom=s.example; dkim=pass header.d=s.example'
	[[ "$stderr" == *'key "t 198.51.100.0/24 '* ]]
}

@test "mg-greylist stores only hashes of the triplets when asked" {
	at "$T0" "${env1[@]}" --hash yes
	assert_equal "$status" 111
	at '2024-03-01 12:06:00' "${env1[@]}" --hash yes
	assert_success
	assert_output --partial "X-Greylist: delayed 360 seconds"
	run --separate-stderr ft "$T0" mg-greylist -d "$T/st" list
	assert_success
	[[ "$output" != *alice* && "$output" != *bob* ]]
	[[ "$output" =~ passed\ .*\ [0-9a-f]{64} ]]
	refute grep -q alice "$T/st/greylist.db"
}

@test "mg-greylist hashes a key too long to keep" {
	long=$(printf 'x%.0s' $(seq 600))
	at "$T0" --ip 192.0.2.7 --from "$long@example.com" --rcpt "bob@example.org" -x
	assert_equal "$status" 111
	assert_output "451 4.7.1 greylisted, please try again in 300 seconds"
	[[ "$stderr" =~ key\ \"h\ [0-9a-f]{64}\" ]]
	at '2024-03-01 12:06:00' --ip 192.0.2.7 --from "$long@example.com" --rcpt "bob@example.org"
	assert_success
}

@test "mg-greylist survives hostile addresses without passing them" {
	for from in '<<<>>>' $'a\001\033[31m@x' '@' 'a@b@c' '"quoted user"@Example.COM' \
	    "$(printf 'y%.0s' $(seq 3000))"; do
		at "$T0" --ip 192.0.2.7 --from "$from" --rcpt 'b|c d@example.org'
		assert_equal "$status" 111
		assert_output --partial "451 4.7.1 greylisted"
		[[ "$stderr" != *$'\033'* ]]
	done
}

# --- whitelists ---------------------------------------------------------------

@test "mg-greylist auto-whitelists a network after five passed deliveries" {
	# (bats' run changes $i, so the loops name their own variable.)
	for n in 1 2 3 4 5; do
		at "$T0" --ip 192.0.2.7 --from "s$n@a$n.example" --rcpt bob@example.org
		at '2024-03-01 12:06:00' --ip 192.0.2.7 --from "s$n@a$n.example" --rcpt bob@example.org
		assert_success
	done
	at '2024-03-01 12:07:00' --ip 192.0.2.99 --from new@n.example --rcpt bob@example.org
	assert_success
	[[ "$stderr" == *"greylist=auto-whitelisted"* ]]
	run ft "$T0" mg-greylist -d "$T/st" stats
	assert_line "networks-whitelisted 1"
	# Four are not enough when six are asked.
	at '2024-03-01 12:07:00' --ip 192.0.2.99 --from new2@n.example --rcpt bob@example.org --auto-whitelist 6
	assert_equal "$status" 111
}

@test "mg-greylist passes whitelisted clients, senders, recipients and recipient domains" {
	printf '198.51.100.0/24\n2001:db8::/32\n' > "$T/clients"
	printf '@partner.example\nboss@corp.example\n' > "$T/senders"
	printf 'postmaster@example.org\n@optout.example\n' > "$T/rcpts"
	wl=(--client-whitelist "$T/clients" --sender-whitelist "$T/senders" --rcpt-whitelist "$T/rcpts")
	at "$T0" "${wl[@]}" --ip 198.51.100.9 --from x@y.example --rcpt bob@example.org
	assert_success
	[[ "$stderr" == *"greylist=\"whitelisted client\""* ]]
	at "$T0" "${wl[@]}" --ip 192.0.2.7 --from anyone@partner.example --rcpt bob@example.org --spf-pass partner.example
	assert_success
	at "$T0" "${wl[@]}" --ip 192.0.2.7 --from x@y.example --rcpt postmaster@example.org
	assert_success
	at "$T0" "${wl[@]}" --ip 192.0.2.7 --from x@y.example --rcpt someone@OptOut.example
	assert_success
	at "$T0" "${wl[@]}" --ip 192.0.2.7 --from x@y.example --rcpt bob@example.org
	assert_equal "$status" 111
	run ft "$T0" mg-greylist -d "$T/st" stats
	assert_line "pending 1"
}

@test "mg-greylist trusts a sender whitelist entry only with an SPF pass for its domain" {
	printf '@partner.example\n' > "$T/senders"
	# Anyone can write @partner.example in MAIL FROM: forged, greylisted.
	at "$T0" --sender-whitelist "$T/senders" --ip 192.0.2.7 --from ceo@partner.example --rcpt bob@example.org
	assert_equal "$status" 111
	assert_output --partial "greylisted"
	# SPF passed for another domain: still greylisted.
	at "$T0" --sender-whitelist "$T/senders" --ip 192.0.2.8 --from ceo@partner.example --rcpt bob@example.org --auth-results "spf=pass smtp.mailfrom=x@other.example"
	assert_equal "$status" 111
	# SPF passed for partner.example, from MG_AUTHRES or --spf-pass.
	MG_AUTHRES="spf=pass smtp.mailfrom=ceo@partner.example" at "$T0" --sender-whitelist "$T/senders" --ip 192.0.2.9 --from ceo@partner.example --rcpt bob@example.org
	assert_success
	[[ "$stderr" == *"greylist=\"whitelisted sender\""* ]]
	at "$T0" --sender-whitelist "$T/senders" --ip 192.0.2.10 --from ceo@Partner.Example --rcpt bob@example.org --spf-pass partner.example
	assert_success
	# A quoted local part as mg-spf writes it, quotes and ';' inside.
	MG_AUTHRES='mx.test; spf=pass smtp.mailfrom="\"ceo; x\"@partner.example"' at "$T0" --sender-whitelist "$T/senders" --ip 192.0.2.11 --from '"ceo; x"@partner.example' --rcpt bob@example.org
	assert_success
	[[ "$stderr" == *"greylist=\"whitelisted sender\""* ]]
}

@test "mg-greylist passes forward-confirmed client names on its whitelist, and only those" {
	cat > "$T/zone" <<-'EOF'
	$ORIGIN test.
	$TTL 300
	@ IN SOA ns.test. host.test. 1 3600 600 86400 300
	mail.bigsender.test. IN A 192.0.2.10
	liar.bigsender.test. IN A 192.0.2.99
	10.2.0.192.in-addr.arpa. IN PTR mail.bigsender.test.
	11.2.0.192.in-addr.arpa. IN PTR liar.bigsender.test.
	EOF
	printf '*.bigsender.test\n' > "$T/clients"
	at "$T0" --client-whitelist "$T/clients" --resolver "zone:$T/zone" \
	    --ip 192.0.2.10 --from a@x.example --rcpt bob@example.org
	assert_success
	[[ "$stderr" == *"greylist=\"whitelisted client name\""* ]]
	at "$T0" --client-whitelist "$T/clients" --resolver "zone:$T/zone" \
	    --ip 192.0.2.11 --from a@x.example --rcpt bob@example.org
	assert_equal "$status" 111
}

@test "mg-greylist exempts authenticated and relaying clients" {
	at "$T0" "${env1[@]}" --auth-user alice
	assert_success
	RELAYCLIENT= at "$T0" "${env1[@]}"
	assert_success
	RELAYCLIENT= at "$T0" "${env1[@]}" --exempt-relayclient no
	assert_equal "$status" 111
}

# --- subcommands --------------------------------------------------------------

@test "mg-greylist lists, passes by hand, deletes and counts entries" {
	at "$T0" "${env1[@]}"
	run --separate-stderr ft "$T0" mg-greylist -d "$T/st" list
	assert_success
	assert_output "pending 2024-03-01T12:00:00Z - 2024-03-03T12:00:00Z 0 192.0.2.0/24 alice@example.com bob@example.org"
	run ft "$T0" mg-greylist -d "$T/st" pass --ip 192.0.2.8 --from carol@example.com --rcpt bob@example.org
	assert_success
	at '2024-03-01 12:00:01' --ip 192.0.2.8 --from carol@example.com --rcpt bob@example.org
	assert_success
	run mg-greylist -d "$T/st" delete 192.0.2.0/24 alice@example.com bob@example.org
	assert_success
	run --separate-stderr ft "$T0" mg-greylist -d "$T/st" stats
	assert_output $'pending 0\npassed 1\nnetworks-counting 0\nnetworks-whitelisted 0'
	printf '192.0.2.1 a@x.example b@example.org\n10.1.1.1 <> c@example.org\n' |
	    mg-greylist -d "$T/st" pass - > "$T/out"
	[ "$(cat "$T/out")" = "passed 2" ]
	at "$T0" --ip 10.1.1.200 --from '' --rcpt c@example.org
	assert_success
	run mg-greylist -d "$T/st" delete --ip 10.1.1.1 --from '' --rcpt c@example.org
	assert_success
	at "$T0" --ip 10.1.1.200 --from '' --rcpt c@example.org
	assert_equal "$status" 111
}

@test "mg-greylist expire removes dead records from cron" {
	at "$T0" "${env1[@]}"
	at "$T0" --ip 192.0.2.7 --from z@example.com --rcpt bob@example.org
	at '2024-03-01 12:10:00' --ip 192.0.2.7 --from z@example.com --rcpt bob@example.org
	run ft '2024-03-04 00:00:00' mg-greylist -d "$T/st" expire
	assert_success
	assert_output "expired 1"
	run ft '2024-03-04 00:00:00' mg-greylist -d "$T/st" stats
	assert_line "pending 0"
	assert_line "passed 1"
}

# --- the store ----------------------------------------------------------------

@test "mg-greylist defers and never passes when the store is corrupt" {
	at "$T0" "${env1[@]}"
	at '2024-03-01 12:06:00' "${env1[@]}"
	assert_success
	head -c 4096 /dev/urandom > "$T/st/greylist.db"
	at '2024-03-01 12:07:00' "${env1[@]}"
	assert_equal "$status" 111
	assert_output "451 4.3.0 temporary failure (greylist error)"
	[[ "$stderr" == *"greylist.db"* ]]
}

@test "mg-greylist defers when another process holds the store locked" {
	at "$T0" "${env1[@]}"
	/usr/bin/python3 -c '
import fcntl, sys, time
f = open(sys.argv[1], "r+")
fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(5)' "$T/st/greylist.db.lock" "$T/locked" &
	locker=$!
	for n in $(seq 100); do [ -e "$T/locked" ] && break; sleep 0.05; done
	[ -e "$T/locked" ]
	at '2024-03-01 12:06:00' "${env1[@]}" --lock-timeout 200
	kill "$locker"
	assert_equal "$status" 111
	assert_output "451 4.3.0 temporary failure (greylist store unavailable)"
	[[ "$stderr" == *"locked by another process for 200 ms"* ]]
}

@test "mg-greylist loses no pass with 32 processes greylisting at once" {
	# A generous lock wait, so that every process gets its turn even in
	# a slow (sanitizer) build; a wait past it would defer with 4.3.0.
	g=(mg-greylist -d "$T/st" --enable yes --auto-whitelist 0 --lock-timeout 30000)
	for i in $(seq 32); do
		ft "$T0" "${g[@]}" --ip 192.0.2.$i --from alice@example.com \
		    --rcpt "r$i@example.org" >"$T/out.$i" 2>&1 &
	done
	wait
	for i in $(seq 32); do
		grep -q '^451 4.7.1 greylisted' "$T/out.$i" || { cat "$T/out.$i"; false; }
	done
	run ft "$T0" mg-greylist -d "$T/st" stats
	assert_line "pending 32"
	for i in $(seq 32); do
		( ft '2024-03-01 12:06:00' "${g[@]}" --ip 192.0.2.$i \
		    --from alice@example.com --rcpt "r$i@example.org" \
		    >"$T/out.$i" 2>&1; echo $? >"$T/rc.$i" ) &
	done
	wait
	for i in $(seq 32); do
		[ "$(cat "$T/rc.$i")" = 0 ] || { cat "$T/out.$i"; false; }
	done
	run ft "$T0" mg-greylist -d "$T/st" stats
	assert_line "passed 32"
	assert_line "pending 0"
}

@test "mg-greylist --serve greylists Postfix policy requests and passes the retry" {
	req='request=smtpd_access_policy\nclient_address=192.0.2.7\nsender=alice@example.com\nrecipient=bob@example.org\n\n'
	other='request=smtpd_access_policy\nclient_address=192.0.2.8\nsender=carol@example.com\nrecipient=bob@example.org\n\n'
	run --separate-stderr ft '2024-03-01 12:00:00' mg-greylist --serve -d "$T/st" --enable yes -H mx.test < <(printf "$req$other$req")
	assert_success
	assert_equal "${lines[0]}" "action=451 4.7.1 greylisted, please try again in 300 seconds"
	assert_equal "${lines[1]}" "action=451 4.7.1 greylisted, please try again in 300 seconds"
	# The same triplet again at once: still too early.
	[[ "${lines[2]}" == "action=451 4.7.1 greylisted, please try again in "* ]]
	[[ "$stderr" == *"greylist=new"*"greylist=new"*"greylist=early"* ]]
	# A later served process finds the state the first one left.
	run --separate-stderr ft '2024-03-01 12:06:00' mg-greylist --serve -d "$T/st" --enable yes -H mx.test < <(printf "$req")
	assert_success
	assert_output "action=PREPEND X-Greylist: delayed 360 seconds by mg-greylist at mx.test"
	# Not enabled: every request is DUNNO.
	run --separate-stderr mg-greylist --serve -d "$T/st" < <(printf "$other")
	assert_output "action=DUNNO"
}

@test "mg-greylist keeps every confirmed pass and a usable file when writers are killed" {
	for i in $(seq 20); do echo "192.0.2.$i alice@example.com r$i@example.org"; done > "$T/first"
	run mg-greylist -d "$T/st" pass - < "$T/first"
	assert_output "passed 20"
	awk 'BEGIN { for (i = 0; i < 200000; i++) printf "10.%d.%d.1 x@e.example r%d@example.org\n", int(i / 256) % 256, i % 256, i }' > "$T/bulk"
	for k in 1 2 3; do
		mg-greylist -d "$T/st" pass - < "$T/bulk" >/dev/null 2>&1 &
		w=$!
		sleep 0.$((k * 2))
		# A fast machine may finish the bulk before the kill comes.
		kill -9 "$w" 2>/dev/null || :
		wait "$w" || :
	done
	for n in $(seq 20); do
		at '2024-03-01 12:00:00' --ip 192.0.2.$n --from alice@example.com --rcpt "r$n@example.org"
		assert_success
	done
	run ft "$T0" mg-greylist -d "$T/st" stats
	assert_success
	at "$T0" --ip 203.0.113.1 --from n@example.com --rcpt bob@example.org
	assert_equal "$status" 111
	assert_output --partial "451 4.7.1 greylisted"
}

# --- examples -------------------------------------------------------------------

@test "the shipped large-sender list and its refresh script make a working whitelist" {
	printf '# a comment\nbigsender.test\n195.235.39\n198.51.100.0/24\n/^mx\\d+\\.x\\.test$/\n' > "$T/import"
	run sh "$TOP/examples/greylist/refresh-clients" "$T/import" "$T/clients"
	assert_success
	[ -e "$T/clients.mgc" ]
	grep -qx '\*.bigsender.test' "$T/clients"
	grep -qx '195.235.39.0/24' "$T/clients"
	at "$T0" --client-whitelist "$T/clients" --ip 195.235.39.7 --from a@x.example --rcpt b@example.org
	assert_success
	at "$T0" --client-whitelist "$T/clients" --ip 198.51.100.7 --from a@x.example --rcpt b@example.org
	assert_success
	at "$T0" --client-whitelist "$T/clients" --ip 192.0.2.7 --from a@x.example --rcpt b@example.org
	assert_equal "$status" 111
}

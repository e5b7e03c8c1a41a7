#!/usr/bin/env bats
# mg-opensmtpd: transcripts (canned filter-protocol lines piped in, the
# answers compared) for every phase, protocol 0.6 and 0.7, interleaved
# sessions and malformed lines.  The integration with a real OpenSMTPD
# is in mg-opensmtpd-smtpd.bats.

load lib/common

S1=0123456789abcdef
S2=1111222233334444
TK=fedcba9876543210

setup() {
	common_setup
	# The steps: shell commands that judge by the envelope mg-opensmtpd
	# exports, so each phase can accept, refuse or break on demand.
	cat >"$T/chain" <<-'EOF'
	[connect]
	: test "$TCPREMOTEIP" != 192.0.2.66 || { echo "554 5.7.1 no mail from $TCPREMOTEIP"; exit 100; }; echo "X-Peer: $TCPREMOTEIP $TCPREMOTEHOST $TCPREMOTEPORT $TCPLOCALIP $TCPLOCALPORT"
	[helo]
	: test "$SMTPHELOHOST" != bad.example || { echo "550 5.7.1 bad helo"; exit 100; }; echo "X-Helo: $SMTPHELOHOST"
	[mail]
	: case "$SMTPMAILFROM" in *@bad.example) echo "550 5.7.1 bad sender"; exit 100;; esac
	[rcpt]
	: case "$SMTPRCPTTO" in slow*) sleep 1;; slower*) sleep 3;; twosec*) sleep 2;; later*) echo "451 4.7.1 try later"; exit 111;; broken*) exit 3;; hang*) sleep 30;; garbage*) echo "not a header"; exit 0;; esac; echo "X-Rcpt: $SMTPRCPTTO n=$SMTPRCPTCOUNT auth=$SMTPAUTHUSER relay=${RELAYCLIENT-unset} ar=$MG_AUTHRES"
	[data]
	: if grep -q SPAM; then echo "550 5.7.1 spam"; exit 100; fi; echo "X-Lines: $(grep -c '' /dev/stdin)"
	EOF
}

teardown() {
	common_teardown
}

# The handshake of OpenSMTPD 6.8 (protocol 0.6), or of 7.6 (0.7).
hs06() {
	printf '%s\n' 'config|smtpd-version|6.8.0p2' \
	    'config|smtp-session-timeout|300' 'config|subsystem|smtp-in' \
	    'config|admd|mx.test.example' 'config|ready'
}
hs07() {
	printf '%s\n' 'config|smtpd-version|7.6.0' 'config|protocol|0.7' \
	    'config|smtp-session-timeout|300' 'config|subsystem|smtp-in' \
	    'config|admd|mx.test.example' 'config|ready'
}
# f PHASE [PARAM] / r EVENT [PARAMS]: a request or report for session
# $S (default S1) in protocol $V (default 0.6).
f() {
	local ph=$1
	shift
	if [ $# -gt 0 ]; then
		echo "filter|${V:-0.6}|1700000000.000001|smtp-in|$ph|${S:-$S1}|$TK|$1"
	else
		echo "filter|${V:-0.6}|1700000000.000001|smtp-in|$ph|${S:-$S1}|$TK"
	fi
}
r() {
	local ev=$1
	shift
	echo "report|${V:-0.6}|1700000000.000001|smtp-in|$ev|${S:-$S1}${1+|$1}"
}
# A session up to the end of EHLO, as smtpd reports it; with NOREQ set,
# without the connect and ehlo requests (when they are not registered).
opening() {
	r link-connect "mail.client.example|pass|${IP:-192.0.2.10}:40000|192.0.2.1:25"
	[ -n "${NOREQ:-}" ] || f connect "mail.client.example|${IP:-192.0.2.10}"
	r link-greeting mx.test.example
	[ -n "${NOREQ:-}" ] || f ehlo "${HELO:-client.example}"
	r link-identify "EHLO|${HELO:-client.example}"
}
# The answers only, without the registration.
answers() {
	printf '%s\n' "$output" | grep -v '^register|'
}

@test "mg-opensmtpd registers the phases the chain has steps for and the reports it needs" {
	run --separate-stderr mg-opensmtpd -C "$T/chain" < <(hs06)
	assert_success
	assert_output "register|filter|smtp-in|connect
register|filter|smtp-in|helo
register|filter|smtp-in|ehlo
register|filter|smtp-in|mail-from
register|filter|smtp-in|rcpt-to
register|filter|smtp-in|data-line
register|filter|smtp-in|commit
register|report|smtp-in|link-connect
register|report|smtp-in|link-disconnect
register|report|smtp-in|link-tls
register|report|smtp-in|link-auth
register|report|smtp-in|link-identify
register|report|smtp-in|tx-mail
register|report|smtp-in|tx-rcpt
register|report|smtp-in|tx-reset
register|report|smtp-in|tx-rollback
register|ready"
}

@test "mg-opensmtpd with only rcpt steps registers no data-line filter" {
	printf '[rcpt]\n/bin/true\n' >"$T/rcpt-only"
	run --separate-stderr mg-opensmtpd -C "$T/rcpt-only" < <(hs06)
	assert_success
	assert_line 'register|filter|smtp-in|rcpt-to'
	refute_line --partial 'data-line'
	refute_line --partial '|connect'
	refute_line --partial 'mail-from'
	assert_line --index 0 'register|filter|smtp-in|rcpt-to'
	assert_line 'register|ready'
}

@test "mg-opensmtpd without a chain registers reports only, for the dynamic screen" {
	run --separate-stderr mg-opensmtpd < <(hs06)
	assert_success
	refute_line --partial 'register|filter'
	assert_line 'register|report|smtp-in|link-auth'
	assert_line 'register|ready'
}

@test "mg-opensmtpd says nothing before smtpd's config|ready" {
	run --separate-stderr mg-opensmtpd -C "$T/chain" < <(hs06 | head -n 4)
	assert_success
	assert_output ""
}

@test "mg-opensmtpd disconnects at connect with the step's 554 reply, using the link-connect facts" {
	run --separate-stderr mg-opensmtpd -C "$T/chain" < <(hs06; IP=192.0.2.66 opening)
	assert_success
	answers
	# 554 before DATA is a drop (mailguard(7)): smtpd says it and closes.
	assert_equal "$(answers | head -1)" "filter-result|$S1|$TK|disconnect|554 5.7.1 no mail from 192.0.2.66"
	[[ "$stderr" == *"stage=connect step=sh decision=reject session=$S1 ip=192.0.2.66"* ]]
}

@test "mg-opensmtpd proceeds at connect and helo and refuses a bad HELO" {
	run --separate-stderr mg-opensmtpd -C "$T/chain" < <(hs06; HELO=bad.example opening)
	assert_success
	assert_equal "$(answers)" "filter-result|$S1|$TK|proceed
filter-result|$S1|$TK|reject|550 5.7.1 bad helo"
}

@test "mg-opensmtpd rejects a sender at mail-from" {
	run --separate-stderr mg-opensmtpd -C "$T/chain" < <(hs06; opening; f mail-from eve@bad.example)
	assert_success
	assert_equal "$(answers | tail -1)" "filter-result|$S1|$TK|reject|550 5.7.1 bad sender"
	[[ "$stderr" == *"stage=mail step=sh decision=reject"*"from=eve@bad.example"* ]]
}

@test "mg-opensmtpd defers a recipient with the step's 451 reply" {
	run --separate-stderr mg-opensmtpd -C "$T/chain" < <(hs06; opening; f mail-from a@good.example; f rcpt-to later@test.example)
	assert_success
	assert_equal "$(answers | tail -1)" "filter-result|$S1|$TK|reject|451 4.7.1 try later"
}

@test "mg-opensmtpd answers 451 when a step breaks, logs it, and serves the next request" {
	run --separate-stderr mg-opensmtpd -C "$T/chain" < <(hs06; opening; f mail-from a@good.example
	    f rcpt-to broken@test.example; f rcpt-to garbage@test.example; f rcpt-to ok@test.example)
	assert_success
	assert_equal "$(answers | tail -3)" "filter-result|$S1|$TK|reject|451 4.3.0 temporary failure
filter-result|$S1|$TK|reject|451 4.3.0 temporary failure
filter-result|$S1|$TK|proceed"
	[[ "$stderr" == *"stage=rcpt step=sh decision=fail"*"rcpt=broken@test.example"*"why=\"exit 3\""* ]]
	[[ "$stderr" == *"decision=fail"*"rcpt=garbage@test.example"*"not header fields"* ]]
}

@test "mg-opensmtpd answers 451 for a step that passes --step-timeout" {
	run --separate-stderr mg-opensmtpd -C "$T/chain" --step-timeout 1 < <(hs06; opening
	    f mail-from a@good.example; f rcpt-to hang@test.example)
	assert_success
	assert_equal "$(answers | tail -1)" "filter-result|$S1|$TK|reject|451 4.3.0 temporary failure"
	[[ "$stderr" == *"why=timeout"* ]]
}

# One message through data-line: the fields of every stage on top, then
# the lines unchanged (dot-stuffed, with their '|'), then the lone dot.
one_rcpt() {
	f rcpt-to b@test.example
	r tx-rcpt "0000000a|ok|b@test.example"
}
message() {
	opening
	f mail-from a@good.example
	r tx-begin 0000000a
	r tx-mail "0000000a|ok|a@good.example"
	one_rcpt
	f rcpt-to c@test.example
	r tx-rcpt "0000000a|ok|c@test.example"
	r tx-data "0000000a|ok"
	f data-line 'Received: from client.example'
	f data-line "Subject: ${SUBJECT:-hello}"
	f data-line ''
	f data-line '..a line that starts with a dot'
	f data-line 'a|line|with|bars'
	f data-line .
	f commit
	r tx-commit "0000000a|321"
	r tx-reset 0000000a
}

@test "mg-opensmtpd sends the header fields of every stage, then the message unchanged" {
	run --separate-stderr mg-opensmtpd -C "$T/chain" < <(hs06; message)
	assert_success
	assert_equal "$(answers)" "filter-result|$S1|$TK|proceed
filter-result|$S1|$TK|proceed
filter-result|$S1|$TK|proceed
filter-result|$S1|$TK|proceed
filter-result|$S1|$TK|proceed
filter-dataline|$S1|$TK|X-Peer: 192.0.2.10 mail.client.example 40000 192.0.2.1 25
filter-dataline|$S1|$TK|X-Helo: client.example
filter-dataline|$S1|$TK|X-Rcpt: b@test.example n=0 auth= relay=unset ar=
filter-dataline|$S1|$TK|X-Rcpt: c@test.example n=1 auth= relay=unset ar=
filter-dataline|$S1|$TK|X-Lines: 5
filter-dataline|$S1|$TK|Received: from client.example
filter-dataline|$S1|$TK|Subject: hello
filter-dataline|$S1|$TK|
filter-dataline|$S1|$TK|..a line that starts with a dot
filter-dataline|$S1|$TK|a|line|with|bars
filter-dataline|$S1|$TK|.
filter-result|$S1|$TK|proceed"
}

# A message carrying Authentication-Results fields: forged in smtpd's
# admd (mx.test.example, folded), and another host's.
forged_message() {
	opening
	f mail-from a@good.example
	r tx-begin 0000000a
	r tx-mail "0000000a|ok|a@good.example"
	one_rcpt
	f data-line 'Authentication-Results: MX.Test.Example;'
	f data-line '	dkim=pass header.d=good.example'
	f data-line 'Authentication-Results: other.example; spf=pass'
	f data-line 'Subject: hello'
	f data-line ''
	f data-line 'Authentication-Results: mx.test.example; in the body'
	f data-line .
	f commit
}

@test "mg-opensmtpd removes Authentication-Results fields forged in its admd before the data steps" {
	cat >"$T/dchain" <<-EOF
	[data]
	: cat > "$T/seen"
	EOF
	run --separate-stderr mg-opensmtpd -C "$T/dchain" < <(hs06; forged_message)
	assert_success
	assert_equal "$(cat "$T/seen")" "Authentication-Results: other.example; spf=pass
Subject: hello

Authentication-Results: mx.test.example; in the body"
	refute_output --partial 'dkim=pass'
	assert_line "filter-dataline|$S1|$TK|Authentication-Results: other.example; spf=pass"
	[[ "$stderr" == *"removed 1 Authentication-Results field claiming mx.test.example"* ]]
	# Lines that only pass through (--add-headers) are filtered too.
	run --separate-stderr mg-opensmtpd -C /dev/null --add-headers yes < <(hs06; forged_message)
	assert_success
	refute_output --partial 'dkim=pass'
	assert_line "filter-dataline|$S1|$TK|Authentication-Results: other.example; spf=pass"
	assert_line "filter-dataline|$S1|$TK|Subject: hello"
}

@test "mg-opensmtpd rewrites the sender a mail step names" {
	printf '[mail]\n: echo "tagged-$SMTPMAILFROM"\n' >"$T/mchain"
	run --separate-stderr mg-opensmtpd -C "$T/mchain" < <(hs06; opening; f mail-from a@good.example)
	assert_success
	assert_equal "$(answers | tail -1)" "filter-result|$S1|$TK|rewrite|<tagged-a@good.example>"
	[[ "$stderr" == *"stage=mail step=sh decision=rewrite session=$S1"*"why=tagged-a@good.example"* ]]
}

@test "mg-opensmtpd gives the data steps the message unstuffed on stdin" {
	cat >"$T/dchain" <<-EOF
	[data]
	: cat > "$T/seen"
	EOF
	run --separate-stderr mg-opensmtpd -C "$T/dchain" < <(hs06; message)
	assert_success
	assert_equal "$(cat "$T/seen")" "Received: from client.example
Subject: hello

.a line that starts with a dot
a|line|with|bars"
}

@test "mg-opensmtpd refuses a message at commit when a data step rejects it" {
	run --separate-stderr mg-opensmtpd -C "$T/chain" < <(hs06; SUBJECT=SPAM message)
	assert_success
	assert_equal "$(answers | tail -2)" "filter-dataline|$S1|$TK|.
filter-result|$S1|$TK|reject|550 5.7.1 spam"
	refute_output --partial 'Subject: SPAM'
}

@test "mg-opensmtpd without data steps passes the lines straight through" {
	printf '[rcpt]\n/bin/true\n' >"$T/rcpt-only"
	run --separate-stderr mg-opensmtpd -C "$T/rcpt-only" --add-headers yes < <(hs06; message)
	assert_success
	assert_line 'register|filter|smtp-in|data-line'
	assert_equal "$(answers | grep -c dataline)" 6
	assert_equal "$(answers | tail -1)" "filter-result|$S1|$TK|proceed"
}

@test "mg-opensmtpd answers each session with its own session id, the fast one first" {
	run --separate-stderr mg-opensmtpd -C "$T/chain" < <(hs06
	    S=$S1 opening; S=$S2 opening
	    S=$S1 f mail-from a@good.example; S=$S2 f mail-from b@good.example
	    S=$S1 f rcpt-to slower@test.example; S=$S2 f rcpt-to fast@test.example)
	assert_success
	# S1's recipient step sleeps 3 s and S2's was asked after it: S2's
	# whole transaction is answered first unless S1 blocked it, whatever
	# order the quick steps of the two finish in.
	assert_equal "$(answers | tail -1)" "filter-result|$S1|$TK|proceed"
	assert_equal "$(answers | grep -c "|$S1|")" 4
	assert_equal "$(answers | grep -c "|$S2|")" 4
}

@test "mg-opensmtpd runs slow steps of two sessions at the same time" {
	start=$(date +%s%N)
	run --separate-stderr mg-opensmtpd -C "$T/chain" < <(hs06
	    for s in $S1 $S2 2222333344445555; do
		S=$s opening; S=$s f mail-from a@good.example; S=$s f rcpt-to twosec@test.example
	    done)
	ms=$((($(date +%s%N) - start) / 1000000))
	assert_success
	assert_equal "$(answers | grep -c '|proceed$')" 12
	# Three steps of two seconds each, at once: far under six seconds.
	[ "$ms" -ge 2000 ]
	[ "$ms" -lt 4500 ]
}

@test "mg-opensmtpd waits the delay mg-tarpit --print asks for without holding up other sessions" {
	printf '[rcpt]\n%s/bin/mg-tarpit --print --statedir %s --after 1 --delay 2\n: echo "X-After: $SMTPRCPTTO"\n' "$TOP" "$T" >"$T/tchain"
	start=$(date +%s%N)
	# The second recipient of S1 is past --after 1: it waits 2 s.
	run --separate-stderr mg-opensmtpd -C "$T/tchain" < <(hs06
	    S=$S1 opening; S=$S1 f mail-from a@good.example
	    S=$S1 f rcpt-to b@test.example
	    S=$S1 r tx-rcpt "0000000a|ok|b@test.example"
	    S=$S1 f rcpt-to c@test.example
	    S=$S2 opening; S=$S2 f mail-from a@good.example)
	ms=$((($(date +%s%N) - start) / 1000000))
	assert_success
	# The recipient proceeds after the wait, not with 451; S2's MAIL
	# was answered while S1 waited.
	assert_equal "$(answers | tail -1)" "filter-result|$S1|$TK|proceed"
	assert_equal "$(answers | grep -c '|proceed$')" 8
	[[ "$stderr" == *"stage=rcpt step=mg-tarpit decision=accept session=$S1"*'rcpt=c@test.example why="wait 2000 ms"'* ]]
	[[ "$stderr" == *"stage=rcpt step=sh decision=accept session=$S1"* ]]
	[ "$ms" -ge 2000 ]
	[ "$ms" -lt 4000 ]
}

@test "mg-opensmtpd tells the steps the authenticated user and auth=pass (0.6 link-auth)" {
	run --separate-stderr mg-opensmtpd -C "$T/chain" --relayclient "" < <(hs06; opening
	    r link-tls "version=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256"
	    r link-auth "alice|pass"; f mail-from a@good.example; f rcpt-to b@test.example
	    f data-line x; f data-line .; f commit)
	assert_success
	assert_line "filter-dataline|$S1|$TK|X-Rcpt: b@test.example n=0 auth=alice relay= ar=auth=pass smtp.auth=alice"
	assert_line "filter-dataline|$S1|$TK|Authentication-Results: mx.test.example; auth=pass smtp.auth=alice"
}

@test "mg-opensmtpd reads protocol 0.7, where link-auth gives the result first" {
	run --separate-stderr mg-opensmtpd -C "$T/chain" < <(hs07; V=0.7 opening
	    V=0.7 r link-auth "pass|bob"; V=0.7 f mail-from a@good.example
	    V=0.7 f rcpt-to b@test.example)
	assert_success
	assert_line 'register|ready'
	assert_equal "$(answers | tail -1)" "filter-result|$S1|$TK|proceed"
	[[ "$stderr" == *"stage=auth decision=pass"*"auth=bob"* ]]
	[[ "$stderr" == *"stage=rcpt step=sh decision=accept"*"auth=bob"* ]]
}

@test "mg-opensmtpd records a failed AUTH in the dynamic screen" {
	mkdir "$T/state"
	run --separate-stderr mg-opensmtpd --statedir "$T/state" --dyn-rule auth-fail:2/1h < <(hs06; opening
	    r link-auth "mallory|fail"; r link-auth "mallory|fail")
	assert_success
	[[ "$stderr" == *"stage=auth decision=fail session=$S1 ip=192.0.2.10"* ]]
	[[ "$stderr" != *mallory* ]]
	[[ "$stderr" == *"event=auth-fail session=$S1 ip=192.0.2.10 dynamic=blocked net=192.0.2.10/32"* ]]
	run --separate-stderr mg-screen --statedir "$T/state" --dyn-action reject --ip 192.0.2.10
	assert_failure 100
	assert_output --partial "550 5.7.1 192.0.2.10/32 is blocked"
}

@test "mg-opensmtpd records connect events when asked, as mg-wrap does" {
	mkdir "$T/state"
	run --separate-stderr mg-opensmtpd --statedir "$T/state" --dyn-record connect < <(hs06; opening)
	assert_success
	[[ "$stderr" == *"event=connect session=$S1 ip=192.0.2.10"* ]]
	run mg-screen --statedir "$T/state" list
	assert_output --partial "192.0.2.10/32 connect"
	# Not by default.
	run --separate-stderr mg-opensmtpd --statedir "$T/state" < <(hs06; opening)
	[[ "$stderr" != *"event=connect"* ]]
}

@test "mg-opensmtpd with --dyn-action disconnects a blocked client at connect and a client its failed AUTHs blocked at MAIL" {
	mkdir "$T/state"
	mg-screen --statedir "$T/state" block 192.0.2.66 --for 1h --reason "test block"
	dyn=(--statedir "$T/state" --dyn-action defer --dyn-rule auth-fail:2/1h)
	run --separate-stderr mg-opensmtpd "${dyn[@]}" < <(hs06; IP=192.0.2.66 opening)
	assert_success
	assert_line 'register|filter|smtp-in|connect'
	assert_line 'register|filter|smtp-in|mail-from'
	assert_equal "$(answers | head -1)" "filter-result|$S1|$TK|disconnect|451 4.7.1 192.0.2.66/32 is blocked for 1h more (test block)"
	[[ "$stderr" == *"stage=connect step=dynamic decision=block session=$S1 ip=192.0.2.66"* ]]
	# In the session: two failed AUTHs make a block; the next MAIL ends it.
	run --separate-stderr mg-opensmtpd "${dyn[@]}" < <(hs06; opening
	    r link-auth "mallory|fail"; r link-auth "mallory|fail"
	    f mail-from a@good.example)
	assert_success
	assert_equal "$(answers | tail -1)" "filter-result|$S1|$TK|disconnect|451 4.7.1 192.0.2.10/32 is blocked for 1h more (auth-fail: 2 in 1h)"
	# Off (the default): no phase is registered for it.
	run --separate-stderr mg-opensmtpd --statedir "$T/state" < <(hs06; IP=192.0.2.66 opening)
	refute_line --partial 'register|filter'
}

@test "mg-opensmtpd survives malformed lines from smtpd and keeps answering" {
	run --separate-stderr mg-opensmtpd -C "$T/chain" < <(echo 'garbage before the handshake'; hs06
	    echo 'garbage'; echo 'filter|x.y|1|smtp-in|connect|0123|0123'
	    echo 'filter|0.6|1|smtp-in|connect|NOT-HEX|0123'
	    echo 'report|0.6|1|smtp-in'; echo 'filter|1.0|1|smtp-in|helo|0123|0123|x'
	    echo 'unknown|0.6|1|smtp-in|connect|0123|0123|x'
	    printf 'filter|0.6|1|smtp-in|helo|0123|0123|nul\0byte\n'
	    echo 'filter|0.6|1|smtp-out|helo|0123|0123|x'
	    echo 'report|0.6|1|smtp-in|link-connect|abcd'
	    echo 'report|0.6|1|smtp-in|link-auth|abcd|nobar'
	    echo 'report|0.6|1|smtp-in|link-disconnect|9999'
	    echo 'filter|0.6|1|smtp-in|quit|'$S1'|'$TK
	    opening)
	assert_success
	assert_equal "$(answers)" "filter-result|$S1|$TK|proceed
filter-result|$S1|$TK|proceed
filter-result|$S1|$TK|proceed"
	[ "$(grep -c 'warning: ignored a line from smtpd' <<<"$stderr")" -ge 9 ]
}

@test "mg-opensmtpd answers a request line too long to keep with 451, warns once, and goes on" {
	long=$(printf '%0300000d' 0)
	run --separate-stderr mg-opensmtpd -C "$T/chain" < <(hs06; opening
	    f mail-from "a@$long.example"; f mail-from a@good.example
	    echo "report|0.6|1|smtp-in|link-identify|$S1|EHLO|$long")
	assert_success
	assert_equal "$(answers)" "filter-result|$S1|$TK|proceed
filter-result|$S1|$TK|proceed
filter-result|$S1|$TK|reject|451 4.3.0 temporary failure (line too long)
filter-result|$S1|$TK|proceed"
	[[ "$stderr" == *"warning: session $S1: mail-from line from smtpd longer than 71680 bytes"* ]]
	[[ "$stderr" == *"stage=mail-from decision=defer session=$S1"*"why=\"line too long\""* ]]
	assert_equal "$(grep -c 'longer than' <<<"$stderr")" 2
	[[ "$stderr" == *"warning: ignored a line from smtpd (longer than 71680 bytes)"* ]]
}

@test "mg-opensmtpd defers at commit a message with a data line too long to keep" {
	long=$(printf '%0300000d' 0)
	printf '[rcpt]\n/bin/true\n' >"$T/rcpt-only"
	for chain in "$T/chain" "$T/rcpt-only"; do
		run --separate-stderr mg-opensmtpd -C "$chain" --add-headers yes < <(hs06; SUBJECT=$long message)
		assert_success
		assert_equal "$(answers | tail -1)" "filter-result|$S1|$TK|reject|451 4.3.0 temporary failure (message line too long)"
		assert_equal "$(answers | tail -2 | head -1)" "filter-dataline|$S1|$TK|."
		assert_equal "$(grep -c 'longer than' <<<"$stderr")" 1
		[[ "$stderr" == *"stage=data decision=defer"* ]]
	done
}

@test "mg-opensmtpd drops a session's running step when the client disconnects" {
	start=$(date +%s)
	run --separate-stderr mg-opensmtpd -C "$T/chain" < <(hs06; NOREQ=1 opening
	    r link-disconnect "$S2"; f rcpt-to hang@test.example; r link-disconnect)
	assert_success
	assert_equal "$(answers)" ""
	[[ "$stderr" == *"session=end id=$S1"* ]]
	# The hanging step was killed, not waited for.
	[ $(($(date +%s) - start)) -lt 10 ]
}

@test "mg-opensmtpd rewrites the sender of an authenticated session with --batv-sign" {
	run --separate-stderr mg-opensmtpd --batv-sign "sh -c 'echo prvs=0123abcdef=\${1%@*}@\${1#*@}' sh" \
	    < <(hs06; NOREQ=1 opening; r link-auth "alice|pass"; f mail-from alice@example.org
	    S=$S2 NOREQ=1 opening; S=$S2 f mail-from bob@example.org)
	assert_success
	assert_line 'register|filter|smtp-in|mail-from'
	# Only the session that authenticated is rewritten.
	assert_equal "$(answers | sort)" "filter-result|$S1|$TK|rewrite|<prvs=0123abcdef=alice@example.org>
filter-result|$S2|$TK|proceed"
}

@test "mg-opensmtpd defers a sender when the --batv-sign command fails" {
	run --separate-stderr mg-opensmtpd --outbound all --batv-sign "sh -c 'exit 111'" \
	    < <(hs06; NOREQ=1 opening; f mail-from alice@example.org; f mail-from "")
	assert_success
	assert_equal "$(answers)" "filter-result|$S1|$TK|reject|451 4.3.0 temporary failure
filter-result|$S1|$TK|proceed"
}

@test "mg-opensmtpd runs the --dkim-sign command on outbound mail and puts its fields on top" {
	run --separate-stderr mg-opensmtpd --outbound all \
	    --dkim-sign "sh -c 'echo \"DKIM-Signature: v=1; lines=\$(grep -c \"\")\"'" < <(hs06; message)
	assert_success
	assert_line --index 0 'register|filter|smtp-in|data-line'
	assert_equal "$(answers | grep dataline | head -2)" "filter-dataline|$S1|$TK|DKIM-Signature: v=1; lines=5
filter-dataline|$S1|$TK|Received: from client.example"
}

@test "mg-opensmtpd warns when OpenSMTPD before 7.4 will cut a long data line" {
	long=$(head -c 2500 /dev/zero | tr '\0' x)
	run --separate-stderr mg-opensmtpd -C "$T/chain" < <(hs06; opening; f data-line "$long"; f data-line .)
	assert_success
	assert_line "filter-dataline|$S1|$TK|$long"
	[[ "$stderr" == *"warning: session $S1: 1 data lines longer than 1997 characters were cut by smtpd (OpenSMTPD before 7.4)"* ]]
	run --separate-stderr mg-opensmtpd -C "$T/chain" < <(hs07; V=0.7 opening; V=0.7 f data-line "$long"; V=0.7 f data-line .)
	assert_success
	[[ "$stderr" != *"were cut"* ]]
}

@test "mg-opensmtpd exits 111 on a bad option, before the handshake" {
	run --separate-stderr mg-opensmtpd --no-such-option < <(hs06)
	assert_failure 111
	assert_output ""
	[[ "$stderr" == *"usage: mg-opensmtpd"* ]]
	run --separate-stderr mg-opensmtpd --outbound sometimes < <(hs06)
	assert_failure 111
	[[ "$stderr" == *"option --outbound: sometimes"* ]]
	run --separate-stderr mg-opensmtpd -C "$T/missing" < <(hs06)
	assert_failure 111
}

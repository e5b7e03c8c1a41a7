#!/usr/bin/env bats
# mg-wrap in front of a real SMTP server (qpsmtpd under tcpserver on
# loopback), driven by swaks and raw pipelined clients.

load lib/common
load lib/smtpserver

setup() {
	common_setup
	qp_setup
	cat >"$T/chain" <<-'EOF2'
	[rcpt]
	: echo "X-Rcpt-Seen: $SMTPRCPTTO"
	[data]
	: echo "X-Data-Lines: $(wc -l)"
	EOF2
}

teardown() {
	server_stop
	common_teardown
}

# --- contract -----------------------------------------------------------

@test "mg-wrap answers a bad option with a 421 line and exit 111" {
	run --separate-stderr mg-wrap --bogus -- /bin/true
	assert_equal "$status" 111
	assert_output $'421 4.3.0 temporary failure (usage error)\r'
	[[ "$stderr" == *"mg-wrap: unknown option --bogus"* ]]
}

@test "mg-wrap defers every client when the chain file is broken" {
	printf '[rcpt]\nprog "open\n' >"$T/bad"
	run --separate-stderr mg-wrap -C "$T/bad" -- /bin/true
	assert_equal "$status" 111
	assert_output --partial "421 4.3.0 temporary failure (configuration)"
	[[ "$stderr" == *"$T/bad:2: unbalanced quote"* ]]
}

# --- the whole path ---------------------------------------------------------

@test "mg-wrap delivers through the real server with the steps' header fields" {
	wrap_start -C "$T/chain"
	smtp --from a@example.org --to user@example.test \
	    --body $'hello\n.dotline\nend'
	assert_success
	assert_output --partial "<-  250 Queued!"
	assert_equal "$(delivered)" 1
	m=$(cat "$QP"/queue/msg.*)
	[[ "$m" == *"X-Rcpt-Seen: user@example.test"* ]]
	[[ "$m" == *"X-Data-Lines: "* ]]
	[[ "$m" == *$'\n.dotline\n'* ]]
	[ "$(od -An -c "$QP"/queue/env.* | tr -d ' \n')" = \
	    'Fa@example.org\0Tuser@example.test\0\0' ]
	sessions_done 1
	grep -q 'stage=data step=server decision=accept' "$T/server.log"
	grep -q 'session=end ip=127.0.0.1 .*messages=1 .*end=quit' "$T/server.log"
}

@test "mg-wrap runs several pipelined transactions in one session" {
	wrap_start -C "$T/chain"
	run raw <<-'EOF2'
	EHLO client.test
	MAIL FROM:<a@example.org>
	RCPT TO:<one@example.test>
	RCPT TO:<two@example.test>
	DATA
	Subject: first

	one
	.
	MAIL FROM:<b@example.org>
	RCPT TO:<three@example.test>
	DATA
	Subject: second

	two
	.
	QUIT
	EOF2
	assert_output --partial "250-PIPELINING"
	[ "$(grep -c '^250 Queued' <<<"$output")" = 2 ]
	assert_output --partial "221 2.0.0 mx.test closing connection"
	assert_equal "$(delivered)" 2
	grep -l 'Subject: second' "$QP"/queue/msg.* | grep -q .
	grep -q 'Tone@example.test' "$QP"/queue/env.*
}

@test "mg-wrap says EHLO with the extensions it supports" {
	wrap_start --databytes 1000
	run raw <<<$'EHLO c.test\r\nQUIT\r'
	assert_line "220 mx.test ESMTP"
	assert_line "250-mx.test"
	assert_line "250-8BITMIME"
	assert_line "250-SIZE 1000"
	assert_line "250 ENHANCEDSTATUSCODES"
	refute_output --partial "STARTTLS"
	refute_output --partial "AUTH"
}

# --- each stage ------------------------------------------------------------

@test "mg-wrap answers a connect-stage refusal the way rblsmtpd does" {
	printf '[connect]\n: echo "451 4.7.1 go away"; exit 111\n' >"$T/c"
	wrap_start -C "$T/c"
	run raw <<<$'HELO c.test\r\nMAIL FROM:<a@b.test>\r\nQUIT\r'
	assert_line "220 mx.test ESMTP"
	assert_line "250 mx.test"
	assert_line "451 4.7.1 go away"
	assert_equal "$(delivered)" 0
}

@test "mg-wrap refuses a HELO that a helo step rejects" {
	printf '[helo]\n: [ "$SMTPHELOHOST" = bad.test ] && { echo "550 5.7.1 bad helo"; exit 100; }; exit 0\n' >"$T/c"
	wrap_start -C "$T/c"
	run raw <<<$'HELO bad.test\r\nMAIL FROM:<a@b.test>\r\nHELO good.test\r\nQUIT\r'
	assert_line "550 5.7.1 bad helo"
	assert_line "503 5.5.1 send HELO or EHLO first"
	assert_line "250 mx.test"
}

@test "mg-wrap rejects a blacklisted sender with mg-screen as a mail step" {
	echo "spammer@bad.test" >"$T/bl"
	printf '[mail]\nmg-screen --blacklist %s\n' "$T/bl" >"$T/c"
	wrap_start -C "$T/c"
	smtp --from spammer@bad.test --to user@example.test
	assert_output --partial "<** 550 5.7.1"
	assert_equal "$(delivered)" 0
	smtp --from friend@good.test --to user@example.test
	assert_output --partial "<-  250 Queued!"
	assert_equal "$(delivered)" 1
}

@test "mg-wrap gives a rcpt step's rejection and deferral to the client" {
	cat >"$T/c" <<-'EOF2'
	[rcpt]
	: case $SMTPRCPTTO in no@*) echo "550 5.1.1 no such user"; exit 100;; later@*) echo "451 4.7.1 greylisted"; exit 111;; esac
	EOF2
	wrap_start -C "$T/c"
	run raw <<-'EOF2'
	EHLO c.test
	MAIL FROM:<a@b.test>
	RCPT TO:<no@example.test>
	RCPT TO:<later@example.test>
	RCPT TO:<yes@example.test>
	DATA
	.
	QUIT
	EOF2
	assert_line "550 5.1.1 no such user"
	assert_line "451 4.7.1 greylisted"
	assert_output --partial "250 Queued"
	grep -q 'Tyes@example.test\x00\x00' "$QP"/queue/env.* ||
	    [ "$(tr '\0' ' ' <"$QP"/queue/env.*)" = "Fa@b.test Tyes@example.test  " ]
}

@test "mg-wrap refuses a message that a data step rejects and delivers nothing" {
	printf '[data]\n: grep -q VIRUS && { echo "554 5.7.1 infected"; exit 100; }; exit 0\n' >"$T/c"
	wrap_start -C "$T/c"
	smtp --from a@b.test --to user@example.test --body "a VIRUS here"
	assert_output --partial "<** 554 5.7.1 infected"
	assert_equal "$(delivered)" 0
	smtp --from a@b.test --to user@example.test --body "clean"
	assert_output --partial "<-  250 Queued!"
	assert_equal "$(delivered)" 1
}

@test "mg-wrap closes the connection after a step's drop reply, 554 at rcpt or 421" {
	printf '[rcpt]\n: case $SMTPRCPTTO in drop@*) echo "554 5.7.1 go away"; exit 100;; esac\n' >"$T/c"
	wrap_start -C "$T/c"
	run raw < <(printf 'EHLO c.test\nMAIL FROM:<a@b.test>\nRCPT TO:<drop@example.test>\nRCPT TO:<user@example.test>\nQUIT\n')
	assert_line "554 5.7.1 go away"
	# Nothing after the drop: the connection is closed.
	assert_equal "${lines[-1]}" "554 5.7.1 go away"
	refute_line --partial "221 2.0.0"
	sessions_done 1
	grep -q 'stage=rcpt step=sh decision=reject .*reply="554 5.7.1 go away"' "$T/server.log"
	grep -q 'session=end .*end=drop' "$T/server.log"
	server_stop
	printf '[mail]\n: echo "421 4.7.0 busy, come back"; exit 111\n' >"$T/c"
	wrap_start -C "$T/c"
	smtp --from a@b.test --to user@example.test
	assert_output --partial "<** 421 4.7.0 busy, come back"
	refute_output --partial "221 2.0.0"
	assert_equal "$(delivered)" 0
}

@test "mg-wrap removes Authentication-Results fields forged in its name before any step sees them" {
	printf '[data]\n: grep -c "dkim=pass" | sed "s/^/X-Forged-Seen: /"; exit 0\n' >"$T/c"
	for chain in "$T/c" /dev/null; do
		wrap_start -C "$chain"
		smtp --from a@b.test --to user@example.test \
		    --add-header "Authentication-Results: MX.TEST; dkim=pass header.d=b.test" \
		    --add-header "Authentication-Results: other.example; spf=pass" \
		    --body "Authentication-Results: mx.test; in the body"
		assert_output --partial "<-  250 Queued"
		server_stop
	done
	assert_equal "$(delivered)" 2
	for m in "$QP"/queue/msg.*; do
		refute grep -q 'dkim=pass' "$m"
		grep -q '^Authentication-Results: other.example; spf=pass' "$m"
		grep -q '^Authentication-Results: mx.test; in the body' "$m"
	done
	# The [data] step (spooled) did not see it either.
	grep -qh '^X-Forged-Seen: 0' "$QP"/queue/msg.*
	grep -q 'removed 1 Authentication-Results field claiming mx.test' "$T/server.log"
}

@test "mg-wrap sends the real server the sender a mail step names" {
	printf '[mail]\n: echo "tagged-$SMTPMAILFROM"\n[rcpt]\n: echo "X-From-Seen: $SMTPMAILFROM"\n' >"$T/c"
	wrap_start -C "$T/c"
	smtp --from a@b.test --to user@example.test
	assert_output --partial "<-  250 Queued"
	[ "$(tr '\0' ' ' <"$QP"/queue/env.*)" = "Ftagged-a@b.test Tuser@example.test  " ]
	grep -q '^X-From-Seen: tagged-a@b.test' "$QP"/queue/msg.*
	sessions_done 1
	grep -q 'stage=mail step=sh decision=rewrite .*why=tagged-a@b.test' "$T/server.log"
}

@test "mg-wrap keeps the session after a 554 for one message at the data stage" {
	printf '[data]\n: grep -q VIRUS && { echo "554 5.7.1 infected"; exit 100; }; exit 0\n' >"$T/c"
	wrap_start -C "$T/c"
	run raw < <(printf 'EHLO c.test\nMAIL FROM:<a@b.test>\nRCPT TO:<user@example.test>\nDATA\nVIRUS\n.\nMAIL FROM:<a@b.test>\nRCPT TO:<user@example.test>\nDATA\nclean\n.\nQUIT\n')
	assert_line "554 5.7.1 infected"
	assert_line --partial "250 Queued"
	assert_line "221 2.0.0 mx.test closing connection"
	assert_equal "$(delivered)" 1
}

@test "mg-wrap refuses an unsigned message with no empty line under a dkim --no-signature reject step" {
	printf '[data]\nmg-dkim-verify -H mx.test --resolver zone:/dev/null --no-signature reject\n' >"$T/c"
	wrap_start -C "$T/c"
	run raw <<-EOF2
	HELO client.test
	MAIL FROM:<a@b.test>
	RCPT TO:<user@example.test>
	DATA
	From: a@b.test
	Subject: no empty line follows
	this body line is not a header field
	.
	QUIT
	EOF2
	assert_line --partial "550 5.7.1 message cannot be parsed for DKIM"
	refute_line --partial "250 Queued!"
	assert_equal "$(delivered)" 0
}

@test "mg-wrap gives later steps the results of earlier ones in MG_AUTHRES" {
	cat >"$T/c" <<-'EOF2'
	[mail]
	: echo "Authentication-Results: mx.test; spf=pass smtp.mailfrom=b.test"
	[rcpt]
	: echo "X-Earlier: $MG_AUTHRES"
	EOF2
	wrap_start -C "$T/c"
	smtp --from a@b.test --to user@example.test
	assert_output --partial "<-  250 Queued!"
	grep -q '^X-Earlier: spf=pass smtp.mailfrom=b.test$' "$QP"/queue/msg.*
	grep -q '^Authentication-Results: mx.test; spf=pass' "$QP"/queue/msg.*
}

# --- pipelining towards the server --------------------------------------------

# The reply lines a pipelined transaction gets, without the EHLO block.
replies() {
	grep -E '^[0-9]{3} ' <<<"$output" | grep -v -e '^220 ' -e '^250 ENHANCED'
}

@test "mg-wrap relays a server refusal amid pipelined recipients in order" {
	wrap_start
	run raw <<-'EOF2'
	EHLO c.test
	MAIL FROM:<a@b.test>
	RCPT TO:<one@example.test>
	RCPT TO:<>
	RCPT TO:<x@elsewhere.test>
	RCPT TO:<two@example.test>
	DATA
	Subject: streamed

	.dot line
	.
	QUIT
	EOF2
	run replies
	assert_line --index 0 --partial "250 <a@b.test>, sender OK"
	assert_line --index 1 --partial "250 <one@example.test>"
	assert_line --index 2 "501 5.1.3 bad recipient address syntax"
	assert_line --index 3 --regexp '^55[0-9] .*[Rr]elaying denied'
	assert_line --index 4 --partial "250 <two@example.test>"
	assert_line --index 5 "354 go ahead, end with <CRLF>.<CRLF>"
	assert_line --index 6 --partial "250 Queued!"
	assert_line --index 7 "221 2.0.0 mx.test closing connection"
	assert_equal "$(delivered)" 1
	[ "$(tr '\0' ' ' <"$QP"/queue/env.*)" = \
	    "Fa@b.test Tone@example.test Ttwo@example.test  " ]
	grep -q '^\.dot line$' "$QP"/queue/msg.*
	sessions_done 1
	grep -q 'stage=rcpt step=server decision=refused .*rcpt=x@elsewhere.test' \
	    "$T/server.log"
	grep -q 'event=unknown-rcpt ip=127.0.0.1' "$T/server.log"
}

@test "mg-wrap settles pipelined replies before a RSET starts afresh" {
	wrap_start
	run raw <<-'EOF2'
	EHLO c.test
	MAIL FROM:<a@b.test>
	RCPT TO:<one@example.test>
	RSET
	MAIL FROM:<b@b.test>
	RCPT TO:<two@example.test>
	DATA
	Subject: after rset

	.
	QUIT
	EOF2
	run replies
	assert_line --index 0 --partial "250 <a@b.test>"
	assert_line --index 1 --partial "250 <one@example.test>"
	assert_line --index 2 "250 2.0.0 ok"
	assert_line --index 3 --partial "250 <b@b.test>"
	assert_line --index 4 --partial "250 <two@example.test>"
	assert_line --index 6 --partial "250 Queued!"
	[ "$(tr '\0' ' ' <"$QP"/queue/env.*)" = "Fb@b.test Ttwo@example.test  " ]
	sessions_done 1
	refute grep -q 'decision=refused' "$T/server.log"
}

@test "mg-wrap passes SIZE and BODY on to a server that offers them" {
	echo 7 >"$QP/config/loglevel"
	wrap_start
	# qpsmtpd names SIZE only when it has a databytes limit.
	run raw <<<$'EHLO c.test\r\nMAIL FROM:<a@b.test> SIZE=1234 BODY=8bitmime XFOO=1\r\nQUIT\r'
	assert_line --partial "250 <a@b.test>, sender OK"
	sessions_done 1
	grep -q 'dispatching MAIL FROM:<a@b.test> BODY=8BITMIME$' "$T/server.log"
	echo 100000 >"$QP/config/databytes"
	run raw <<<$'EHLO c.test\r\nMAIL FROM:<a@b.test> SIZE=1234 BODY=8bitmime XFOO=1\r\nQUIT\r'
	sessions_done 2
	grep -q 'dispatching MAIL FROM:<a@b.test> SIZE=1234 BODY=8BITMIME$' \
	    "$T/server.log"
	refute grep -q 'XFOO' "$T/server.log"
}

@test "mg-wrap refuses a streamed message over --databytes and delivers the next" {
	wrap_start --databytes 200
	run rawb < <(printf 'EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\n'
	    for i in $(seq 1 20); do printf 'line %02d of a message that is too big\r\n' "$i"; done
	    printf '.\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\nSubject: small\r\n\r\nok\r\n.\r\nQUIT\r\n')
	assert_line "552 5.3.4 message size exceeds fixed limit"
	[ "$(grep -c '^250 Queued' <<<"$output")" = 1 ]
	assert_equal "$(delivered)" 1
	grep -q '^Subject: small$' "$QP"/queue/msg.*
}

@test "mg-wrap delivers nothing when the client disconnects in a streamed DATA" {
	wrap_start
	exec 5<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\nSubject: cut\r\n\r\npartial\r\n' >&5
	sleep 1
	exec 5<&-
	sessions_done 1
	assert_equal "$(delivered)" 0
	grep -q 'end=eof-in-data' "$T/server.log"
}

# --- tarpitting: a rcpt step that sleeps holds the reply ------------------------

@test "mg-wrap holds the RCPT reply while a rcpt step sleeps, as mg-tarpit does" {
	printf '[rcpt]\n: case $SMTPRCPTTO in slow@*) sleep 2;; esac\n' >"$T/c"
	wrap_start -C "$T/c"
	exec 5<>"/dev/tcp/127.0.0.1/$PORT"
	read -r -t 10 line <&5
	printf 'HELO c.test\r\nMAIL FROM:<a@b.test>\r\n' >&5
	read -r -t 10 line <&5
	read -r -t 10 line <&5
	[[ "$line" == "250 <a@b.test>"* ]]
	t0=$EPOCHREALTIME
	printf 'RCPT TO:<fast@example.test>\r\n' >&5
	read -r -t 10 fast <&5
	t1=$EPOCHREALTIME
	printf 'RCPT TO:<slow@example.test>\r\n' >&5
	read -r -t 10 slow <&5
	t2=$EPOCHREALTIME
	printf 'QUIT\r\n' >&5
	exec 5<&-
	[[ "$fast" == "250 <fast@example.test>"* ]]
	[[ "$slow" == "250 <slow@example.test>"* ]]
	awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { exit !(b - a < 1.5 && c - b >= 2) }'
}

@test "mg-wrap keeps pipelined replies in order around a sleeping rcpt step" {
	cat >"$T/c" <<-'EOF2'
	[rcpt]
	: case $SMTPRCPTTO in slow@*) sleep 2;; no@*) echo "550 5.1.1 no such user"; exit 100;; esac
	EOF2
	wrap_start -C "$T/c"
	start=$SECONDS
	run raw <<-'EOF2'
	EHLO c.test
	MAIL FROM:<a@b.test>
	RCPT TO:<one@example.test>
	RCPT TO:<slow@example.test>
	RCPT TO:<no@example.test>
	RCPT TO:<two@example.test>
	DATA
	Subject: tarpit

	body
	.
	QUIT
	EOF2
	[ $((SECONDS - start)) -ge 2 ]
	run replies
	assert_line --index 0 --partial "250 <a@b.test>"
	assert_line --index 1 --partial "250 <one@example.test>"
	assert_line --index 2 --partial "250 <slow@example.test>"
	assert_line --index 3 "550 5.1.1 no such user"
	assert_line --index 4 --partial "250 <two@example.test>"
	assert_line --index 5 --partial "354 "
	assert_line --index 6 --partial "250 Queued!"
	[ "$(tr '\0' ' ' <"$QP"/queue/env.*)" = \
	    "Fa@b.test Tone@example.test Tslow@example.test Ttwo@example.test  " ]
}

# --- faults: no 250 for mail the server did not take -------------------------

@test "mg-wrap kills a hanging step at the timeout and defers" {
	printf '[rcpt]\n: sleep 60\n' >"$T/c"
	wrap_start -C "$T/c" --step-timeout 1
	smtp --from a@b.test --to user@example.test
	assert_output --partial "<** 451 4.3.0 temporary failure"
	assert_equal "$(delivered)" 0
	sessions_done 1
	grep -q 'step=sh decision=fail .*why=timeout' "$T/server.log"
}

@test "mg-wrap defers when a step crashes" {
	printf '[data]\n: kill -SEGV $$\n' >"$T/c"
	wrap_start -C "$T/c"
	smtp --from a@b.test --to user@example.test
	assert_output --partial "<** 451 4.3.0 temporary failure"
	refute_output --partial "250 Queued"
	assert_equal "$(delivered)" 0
}

@test "mg-wrap gives 451, never 250, when the server dies in DATA" {
	export FAKEQQ_CRASH=1
	wrap_start -C "$T/chain"
	smtp --from a@b.test --to user@example.test
	assert_output --partial "<** 451 4.3.0 temporary failure (server died)"
	refute_output --partial "<-  250 Queued"
	assert_equal "$(delivered)" 0
}

@test "mg-wrap relays the server's refusal of a message, not a 250" {
	export FAKEQQ_EXIT=31
	wrap_start
	smtp --from a@b.test --to user@example.test
	assert_output --partial "<** 451"
	refute_output --partial "<-  250 Queued"
}

@test "mg-wrap delivers nothing when the client disconnects in DATA" {
	wrap_start -C "$T/chain"
	exec 5<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\nSubject: cut\r\n\r\npartial' >&5
	sleep 1
	exec 5<&-
	sessions_done 1
	assert_equal "$(delivered)" 0
	grep -q 'end=eof-in-data' "$T/server.log"
}

@test "mg-wrap refuses a bare LF in the message the way qmail does" {
	wrap_start
	run rawb < <(printf 'EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\nbare\nlf\r\n.\r\n')
	assert_line "451 See http://pobox.com/~djb/docs/smtplf.html."
	assert_equal "$(delivered)" 0
}

# --- limits -----------------------------------------------------------------

@test "mg-wrap answers a 1 MB line and a NUL byte and goes on" {
	wrap_start
	run rawb < <(printf 'EHLO c.test\r\n'; head -c 1048576 /dev/zero | tr '\0' x;
	    printf '\r\nNOOP\0x\r\nNOOP\r\nQUIT\r\n')
	assert_line "500 5.5.2 line too long"
	assert_line "500 5.5.2 NUL byte in command"
	assert_line "250 2.0.0 ok"
	assert_line "221 2.0.0 mx.test closing connection"
}

@test "mg-wrap ends a flood of pipelined commands at the limit" {
	wrap_start --max-commands 50
	run raw < <(for i in $(seq 1 2000); do printf 'NOOP\r\n'; done)
	assert_line "421 4.7.0 mx.test too many commands, closing connection"
	[ "$(grep -c '^250 2.0.0 ok' <<<"$output")" = 50 ]
}

@test "mg-wrap cuts a server reply too long to keep at a final line and goes on" {
	# A server whose RCPT reply is 201 lines of 74 octets, 15 KB; mg-wrap
	# keeps 4 KB of a reply.
	cat >"$T/longreply" <<-'EOF2'
	#!/bin/sh
	printf '220 fake ESMTP\r\n'
	while read -r cmd; do
		case $cmd in
		RCPT*)	i=0
			while [ $i -lt 200 ]; do
				printf '550-5.1.1 %064d\r\n' $i
				i=$((i + 1))
			done
			printf '550 5.1.1 %064d\r\n' $i ;;
		QUIT*)	printf '221 bye\r\n'
			exit 0 ;;
		*)	printf '250 ok\r\n' ;;
		esac
	done
	EOF2
	chmod 755 "$T/longreply"
	serve mg-wrap -H mx.test --statedir "$T" -- "$T/longreply"
	run raw < <(printf 'EHLO c.test\nMAIL FROM:<a@b.test>\nRCPT TO:<u@example.test>\nNOOP\nQUIT\n')
	reply=$(grep '^550' <<<"$output")
	# Whole lines, as the server wrote them, the last one final.
	[ -z "$(grep -vE '^550[- ]5\.1\.1 [0-9]{64}$' <<<"$reply")" ]
	[[ "$(tail -n 1 <<<"$reply")" == "550 "* ]]
	[ "$(wc -c <<<"$reply")" -le 4096 ]
	[ "$(grep -A 1 '^550 ' <<<"$output" | tail -n 1)" = "250 2.0.0 ok" ]
	assert_line "221 2.0.0 mx.test closing connection"
}

@test "mg-wrap closes an idle session with 421" {
	wrap_start --idle-timeout 1
	run raw < <(printf 'EHLO c.test\r\n'; sleep 3)
	assert_line "421 4.4.2 mx.test timeout, closing connection"
}

@test "mg-wrap refuses a client that talks before the greeting" {
	wrap_start --greet-delay 2
	run raw <<<$'EHLO early.test\r'
	refute_line "220 mx.test ESMTP"
	assert_line "554 5.5.1 protocol error: talked before the greeting"
	sessions_done 1
	grep -q 'event=pregreet ip=127.0.0.1' "$T/server.log"
}

# --- the dynamic screen -----------------------------------------------------------

@test "mg-wrap records an unknown-rcpt event when the server refuses a recipient" {
	wrap_start
	smtp --from a@b.test --to someone@elsewhere.test
	assert_output --partial "<** 550"
	sessions_done 1
	grep -q 'event=unknown-rcpt ip=127.0.0.1' "$T/server.log"
	run --separate-stderr mg-screen --statedir "$T" list
	assert_output --partial "unknown-rcpt"
}

@test "mg-wrap answers a client the dynamic screen blocked, rblsmtpd style" {
	mg-screen --statedir "$T" block 127.0.0.1 --for 1h --reason "test block"
	wrap_start
	smtp --from a@b.test --to user@example.test
	assert_output --partial "<-  220 mx.test ESMTP"
	assert_output --partial "<** 451 4.7.1 127.0.0.1/32 is blocked for"
	assert_equal "$(delivered)" 0
}

# --- AUTH and TLS -----------------------------------------------------------

tls_setup() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.test \
	    -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
	cat >"$T/checkpw" <<-'EOF2'
	#!/bin/sh
	# test checkpassword: alice/secret is good
	IFS= read -r -d '' user <&3; IFS= read -r -d '' pass <&3
	[ "$user" = alice ] && [ "$pass" = secret ] && exec "$@"
	exit 1
	EOF2
	sed -i '1s|.*|#!/bin/bash|' "$T/checkpw"
	chmod 755 "$T/checkpw"
}

@test "mg-wrap offers AUTH only after STARTTLS and authenticates through checkpassword" {
	tls_setup
	wrap_start --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" \
	    --checkpassword "$T/checkpw /bin/true" --auth-delay 0 \
	    --relayclient x
	run raw <<<$'EHLO c.test\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nQUIT\r'
	assert_line "250-STARTTLS"
	refute_line "250-AUTH PLAIN LOGIN"
	assert_line --partial "538 5.7.11"
	smtp --tls --auth PLAIN --auth-user alice --auth-password secret \
	    --from alice@example.org --to someone@elsewhere.test
	assert_output --partial "<~  235 2.7.0"
	assert_output --partial "<~  250 Queued!"
	grep -q '^SMTPAUTHUSER=alice$' "$QP"/queue/environ.*
	grep -q '^RELAYCLIENT=' "$QP"/queue/environ.*
	grep -q '^Authentication-Results: mx.test; auth=pass smtp.auth=alice' \
	    "$QP"/queue/msg.*
	sessions_done 2
	grep -q 'tls=on .*protocol=TLSv1.[23]' "$T/server.log"
	refute grep -q secret "$T/server.log"
}

@test "mg-wrap refuses AUTH PLAIN for another authorization identity or with extra fields" {
	tls_setup
	wrap_start --checkpassword "$T/checkpw /bin/true" --auth-delay 0 \
	    --auth-plaintext yes
	b() { printf "$1" | base64 -w0; }
	# bob asks to act as... alice's password logs in only as alice.
	run raw <<<"EHLO c.test"$'\r'"
AUTH PLAIN $(b 'bob\0alice\0secret')"$'\r'"
AUTH PLAIN $(b '\0alice\0secret\0extra')"$'\r'"
AUTH PLAIN $(b '\0\0secret')"$'\r'"
AUTH PLAIN $(b 'alice\0alice\0secret')"$'\r'"
QUIT"$'\r'
	assert_line --index 7 "535 5.7.8 authentication credentials invalid"
	assert_line --index 8 "501 5.5.2 cannot decode the response"
	assert_line --index 9 "501 5.5.2 cannot decode the response"
	assert_line --index 10 --partial "235 2.7.0"
	sessions_done 1
	grep -q 'stage=auth step=plain decision=fail .*why="authorization identity differs"' "$T/server.log"
}

@test "mg-wrap refuses a bad password with 535 and blocks a repeat offender" {
	tls_setup
	wrap_start --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" \
	    --checkpassword "$T/checkpw /bin/true" --auth-delay 0 \
	    --dyn-rule auth-fail:2/1h
	smtp --tls --auth LOGIN --auth-user alice --auth-password wrong \
	    --from alice@example.org --to u@example.test
	assert_output --partial "535 5.7.8"
	smtp --tls --auth LOGIN --auth-user alice --auth-password wrong2 \
	    --from alice@example.org --to u@example.test
	assert_output --partial "535 5.7.8"
	smtp --from a@b.test --to u@example.test
	assert_output --partial "<** 451 4.7.1 127.0.0.1/32 is blocked"
	assert_equal "$(delivered)" 0
	refute grep -q wrong "$T/server.log"
}

@test "mg-wrap ends a pipelined session at the block its AUTH failures made" {
	tls_setup
	wrap_start --checkpassword "$T/checkpw /bin/true" --auth-delay 0 \
	    --auth-plaintext yes --dyn-rule auth-fail:3/1h --max-errors 50
	b() { printf "$1" | base64 -w0; }
	# 20 guesses, then the right password, all in one write.
	run raw < <(echo "EHLO c.test"
	    for i in $(seq 20); do echo "AUTH PLAIN $(b "\0alice\0guess$i")"; done
	    echo "AUTH PLAIN $(b '\0alice\0secret')"
	    echo "MAIL FROM:<alice@example.org>"; echo QUIT)
	[ "$(grep -c '^535 5.7.8' <<<"$output")" = 3 ]
	assert_line --partial "451 4.7.1 127.0.0.1/32 is blocked for"
	refute_line --partial "235 2.7.0"
	refute_line --partial "250 2.1.0"
	sessions_done 1
	grep -q 'event=auth-fail ip=127.0.0.1 dynamic=blocked' "$T/server.log"
	grep -q 'stage=auth step=dynamic decision=block ip=127.0.0.1' "$T/server.log"
	grep -q 'session=end .*end=blocked' "$T/server.log"
}

@test "mg-wrap blocks a client after five failed AUTHs with no rule configured" {
	tls_setup
	wrap_start --checkpassword "$T/checkpw /bin/true" --auth-delay 0 \
	    --auth-plaintext yes
	for i in 1 2 3 4; do
		smtp --auth PLAIN --auth-user alice --auth-password "guess$i" \
		    --from alice@example.org --to u@example.test
		assert_output --partial "535 5.7.8"
	done
	# Four failures block nothing: mail still goes.
	smtp --from a@b.test --to user@example.test
	assert_output --partial "<-  250 Queued"
	smtp --auth PLAIN --auth-user alice --auth-password guess5 \
	    --from alice@example.org --to u@example.test
	assert_output --partial "535 5.7.8"
	smtp --from a@b.test --to user@example.test
	assert_output --partial "<** 451 4.7.1 127.0.0.1/32 is blocked for 1h more (auth-fail: 5 in 10m)"
	assert_equal "$(delivered)" 1
}

@test "mg-wrap counts failed AUTHs toward --max-errors" {
	tls_setup
	wrap_start --checkpassword "$T/checkpw /bin/true" --auth-delay 0 \
	    --auth-plaintext yes --dyn-action off --max-errors 3 \
	    --dyn-record errors
	b() { printf "$1" | base64 -w0; }
	run raw < <(echo "EHLO c.test"
	    for i in $(seq 5); do echo "AUTH PLAIN $(b "\0alice\0guess$i")"; done
	    echo QUIT)
	[ "$(grep -c '^535 5.7.8' <<<"$output")" = 3 ]
	assert_line "421 4.7.0 mx.test too many errors, closing connection"
	refute_line --partial "221 2.0.0"
	sessions_done 1
	grep -q 'event=errors ip=127.0.0.1' "$T/server.log"
}

# A checkpassword in cmd5checkpw's convention: fd 3 holds login,
# challenge and the client's HMAC-MD5 digest (alice's secret is "secret").
cram_setup() {
	cat >"$T/cmd5checkpw" <<-EOF2
	#!/bin/bash
	IFS= read -r -d '' user <&3; IFS= read -r -d '' chal <&3
	IFS= read -r -d '' resp <&3
	printf '%s' "\$chal" >"$T/challenge"
	want=\$(printf '%s' "\$chal" | openssl dgst -md5 -hmac secret -r)
	[ "\$user" = alice ] && [ "\$resp" = "\${want%% *}" ] && exec "\$@"
	exit 1
	EOF2
	chmod 755 "$T/cmd5checkpw"
}

@test "mg-wrap authenticates CRAM-MD5 through a cmd5checkpw-style checkpassword" {
	cram_setup
	wrap_start --checkpassword "$T/cmd5checkpw /bin/true" --auth-cram yes \
	    --auth-delay 0 --relayclient x
	run raw <<<$'EHLO c.test\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nQUIT\r'
	assert_line "250-AUTH CRAM-MD5"
	assert_line --partial "538 5.7.11"
	smtp --auth CRAM-MD5 --auth-user alice --auth-password secret \
	    --from alice@example.org --to someone@elsewhere.test
	assert_output --partial "<-  235 2.7.0"
	assert_output --partial "<-  250 Queued!"
	# The challenge checkpassword got is the one the client answered.
	sent=$(sed -n 's/^<-  334 //p' <<<"$output" | base64 -d)
	[[ "$sent" == "<"*"@mx.test>" ]]
	assert_equal "$(cat "$T/challenge")" "$sent"
	grep -q '^Authentication-Results: mx.test; auth=pass smtp.auth=alice' \
	    "$QP"/queue/msg.*
	smtp --auth CRAM-MD5 --auth-user alice --auth-password wrong \
	    --from alice@example.org --to someone@elsewhere.test
	assert_output --partial "<** 535 5.7.8"
	sessions_done 2
	grep -q 'stage=auth step=cram-md5 decision=pass' "$T/server.log"
	grep -q 'stage=auth step=cram-md5 decision=fail' "$T/server.log"
}

@test "mg-wrap does not offer CRAM-MD5 unless asked to" {
	cram_setup
	wrap_start --checkpassword "$T/cmd5checkpw /bin/true" --auth-plaintext yes
	run raw <<<$'EHLO c.test\r\nAUTH CRAM-MD5\r\nQUIT\r'
	assert_line "250-AUTH PLAIN LOGIN"
	assert_line "504 5.5.4 unrecognized authentication type"
}

@test "mg-wrap speaks implicit TLS with --smtps" {
	tls_setup
	wrap_start --smtps --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"
	smtp --tlsc --from a@b.test --to user@example.test
	assert_output --partial "<~  250 Queued!"
	assert_equal "$(delivered)" 1
}

# --- QMAILQUEUE mode ---------------------------------------------------------

@test "mg-wrap as QMAILQUEUE adds the data steps' fields and runs the next queue" {
	printf 'Subject: q\n\nbody\n' >"$T/msg"
	printf 'Fa@b.test\0Tu@example.test\0\0' >"$T/env"
	run --separate-stderr sh -c 'mg-wrap -Q -C "$1" -- "$2" <"$3" 1<"$4"' \
	    - "$T/chain" "$QP/qq" "$T/msg" "$T/env"
	assert_success
	grep -q '^X-Data-Lines: 3$' "$QP"/queue/msg.*
	grep -q '^Subject: q$' "$QP"/queue/msg.*
	[ "$(tr '\0' ' ' <"$QP"/queue/env.*)" = "Fa@b.test Tu@example.test  " ]
}

@test "mg-wrap as QMAILQUEUE removes Authentication-Results fields forged in its name" {
	printf '[data]\n: echo "X-Step-Saw: $(grep -c dkim=pass)"; exit 0\n' >"$T/c"
	printf 'Authentication-Results: mx.test;\n\tdkim=pass\nAuthentication-Results: other.example; spf=pass\nSubject: q\n\nbody\n' >"$T/msg"
	printf 'Fa@b.test\0Tu@example.test\0\0' >"$T/env"
	run --separate-stderr sh -c 'mg-wrap -Q -H mx.test -C "$1" -- "$2" <"$3" 1<"$4"' \
	    - "$T/c" "$QP/qq" "$T/msg" "$T/env"
	assert_success
	assert_equal "$(delivered)" 1
	m=$(cat "$QP"/queue/msg.*)
	[[ "$m" != *"dkim=pass"* ]]
	[[ "$m" == *"X-Step-Saw: 0"* ]]
	[[ "$m" == *"Authentication-Results: other.example; spf=pass"* ]]
}

@test "mg-wrap as QMAILQUEUE exits 31 on a rejection and 54 on a short envelope" {
	printf '[data]\n: echo "554 5.7.1 no"; exit 100\n' >"$T/c"
	printf 'Subject: q\n\nbody\n' >"$T/msg"
	printf 'Fa@b.test\0Tu@example.test\0\0' >"$T/env"
	run --separate-stderr sh -c 'mg-wrap -Q -C "$1" -- "$2" <"$3" 1<"$4"' \
	    - "$T/c" "$QP/qq" "$T/msg" "$T/env"
	assert_equal "$status" 31
	printf 'Fa@b.test\0Tu@e' >"$T/env"
	run --separate-stderr sh -c 'mg-wrap -Q -C "$1" -- "$2" <"$3" 1<"$4"' \
	    - "$T/chain" "$QP/qq" "$T/msg" "$T/env"
	assert_equal "$status" 54
	assert_equal "$(delivered)" 0
}

# --- the demo ---------------------------------------------------------------

@test "make demo's script drives mg-wrap in front of qpsmtpd and prints a table" {
	run --separate-stderr sh "$TOP/examples/demo/run"
	assert_success
	assert_line --regexp '^demo: mg-wrap in front of qpsmtpd .*$'
	assert_line --regexp '^demo: running the chain examples/demo/chain with demo\.conf'
	assert_line --regexp '^a new sender, first attempt +- +rcpt: mg-greylist +451 4\.7\.1 greylisted, please try again in 300 seconds$'
	assert_line --regexp '^the same sender, 6 minutes later +delivered +qpsmtpd +250 Queued! [0-9]+ <demo-2@friendly\.example>$'
	assert_line --regexp '^a DKIM-signed message +delivered +qpsmtpd +250 Queued!'
	assert_line --regexp '^a forged sender \(SPF fail\) +- +mail: mg-spf +550 5\.7\.23 198\.51\.100\.20 is not a mail server of '
	assert_line --regexp '^a blacklisted sender +- +mail: mg-screen +550 5\.7\.1 sender <promo@spam\.example>'
	assert_line --regexp '^a denied address \(IP screen\) +- +connect: mg-screen +550 5\.7\.1 client 203\.0\.113\.66 '
	assert_line --regexp '^relaying to elsewhere, no AUTH +- +rcpt: mg-relaycheck +550 5\.7\.1 relaying denied'
	assert_line --regexp '^AUTH over STARTTLS, then relay +delivered +qpsmtpd +250 Queued!'
	assert_line --regexp '^wrong password, try 3 +- +auth: mg-wrap LOGIN +535 5\.7\.8'
	# The guesser has its own address, so alice is not blocked with it.
	assert_line --regexp '^the guesser, once more +- +connect: mg-wrap dyn\. screen +451 4\.7\.1 192\.0\.2\.30/32 is blocked'
	assert_line --regexp '^alice again, from her address +delivered +qpsmtpd +250 Queued!'
	# What mailguard wrote into each delivered message, each result once:
	# SPF passes on the published record, the retry carries the delay, the
	# signed message's DKIM result is pass and an unsigned one's dkim=none.
	assert_line --regexp '^the same sender, 6 minutes later +iprev=pass, spf=pass, greylist: delayed 36[0-9] s, dkim=none$'
	assert_line --regexp '^a DKIM-signed message +iprev=pass, spf=pass, dkim=pass header\.d=friendly\.example$'
	assert_line --regexp '^AUTH over STARTTLS, then relay +iprev=pass, auth=pass smtp\.auth=alice, dkim=none$'
	assert_equal "$stderr" ""
}

@test "make demo's table is the same on every run" {
	sh "$TOP/examples/demo/run" >"$T/run1" 2>&1
	sh "$TOP/examples/demo/run" >"$T/run2" 2>&1
	run diff "$T/run1" "$T/run2"
	assert_success
}

@test "an installed copy of the demo runs with the installed programs" {
	make -s -C "$TOP" install DESTDIR="$T/inst" PREFIX=/usr >/dev/null
	cd "$T"
	PATH="$T/inst/usr/bin:/usr/bin:/bin:/usr/sbin:/sbin" \
	    run --separate-stderr sh "$T/inst/usr/share/mailguard/examples/demo/run"
	assert_success
	assert_line --regexp '^a DKIM-signed message +delivered +qpsmtpd +250 Queued!'
}

@test "mg-wrap delivers a bounce to a BATV-tagged address to the plain mailbox through mg-batv" {
	mg-batv -k "$T/batv.keys" rotate >/dev/null 2>&1
	printf '[rcpt]\nmg-batv -k %s -D example.test\n' "$T/batv.keys" >"$T/batv.chain"
	tagged=$(mg-batv -k "$T/batv.keys" -D example.test sign bob@example.test)
	[[ "$tagged" == prvs=*=bob@example.test ]]
	wrap_start -C "$T/batv.chain"
	run raw <<-EOF2
	HELO client.test
	MAIL FROM:<>
	RCPT TO:<$tagged>
	DATA
	Subject: a bounce

	bounced
	.
	MAIL FROM:<>
	RCPT TO:<bob@example.test>
	QUIT
	EOF2
	assert_line --partial "250 Queued!"
	assert_line --partial "550 5.7.1"
	[ "$(delivered)" = 1 ]
	[ "$(od -An -c "$QP"/queue/env.* | tr -d ' \n')" = \
	    'F\0Tbob@example.test\0\0' ]
	grep -q "step=mg-batv decision=rewrite" "$T/server.log"
}

@test "mg-wrap adds a field once when steps at two stages print it" {
	printf '[connect]\n: echo "X-Seen: once"\n[mail]\n: echo "X-Seen: once"\n[rcpt]\n: echo "X-Seen: once"\n' >"$T/twice.chain"
	wrap_start -C "$T/twice.chain"
	smtp --from a@example.org --to user@example.test --body 'hello'
	assert_success
	assert_equal "$(delivered)" 1
	[ "$(grep -c '^X-Seen: once' "$QP"/queue/msg.*)" = 1 ]
}

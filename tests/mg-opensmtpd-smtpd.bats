#!/usr/bin/env bats
# mg-opensmtpd inside a real OpenSMTPD 6.8 (Debian 12's package, run
# privately on loopback by lib/opensmtpd.bash), driven by swaks.  One
# smtpd serves the whole file: port $P1 is the inbound listener with the
# chain of mailguard programs, port $P2 a submission listener whose
# filter treats all mail as outbound (--outbound all): BATV-signed
# sender, DKIM signature.  AUTH is not exercised here: OpenSMTPD offers
# it only after STARTTLS, and the TLS handshake of Debian's 6.8 fails in
# this setup ("SSL routines::internal error" from its privsep engine), so
# link-auth is covered by the transcript tests in mg-opensmtpd.bats.

load lib/common
load lib/opensmtpd
load lib/smtpserver

setup_file() {
	TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	export TOP
	if ! osmtpd_available; then
		echo "$OSMTPD_WHY" >"$BATS_FILE_TMPDIR/skip"
		return 0
	fi
	W=$(mktemp -d /tmp/mg-osmtpd.XXXXXX)
	echo "$W" >"$BATS_FILE_TMPDIR/w"
	osmtpd_prepare "$W" || { echo "no free uid" >"$BATS_FILE_TMPDIR/skip"; return 0; }
	P1=$(osmtpd_port)
	OSMTPD_PORTS=$P1
	P2=$(osmtpd_port)
	OSMTPD_PORTS="$P1 $P2"
	printf '%s %s\n' "$P1" "$P2" >"$BATS_FILE_TMPDIR/ports"

	# What the filter (user opensmtpd) reads and writes.
	mkdir "$W/state" "$W/lists"
	echo '127.0.0.2 deny' >"$W/lists/ip-rules"
	echo 'blocked@bad.example' >"$W/lists/blacklist"
	echo 'test.example' >"$W/lists/local-domains"
	printf '$ORIGIN test.example.\n$TTL 300\n@ IN SOA ns hostmaster 1 3600 600 86400 300\n' >"$W/empty.zone"
	mg-batv -k "$W/batv.keys" rotate >/dev/null 2>&1
	openssl genrsa -out "$W/dkim.key" 2048 2>/dev/null
	# The filter's user compiles the lists next to them (mg-screen).
	chown -R "$OSMTPD_UID" "$W/state" "$W/lists" "$W/batv.keys" "$W/dkim.key"
	chmod 0644 "$W"/lists/* "$W"/empty.zone

	local screen="$TOP/bin/mg-screen --statedir $W/state --resolver zone:$W/empty.zone"
	local grey=""
	if [ -x "$TOP/bin/mg-greylist" ]; then
		grey=": case \"\$SMTPRCPTTO\" in grey*) exec $TOP/bin/mg-greylist --enable yes --delay 1s --statedir $W/state;; esac"
	fi
	cat >"$W/chain.in" <<-EOF
	[connect]
	$screen --ip-rules $W/lists/ip-rules --dyn-action reject
	[helo]
	$screen -H mx.test.example --local-ip 192.0.2.99 --helo-self reject
	[mail]
	$screen --blacklist $W/lists/blacklist
	[rcpt]
	: case "\$SMTPRCPTTO" in drop*) echo "554 5.7.1 go away"; exit 100;; esac
	: case "\$SMTPRCPTTO" in tarpit*) exec $TOP/bin/mg-tarpit --print --statedir $W/state --rcpt-count 5 --after 1 --delay 2 --factor 1;; esac
	$TOP/bin/mg-relaycheck --statedir $W/state -l $W/lists/local-domains
	$TOP/bin/mg-batv -k $W/batv.keys -D test.example
	: case "\$SMTPRCPTTO" in slow*) sleep 2;; esac; echo "X-Checked: rcpt \$SMTPRCPTTO"
	$grey
	[data]
	: if grep -qi '^Subject: .*buy now'; then echo '550 5.7.1 looks like spam'; exit 100; fi; echo "X-Data: checked"
	EOF
	local dkim=""
	[ -x "$TOP/bin/mg-dkim-sign" ] &&
	    dkim="--dkim-sign '$TOP/bin/mg-dkim-sign -d test.example -s sel -k $W/dkim.key'"
	cat >"$W/chain.out" <<-EOF
	[mail]
	$screen --blacklist $W/lists/blacklist
	EOF
	chmod 0644 "$W/chain.in" "$W/chain.out"

	cat >"$W/smtpd.conf" <<-EOF
	table vmap { "@test.example" = "nobody" }
	filter "mg-in" proc-exec "$TOP/bin/mg-opensmtpd -H mx.test.example -C $W/chain.in --statedir $W/state --dyn-record connect --dyn-record auth-fail --dyn-record unknown-rcpt"
	filter "mg-out" proc-exec "$TOP/bin/mg-opensmtpd -C $W/chain.out --statedir $W/state --outbound all --batv-sign '$TOP/bin/mg-batv -k $W/batv.keys -D test.example sign' $dkim"
	listen on 127.0.0.1 port $P1 hostname mx.test.example filter "mg-in"
	listen on 127.0.0.1 port $P2 hostname mx.test.example filter "mg-out"
	action "deliver" mda "/bin/sh -c 'cat > $W/out/%{rcpt.user}.\$\$.eml'" virtual <vmap> user nobody
	match from any for domain "test.example" action "deliver"
	EOF
	osmtpd_start "$W" "$W/smtpd.conf" || echo "smtpd did not start" >"$BATS_FILE_TMPDIR/skip"
	echo "$OSMTPD_PID" >"$BATS_FILE_TMPDIR/pid"
}

teardown_file() {
	[ -n "${KEEP:-}" ] && return 0
	local w
	OSMTPD_PID=$(cat "$BATS_FILE_TMPDIR/pid" 2>/dev/null)
	osmtpd_stop
	w=$(cat "$BATS_FILE_TMPDIR/w" 2>/dev/null)
	if [ -n "$w" ]; then
		rm -rf "$w"
	fi
}

setup() {
	if [ -e "$BATS_FILE_TMPDIR/skip" ]; then
		skip "$(cat "$BATS_FILE_TMPDIR/skip")"
	fi
	common_setup
	W=$(cat "$BATS_FILE_TMPDIR/w")
	read -r P1 P2 <"$BATS_FILE_TMPDIR/ports"
	RUNID=$BATS_TEST_NUMBER-$$-$RANDOM
}

teardown() {
	common_teardown
}

sw() {
	swaks --server 127.0.0.1 --port "$P1" --helo client.example \
	    --timeout 30 --header "Subject: mg test $RUNID" "$@"
}

need() {
	[ -x "$TOP/bin/$1" ] || skip "bin/$1 is not built on this branch"
}

@test "smtpd with mg-opensmtpd delivers a clean message with the chain's header fields" {
	run sw --from good@good.example --to bob@test.example \
	    --body $'first line\n.a line that starts with a dot\nlast line'
	assert_success
	assert_output --partial '250 2.0.0'
	f=$(osmtpd_wait_msg "$W" "mg test $RUNID")
	run awk '/^$/ { exit } { print }' "$f"
	assert_line 'X-Checked: rcpt bob@test.example'
	assert_line 'X-Data: checked'
	assert_line --partial 'Received: from client.example'
	# Our fields go above smtpd's own Received field.
	[ "$(grep -n '^X-Data' "$f" | cut -d: -f1)" -lt "$(grep -n '^Received' "$f" | cut -d: -f1)" ]
	grep -qx '\.a line that starts with a dot' "$f"
}

@test "smtpd with mg-opensmtpd refuses a client mg-screen denies at connect" {
	need mg-screen
	run sw --local-interface 127.0.0.2 --from good@good.example --to bob@test.example
	assert_failure
	assert_output --partial '550 5.7.1 client 127.0.0.2 is not welcome here'
}

@test "smtpd with mg-opensmtpd refuses a HELO that claims to be the server" {
	run sw --helo mx.test.example --from good@good.example --to bob@test.example
	assert_failure
	assert_output --partial '550 5.7.1 HELO mx.test.example claims to be this host'
}

@test "smtpd with mg-opensmtpd refuses a blacklisted sender at MAIL FROM" {
	run sw --from blocked@bad.example --to bob@test.example
	assert_failure
	assert_output --regexp '<\*\* +550 5\.7\.1 sender <blocked@bad\.example> is not welcome here'
}

@test "smtpd with mg-opensmtpd refuses relaying through mg-relaycheck at RCPT TO" {
	need mg-relaycheck
	run sw --from good@good.example --to victim@elsewhere.example
	assert_failure
	assert_output --regexp '<\*\* +550 5\.7\.1 relaying denied'
}

@test "smtpd with mg-opensmtpd refuses a bounce to an untagged address through mg-batv" {
	need mg-batv
	run sw --from '<>' --to bob@test.example
	assert_failure
	assert_output --regexp '<\*\* +550 5\.7\.1 bounce to <bob@test\.example> refused'
}

@test "smtpd with mg-opensmtpd delivers a bounce to a tagged address to the plain mailbox" {
	need mg-batv
	tagged=$(mg-batv -k "$W/batv.keys" -D test.example sign bob@test.example)
	[[ "$tagged" == prvs=* ]]
	run sw --from '<>' --to "$tagged"
	assert_success
	f=$(osmtpd_wait_msg "$W" "mg test $RUNID")
	[[ "$f" == */bob.* ]]
	grep -q '^Delivered-To: bob@test.example' "$f"
}

@test "smtpd with mg-opensmtpd refuses a message at the end of DATA" {
	run sw --from good@good.example --to bob@test.example --header "Subject: buy now $RUNID"
	assert_failure
	assert_output --partial '550 5.7.1 looks like spam'
	sleep 0.5
	run grep -l "buy now $RUNID" "$W"/out/
	assert_failure
}

@test "smtpd with mg-opensmtpd serves two slow sessions in the time of one" {
	start=$(date +%s%N)
	sw --from good@good.example --to slow1@test.example >"$T/a" 2>&1 &
	a=$!
	sw --from good@good.example --to slow2@test.example >"$T/b" 2>&1 &
	b=$!
	wait "$a"
	wait "$b"
	ms=$((($(date +%s%N) - start) / 1000000))
	grep -q '250 2.0.0' "$T/a"
	grep -q '250 2.0.0' "$T/b"
	# Each waits 2 s in its RCPT step; one after the other would be 4 s.
	echo "two slow sessions: $ms ms" >&3
	[ "$ms" -ge 2000 ]
	[ "$ms" -lt 3500 ]
}

@test "smtpd with mg-opensmtpd greylists, then passes the retry" {
	need mg-greylist
	run sw --from good@good.example --to grey@test.example
	assert_failure
	assert_output --regexp '<\*\* +451 4\.7\.1 greylisted'
	sleep 2
	run sw --from good@good.example --to grey@test.example
	assert_success
	f=$(osmtpd_wait_msg "$W" "mg test $RUNID")
	grep -q '^X-Greylist:' "$f"
}

swo() {
	swaks --server 127.0.0.1 --port "$P2" --helo client.example \
	    --timeout 30 --header "Subject: mg out $RUNID" "$@"
}

@test "smtpd with mg-opensmtpd signs the sender of outbound mail with BATV" {
	need mg-batv
	run swo --from alice@test.example --to bob@test.example
	assert_success
	f=$(osmtpd_wait_msg "$W" "mg out $RUNID")
	run grep '^Return-Path:' "$f"
	assert_output --regexp '^Return-Path: <prvs=0[0-9]{3}[0-9a-f]{6}=alice@test\.example>$'
}

@test "smtpd with mg-opensmtpd signs outbound mail with DKIM that dkimpy verifies" {
	need mg-dkim-sign
	run swo --from alice@test.example --to bob@test.example --body 'signed body'
	assert_success
	f=$(osmtpd_wait_msg "$W" "mg out $RUNID")
	grep -q '^DKIM-Signature:' "$f"
	pub=$(openssl rsa -in "$W/dkim.key" -pubout -outform DER 2>/dev/null | base64 -w0)
	# The delivery added Return-Path and Delivered-To above the signature.
	run /usr/bin/python3 -c '
import sys, dkim
msg = open(sys.argv[1], "rb").read()
msg = b"".join(l for l in msg.splitlines(True) if not l.startswith((b"Return-Path:", b"Delivered-To:")))
rec = ("v=DKIM1; k=rsa; p=" + sys.argv[2]).encode()
ok = dkim.verify(msg, dnsfunc=lambda name, timeout=5: rec)
print("dkim", "pass" if ok else "fail")
sys.exit(0 if ok else 1)' "$f" "$pub"
	assert_success
	assert_output 'dkim pass'
}

@test "smtpd with mg-opensmtpd closes the session after a step's 554 at RCPT (drop)" {
	run sw --from good@good.example --to drop@test.example,bob@test.example
	assert_failure
	assert_output --partial '554 5.7.1 go away'
	# smtpd said the reply and closed: no answer to the next RCPT.
	refute_output --regexp 'RCPT TO:<bob@test.example>'$'\n''.*<- +250'
	refute_output --partial '221 2.0.0'
	grep -q 'decision=reject .*rcpt=drop@test.example reply="554 5.7.1 go away"' "$W/smtpd.log"
}

@test "smtpd with mg-opensmtpd waits mg-tarpit's printed delay, and serves others meanwhile" {
	need mg-tarpit
	start=$(date +%s%N)
	sw --from good@good.example --to tarpit@test.example >"$T/a" 2>&1 &
	a=$!
	sleep 0.3
	run sw --from good@good.example --to bob@test.example
	fast=$((($(date +%s%N) - start) / 1000000))
	assert_success
	wait "$a"
	slow=$((($(date +%s%N) - start) / 1000000))
	run cat "$T/a"
	assert_output --regexp '<- +250 2\.1\.5'
	refute_output --partial '451 4.3.0'
	[ "$fast" -lt 1800 ]
	[ "$slow" -ge 2000 ]
	grep -q 'step=sh decision=accept .*rcpt=tarpit@test.example why="wait 2000 ms"' "$W/smtpd.log"
}

@test "smtpd with mg-opensmtpd delivers no Authentication-Results field forged in its name" {
	run sw --from good@good.example --to bob@test.example \
	    --add-header 'Authentication-Results: mx.test.example; dkim=pass header.d=good.example' \
	    --add-header 'Authentication-Results: other.example; spf=pass'
	assert_success
	f=$(osmtpd_wait_msg "$W" "mg test $RUNID")
	refute grep -q 'dkim=pass' "$f"
	grep -q '^Authentication-Results: other.example; spf=pass' "$f"
}

# What an adapter logged of one session, without what names the session
# (mg-wrap's pid, smtpd's session id) or differs by nature (the end
# reason, the time, commands counted, the real server's own replies).
normalize() {
	sed -E -n 's/^(mg-in: )?(mg-wrap|mg-opensmtpd): ((stage|event|session)=)/\3/p' |
	    grep -v 'step=server' |
	    sed -E 's/ (pid|session|id)=[0-9a-f]+//g; s/ (commands|ms)=[0-9]+//g; s/ end=[a-z-]+//'
}

@test "mg-wrap and mg-opensmtpd log the same decisions and events for the same session" {
	need mg-screen
	need mg-relaycheck
	need mg-batv
	# mg-wrap in front of qpsmtpd, with the same chain and its own state.
	qp_setup
	echo test.example >"$QP/config/rcpthosts"
	mkdir "$T/state"
	sed "s#$W/state#$T/state#g" "$W/chain.in" >"$T/chain"
	serve mg-wrap -H mx.test.example --statedir "$T/state" -C "$T/chain" \
	    --dyn-record connect --dyn-record auth-fail --dyn-record unknown-rcpt \
	    -- "$QP/qpsmtpd-ucspi"
	session=(--helo client.example --from good@good.example
	    --to bob@test.example,drop@test.example
	    --header "Subject: mg test compare $RUNID")
	run swaks --server 127.0.0.1 --port "$PORT" --timeout 30 "${session[@]}"
	assert_output --partial '554 5.7.1 go away'
	sessions_done 1
	server_stop
	normalize <"$T/server.log" >"$T/wrap.log"
	# The same session through smtpd and mg-opensmtpd.
	before=$(wc -l <"$W/smtpd.log")
	run swaks --server 127.0.0.1 --port "$P1" --timeout 30 "${session[@]}"
	assert_output --partial '554 5.7.1 go away'
	for _ in $(seq 50); do
		tail -n +"$((before + 1))" "$W/smtpd.log" | grep -q 'mg-opensmtpd: session=end' && break
		sleep 0.1
	done
	tail -n +"$((before + 1))" "$W/smtpd.log" | normalize >"$T/osmtpd.log"
	[ "$(grep -c 'stage=rcpt' "$T/wrap.log")" -ge 3 ]
	grep -q '^event=connect ip=127.0.0.1$' "$T/wrap.log"
	diff -u "$T/wrap.log" "$T/osmtpd.log"
}

@test "smtpd is still up after every test: mg-opensmtpd never made it exit" {
	run sw --from good@good.example --to bob@test.example
	assert_success
	run grep -E 'lost processor|fatal' "$W/smtpd.log"
	assert_failure
}

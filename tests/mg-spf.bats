#!/usr/bin/env bats
# Black-box tests of mg-spf: exit status, reply line, header fields.

load lib/common
load lib/dnsserver

setup() {
	common_setup
	Z="zone:$DATA/spf/spf.zone"
	SUITE="$TOP/tests/data/conformance/spf"
}

teardown() {
	if [ -n "${SLOW_PID:-}" ]; then
		kill "$SLOW_PID" 2>/dev/null || true
		wait "$SLOW_PID" 2>/dev/null || true
	fi
	dns_server_stop
	silent_server_stop
	common_teardown
}

spf() {
	run --separate-stderr mg-spf -H mx.test --cache no --resolver "$Z" "$@"
}

# --- contract -----------------------------------------------------------

@test "mg-spf defers a bad option with a reply line and a message" {
	run --separate-stderr mg-spf --bogus
	assert_equal "$status" 111
	assert_equal "$output" "451 4.3.0 temporary failure (usage error)"
	[[ "$stderr" == *"usage: mg-spf"* ]]
}

@test "mg-spf defers when the client address is missing" {
	spf --from bob@example.com
	assert_equal "$status" 111
	assert_output "451 4.3.0 temporary failure (configuration or input error)"
	[[ "$stderr" == *"no client address"* ]]
}

@test "mg-spf defers a malformed client address" {
	spf --ip 192.0.2.300 --from bob@example.com
	assert_equal "$status" 111
	[[ "$stderr" == *"192.0.2.300"* ]]
}

@test "mg-spf defers an unreadable zone file and names it" {
	run --separate-stderr mg-spf --resolver zone:/nonexistent --ip 192.0.2.5 --from a@example.com
	assert_equal "$status" 111
	[[ "$stderr" == *"/nonexistent"* ]]
}

# --- the seven results ---------------------------------------------------

@test "mg-spf passes an address in the sender's ip4 range and says so in two fields" {
	spf --ip 192.0.2.5 --helo mail.example.com --from bob@example.com
	assert_success
	unfold_output
	assert_line --index 0 'Received-SPF: pass (mx.test: domain of example.com designates 192.0.2.5 as permitted sender) client-ip=192.0.2.5; envelope-from="bob@example.com"; helo="mail.example.com"; receiver=mx.test; identity=mailfrom; mechanism="ip4:192.0.2.0/24"'
	assert_line --index 1 'Authentication-Results: mx.test; spf=pass smtp.mailfrom=bob@example.com smtp.helo=mail.example.com'
	[[ "$stderr" == *"decision=accept"*"spf=mailfrom:pass"* ]]
}

@test "mg-spf --serve answers Postfix policy requests with Received-SPF or the refusal" {
	run --separate-stderr mg-spf --serve -H mx.test --cache no --resolver "$Z" < <(
	    printf 'request=smtpd_access_policy\nclient_address=192.0.2.5\nhelo_name=mail.example.com\nsender=bob@example.com\n\n'
	    printf 'request=smtpd_access_policy\nhelo_name=mail.example.com\nsender=bob@example.com\n\n'
	    printf 'request=smtpd_access_policy\nclient_address=203.0.113.9\nsender=bob@example.com\n\n')
	assert_success
	assert_equal "${lines[0]}" "action=PREPEND Received-SPF: pass (mx.test: domain of example.com designates 192.0.2.5 as"$'\t'"permitted sender) client-ip=192.0.2.5; envelope-from=\"bob@example.com\";"$'\t'"helo=\"mail.example.com\"; receiver=mx.test; identity=mailfrom;"$'\t'"mechanism=\"ip4:192.0.2.0/24\""
	# No client address: deferred, as the one-process form defers it.
	assert_equal "${lines[1]}" "action=451 4.3.0 temporary failure (configuration or input error)"
	assert_equal "${lines[2]}" "action=550 5.7.23 example.com does not allow 203.0.113.9 to send mail as bob@example.com"
	[ "$(grep -c 'mg-spf: decision=' <<<"$stderr")" = 3 ]
	# Sender ID reads a message; it has no served form.
	run --separate-stderr mg-spf --serve -S </dev/null
	assert_equal "$status" 111
	[[ "$stderr" == *"option --serve: not with -S"* ]]
}

@test "mg-spf writes a quoted local part as a quoted-string, folded outside the quotes" {
	local lp='"alice   smith and a long tail of words past the fold"'
	spf --ip 192.0.2.5 --helo mail.example.com --from "$lp@example.com"
	assert_success
	# Never folded between the quotes: the run of spaces stays on one line.
	q='"\"alice   smith and a long tail of words past the fold\"@example.com"'
	assert_line --index 2 "	envelope-from=$q;"
	assert_line --partial "	smtp.mailfrom=$q"
	unfold_output
	assert_line --index 0 "Received-SPF: pass (mx.test: domain of example.com designates 192.0.2.5 as permitted sender) client-ip=192.0.2.5; envelope-from=$q; helo=\"mail.example.com\"; receiver=mx.test; identity=mailfrom; mechanism=\"ip4:192.0.2.0/24\""
	assert_line --index 1 "Authentication-Results: mx.test; spf=pass smtp.mailfrom=$q smtp.helo=mail.example.com"
	# A control byte is sanitised, a backslash and a quote escaped.
	spf --ip 192.0.2.5 --from $'a\\b"\001c@example.com'
	unfold_output
	assert_line --index 1 'Authentication-Results: mx.test; spf=pass smtp.mailfrom="a\\b\"?c@example.com"'
}

@test "mg-spf passes through an include and an a mechanism" {
	spf --ip 198.51.100.7 --from bob@example.com
	assert_success
	assert_line --index 0 --partial "Received-SPF: pass"
}

@test "mg-spf passes through the mx mechanism of an include" {
	spf --ip 198.51.100.10 --from bob@example.com
	assert_success
	assert_line --index 0 --partial "Received-SPF: pass"
}

# mechanism= holds the term that matched, as the record wrote it: an
# include that matched, the term a redirect= led to, a /0 length (which
# libspf2 is given rewritten), "default" when none matched.
@test "mg-spf names the matching term in Received-SPF's mechanism=" {
	mech() {
		spf --ip "$1" --from "bob@$2"
		assert_success
		unfold_output
		assert_line --index 0 --regexp "^Received-SPF: $3 .*; mechanism=\"$4\"\$"
	}
	mech 198.51.100.7 example.com pass "include:_spf.example.com"
	mech 198.51.100.7 redir.example.com pass "a:mail.example.com"
	mech 203.0.113.50 redir.example.com pass "ip4:203.0.113.50"
	mech 203.0.113.9 redir.example.com softfail "~all"
	mech 192.0.2.77 cidr0.example.com pass "a:mail.example.com/0"
	mech 203.0.113.9 neutral.example.com neutral "\\?all"
	mech 203.0.113.9 d6.example.com neutral "default"
}

@test "mg-spf --explain traces each term evaluated and the one that matched" {
	spf -x --ip 198.51.100.10 --from bob@example.com
	assert_success
	# In the order evaluated: the include's terms before the include.
	[[ "$stderr" == *"explain: term example.com: ip4:192.0.2.0/24: no match"*"explain: term _spf.example.com: a:mail.example.com: no match"*"explain: term _spf.example.com: mx:example.com: match, pass"*"explain: term example.com: include:_spf.example.com: match, pass"* ]]
	[[ "$stderr" != *"term _spf.example.com: ~all"* ]]
	# Finding the term asks DNS nothing more: each query is traced once.
	n=$(grep -c "explain: dns " <<< "$stderr")
	[[ "$stderr" == *"queries=$n "* ]]
	unfold_output
	assert_line --index 0 --partial 'mechanism="include:_spf.example.com"'
}

@test "mg-spf rejects when -all matches, with 550 5.7.23" {
	spf --ip 203.0.113.9 --from bob@example.com
	assert_equal "$status" 100
	assert_output "550 5.7.23 example.com does not allow 203.0.113.9 to send mail as bob@example.com"
	[[ "$stderr" == *"decision=reject"* ]]
}

@test "mg-spf puts the sender's explanation in the reply" {
	spf --ip 203.0.113.9 --from bob@noexp.example.com
	assert_equal "$status" 100
	assert_output "550 5.7.23 203.0.113.9 may not send mail for noexp.example.com. See http://example.com/spf"
}

@test "mg-spf marks a softfail and accepts" {
	spf --ip 203.0.113.9 --from bob@soft.example.com
	assert_success
	assert_line --index 0 --partial "Received-SPF: softfail ("
	unfold_output
	assert_line --index 1 "Authentication-Results: mx.test; spf=softfail smtp.mailfrom=bob@soft.example.com"
}

@test "mg-spf marks neutral and none" {
	spf --ip 203.0.113.9 --from bob@neutral.example.com
	assert_success
	assert_line --index 0 --partial "Received-SPF: neutral ("
	spf --ip 203.0.113.9 --from bob@nospf.example.com
	assert_success
	assert_line --index 0 --partial "Received-SPF: none ("
}

@test "mg-spf marks a permerror for an unknown mechanism and for two records" {
	spf --ip 192.0.2.1 --from bob@broken.example.com
	assert_success
	assert_line --index 0 --partial "Received-SPF: permerror ("
	assert_output --partial "frobnicate"
	spf --ip 192.0.2.1 --from bob@two.example.com
	assert_success
	assert_line --index 0 --partial "Received-SPF: permerror ("
}

@test "mg-spf defers a temperror with 451 4.4.3 when DNS does not answer" {
	silent_server_start
	run --separate-stderr mg-spf -H mx.test --cache no --dns-timeout 200 \
	    --resolver "127.0.0.1:$SILENT_PORT" --ip 192.0.2.5 --from bob@example.com
	assert_equal "$status" 111
	assert_output "451 4.4.3 SPF temperror for example.com: DNS timeout for example.com"
}

@test "mg-spf ends a check that outlasts --time-budget as temperror" {
	# bench/spf-policy.yml needs 6 queries; this server answers each
	# after 300 ms, so the whole check takes about 1.8 s.
	port=$(dns_free_port)
	/usr/bin/python3 "$TOP/tests/spf/suite.py" --serve 127.0.0.1 "$port" \
	    "$T/count" "$TOP/bench/spf-policy.yml" 300 &
	SLOW_PID=$!
	for _ in $(seq 1 50); do [ -s "$T/count" ] && break; sleep 0.1; done
	slow() {
		run --separate-stderr mg-spf -H mx.test --cache no \
		    --resolver "127.0.0.1:$port" --dns-timeout 2000 --ip 192.0.2.5 \
		    --helo mail.example.net --from alice@bench.example.com "$@"
	}
	t0=$(date +%s%N)
	slow --time-budget 700
	t1=$(date +%s%N)
	assert_equal "$status" 111
	assert_output "451 4.4.3 SPF temperror for bench.example.com: time budget exceeded"
	[[ "$stderr" == *"spf=mailfrom:temperror"* ]]
	# Stopped at the first query after 700 ms, not at the end of the chain.
	[ $(( (t1 - t0) / 1000000 )) -lt 1500 ]
	slow --time-budget 5000
	assert_success
	assert_line --index 0 --partial "Received-SPF: pass ("
}

@test "mg-spf takes each result's action from its option" {
	spf --ip 203.0.113.9 --from bob@example.com --fail-action defer
	assert_equal "$status" 111
	assert_output --partial "451 4.7.23 "
	spf --ip 203.0.113.9 --from bob@soft.example.com --softfail-action reject
	assert_equal "$status" 100
	assert_output --partial "550 5.7.23 SPF softfail for soft.example.com"
	spf --ip 192.0.2.1 --from bob@broken.example.com --permerror-action reject
	assert_equal "$status" 100
	assert_output --partial "550 5.7.24 SPF permerror for broken.example.com"
	spf --ip 203.0.113.9 --from bob@example.com --fail-action header
	assert_success
	assert_line --index 0 --partial "Received-SPF: fail ("
}

# --- identities ---------------------------------------------------------

@test "mg-spf checks postmaster@HELO for a null sender" {
	spf --ip 198.51.100.7 --helo mail.example.com --from ''
	assert_success
	unfold_output
	assert_line --index 0 --partial 'Received-SPF: pass (mx.test: domain of mail.example.com designates 198.51.100.7'
	assert_line --index 0 --partial 'envelope-from="postmaster@mail.example.com"'
	assert_line --index 1 "Authentication-Results: mx.test; spf=pass smtp.mailfrom=postmaster@mail.example.com smtp.helo=mail.example.com"
}

@test "mg-spf checks the HELO identity alone before MAIL" {
	spf --ip 203.0.113.9 --helo mail.example.com
	assert_equal "$status" 100
	assert_output --partial "550 5.7.23 mail.example.com does not allow 203.0.113.9"
}

@test "mg-spf checks HELO and MAIL FROM with --helo-check" {
	spf --ip 198.51.100.7 --helo mail.example.com --from bob@soft.example.com --helo-check yes
	assert_success
	unfold_output
	assert_line --index 0 --partial "Received-SPF: pass"
	assert_line --index 0 --partial "identity=helo"
	assert_line --index 1 --partial "Received-SPF: softfail"
	assert_line --index 2 "Authentication-Results: mx.test; spf=pass smtp.helo=mail.example.com; spf=softfail smtp.mailfrom=bob@soft.example.com smtp.helo=mail.example.com"
}

@test "mg-spf expands macros in the sender's policy" {
	spf --ip 192.0.2.1 --from bob@macro.example.com
	assert_success
	assert_line --index 0 --partial "Received-SPF: pass"
	spf --ip 192.0.2.1 --from alice@macro.example.com
	assert_equal "$status" 100
}

@test "mg-spf takes the envelope from the qmail environment" {
	TCPREMOTEIP=203.0.113.9 SMTPMAILFROM=bob@example.com run --separate-stderr \
	    mg-spf -H mx.test --cache no --resolver "$Z"
	assert_equal "$status" 100
}

# --- exemptions and output modes --------------------------------------------

@test "mg-spf does not check trusted, whitelisted or authenticated clients" {
	echo "203.0.113.0/24" > "$T/trusted"
	spf --ip 203.0.113.9 --from bob@example.com --trusted "$T/trusted"
	assert_success
	assert_output ""
	[[ "$stderr" == *"decision=accept"* ]]
	spf --ip 203.0.113.9 --from bob@example.com --whitelist "$T/trusted"
	assert_success
	assert_output ""
	spf --ip 203.0.113.9 --from bob@example.com --auth-user bob
	assert_success
	assert_output ""
	spf --ip 203.0.113.9 --from bob@example.com --auth-user bob --exempt-auth no
	assert_equal "$status" 100
}

@test "mg-spf writes qmail-spp commands with --spp and exits 0" {
	spf --spp --ip 203.0.113.9 --from bob@example.com
	assert_success
	assert_output --partial "E550 5.7.23 "
	spf --spp --ip 192.0.2.5 --from bob@example.com
	assert_success
	assert_line --index 0 --partial "HReceived-SPF: pass"
}

@test "mg-spf --explain traces each record, query and the result" {
	spf -x --ip 198.51.100.7 --from bob@example.com
	assert_success
	[[ "$stderr" == *"explain: record example.com: v=spf1 ip4:192.0.2.0/24 include:_spf.example.com -all"* ]]
	[[ "$stderr" == *"explain: dns _spf.example.com TXT: ok, 1 record(s)"* ]]
	[[ "$stderr" == *"explain: dns mail.example.com A: ok, 1 record(s)"* ]]
	[[ "$stderr" == *"explain: mailfrom example.com: pass (2 DNS-querying terms, 0 void)"* ]]
}

@test "mg-spf answers a draft record question by hand, as the man page shows" {
	run --separate-stderr mg-spf --resolver "zone:$TOP/examples/spf/draft.zone" \
	    --ip 192.0.2.25 --from test@example.org -H draft
	assert_success
	assert_line --index 0 --partial "Received-SPF: pass"
	run --separate-stderr mg-spf --resolver "zone:$TOP/examples/spf/draft.zone" \
	    --ip 203.0.113.80 --from test@example.org -H draft
	assert_equal "$status" 100
}

# --- limits and hostile records (RFC 7208 section 4.6.4) --------------------

@test "mg-spf ends an include loop in permerror" {
	spf --ip 203.0.113.9 --from bob@loop.example.com
	assert_success
	assert_line --index 0 --partial "Received-SPF: permerror"
	assert_output --partial "more than 10 DNS-querying terms"
}

@test "mg-spf counts terms across includes: the eleventh is a permerror" {
	spf --ip 192.0.2.99 --from bob@deep.example.com
	assert_success
	assert_line --index 0 --partial "Received-SPF: permerror"
	# Ten are allowed: d6 alone is reached within the limit from d2.
	spf --ip 203.0.113.5 --from bob@d1.example.com
	assert_success
	assert_line --index 0 --partial "Received-SPF: pass"
}

@test "mg-spf allows two void lookups and no third" {
	spf --ip 192.0.2.1 --from bob@voids.example.com
	assert_success
	assert_line --index 0 --partial "Received-SPF: permerror"
	assert_output --partial "more than 2 void lookups"
}

@test "mg-spf survives a macro expansion bomb, non-ASCII and a long record" {
	spf --ip 192.0.2.1 --from "$(printf 'a%.0s' $(seq 1 64))@bomb.example.com"
	assert [ "$status" -eq 100 -o "$status" -eq 0 ]
	spf --ip 192.0.2.1 --from bob@nonascii.example.com
	assert_success
	assert_line --index 0 --partial "Received-SPF: permerror"
	spf --ip 192.0.2.40 --from bob@long.example.com
	assert_success
	assert_line --index 0 --partial "Received-SPF: pass"
}

@test "mg-spf sanitises hostile envelope values in headers and logs" {
	spf --ip 203.0.113.9 --helo $'evil\001"host' --from $'bob"\r\nX: y@soft.example.com'
	assert_success
	[[ "$output" != *$'\r'* ]]
	[[ "$output" != *$'\001'* ]]
	[[ "$stderr" != *$'\001'* ]]
}

@test "mg-spf answers a long TXT record over TCP from a real server" {
	dns_server_start "example.com=$DATA/spf/spf.zone"
	run --separate-stderr mg-spf -H mx.test --cache no \
	    --resolver "127.0.0.1:$DNS_PORT" --ip 192.0.2.40 --from bob@long.example.com
	assert_success
	assert_line --index 0 --partial "Received-SPF: pass"
}

# --- the cache ----------------------------------------------------------

# Runs mg-spf at a fixed time (lib/common.bash).
at() {
	local when=$1
	shift
	at_time "$when" mg-spf "$@"
}

@test "mg-spf answers a repeated check from the cache until the TTL ends" {
	dns_server_start "example.com=$DATA/spf/spf.zone"
	R="127.0.0.1:$DNS_PORT"
	run --separate-stderr at '2030-01-01 00:00:00' -x -H mx.test \
	    --statedir "$T" --resolver "$R" --ip 198.51.100.7 --from bob@example.com
	assert_success
	[[ "$stderr" == *"queries=3"* ]]
	run --separate-stderr at '2030-01-01 00:04:00' -x -H mx.test \
	    --statedir "$T" --resolver "$R" --ip 198.51.100.7 --from bob@example.com
	assert_success
	assert_line --index 0 --partial "Received-SPF: pass"
	[[ "$stderr" == *"from the cache"* ]]
	[[ "$stderr" == *"queries=0"* ]]
	# The records' TTL is 300 s: after it, DNS is asked again.
	run --separate-stderr at '2030-01-01 00:05:01' -x -H mx.test \
	    --statedir "$T" --resolver "$R" --ip 198.51.100.7 --from bob@example.com
	assert_success
	[[ "$stderr" == *"queries=3"* ]]
}

# --- the RFC 7208 suite and pyspf -------------------------------------------

@test "mg-spf passes the RFC 7208 test suite against a DNS server on loopback" {
	run /usr/bin/python3 "$TOP/tests/spf/suite.py" --known \
	    "$DATA/spf/rfc7208-known-failures" "$TOP/bin/mg-spf" "$SUITE/rfc7208-tests.yml"
	echo "$output" | grep -E '^(FAIL|NEW|NOW|SUITE)'
	assert_success
	assert_line "SUITE: 203 passed, 0 failed of 203"
}

@test "mg-spf passes the RFC 7208 test suite from zone files" {
	run /usr/bin/python3 "$TOP/tests/spf/suite.py" --zone --known \
	    "$DATA/spf/rfc7208-known-failures" "$TOP/bin/mg-spf" "$SUITE/rfc7208-tests.yml"
	echo "$output" | grep -E '^(FAIL|NEW|NOW|SUITE)'
	assert_success
	assert_line "SUITE: 203 passed, 0 failed of 203"
}

@test "mg-spf passes the RFC 4408 test suite" {
	run /usr/bin/python3 "$TOP/tests/spf/suite.py" --known \
	    "$DATA/spf/rfc4408-known-failures" "$TOP/bin/mg-spf" "$SUITE/rfc4408-tests.yml"
	echo "$output" | grep -E '^(FAIL|NEW|NOW|SUITE)'
	assert_success
	assert_line "SUITE: 191 passed, 0 failed of 191"
}

@test "mg-spf passes the DNS transport tests (TCP fallback, CNAME, time-outs)" {
	run /usr/bin/python3 "$TOP/tests/spf/suite.py" "$TOP/bin/mg-spf" \
	    "$SUITE/dns-transport-tests.yml"
	echo "$output" | grep -E '^(FAIL|SUITE)'
	assert_success
	assert_line "SUITE: 7 passed, 0 failed of 7"
}

@test "mg-spf passes pyspf's own suite but for its non-RFC default= modes" {
	run /usr/bin/python3 "$TOP/tests/spf/suite.py" --known \
	    "$DATA/spf/pyspf-known-failures" "$TOP/bin/mg-spf" "$SUITE/pyspf-test.yml"
	echo "$output" | grep -E '^(FAIL|NEW|NOW|SUITE)'
	assert_success
	assert_line "SUITE: 14 passed, 2 failed of 16"
}

@test "mg-spf agrees with pyspf on the RFC 7208 suite's policies" {
	run /usr/bin/python3 "$TOP/tests/spf/crosscheck.py" "$TOP/bin/mg-spf" \
	    "$SUITE/rfc7208-tests.yml"
	echo "$output"
	assert_success
	# pyspf times out on the CNAME loop: its one failure in the suite.
	assert_line "DIFFER ptr-cname-loop: mg-spf neutral, pyspf temperror (suite: neutral)"
	assert_line "CROSSCHECK: 202 agree, 1 differ of 203"
}

# --- Sender ID ----------------------------------------------------------

@test "mg-spf selects the Purported Responsible Address by every rule of RFC 4407" {
	awk -v dir="$T" '/^#/ { next } /^%%$/ { n++; next } { print > (dir "/pra." n) }' \
	    "$DATA/spf/pra-table"
	bad=0
	for f in "$T"/pra.*; do
		read -r kind want rest < "$f"
		tail -n +2 "$f" > "$f.msg"
		run --separate-stderr mg-spf -S -H mx.test --cache no --resolver "$Z" \
		    --ip 192.0.2.5 --permerror-action header < "$f.msg"
		out=$(unfolded)
		if [ "$kind" = expect ]; then
			[[ "$out" == *"sender-id=pass header.$want=$rest"* ]] ||
			    { echo "$f: want $want=$rest, got: $out"; bad=1; }
		else
			[[ "$out" == *"sender-id=permerror ($want $rest)"* ]] ||
			    { echo "$f: want error '$want $rest', got: $out"; bad=1; }
		fi
	done
	[ "$(ls "$T"/pra.*.msg | wc -l)" -eq 18 ]
	[ "$bad" -eq 0 ]
}

@test "mg-spf evaluates spf2.0/pra and falls back to v=spf1" {
	printf 'From: bob@pra.example.com\n\nbody\n' > "$T/m1"
	spf -S --ip 192.0.2.5 < "$T/m1"
	assert_success
	unfold_output
	assert_output "Authentication-Results: mx.test; sender-id=pass header.from=bob@pra.example.com"
	# The v=spf1 record of pra.example.com says -all: it is not read.
	spf -S --ip 203.0.113.9 < "$T/m1"
	assert_equal "$status" 100
	assert_output --partial "550 5.7.23 "
	printf 'Sender: x@praonly.example.com\n\n' > "$T/m2"
	spf -S --ip 203.0.113.9 < "$T/m2"
	unfold_output
	assert_output "Authentication-Results: mx.test; sender-id=neutral header.sender=x@praonly.example.com"
	printf 'Resent-From: x@example.com\n\n' > "$T/m3"
	spf -S --ip 198.51.100.7 < "$T/m3"
	unfold_output
	assert_output "Authentication-Results: mx.test; sender-id=pass header.resent-from=x@example.com"
}

@test "mg-spf takes a quoted local part with a space as the PRA" {
	for from in '"john smith"@pra.example.com' 'John <"john smith"@pra.example.com>'; do
		printf 'From: %s\n\nbody\n' "$from" > "$T/m"
		spf -S --ip 192.0.2.5 < "$T/m"
		assert_success
		unfold_output
		assert_output 'Authentication-Results: mx.test; sender-id=pass header.from="\"john smith\"@pra.example.com"'
	done
	# Outside the quotes a space is still malformed.
	printf 'From: john smith@pra.example.com\n\nbody\n' > "$T/m"
	spf -S --ip 192.0.2.5 < "$T/m"
	assert_output --partial "sender-id=permerror (malformed From field)"
}

@test "mg-spf gives Sender ID none for a domain whose spf2.0 record has no pra scope" {
	printf 'From: bob@mfromonly.example.com\n\nbody\n' > "$T/m"
	# v=spf1 would pass 192.0.2.5 and fail 203.0.113.9: it is not read.
	for ip in 192.0.2.5 203.0.113.9; do
		spf -S --ip $ip < "$T/m"
		assert_success
		unfold_output
		assert_output "Authentication-Results: mx.test; sender-id=none header.from=bob@mfromonly.example.com"
	done
}

@test "mg-spf -m writes the message back with the field on top, keeping CRLF" {
	printf 'From: bob@pra.example.com\r\nSubject: hi\r\n\r\nbody\r\n' > "$T/m"
	spf -S -m --ip 192.0.2.5 < "$T/m"
	assert_success
	want=$(printf 'Authentication-Results: mx.test; sender-id=pass\r\n\theader.from=bob@pra.example.com\r\nFrom: bob@pra.example.com\r\nSubject: hi\r\n\r\nbody\r')
	[ "$output" = "$want" ] || { echo "$output" | od -c | head; false; }
}

@test "mg-spf -S -m removes Authentication-Results fields that claim its authserv-id and keeps another host's" {
	other=$(printf 'Authentication-Results: relay.example; spf=pass\n\tsmtp.mailfrom=bob@pra.example.com')
	{ printf 'Authentication-Results: MX.test; sender-id=pass header.from=bob@pra.example.com\n'
	  printf '%s\n' "$other"
	  printf 'Authentication-Results:\n (looks like a relay)\n mx.test 1;\n\tsender-id=pass\n'
	  printf 'From: bob@pra.example.com\nSubject: hi\n\n'
	  printf 'Authentication-Results: mx.test; in the body\n'; } > "$T/m"
	spf -S -m --ip 192.0.2.5 < "$T/m"
	assert_success
	assert_output "$(printf 'Authentication-Results: mx.test; sender-id=pass\n\theader.from=bob@pra.example.com\n%s\nFrom: bob@pra.example.com\nSubject: hi\n\nAuthentication-Results: mx.test; in the body' "$other")"
	[[ "$stderr" == *"decision=accept ip=192.0.2.5 sender-id=pass forged=2 "* ]]
	sed 's/$/\r/' "$T/m" > "$T/m-crlf"
	spf -S -m --ip 192.0.2.5 < "$T/m-crlf"
	assert_success
	assert_output "$(printf 'Authentication-Results: mx.test; sender-id=pass\n\theader.from=bob@pra.example.com\n%s\nFrom: bob@pra.example.com\nSubject: hi\n\nAuthentication-Results: mx.test; in the body\n' "$other" | sed 's/$/\r/')"
	# The forged pass changes nothing: the client is still refused.
	spf -S --ip 203.0.113.9 < "$T/m"
	assert_equal "$status" 100
	assert_output --partial "550 5.7.23 "
}

@test "mg-spf -S -m defers a header block over 1 MiB instead of passing it cut" {
	{ printf 'From: bob@pra.example.com\n'
	  for i in $(seq 1100); do printf 'X-Pad: %01000d\n' "$i"; done
	  printf 'Subject: last\n\nbody\n'; } > "$T/big"
	run --separate-stderr mg-spf -S -m -H mx.test --cache no --resolver "$Z" \
	    --ip 192.0.2.5 < "$T/big"
	assert_equal "$status" 111
	assert_output "451 4.3.0 temporary failure (header block over 1 MiB)"
	[[ "$stderr" == *"read message: header block over 1 MiB"* ]]
	# Under 1 MB the same message passes whole.
	head -n 1000 "$T/big" > "$T/ok"; printf '\nbody\n' >> "$T/ok"
	run --separate-stderr mg-spf -S -m -H mx.test --cache no --resolver "$Z" \
	    --ip 192.0.2.5 < "$T/ok"
	assert_success
	[ "$(printf '%s\n' "$output" | tail -n +3 | cmp - "$T/ok" && echo same)" = same ]
}

@test "mg-spf gives permerror for a hostile header block and never hangs" {
	{ printf 'From: a@pra.example.com\n'; head -c 300000 /dev/zero | tr '\0' 'x'; printf '\n\n'; } > "$T/h"
	run --separate-stderr timeout 10 mg-spf -S -H mx.test --cache no --resolver "$Z" --ip 192.0.2.5 < "$T/h"
	assert [ "$status" -eq 0 -o "$status" -eq 100 ]
	printf 'From: \001\002<>@@\n\n' > "$T/h2"
	spf -S --ip 192.0.2.5 < "$T/h2"
	assert_success
	assert_output --partial "sender-id=permerror"
}

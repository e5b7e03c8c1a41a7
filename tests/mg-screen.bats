#!/usr/bin/env bats
# Black-box tests of mg-screen: exit status, reply line, header fields.

load lib/common

setup() {
	common_setup
	Z="zone:$DATA/screen.zone"
}

teardown() {
	common_teardown
}

# --- contract -----------------------------------------------------------

@test "mg-screen accepts silently when nothing is configured" {
	run --separate-stderr mg-screen --ip 192.0.2.1
	assert_success
	assert_output ""
}

@test "mg-screen defers a bad option with a reply line and a message" {
	run --separate-stderr mg-screen --bogus
	assert_equal "$status" 111
	assert_equal "$output" "451 4.3.0 temporary failure (usage error)"
	[[ "$stderr" == *"mg-screen: unknown option --bogus"* ]]
	[[ "$stderr" == *"usage: mg-screen"* ]]
}

@test "mg-screen defers a malformed client address" {
	run --separate-stderr mg-screen --ip 192.0.2.300
	assert_equal "$status" 111
	assert_output --partial "451 4.3.0"
	[[ "$stderr" == *"192.0.2.300"* ]]
}

@test "mg-screen defers when there is no client address and an address check is on" {
	run --separate-stderr mg-screen --ip '' --ip-default deny
	assert_failure 111
	assert_output '451 4.3.0 temporary failure (no client address: give --ip or set TCPREMOTEIP)'
	TCPREMOTEIP= run mg-screen --require-ptr reject
	assert_failure 111
	run --separate-stderr env -u TCPREMOTEIP mg-screen --require-ptr reject
	assert_failure 111
	assert_output --partial 'no client address'
	run env -u TCPREMOTEIP mg-screen --dyn-action reject
	assert_failure 111
}

@test "mg-screen accepts a client without an address when no address check is on" {
	run --separate-stderr mg-screen --ip ''
	assert_success
	assert_output ''
}

@test "mg-screen denies every client with --ip-default deny and no rules file" {
	run --separate-stderr mg-screen --ip 192.0.2.1 --ip-default deny
	assert_failure 100
	assert_output '550 5.7.1 client 192.0.2.1 is not welcome here'
}

@test "mg-screen refuses a sender that does not parse under --sender-domain" {
	long=$(printf 'a%.0s' $(seq 64))
	huge=$(head -c 100000 /dev/zero | tr '\0' a)
	for a in 'u@' 'u@a..b' "u@$long.example" "u@$huge.example"; do
		run --separate-stderr mg-screen --ip 192.0.2.1 --from "$a" --sender-domain reject --resolver "zone:/dev/null"
		assert_equal "$status" 100
		assert_output --regexp '^550 5\.7\.1 sender address <u@'
		[ "${#output}" -le 512 ]
	done
}

@test "mg-screen's blacklist is not evaded by an address that does not parse" {
	printf '@spam.test\n' > "$T/bl"
	for a in 'u@spam.test,' 'u@spam.test ' 'u@spam..test' 'u@spam.test@x'; do
		run --separate-stderr mg-screen --ip 192.0.2.1 --from "$a" --blacklist "$T/bl"
		assert_equal "$status" 100
		assert_output "550 5.7.1 sender address <$a> is not valid"
		run --separate-stderr mg-screen --ip 192.0.2.1 --from ok@good.test --rcpt "$a" --blacklist "$T/bl"
		assert_equal "$status" 100
		assert_output "550 5.7.1 recipient address <$a> is not valid"
	done
	run --separate-stderr mg-screen --ip 192.0.2.1 --from '<u@spam.test>' --blacklist "$T/bl"
	assert_equal "$status" 100
	assert_output "550 5.7.1 sender <u@spam.test> is not welcome here"
	for a in ok@good.test '"john smith"@good.test' ''; do
		run --separate-stderr mg-screen --ip 192.0.2.1 --from "$a" --blacklist "$T/bl"
		assert_success
	done
}

# Postfix policy requests (SMTPD_POLICY_README) for --serve, one per
# argument: "client_address=... sender=...", attributes split at blanks.
policy() {
	local r a
	for r in "$@"; do
		echo "request=smtpd_access_policy"
		for a in $r; do echo "$a"; done
		echo
	done
}

@test "mg-screen --serve answers many Postfix policy requests on one stream" {
	printf '192.0.2.66 deny\n' >"$T/ip"
	printf '@spam.test\n' >"$T/bl"
	run --separate-stderr mg-screen --serve -H mx.test --ip-rules "$T/ip" \
	    -b "$T/bl" --require-fcrdns header --resolver "$Z" < <(policy \
	    "client_address=192.0.2.66 sender=a@b.example recipient=c@d.example" \
	    "client_address=192.0.2.10 sender=u@spam.test" \
	    "client_address=192.0.2.10 sender=a@good.example" \
	    "client_address=192.0.2.20 sender=")
	assert_success
	assert_equal "${lines[0]}" "action=550 5.7.1 client 192.0.2.66 is not welcome here"
	assert_equal "${lines[1]}" "action=550 5.7.1 sender <u@spam.test> is not welcome here"
	# The first field, unfolded (RFC 5322 section 2.2.3: the WSP stays).
	assert_equal "${lines[2]}" "action=PREPEND Authentication-Results: mx.test; iprev=pass (mail.good.example)"$'\t'"policy.iprev=192.0.2.10"
	# Of two fields (and the X-Mailguard-Screen mark) Postfix takes one.
	assert_equal "${lines[3]}" "action=PREPEND Authentication-Results: mx.test; iprev=fail (liar.example)"$'\t'"policy.iprev=192.0.2.20"
	[[ "$stderr" == *'marks="fcrdns=fail'* ]]
	assert_equal "${#lines[@]}" 4
	[ "$(grep -c 'mg-screen: decision=' <<<"$stderr")" = 4 ]
}

@test "mg-screen --serve defers a malformed request and answers the next" {
	run --separate-stderr mg-screen --serve < <(printf 'no equals sign\n\n'
	    printf 'request=smtpd_access_policy\nclient_address=192.0.2.300\n\n'
	    printf 'request=other\n\n'; policy "client_address=192.0.2.1")
	assert_success
	assert_equal "${lines[0]}" "action=451 4.3.0 temporary failure (malformed policy request)"
	assert_equal "${lines[1]}" "action=451 4.3.0 temporary failure (configuration or input error)"
	assert_equal "${lines[2]}" "action=451 4.3.0 temporary failure (malformed policy request)"
	assert_equal "${lines[3]}" "action=DUNNO"
	[[ "$stderr" == *"warning: policy request: a line that is no name=value"* ]]
	# A line past the request's cap is malformed too; the stream goes on.
	run --separate-stderr mg-screen --serve < <(printf 'request=smtpd_access_policy\nsender=%s\n\n' "$(head -c 20000 /dev/zero | tr '\0' a)"
	    policy "client_address=192.0.2.1")
	assert_equal "${lines[0]}" "action=451 4.3.0 temporary failure (malformed policy request)"
	assert_equal "${lines[1]}" "action=DUNNO"
}

@test "mg-screen --serve exits 111 at start-up when a list is broken" {
	printf 'not-an-address/8\n' >"$T/bad"
	run --separate-stderr mg-screen --serve --ip-rules "$T/bad" < <(policy "client_address=192.0.2.1")
	assert_equal "$status" 111
	assert_output ""
	[[ "$stderr" == *"$T/bad:1"* ]]
}

@test "mg-screen takes the envelope from the tcpserver environment" {
	echo "192.0.2.0/24 deny" > "$T/ip"
	TCPREMOTEIP=192.0.2.7 run --separate-stderr mg-screen --ip-rules "$T/ip"
	assert_equal "$status" 100
	assert_output "550 5.7.1 client 192.0.2.7 is not welcome here"
}

@test "mg-screen writes qmail-spp commands with --spp and exits 0" {
	echo "192.0.2.0/24 deny" > "$T/ip"
	run --separate-stderr mg-screen --spp --ip 192.0.2.7 --ip-rules "$T/ip"
	assert_success
	assert_output "E550 5.7.1 client 192.0.2.7 is not welcome here"
	run --separate-stderr mg-screen --spp --ip 192.0.2.10 --resolver "$Z" --require-ptr reject -H mx.test
	assert_success
	assert_output --partial "HAuthentication-Results: mx.test; iprev=pass"
}

@test "mg-screen reads its section of the config file and the command line wins" {
	echo "192.0.2.0/24 deny" > "$T/ip"
	cat > "$T/mg.conf" <<-EOF2
	# shared by every program
	hostname mx.test
	[mg-spf]
	some-spf-option 1
	[mg-screen]
	ip-rules $T/ip
	ip-action defer
	EOF2
	run --separate-stderr mg-screen -c "$T/mg.conf" --ip 192.0.2.7
	assert_equal "$status" 111
	assert_output "451 4.7.1 client 192.0.2.7 is not welcome here"
	run --separate-stderr mg-screen -c "$T/mg.conf" --ip 192.0.2.7 --ip-action reject
	assert_equal "$status" 100
	MG_CONFIG="$T/mg.conf" run --separate-stderr mg-screen --ip 192.0.2.7
	assert_equal "$status" 111
}

@test "mg-screen names the file and line of an unknown config key" {
	printf 'hostname mx.test\nip-rulez /x\n' > "$T/mg.conf"
	run --separate-stderr mg-screen -c "$T/mg.conf" --ip 192.0.2.7
	assert_equal "$status" 111
	[[ "$stderr" == *"$T/mg.conf:2: unknown option ip-rulez"* ]]
}

@test "mg-screen defers when a named config file is missing" {
	run --separate-stderr mg-screen -c "$T/nope.conf" --ip 192.0.2.7
	assert_equal "$status" 111
	[[ "$stderr" == *"$T/nope.conf"* ]]
}

# --- IP screen ----------------------------------------------------------

@test "mg-screen IP screen: the longest prefix wins" {
	printf '192.0.2.0/24 deny\n192.0.2.128/25 allow\n192.0.2.200 deny\n' > "$T/ip"
	run --separate-stderr mg-screen --ip 192.0.2.1 --ip-rules "$T/ip"
	assert_equal "$status" 100
	run --separate-stderr mg-screen --ip 192.0.2.129 --ip-rules "$T/ip"
	assert_success
	run --separate-stderr mg-screen --ip 192.0.2.200 --ip-rules "$T/ip"
	assert_equal "$status" 100
	run --separate-stderr mg-screen --ip 198.51.100.1 --ip-rules "$T/ip"
	assert_success
}

@test "mg-screen IP screen: a deny default makes it an allow list" {
	printf '# our clients\n198.51.100.0/24 allow\n' > "$T/ip"
	run --separate-stderr mg-screen --ip 198.51.100.9 --ip-rules "$T/ip" --ip-default deny
	assert_success
	run --separate-stderr mg-screen --ip 203.0.113.9 --ip-rules "$T/ip" --ip-default deny
	assert_equal "$status" 100
	assert_output "550 5.7.1 client 203.0.113.9 is not welcome here"
}

@test "mg-screen IP screen handles IPv6 and v4-mapped clients" {
	printf '2001:db8::/32 deny\n2001:db8:1::/48 allow\n192.0.2.0/24 deny\n' > "$T/ip"
	run --separate-stderr mg-screen --ip 2001:db8::1 --ip-rules "$T/ip"
	assert_equal "$status" 100
	run --separate-stderr mg-screen --ip 2001:db8:1::1 --ip-rules "$T/ip"
	assert_success
	run --separate-stderr mg-screen --ip ::ffff:192.0.2.5 --ip-rules "$T/ip"
	assert_equal "$status" 100
	assert_output "550 5.7.1 client 192.0.2.5 is not welcome here"
}

@test "mg-screen IP screen: the action can defer or mark" {
	echo "192.0.2.0/24" > "$T/ip"
	run --separate-stderr mg-screen --ip 192.0.2.1 --ip-rules "$T/ip" --ip-action defer
	assert_equal "$status" 111
	assert_output "451 4.7.1 client 192.0.2.1 is not welcome here"
	run --separate-stderr mg-screen --ip 192.0.2.1 --ip-rules "$T/ip" --ip-action header
	assert_success
	assert_output "X-Mailguard-Screen: ip-screen=fail (client 192.0.2.1 is not welcome here)"
}

@test "mg-screen names the file and line of a malformed list entry and defers" {
	printf '192.0.2.0/24 deny\n192.0.2.1/24 deny\n' > "$T/ip"
	run --separate-stderr mg-screen --ip 192.0.2.1 --ip-rules "$T/ip"
	assert_equal "$status" 111
	assert_output --partial "451 4.3.0"
	[[ "$stderr" == *"$T/ip:2:"* ]]
	printf 'not-an-address/8\n' > "$T/ip2"
	run --separate-stderr mg-screen --ip 192.0.2.1 --ip-rules "$T/ip2"
	assert_equal "$status" 111
	[[ "$stderr" == *"$T/ip2:1:"* ]]
}

# --- trusted hosts --------------------------------------------------------

@test "mg-screen lets a trusted address pass every screen" {
	echo "192.0.2.0/24 deny" > "$T/ip"
	echo "192.0.2.7" > "$T/trusted"
	run --separate-stderr mg-screen --ip 192.0.2.7 --ip-rules "$T/ip" --trusted "$T/trusted" --require-ptr reject --resolver "$Z"
	assert_success
}

@test "mg-screen trusts a host name only when it is forward-confirmed" {
	echo "192.0.2.0/24 deny" > "$T/ip"
	printf 'relay.trusted.example\nliar.example\n' > "$T/trusted"
	run --separate-stderr mg-screen --ip 192.0.2.60 --ip-rules "$T/ip" --trusted "$T/trusted" --resolver "$Z"
	assert_success
	run --separate-stderr mg-screen --ip 192.0.2.20 --ip-rules "$T/ip" --trusted "$T/trusted" --resolver "$Z"
	assert_equal "$status" 100
}

# --- reverse lookups -------------------------------------------------------

@test "mg-screen writes iprev=pass for a forward-confirmed client" {
	run --separate-stderr mg-screen -H mx.test --ip 192.0.2.10 --resolver "$Z" --require-fcrdns reject
	assert_success
	unfold_output
	assert_output "Authentication-Results: mx.test; iprev=pass (mail.good.example) policy.iprev=192.0.2.10"
}

@test "mg-screen confirms an IPv6 client's PTR name" {
	run --separate-stderr mg-screen -H mx.test --ip 2001:db8::25 --resolver "$Z" --require-fcrdns reject
	assert_success
	unfold_output
	# ':' is not allowed in an RFC 2045 token, so the value is quoted.
	assert_output 'Authentication-Results: mx.test; iprev=pass (mx6.good.example) policy.iprev="2001:db8::25"'
}

@test "mg-screen rejects a client without PTR when asked to" {
	run --separate-stderr mg-screen -H mx.test --ip 192.0.2.30 --resolver "$Z" --require-ptr reject
	assert_equal "$status" 100
	assert_output "550 5.7.1 client 192.0.2.30 has no PTR record"
}

@test "mg-screen marks a PTR name that does not resolve back, as iprev=fail" {
	run --separate-stderr mg-screen -H mx.test --ip 192.0.2.20 --resolver "$Z" --require-ptr reject --require-fcrdns header
	assert_success
	unfold_output
	assert_line "Authentication-Results: mx.test; iprev=fail (liar.example) policy.iprev=192.0.2.20"
	assert_line "X-Mailguard-Screen: fcrdns=fail (client 192.0.2.20 has no forward-confirmed PTR name)"
	run --separate-stderr mg-screen -H mx.test --ip 192.0.2.20 --resolver "$Z" --require-fcrdns defer
	assert_equal "$status" 111
	assert_output "451 4.7.1 client 192.0.2.20 has no forward-confirmed PTR name"
}

@test "mg-screen checks HELO syntax" {
	run --separate-stderr mg-screen --ip 192.0.2.10 --helo localhost --helo-syntax reject
	assert_equal "$status" 100
	assert_output "550 5.7.1 HELO localhost is not a fully qualified domain name or address literal (RFC 5321 4.1.1.1)"
	run --separate-stderr mg-screen --ip 192.0.2.10 --helo 192.0.2.10 --helo-syntax reject
	assert_equal "$status" 100
	run --separate-stderr mg-screen --ip 192.0.2.10 --helo '[192.0.2.10]' --helo-syntax reject
	assert_success
	run --separate-stderr mg-screen --ip 2001:db8::25 --helo '[IPv6:2001:db8::25]' --helo-syntax reject
	assert_success
	run --separate-stderr mg-screen --ip 192.0.2.10 --helo mail.good.example --helo-syntax reject
	assert_success
	run --separate-stderr mg-screen --ip 192.0.2.10 --helo '-bad-.example' --helo-syntax reject
	assert_equal "$status" 100
}

@test "mg-screen refuses a HELO that claims to be this host" {
	run --separate-stderr mg-screen -H mx.test --ip 192.0.2.10 --helo MX.test --helo-self reject
	assert_equal "$status" 100
	assert_output "550 5.7.1 HELO MX.test claims to be this host"
	run --separate-stderr mg-screen -H mx.test --ip 192.0.2.10 --helo '[198.51.100.25]' --local-ip 198.51.100.25 --helo-self reject
	assert_equal "$status" 100
	run --separate-stderr mg-screen -H mx.test --ip 192.0.2.10 --helo '[127.0.0.1]' --helo-self reject
	assert_equal "$status" 100
	run --separate-stderr mg-screen -H mx.test --ip 192.0.2.10 --helo mail.good.example --helo-self reject
	assert_success
}

@test "mg-screen checks that HELO resolves and matches the client" {
	run --separate-stderr mg-screen --ip 192.0.2.10 --resolver "$Z" --helo nowhere.example --helo-resolves reject
	assert_equal "$status" 100
	assert_output "550 5.7.1 HELO nowhere.example does not resolve"
	run --separate-stderr mg-screen --ip 192.0.2.10 --resolver "$Z" --helo mail.good.example --helo-resolves reject --helo-matches reject
	assert_success
	run --separate-stderr mg-screen --ip 192.0.2.10 --resolver "$Z" --helo helo.other.example --helo-resolves reject
	assert_success
	run --separate-stderr mg-screen --ip 192.0.2.10 --resolver "$Z" --helo helo.other.example --helo-matches reject
	assert_equal "$status" 100
	assert_output "550 5.7.1 HELO helo.other.example does not match your address"
	run --separate-stderr mg-screen --ip 192.0.2.10 --helo '[192.0.2.11]' --helo-matches defer
	assert_equal "$status" 111
}

@test "mg-screen checks that the sender domain can take replies" {
	run --separate-stderr mg-screen --ip 192.0.2.10 --resolver "$Z" --from user@good.example --sender-domain reject
	assert_success
	run --separate-stderr mg-screen --ip 192.0.2.10 --resolver "$Z" --from user@aonly.example --sender-domain reject
	assert_success
	run --separate-stderr mg-screen --ip 192.0.2.10 --resolver "$Z" --from user@nullmx.example --sender-domain reject
	assert_equal "$status" 100
	assert_output "550 5.1.8 sender domain nullmx.example accepts no mail"
	run --separate-stderr mg-screen --ip 192.0.2.10 --resolver "$Z" --from user@txtonly.example --sender-domain reject
	assert_equal "$status" 100
	run --separate-stderr mg-screen --ip 192.0.2.10 --resolver "$Z" --from '<user@missing.example>' --sender-domain reject
	assert_equal "$status" 100
	assert_output "550 5.1.8 sender domain missing.example does not exist"
	run --separate-stderr mg-screen --ip 192.0.2.10 --resolver "$Z" --from '' --sender-domain reject
	assert_success
}

# --- host screen ---------------------------------------------------------

@test "mg-screen host screen matches the forward-confirmed name" {
	printf '*.dyn.isp.example deny\n.liar.example deny\n' > "$T/hosts"
	run --separate-stderr mg-screen --ip 192.0.2.40 --resolver "$Z" --host-rules "$T/hosts"
	assert_equal "$status" 100
	assert_output "550 5.7.1 client host host-40.dyn.isp.example is not welcome here"
	# liar.example is the PTR name of 192.0.2.20 but is not confirmed.
	run --separate-stderr mg-screen --ip 192.0.2.20 --resolver "$Z" --host-rules "$T/hosts"
	assert_success
}

@test "mg-screen host screen matches HELO and can drop the connection" {
	printf '*.dyn.isp.example deny\n*.bad.example deny\nok.bad.example allow\n' > "$T/hosts"
	run --separate-stderr mg-screen --ip 192.0.2.10 --resolver "$Z" --host-rules "$T/hosts" --helo x.bad.example --host-action drop
	assert_equal "$status" 100
	assert_output "554 5.7.1 HELO x.bad.example is not welcome here"
	run --separate-stderr mg-screen --spp --ip 192.0.2.10 --resolver "$Z" --host-rules "$T/hosts" --helo x.bad.example --host-action drop
	assert_success
	assert_output "R554 5.7.1 HELO x.bad.example is not welcome here"
	run --separate-stderr mg-screen --ip 192.0.2.10 --resolver "$Z" --host-rules "$T/hosts" --helo ok.bad.example
	assert_success
}

# --- address blacklist ---------------------------------------------------

@test "mg-screen blacklist refuses listed senders in every pattern form" {
	cat > "$T/bl" <<-EOF2
	spammer@example.com
	@bulk.example
	*@*.junk.example
	baduser@*
	<>
	friend@bulk.example allow
	EOF2
	for s in spammer@example.com SPAMMER@Example.COM x@bulk.example y@a.junk.example baduser@anywhere.example; do
		run --separate-stderr mg-screen --ip 192.0.2.1 --blacklist "$T/bl" --from "<$s>"
		assert_equal "$status" 100
		assert_output --partial "550 5.7.1 sender <"
	done
	run --separate-stderr mg-screen --ip 192.0.2.1 --blacklist "$T/bl" --from ''
	assert_equal "$status" 100
	for s in friend@bulk.example other@example.com y@junk.example; do
		run --separate-stderr mg-screen --ip 192.0.2.1 --blacklist "$T/bl" --from "$s"
		assert_success
	done
}

@test "mg-screen blacklist checks each recipient" {
	echo "@closed.example" > "$T/bl"
	run --separate-stderr mg-screen --ip 192.0.2.1 --blacklist "$T/bl" --from a@b.example --rcpt ok@open.example --rcpt x@closed.example
	assert_equal "$status" 100
	assert_output "550 5.7.1 recipient <x@closed.example> does not take mail from here"
	SMTPRCPTTO=x@closed.example run --separate-stderr mg-screen --ip 192.0.2.1 --blacklist "$T/bl"
	assert_equal "$status" 100
}

# --- exemptions -----------------------------------------------------------

@test "mg-screen skips the screens for authenticated and relay clients" {
	echo "192.0.2.0/24 deny" > "$T/ip"
	run --separate-stderr mg-screen --ip 192.0.2.1 --ip-rules "$T/ip" --auth-user alice
	assert_success
	SMTPAUTHUSER=alice run --separate-stderr mg-screen --ip 192.0.2.1 --ip-rules "$T/ip"
	assert_success
	RELAYCLIENT= run --separate-stderr mg-screen --ip 192.0.2.1 --ip-rules "$T/ip"
	assert_success
	run --separate-stderr mg-screen --ip 192.0.2.1 --ip-rules "$T/ip" --auth-user alice --exempt-auth no
	assert_equal "$status" 100
}

@test "mg-screen --explain traces the decision on stderr" {
	echo "192.0.2.0/24 deny" > "$T/ip"
	run --separate-stderr mg-screen -x --ip 192.0.2.1 --ip-rules "$T/ip"
	assert_equal "$status" 100
	[[ "$stderr" == *"explain: ip screen: 192.0.2.1 matches a deny rule"* ]]
	[[ "$stderr" == *"decision=reject ip=192.0.2.1"* ]]
}

@test "mg-screen sanitises client text in its log line and reply" {
	run --separate-stderr mg-screen --ip 192.0.2.1 --helo "$(printf 'evil\001 host\033[31m')" --helo-syntax reject
	assert_equal "$status" 100
	[[ "$output" != *$'\001'* ]]
	[[ "$stderr" != *$'\033'* ]]
	[[ "$stderr" == *'helo="evil? host?[31m"'* ]]
}

# --- compiled lists -------------------------------------------------------

@test "mg-screen compile writes the compiled form that later runs use" {
	printf '192.0.2.0/24 deny\n' > "$T/ip"
	run --separate-stderr mg-screen compile "$T/ip"
	assert_success
	assert_output "$T/ip: 1 entries"
	[ -f "$T/ip.mgc" ]
	run --separate-stderr mg-screen -x --ip 192.0.2.1 --ip-rules "$T/ip"
	assert_equal "$status" 100
	[[ "$stderr" == *"1 entries, compiled"* ]]
	# A changed list is compiled again, not served stale.
	sleep 1
	printf '192.0.2.0/24 allow\n' > "$T/ip"
	run --separate-stderr mg-screen --ip 192.0.2.1 --ip-rules "$T/ip"
	assert_success
}

@test "mg-screen compile names the line of a bad entry" {
	printf 'ok.example\n[bad\n' > "$T/hosts"
	printf '192.0.2.0/33\n' > "$T/ip"
	run --separate-stderr mg-screen compile "$T/ip"
	assert_equal "$status" 111
	[[ "$stderr" == *"$T/ip:1:"* ]]
}

# --- dynamic screen ------------------------------------------------------

# Runs mg-screen at a fixed time, so windows and blocks can be tested.
at() {
	local when=$1
	shift
	at_time "$when" mg-screen --statedir "$T" "$@"
}

@test "mg-screen dynamic screen blocks after N events in the window, with the time left" {
	for i in 1 2 3 4; do
		run --separate-stderr at '2026-11-28 12:00:00' --dyn-rule auth-fail:5/10m record auth-fail --ip 192.0.2.9
		assert_success
	done
	run --separate-stderr at '2026-11-28 12:01:00' --dyn-action defer --dyn-rule auth-fail:5/10m --ip 192.0.2.9
	assert_success
	run --separate-stderr at '2026-11-28 12:02:00' --dyn-rule auth-fail:5/10m record auth-fail --ip 192.0.2.9
	assert_success
	[[ "$stderr" == *"dynamic=blocked ip=192.0.2.9 net=192.0.2.9/32 event=auth-fail left=3600 offences=1"* ]]
	run --separate-stderr at '2026-11-28 12:12:00' --dyn-action defer --dyn-rule auth-fail:5/10m --ip 192.0.2.9
	assert_equal "$status" 111
	assert_output "451 4.7.1 192.0.2.9/32 is blocked for 50m more (auth-fail: 5 in 10m)"
	run --separate-stderr at '2026-11-28 12:12:00' --dyn-action reject --ip 192.0.2.9
	assert_equal "$status" 100
	# Another client is not affected.
	run --separate-stderr at '2026-11-28 12:12:00' --dyn-action defer --ip 192.0.2.10
	assert_success
	# The block ends by itself.
	run --separate-stderr at '2026-11-28 13:02:01' --dyn-action defer --ip 192.0.2.9
	assert_success
}

@test "mg-screen dynamic screen does not block events spread wider than the window" {
	for m in 00 03 06 09 12 15 18; do
		run --separate-stderr at "2026-11-28 12:$m:00" --dyn-rule auth-fail:3/5m record auth-fail --ip 192.0.2.9
		assert_success
		[[ "$stderr" == *"dynamic=recorded "* ]]
	done
	run --separate-stderr at '2026-11-28 12:18:30' --dyn-action defer --ip 192.0.2.9
	assert_success
}

@test "mg-screen dynamic screen blocks repeat offenders longer" {
	r=(--dyn-rule auth-fail:2/10m --dyn-block 1h --dyn-factor 3)
	at '2026-11-28 10:00:00' "${r[@]}" record auth-fail --ip 192.0.2.9 2>/dev/null
	run --separate-stderr at '2026-11-28 10:00:01' "${r[@]}" record auth-fail --ip 192.0.2.9
	[[ "$stderr" == *"left=3600 offences=1"* ]]
	at '2026-11-28 12:00:00' "${r[@]}" record auth-fail --ip 192.0.2.9 2>/dev/null
	run --separate-stderr at '2026-11-28 12:00:01' "${r[@]}" record auth-fail --ip 192.0.2.9
	[[ "$stderr" == *"left=10800 offences=2"* ]]
	run --separate-stderr at '2026-11-28 14:00:01' --dyn-action defer --ip 192.0.2.9
	assert_equal "$status" 111
	assert_output --partial "is blocked for 1h more"
}

@test "mg-screen dynamic screen blocks five auth-fail events in ten minutes with no rule configured" {
	for m in 00 02 04 06; do
		run --separate-stderr at "2026-11-28 12:$m:00" record auth-fail --ip 192.0.2.9
		assert_success
		[[ "$stderr" == *"dynamic=recorded ip=192.0.2.9 event=auth-fail"* ]]
	done
	# Four are not enough.
	run --separate-stderr at '2026-11-28 12:08:00' --dyn-action defer --ip 192.0.2.9
	assert_success
	run --separate-stderr at '2026-11-28 12:08:00' list
	assert_output "event 192.0.2.9/32 auth-fail 4 4 2026-11-28T12:06:00Z"
	run --separate-stderr at '2026-11-28 12:09:00' record auth-fail --ip 192.0.2.9
	assert_success
	[[ "$stderr" == *"dynamic=blocked ip=192.0.2.9 net=192.0.2.9/32 event=auth-fail left=3600 offences=1 reason=\"auth-fail: 5 in 10m\""* ]]
	run --separate-stderr at '2026-11-28 12:10:00' list
	assert_line "block 192.0.2.9/32 2026-11-28T13:09:00Z 3540 1 auth-fail: 5 in 10m"
	run --separate-stderr at '2026-11-28 12:10:00' --dyn-action defer --ip 192.0.2.9
	assert_equal "$status" 111
	assert_output "451 4.7.1 192.0.2.9/32 is blocked for 59m more (auth-fail: 5 in 10m)"
	# A repeat offender is blocked for twice as long.
	for i in 1 2 3 4 5; do
		at '2026-11-28 14:00:00' record auth-fail --ip 192.0.2.9 2>/dev/null
	done
	run --separate-stderr at '2026-11-28 14:00:00' --dyn-action defer --ip 192.0.2.9
	assert_equal "$status" 111
	assert_output "451 4.7.1 192.0.2.9/32 is blocked for 2h more (auth-fail: 5 in 10m)"
}

# Records six auth-fail events for IP at one time with the options
# given, each recorded and none blocking, and checks that IP may connect.
six_unblocked() {
	local ip=$1 i
	shift
	for i in 1 2 3 4 5 6; do
		run --separate-stderr at '2026-11-28 12:00:00' "$@" record auth-fail --ip "$ip"
		assert_success
		[[ "$stderr" == *"dynamic=recorded ip=$ip "* ]]
	done
	run --separate-stderr at '2026-11-28 12:00:01' --dyn-action defer --ip "$ip"
	assert_success
}

@test "mg-screen dynamic screen takes the user's rules instead of the default rule" {
	# A rule for another event: auth-fail events no longer block.
	six_unblocked 192.0.2.9 --dyn-rule unknown-rcpt:20/1h
	# A stricter auth-fail rule of its own.
	printf '[mg-screen]\ndyn-rule auth-fail:2/1h\n' > "$T/mg.conf"
	at '2026-11-28 12:00:00' -c "$T/mg.conf" record auth-fail --ip 192.0.2.10 2>/dev/null
	run --separate-stderr at '2026-11-28 12:30:00' -c "$T/mg.conf" record auth-fail --ip 192.0.2.10
	[[ "$stderr" == *"dynamic=blocked ip=192.0.2.10 net=192.0.2.10/32 event=auth-fail left=3600 offences=1 reason=\"auth-fail: 2 in 1h\""* ]]
}

@test "mg-screen dynamic screen has no rule at all with --dyn-rule none" {
	six_unblocked 192.0.2.9 --dyn-rule none
	# In the config file, and after rules it drops: the command line's
	# none drops the file's rule too.
	printf 'dyn-rule none\n' > "$T/none.conf"
	printf 'dyn-rule auth-fail:1/1h\n' > "$T/one.conf"
	six_unblocked 192.0.2.10 -c "$T/none.conf"
	six_unblocked 192.0.2.11 -c "$T/one.conf" --dyn-rule none
	run --separate-stderr at '2026-11-28 12:00:01' list
	refute_output --partial "block "
	# A rule after none still counts.
	run --separate-stderr at '2026-11-28 12:00:00' --dyn-rule none --dyn-rule auth-fail:1/1h record auth-fail --ip 192.0.2.12
	[[ "$stderr" == *"dynamic=blocked ip=192.0.2.12 "* ]]
}

@test "mg-screen dynamic screen can count by network" {
	r=(--dyn-rule unknown-rcpt:3/1h --dyn-v4-prefix 24)
	for ip in 192.0.2.1 192.0.2.2 192.0.2.3; do
		at '2026-11-28 12:00:00' "${r[@]}" record unknown-rcpt --ip $ip 2>/dev/null
	done
	run --separate-stderr at '2026-11-28 12:00:05' "${r[@]}" --dyn-action defer --ip 192.0.2.77
	assert_equal "$status" 111
	assert_output --partial "192.0.2.0/24 is blocked"
	run --separate-stderr at '2026-11-28 12:00:05' "${r[@]}" --dyn-action defer --ip 192.0.3.1
	assert_success
}

@test "mg-screen records connect events as part of a check" {
	r=(--dyn-rule connect:3/1m --dyn-action defer --dyn-record connect)
	run --separate-stderr at '2026-11-28 12:00:00' "${r[@]}" --ip 2001:db8::1
	assert_success
	run --separate-stderr at '2026-11-28 12:00:01' "${r[@]}" --ip 2001:db8::2
	assert_success
	run --separate-stderr at '2026-11-28 12:00:02' "${r[@]}" --ip 2001:db8::3
	assert_equal "$status" 111
	assert_output --partial "2001:db8::/64 is blocked"
}

@test "mg-screen block, list and unblock manage blocks by hand" {
	run --separate-stderr at '2026-11-28 12:00:00' block 198.51.100.0/24 --for 2d --reason "spam run"
	assert_success
	assert_output "blocked 198.51.100.0/24 for 172800s"
	at '2026-11-28 12:00:00' --dyn-rule auth-fail:5/10m record auth-fail --ip 192.0.2.9 2>/dev/null
	run --separate-stderr at '2026-11-28 12:05:00' list
	assert_success
	assert_line "block 198.51.100.0/24 2026-11-30T12:00:00Z 172500 1 spam run"
	assert_line "event 192.0.2.9/32 auth-fail 1 1 2026-11-28T12:00:00Z"
	run --separate-stderr at '2026-11-28 13:00:00' --dyn-action reject --ip 198.51.100.7
	assert_equal "$status" 100
	assert_output "550 5.7.1 198.51.100.0/24 is blocked for 47h more (spam run)"
	run --separate-stderr at '2026-11-28 13:00:00' unblock 198.51.100.0/24
	assert_success
	run --separate-stderr at '2026-11-28 13:00:00' --dyn-action reject --ip 198.51.100.7
	assert_success
	run --separate-stderr at '2026-11-28 13:00:00' unblock 198.51.100.0/24
	assert_equal "$status" 1
	[[ "$stderr" == *"no such block"* ]]
	run --separate-stderr mg-screen --statedir "$T" block 198.51.100.1/24
	assert_equal "$status" 111
	[[ "$stderr" == *"host bits"* ]]
}

@test "mg-screen expire removes ended blocks and stale counters" {
	at '2026-11-28 12:00:00' block 198.51.100.0/24 --for 1h >/dev/null
	at '2026-11-28 12:00:00' --dyn-rule auth-fail:5/10m record auth-fail --ip 192.0.2.9 2>/dev/null
	run --separate-stderr at '2026-11-28 12:05:00' --dyn-rule auth-fail:5/10m expire
	assert_success
	assert_output "expired 0 records"
	run --separate-stderr at '2026-11-29 12:30:00' --dyn-rule auth-fail:5/10m expire
	assert_success
	[[ "$output" != "expired 0 records" ]]
	run --separate-stderr at '2026-11-29 12:30:00' list
	assert_success
	assert_output ""
}

@test "mg-screen loses no count when 32 processes record at once" {
	for p in $(seq 32); do
		(for i in 1 2 3 4 5; do
			mg-screen --statedir "$T" --lock-timeout 30000 record connect --ip 192.0.2.99 2>>"$T/err.$p" || echo "fail $?" >>"$T/fail"
		done) &
	done
	wait
	[ ! -e "$T/fail" ] || { cat "$T/fail" "$T"/err.*; false; }
	run --separate-stderr mg-screen --statedir "$T" list
	assert_success
	assert_line --regexp '^event 192\.0\.2\.99/32 connect [0-9]+ 160 '
}

@test "mg-screen still works after writers are killed mid-run" {
	for p in $(seq 8); do
		(while :; do mg-screen --statedir "$T" record connect --ip 192.0.2.$p 2>/dev/null; done) &
		pids="$pids $!"
	done
	sleep 2
	for pid in $pids; do
		# Stopped first, the loop forks no writer after the pkill.
		kill -STOP "$pid" 2>/dev/null || true
		pkill -KILL -P "$pid" 2>/dev/null || true
		kill -KILL "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	pkill -KILL -P $$ -x mg-screen 2>/dev/null || true
	run --separate-stderr mg-screen --statedir "$T" record connect --ip 192.0.2.1
	assert_success
	run --separate-stderr mg-screen --statedir "$T" list
	assert_success
	assert_line --regexp '^event 192\.0\.2\.1/32 connect '
	run --separate-stderr mg-screen --statedir "$T" --dyn-action defer --ip 192.0.2.1
	assert_success
}

@test "mg-screen defers when the state file is corrupt or the state dir is missing" {
	head -c 4096 /dev/urandom > "$T/dynamic.db"
	run --separate-stderr mg-screen --statedir "$T" --dyn-action defer --ip 192.0.2.1
	assert_equal "$status" 111
	assert_output --partial "451 4.3.0"
	[[ "$stderr" == *"$T/dynamic.db"* ]]
	run --separate-stderr mg-screen --statedir "$T/missing" --dyn-action defer --ip 192.0.2.1
	assert_equal "$status" 111
	[[ "$stderr" == *"$T/missing"* ]]
	run --separate-stderr mg-screen --statedir "$T/missing" record connect --ip 192.0.2.1
	assert_equal "$status" 111
}

@test "mg-screen defers when the state lock is held too long" {
	mg-screen --statedir "$T" record connect --ip 192.0.2.1 2>/dev/null
	# flock(1) would not conflict with fcntl locks; hold one with python.
	/usr/bin/python3 -c '
import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.lockf(f, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(5)
' "$T/dynamic.db.lock" > "$T/locker" &
	locker=$!
	while ! grep -q locked "$T/locker" 2>/dev/null; do sleep 0.05; done
	run --separate-stderr mg-screen --statedir "$T" --lock-timeout 300 --dyn-action defer --ip 192.0.2.1
	kill "$locker" 2>/dev/null || true
	wait "$locker" 2>/dev/null || true
	assert_equal "$status" 111
	assert_output --partial "451 4.3.0"
	[[ "$stderr" == *"locked"* ]]
}

# --- a real DNS server on loopback --------------------------------------

@test "mg-screen asks a real DNS server for PTR and forward records" {
	load lib/dnsserver.bash
	dns_server_start "$DATA/screen-nsd/example.zone" \
	    2.0.192.in-addr.arpa="$DATA/screen-nsd/reverse.zone"
	run --separate-stderr mg-screen -H mx.test --resolver "127.0.0.1:$DNS_PORT" --ip 192.0.2.10 --require-fcrdns reject --sender-domain reject --from a@good.example
	r1=$status o1=$output
	run --separate-stderr mg-screen -H mx.test --resolver "127.0.0.1:$DNS_PORT" --ip 192.0.2.20 --require-fcrdns reject
	r2=$status o2=$output
	run --separate-stderr mg-screen -H mx.test --resolver "127.0.0.1:$DNS_PORT" --ip 192.0.2.10 --sender-domain reject --from a@nowhere.example
	dns_server_stop
	assert_equal "$r1" 0
	[[ "$o1" == "Authentication-Results: mx.test; iprev=pass (mail.good.example)"* ]]
	assert_equal "$r2" 100
	assert_equal "$o2" "550 5.7.1 client 192.0.2.20 has no forward-confirmed PTR name"
	assert_equal "$status" 100
	assert_output "550 5.1.8 sender domain nowhere.example does not exist"
}

@test "mg-screen defers, never rejects, when DNS times out" {
	load lib/dnsserver.bash
	silent_server_start
	run --separate-stderr mg-screen -H mx.test --resolver "127.0.0.1:$SILENT_PORT" --dns-timeout 200 --ip 192.0.2.10 --require-ptr reject
	r1=$status o1=$output
	run --separate-stderr mg-screen -H mx.test --resolver "127.0.0.1:$SILENT_PORT" --dns-timeout 200 --ip 192.0.2.10 --require-fcrdns header
	r2=$status
	unfold_output
	o2=$output
	run --separate-stderr mg-screen -H mx.test --resolver "127.0.0.1:$SILENT_PORT" --dns-timeout 200 --ip 192.0.2.10 --sender-domain reject --from a@good.example
	silent_server_stop
	assert_equal "$r1" 111
	assert_equal "$o1" "451 4.4.3 temporary DNS failure (192.0.2.10), try again later"
	assert_equal "$r2" 0
	[[ "$o2" == *"iprev=temperror policy.iprev=192.0.2.10"* ]]
	[[ "$o2" == *"X-Mailguard-Screen: fcrdns=fail (temporary DNS failure)"* ]]
	assert_equal "$status" 111
	assert_output "451 4.4.3 temporary DNS failure (good.example), try again later"
}

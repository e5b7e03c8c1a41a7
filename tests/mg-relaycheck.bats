#!/usr/bin/env bats
# Black-box tests of mg-relaycheck: exit status, reply line, header fields.

load lib/common

setup() {
	common_setup
	printf '# rcpthosts\nexample.com\n.example.net\nxn--bcher-kva.example\n' > "$T/rcpthosts"
	L=(-l "$T/rcpthosts" -H mx.test)
}

teardown() {
	common_teardown
}

# Runs mg-relaycheck for one recipient from a stranger's address.
from_stranger() {
	run --separate-stderr mg-relaycheck "${L[@]}" --ip 192.0.2.9 --rcpt "$1"
}

# --- contract -----------------------------------------------------------

@test "mg-relaycheck --serve answers Postfix policy requests, a relay refused and an AUTH client let through" {
	run --separate-stderr mg-relaycheck --serve "${L[@]}" < <(
	    printf 'request=smtpd_access_policy\nclient_address=192.0.2.9\nsender=a@b.example\nrecipient=x@elsewhere.example\n\n'
	    printf 'request=smtpd_access_policy\nclient_address=192.0.2.9\nsender=a@b.example\nrecipient=x@elsewhere.example\nsasl_username=alice\n\n'
	    printf 'request=smtpd_access_policy\nclient_address=192.0.2.9\nrecipient=u@example.com\n\n')
	assert_success
	assert_equal "${lines[0]}" "action=550 5.7.1 relaying denied (not a local domain)"
	assert_equal "${lines[1]}" "action=PREPEND Authentication-Results: mx.test; auth=pass smtp.auth=alice"
	assert_equal "${lines[2]}" "action=DUNNO"
	[ "$(grep -c 'mg-relaycheck: decision=' <<<"$stderr")" = 3 ]
}

@test "mg-relaycheck defers a bad option with a reply line and a message" {
	run --separate-stderr mg-relaycheck --bogus
	assert_equal "$status" 111
	assert_output "451 4.3.0 temporary failure (usage error)"
	[[ "$stderr" == *"mg-relaycheck: unknown option --bogus"* ]]
	[[ "$stderr" == *"usage: mg-relaycheck"* ]]
}

@test "mg-relaycheck accepts a local recipient from anyone, silently" {
	from_stranger user@example.com
	assert_success
	assert_output ""
	[[ "$stderr" == *"decision=accept ip=192.0.2.9 rcpt=user@example.com"* ]]
}

@test "mg-relaycheck denies relaying to a stranger" {
	from_stranger user@other.test
	assert_equal "$status" 100
	assert_output "550 5.7.1 relaying denied (not a local domain)"
	[[ "$stderr" == *"decision=reject"*"rule=relay"* ]]
}

@test "mg-relaycheck takes the envelope from the qmail environment" {
	TCPREMOTEIP=192.0.2.9 SMTPMAILFROM=a@other.test SMTPRCPTTO=b@other.test \
	    run --separate-stderr mg-relaycheck "${L[@]}"
	assert_equal "$status" 100
	assert_output "550 5.7.1 relaying denied (not a local domain)"
	TCPREMOTEIP=192.0.2.9 SMTPRCPTTO=b@example.com \
	    run --separate-stderr mg-relaycheck "${L[@]}"
	assert_success
}

@test "mg-relaycheck writes qmail-spp commands with --spp and exits 0" {
	run --separate-stderr mg-relaycheck "${L[@]}" --spp --ip 192.0.2.9 --rcpt u@other.test
	assert_success
	assert_output "E550 5.7.1 relaying denied (not a local domain)"
	run --separate-stderr mg-relaycheck "${L[@]}" --spp --ip 192.0.2.9 --auth-user alice --rcpt u@other.test
	assert_success
	assert_output "HAuthentication-Results: mx.test; auth=pass smtp.auth=alice"
}

@test "mg-relaycheck reads its section of the config file and the command line wins" {
	cat > "$T/mg.conf" <<-EOF2
	hostname mx.test
	[mg-spf]
	no-such-option here
	[mg-relaycheck]
	local-domains $T/rcpthosts
	relay-clients $T/clients
	EOF2
	echo 192.0.2.0/24 > "$T/clients"
	run --separate-stderr mg-relaycheck -c "$T/mg.conf" --ip 192.0.2.9 --rcpt u@other.test
	assert_success
	run --separate-stderr mg-relaycheck -c "$T/mg.conf" --relay-clients /dev/null --ip 192.0.2.9 --rcpt u@other.test
	assert_equal "$status" 100
}

@test "mg-relaycheck checks every recipient and the first refusal decides" {
	run --separate-stderr mg-relaycheck "${L[@]}" --ip 192.0.2.9 --rcpt a@example.com --rcpt b@other.test
	assert_equal "$status" 100
	assert_output "550 5.7.1 relaying denied (not a local domain)"
}

# --- who may relay -------------------------------------------------------

@test "mg-relaycheck lets a RELAYCLIENT client relay" {
	RELAYCLIENT= run --separate-stderr mg-relaycheck "${L[@]}" --ip 192.0.2.9 --rcpt u@other.test
	assert_success
	assert_output ""
	[[ "$stderr" == *"relay=relayclient"* ]]
}

@test "mg-relaycheck lets an authenticated client relay and says so in Authentication-Results" {
	SMTPAUTHUSER=alice@example.com run --separate-stderr mg-relaycheck "${L[@]}" --ip 192.0.2.9 --rcpt u@other.test
	assert_success
	assert_output "Authentication-Results: mx.test; auth=pass smtp.auth=alice@example.com"
	[[ "$stderr" == *"auth=alice@example.com relay=auth"* ]]
}

@test "mg-relaycheck lets listed IPv4 and IPv6 relay clients relay, and no one else" {
	printf '# office\n198.51.100.0/24\n2001:db8:1::/48\n' > "$T/clients"
	for ip in 198.51.100.7 ::ffff:198.51.100.8 2001:db8:1:2::5; do
		run --separate-stderr mg-relaycheck "${L[@]}" --relay-clients "$T/clients" --ip "$ip" --rcpt u@other.test
		assert_success
		[[ "$stderr" == *"relay=relay-clients"* ]]
	done
	for ip in 198.51.101.7 2001:db8:2::5; do
		run --separate-stderr mg-relaycheck "${L[@]}" --relay-clients "$T/clients" --ip "$ip" --rcpt u@other.test
		assert_equal "$status" 100
		assert_output "550 5.7.1 relaying denied (not a local domain)"
	done
}

@test "mg-relaycheck lets a trusted host relay" {
	printf '203.0.113.0/24\nmx.partner.test\n' > "$T/trusted"
	run --separate-stderr mg-relaycheck "${L[@]}" -t "$T/trusted" --ip 203.0.113.5 --rcpt u@other.test
	assert_success
	[[ "$stderr" == *"relay=trusted"* ]]
	run --separate-stderr mg-relaycheck "${L[@]}" -t "$T/trusted" --ip 192.0.2.9 --rcpt u@other.test
	assert_equal "$status" 100
}

@test "mg-relaycheck reads rcpthosts: exact names, .parent for subdomains, any case" {
	printf 'Example.ORG\n' > "$T/more"
	for r in u@example.com u@EXAMPLE.Com u@a.example.net u@b.a.example.net; do
		from_stranger "$r"
		assert_success
	done
	# ".example.net" covers subdomains only, as in qmail.
	from_stranger u@example.net
	assert_equal "$status" 100
	from_stranger u@notexample.com
	assert_equal "$status" 100
	from_stranger u@example.org
	assert_equal "$status" 100
	run --separate-stderr mg-relaycheck "${L[@]}" --more-local-domains "$T/more" --ip 192.0.2.9 --rcpt u@example.org
	assert_success
}

@test "mg-relaycheck accepts bare postmaster but no other bare local part" {
	from_stranger postmaster
	assert_success
	from_stranger '<Postmaster>'
	assert_success
	from_stranger root
	assert_equal "$status" 100
	assert_output "550 5.7.1 relaying denied (no domain)"
}

# --- open-relay tricks -----------------------------------------------------

@test "mg-relaycheck refuses the percent hack" {
	from_stranger 'user%other.test@example.com'
	assert_equal "$status" 100
	assert_output "550 5.7.1 relaying denied (routing character in local part)"
	from_stranger '<user%other.test%example.com@example.com>'
	assert_equal "$status" 100
}

@test "mg-relaycheck refuses bang paths" {
	from_stranger 'other.test!user@example.com'
	assert_equal "$status" 100
	assert_output "550 5.7.1 relaying denied (routing character in local part)"
}

@test "mg-relaycheck refuses source routes in both directions" {
	from_stranger '<@example.com:user@other.test>'
	assert_equal "$status" 100
	assert_output "550 5.7.1 relaying denied (source route)"
	from_stranger '<@other.test,@x.test:user@example.com>'
	assert_equal "$status" 100
	assert_output "550 5.7.1 relaying denied (source route)"
}

@test "mg-relaycheck refuses a quoted local part that hides an address" {
	from_stranger '"user@other.test"@example.com'
	assert_equal "$status" 100
	assert_output "550 5.7.1 relaying denied (quoted local part routes mail)"
	from_stranger '"user%other.test"@example.com'
	assert_equal "$status" 100
	from_stranger '"user\@other.test"@example.com'
	assert_equal "$status" 100
}

@test "mg-relaycheck defers two at-signs as a malformed address, never relays" {
	from_stranger 'user@other.test@example.com'
	assert_equal "$status" 111
	assert_output "451 4.1.3 cannot parse recipient address"
	[[ "$stderr" == *"more than one @"* ]]
}

@test "mg-relaycheck treats address literals as not local" {
	from_stranger 'user@[192.0.2.1]'
	assert_equal "$status" 100
	assert_output "550 5.7.1 relaying denied (address literal)"
	from_stranger 'user@[IPv6:2001:db8::1]'
	assert_equal "$status" 100
}

@test "mg-relaycheck treats a trailing dot as not local and defers two" {
	from_stranger 'user@example.com.'
	assert_equal "$status" 100
	assert_output "550 5.7.1 relaying denied (trailing dot)"
	from_stranger '<user@example.com.>'
	assert_equal "$status" 100
	from_stranger 'user@example.com..'
	assert_equal "$status" 111
}

@test "mg-relaycheck is not fooled by mixed case" {
	from_stranger 'USER%OTHER.TEST@EXAMPLE.COM'
	assert_equal "$status" 100
	from_stranger '<@EXAMPLE.COM:User@Other.Test>'
	assert_equal "$status" 100
	from_stranger 'User@Sub.EXAMPLE.NET'
	assert_success
}

@test "mg-relaycheck treats IDN U-labels and look-alike dots as not local" {
	# The file lists the A-label; the UTF-8 form could be read otherwise.
	from_stranger 'user@xn--bcher-kva.example'
	assert_success
	from_stranger 'user@bücher.example'
	assert_equal "$status" 100
	assert_output "550 5.7.1 relaying denied (non-ASCII domain)"
	from_stranger 'user@example。com'
	assert_equal "$status" 100
	from_stranger 'user@XN--BCHER-KVA.EXAMPLE'
	assert_success
}

@test "mg-relaycheck defers empty and over-long recipients" {
	from_stranger ''
	assert_equal "$status" 111
	assert_output "451 4.1.3 cannot parse recipient address"
	from_stranger '<>'
	assert_equal "$status" 111
	from_stranger "$(printf 'a%.0s' $(seq 65))@example.com"
	assert_equal "$status" 111
	[[ "$stderr" == *"local part too long"* ]]
	from_stranger "u@$(printf 'abcdefghi.%.0s' $(seq 30))example.com"
	assert_equal "$status" 111
}

@test "mg-relaycheck lets a client allowed to relay use routing addresses" {
	RELAYCLIENT= run --separate-stderr mg-relaycheck "${L[@]}" --ip 192.0.2.9 --rcpt 'user%other.test@example.com'
	assert_success
}

# --- recipient verification ---------------------------------------------------

@test "mg-relaycheck refuses an unknown local recipient and records it in the dynamic screen" {
	printf 'alice@example.com\n@sub.example.net\n' > "$T/valid"
	V=(--valid-rcpts "$T/valid" --statedir "$T")
	run --separate-stderr mg-relaycheck "${L[@]}" "${V[@]}" --ip 192.0.2.9 --rcpt Alice@Example.com
	assert_success
	run --separate-stderr mg-relaycheck "${L[@]}" "${V[@]}" --ip 192.0.2.9 --rcpt anyone@sub.example.net
	assert_success
	run --separate-stderr mg-relaycheck "${L[@]}" "${V[@]}" --ip 192.0.2.9 --rcpt bob@example.com
	assert_equal "$status" 100
	assert_output "550 5.1.1 bob@example.com: no such user here"
	[[ "$stderr" == *"dynamic=recorded ip=192.0.2.9 event=unknown-rcpt"* ]]
	# postmaster is always accepted (RFC 5321 section 4.5.1).
	run --separate-stderr mg-relaycheck "${L[@]}" "${V[@]}" --ip 192.0.2.9 --rcpt postmaster@example.com
	assert_success
	run --separate-stderr mg-screen --statedir "$T" list
	assert_success
	assert_line --regexp '^event 192\.0\.2\.9/32 unknown-rcpt 1 1 '
}

@test "mg-relaycheck does not verify recipients it relays, and can skip recording" {
	printf 'alice@example.com\n' > "$T/valid"
	RELAYCLIENT= run --separate-stderr mg-relaycheck "${L[@]}" --valid-rcpts "$T/valid" --statedir "$T" --ip 192.0.2.9 --rcpt bob@other.test
	assert_success
	run --separate-stderr mg-relaycheck "${L[@]}" --valid-rcpts "$T/valid" --statedir "$T" --record-unknown no --ip 192.0.2.9 --rcpt bob@example.com
	assert_equal "$status" 100
	[ ! -e "$T/dynamic.db" ]
}

@test "mg-relaycheck unknown recipients block the client in mg-screen under a shared rule" {
	printf 'alice@example.com\n' > "$T/valid"
	printf 'dyn-rule unknown-rcpt:3/10m\n[mg-relaycheck]\nlocal-domains %s\nvalid-rcpts %s\nstatedir %s\n' \
	    "$T/rcpthosts" "$T/valid" "$T" > "$T/mg.conf"
	for u in a b c; do
		run --separate-stderr mg-relaycheck -c "$T/mg.conf" --ip 192.0.2.9 --rcpt $u@example.com
		assert_equal "$status" 100
	done
	[[ "$stderr" == *"dynamic=blocked ip=192.0.2.9 event=unknown-rcpt net=192.0.2.9/32"* ]]
	run --separate-stderr mg-screen -c "$T/mg.conf" --statedir "$T" --dyn-action reject --ip 192.0.2.9
	assert_equal "$status" 100
	assert_output --partial "550 5.7.1 192.0.2.9/32 is blocked"
}

# --- IP shield ------------------------------------------------------------------

shield() {
	run --separate-stderr mg-relaycheck "${L[@]}" --shield "$T/shield" "$@"
}

@test "mg-relaycheck IP shield: a local sender from outside its IPv4 ranges must authenticate" {
	printf 'example.com 198.51.100.0/24 203.0.113.8\n' > "$T/shield"
	shield --ip 198.51.100.20 --from u@example.com --rcpt x@example.com
	assert_success
	shield --ip 203.0.113.8 --from u@example.com --rcpt x@example.com
	assert_success
	shield --ip 192.0.2.9 --from u@example.com --rcpt x@example.com
	assert_equal "$status" 100
	assert_output "530 5.7.0 authentication required to send as example.com"
	[[ "$stderr" == *"rule=shield"* ]]
	shield --ip 192.0.2.9 --from u@example.com --auth-user u --rcpt x@example.com
	assert_success
	# Senders of other domains are not shielded.
	shield --ip 192.0.2.9 --from u@other.test --rcpt x@example.com
	assert_success
	shield --ip 192.0.2.9 --from '' --rcpt x@example.com
	assert_success
}

@test "mg-relaycheck IP shield works with IPv6 ranges" {
	printf 'example.com 2001:db8:1::/48\nexample.com 198.51.100.0/24\n' > "$T/shield"
	shield --ip 2001:db8:1:5::1 --from u@example.com --rcpt x@example.com
	assert_success
	shield --ip 198.51.100.1 --from u@example.com --rcpt x@example.com
	assert_success
	shield --ip 2001:db8:2::1 --from u@example.com --rcpt x@example.com
	assert_equal "$status" 100
	assert_output "530 5.7.0 authentication required to send as example.com"
}

@test "mg-relaycheck IP shield without the auth exemption refuses authenticated clients too" {
	printf 'example.com 198.51.100.0/24\n' > "$T/shield"
	shield --shield-exempt-auth no --ip 192.0.2.9 --from u@example.com --auth-user u --rcpt x@other.test
	assert_equal "$status" 100
	assert_output "550 5.7.1 example.com does not send mail from 192.0.2.9"
	shield --shield-exempt-auth no --ip 2001:db8::9 --from u@example.com --rcpt x@example.com
	assert_output "550 5.7.1 example.com does not send mail from 2001:db8::9"
}

@test "mg-relaycheck IP shield macro @local covers every local domain, and a domain line wins" {
	printf '@local 198.51.100.0/24\nexample.com 203.0.113.0/24\n' > "$T/shield"
	shield --ip 192.0.2.9 --from u@a.example.net --rcpt x@example.com
	assert_equal "$status" 100
	assert_output "530 5.7.0 authentication required to send as a.example.net"
	shield --ip 198.51.100.9 --from u@a.example.net --rcpt x@example.com
	assert_success
	shield --ip 198.51.100.9 --from u@example.com --rcpt x@example.com
	assert_equal "$status" 100
	shield --ip 203.0.113.9 --from u@example.com --rcpt x@example.com
	assert_success
	shield --ip 192.0.2.9 --from u@other.test --rcpt x@example.com
	assert_success
}

@test "mg-relaycheck IP shield exempts trusted hosts unless told not to" {
	printf 'example.com 198.51.100.0/24\n' > "$T/shield"
	printf '192.0.2.0/24\n' > "$T/trusted"
	shield -t "$T/trusted" --ip 192.0.2.9 --from u@example.com --rcpt x@example.com
	assert_success
	shield -t "$T/trusted" --shield-exempt-trusted no --shield-exempt-auth no --ip 192.0.2.9 --from u@example.com --rcpt x@example.com
	assert_equal "$status" 100
	assert_output "550 5.7.1 example.com does not send mail from 192.0.2.9"
}

@test "mg-relaycheck IP shield can exempt mail to local recipients" {
	printf 'example.com 198.51.100.0/24\n' > "$T/shield"
	shield --ip 192.0.2.9 --from u@example.com --rcpt x@example.com
	assert_equal "$status" 100
	shield --shield-exempt-local-rcpt yes --ip 192.0.2.9 --from u@example.com --rcpt x@example.com
	assert_success
	shield --shield-exempt-local-rcpt yes --ip 192.0.2.9 --from u@example.com --auth-user u --shield-exempt-auth no --rcpt x@other.test
	assert_equal "$status" 100
}

@test "mg-relaycheck IP shield exempts clients allowed to relay unless told not to" {
	printf 'example.com 198.51.100.0/24\n' > "$T/shield"
	RELAYCLIENT= shield --ip 192.0.2.9 --from u@example.com --rcpt x@other.test
	assert_success
	RELAYCLIENT= shield --shield-exempt-relay no --ip 192.0.2.9 --from u@example.com --rcpt x@other.test
	assert_equal "$status" 100
	assert_output "530 5.7.0 authentication required to send as example.com"
}

@test "mg-relaycheck IP shield checks the sender at MAIL FROM, before any recipient" {
	printf 'example.com 198.51.100.0/24\n' > "$T/shield"
	shield --ip 192.0.2.9 --from u@example.com
	assert_equal "$status" 100
	shield --ip 198.51.100.1 --from u@example.com
	assert_success
}

# --- AUTH policy -----------------------------------------------------------------

@test "mg-relaycheck can require authentication for a local sender domain" {
	A=(--auth-local-sender yes)
	run --separate-stderr mg-relaycheck "${L[@]}" --ip 192.0.2.9 --from u@example.com --rcpt x@example.com
	assert_success
	run --separate-stderr mg-relaycheck "${L[@]}" "${A[@]}" --ip 192.0.2.9 --from u@example.com --rcpt x@example.com
	assert_equal "$status" 100
	assert_output "530 5.7.0 authentication required to send as example.com"
	run --separate-stderr mg-relaycheck "${L[@]}" "${A[@]}" --ip 192.0.2.9 --from u@example.com --auth-user u --rcpt x@example.com
	assert_success
	run --separate-stderr mg-relaycheck "${L[@]}" "${A[@]}" --ip 192.0.2.9 --from u@other.test --rcpt x@example.com
	assert_success
	# Optionally not when the recipient is local too.
	run --separate-stderr mg-relaycheck "${L[@]}" "${A[@]}" --auth-local-to-local yes --ip 192.0.2.9 --from u@example.com --rcpt x@example.com
	assert_success
}

@test "mg-relaycheck can require the authenticated user to own the sender address" {
	M=(--ip 192.0.2.9 --rcpt x@other.test)
	run --separate-stderr mg-relaycheck "${L[@]}" --auth-match address --auth-user alice@example.com --from Alice@Example.com "${M[@]}"
	assert_success
	assert_output "Authentication-Results: mx.test; auth=pass smtp.auth=alice@example.com"
	run --separate-stderr mg-relaycheck "${L[@]}" --auth-match address --auth-user alice@example.com --from bob@example.com "${M[@]}"
	assert_equal "$status" 100
	assert_output "550 5.7.1 sender bob@example.com does not belong to alice@example.com"
	# A bare user name owns that local part in every local domain.
	run --separate-stderr mg-relaycheck "${L[@]}" --auth-match address --auth-user alice --from alice@a.example.net "${M[@]}"
	assert_success
	run --separate-stderr mg-relaycheck "${L[@]}" --auth-match address --auth-user alice --from alice@other.test "${M[@]}"
	assert_equal "$status" 100
	run --separate-stderr mg-relaycheck "${L[@]}" --auth-match domain --auth-user alice@example.com --from bob@example.com "${M[@]}"
	assert_success
	run --separate-stderr mg-relaycheck "${L[@]}" --auth-match domain --auth-user alice@example.com --from bob@a.example.net "${M[@]}"
	assert_equal "$status" 100
	# Senders that claim no domain are owned by no one.
	for s in 'alice@[192.0.2.1]' alice; do
		run --separate-stderr mg-relaycheck "${L[@]}" --auth-match domain --auth-user alice "${M[@]}" --from "$s"
		assert_equal "$status" 100
		assert_output "550 5.7.1 sender $s does not belong to alice"
	done
	run --separate-stderr mg-relaycheck "${L[@]}" --auth-match address --auth-user alice --from '' "${M[@]}"
	assert_success
	run --separate-stderr mg-relaycheck "${L[@]}" --auth-match sometimes "${M[@]}"
	assert_equal "$status" 111
	[[ "$stderr" == *"--auth-match: sometimes"* ]]
}

@test "mg-relaycheck can require role addresses to authenticate as senders" {
	R=(--auth-role-senders yes --role-address hostmaster --ip 192.0.2.9 --rcpt x@example.com)
	for s in postmaster@example.com ABUSE@example.com hostmaster@a.example.net; do
		run --separate-stderr mg-relaycheck "${L[@]}" "${R[@]}" --from "$s"
		assert_equal "$status" 100
		assert_output "530 5.7.0 authentication required to send as $s"
	done
	run --separate-stderr mg-relaycheck "${L[@]}" "${R[@]}" --from postmaster@example.com --auth-user admin
	assert_success
	# Another domain's postmaster (bounces, reports) is not ours to police.
	run --separate-stderr mg-relaycheck "${L[@]}" "${R[@]}" --from postmaster@other.test
	assert_success
	run --separate-stderr mg-relaycheck "${L[@]}" --ip 192.0.2.9 --rcpt x@example.com --from postmaster@example.com
	assert_success
}

# --- POP-before-SMTP -------------------------------------------------------------

# A program that shows the argv and environment it was started with.
make_showargs() {
	cat > "$T/showargs" <<-'EOF2'
	#!/bin/sh
	printf '[%s]' "$0" "$@"
	printf '\nip=%s user=%s\n' "$TCPREMOTEIP" "$USER"
	EOF2
	chmod +x "$T/showargs"
}

@test "mg-relaycheck pop-record records the client and execs the rest of argv untouched" {
	make_showargs
	TCPREMOTEIP=192.0.2.44 USER=alice run --separate-stderr \
	    mg-relaycheck --statedir "$T" -x pop-record "$T/showargs" -x --ip 10.0.0.1 -c /nonexistent -- --user 'two words' pop-record ''
	assert_success
	assert_line --index 0 "[$T/showargs][-x][--ip][10.0.0.1][-c][/nonexistent][--][--user][two words][pop-record][]"
	assert_line --index 1 "ip=192.0.2.44 user=alice"
	[[ "$stderr" == *"pop-record=ok ip=192.0.2.44 user=alice"* ]]
	run --separate-stderr mg-relaycheck --statedir "$T" list
	assert_success
	assert_output --regexp '^192\.0\.2\.44 [0-9T:Z-]+ fresh [0-9]+s alice$'
}

@test "mg-relaycheck pop-record takes its own --ip and --user before the program" {
	make_showargs
	run --separate-stderr mg-relaycheck --statedir "$T" pop-record --ip 2001:db8::7 --user bob -- "$T/showargs" --user x
	assert_success
	assert_line --index 0 "[$T/showargs][--user][x]"
	run --separate-stderr mg-relaycheck --statedir "$T" list
	assert_output --regexp '^2001:db8::7 .* fresh [0-9]+s bob$'
}

@test "mg-relaycheck pop-record still execs and logs when it cannot record" {
	make_showargs
	TCPREMOTEIP=192.0.2.44 run --separate-stderr mg-relaycheck --statedir "$T/missing/dir" pop-record "$T/showargs" a
	assert_success
	assert_line --index 0 "[$T/showargs][a]"
	[[ "$stderr" == *"pop-record=failed ip=192.0.2.44"*"error="* ]]
	# No client address.
	run --separate-stderr mg-relaycheck --statedir "$T" pop-record "$T/showargs" b
	assert_success
	assert_line --index 0 "[$T/showargs][b]"
	[[ "$stderr" == *"pop-record=failed"*"no client address"* ]]
	# A broken configuration.
	TCPREMOTEIP=192.0.2.44 run --separate-stderr mg-relaycheck -c "$T/nonexistent.conf" pop-record "$T/showargs" c
	assert_success
	assert_line --index 0 "[$T/showargs][c]"
	[[ "$stderr" == *"pop-record=failed"*"configuration error"* ]]
	TCPREMOTEIP=192.0.2.44 run --separate-stderr mg-relaycheck --pop-age nonsense pop-record "$T/showargs" d
	assert_success
	assert_line --index 0 "[$T/showargs][d]"
}

@test "mg-relaycheck pop-record defers when the program cannot be run" {
	TCPREMOTEIP=192.0.2.44 run --separate-stderr mg-relaycheck --statedir "$T" pop-record "$T/nonexistent" a
	assert_equal "$status" 111
	[[ "$stderr" == *"exec $T/nonexistent: No such file or directory"* ]]
}

@test "mg-relaycheck plain pop-record records an address for post-login hooks" {
	run --separate-stderr mg-relaycheck --statedir "$T" pop-record --ip 192.0.2.55 --user carol
	assert_success
	assert_output ""
	run --separate-stderr mg-relaycheck --statedir "$T" pop-record --ip 192.0.2.300
	assert_equal "$status" 111
	[[ "$stderr" == *"pop-record=failed"*"192.0.2.300"* ]]
	run --separate-stderr mg-relaycheck --statedir "$T" pop-record --bogus
	assert_equal "$status" 111
}

# Runs mg-relaycheck at a fixed time.
at() {
	local when=$1
	shift
	at_time "$when" mg-relaycheck --statedir "$T" "$@"
}

@test "mg-relaycheck lets a recent POP login relay, and not an old one" {
	P=("${L[@]}" --pop-before-smtp yes --ip 192.0.2.55 --rcpt u@other.test)
	run --separate-stderr at '2026-11-28 12:00:00' pop-record --ip 192.0.2.55 --user carol
	assert_success
	run --separate-stderr at '2026-11-28 12:14:59' "${P[@]}"
	assert_success
	[[ "$stderr" == *"relay=pop-before-smtp"* ]]
	run --separate-stderr at '2026-11-28 12:15:01' "${P[@]}"
	assert_equal "$status" 100
	assert_output "550 5.7.1 relaying denied (not a local domain)"
	# Off unless asked for.
	run --separate-stderr at '2026-11-28 12:01:00' "${L[@]}" --ip 192.0.2.55 --rcpt u@other.test
	assert_equal "$status" 100
	# Another client is not let through.
	run --separate-stderr at '2026-11-28 12:01:00' "${L[@]}" --pop-before-smtp yes --ip 192.0.2.56 --rcpt u@other.test
	assert_equal "$status" 100
	# A longer configured age.
	run --separate-stderr at '2026-11-28 12:40:00' pop-record --ip 192.0.2.57
	run --separate-stderr at '2026-11-28 13:39:00' --pop-age 1h "${L[@]}" --pop-before-smtp yes --ip 192.0.2.57 --rcpt u@other.test
	assert_success
}

@test "mg-relaycheck expire drops old POP records and list shows the rest" {
	run --separate-stderr at '2026-11-28 12:00:00' pop-record --ip 192.0.2.1 --user a
	run --separate-stderr at '2026-11-28 12:10:00' pop-record --ip 192.0.2.2 --user b
	run --separate-stderr at '2026-11-28 12:12:00' list
	assert_success
	assert_line "192.0.2.1 2026-11-28T12:00:00Z fresh 720s a"
	assert_line "192.0.2.2 2026-11-28T12:10:00Z fresh 120s b"
	run --separate-stderr at '2026-11-28 12:20:00' --pop-age 1h expire
	assert_success
	assert_output "expired 0 records"
	run --separate-stderr at '2026-11-28 12:20:00' expire
	assert_success
	assert_output "expired 1 records"
	run --separate-stderr at '2026-11-28 12:20:00' --pop-age 1h list
	assert_output "192.0.2.2 2026-11-28T12:10:00Z fresh 600s b"
}

@test "mg-relaycheck loses no record when 24 pop-record writers run at once" {
	for p in $(seq 24); do
		(mg-relaycheck --statedir "$T" --lock-timeout 30000 pop-record --ip "192.0.2.$p" --user "u$p" 2>>"$T/err.$p" ||
		    echo "fail $p" >>"$T/fail") &
	done
	wait
	[ ! -e "$T/fail" ] || { cat "$T/fail" "$T"/err.*; false; }
	run --separate-stderr mg-relaycheck --statedir "$T" list
	assert_success
	assert_equal "${#lines[@]}" 24
	for p in 1 12 24; do
		assert_line --regexp "^192\.0\.2\.$p .* u$p\$"
	done
}

@test "mg-relaycheck pop-record runs behind tcpserver as a POP3 chain step" {
	command -v tcpserver >/dev/null || skip "tcpserver not installed"
	cat > "$T/pop3d" <<-'EOF2'
	#!/bin/sh
	printf '+OK pop3d %s\r\n' "$*"
	EOF2
	chmod +x "$T/pop3d"
	port=$((20000 + RANDOM % 20000))
	timeout 20 tcpserver -R -H -l 0 127.0.0.1 "$port" \
	    mg-relaycheck --statedir "$T" pop-record "$T/pop3d" -v Maildir 2>"$T/log" &
	srv=$!
	for i in $(seq 50); do
		out=$(tcpclient -R -H 127.0.0.1 "$port" sh -c 'cat <&6' 2>/dev/null) && break
		sleep 0.1
	done
	kill "$srv" 2>/dev/null || true
	wait "$srv" 2>/dev/null || true
	[[ "$out" == "+OK pop3d -v Maildir"* ]]
	grep -q 'pop-record=ok ip=127.0.0.1' "$T/log"
	run --separate-stderr mg-relaycheck "${L[@]}" --statedir "$T" --pop-before-smtp yes --ip 127.0.0.1 --rcpt u@other.test
	assert_success
}

# --- bad input -----------------------------------------------------------------

@test "mg-relaycheck defers when the local domains file is missing, and lets relay clients relay" {
	run --separate-stderr mg-relaycheck -l "$T/nonexistent" --ip 192.0.2.9 --rcpt u@example.com
	assert_equal "$status" 111
	assert_output "451 4.3.0 temporary failure (no local domains configured)"
	[[ "$stderr" == *"local domains $T/nonexistent missing: deferring every client that may not relay"* ]]
	for env in RELAYCLIENT=1 SMTPAUTHUSER=alice; do
		run --separate-stderr env $env mg-relaycheck -l "$T/nonexistent" --ip 192.0.2.9 --rcpt u@elsewhere.test
		assert_success
		refute_output --partial "relaying denied"
		refute_output --partial "451"
	done
}

@test "mg-relaycheck defers a malformed line in any list and names it" {
	printf 'example.com\nexa mple.com\n' > "$T/bad-ld"
	run --separate-stderr mg-relaycheck -l "$T/bad-ld" --ip 192.0.2.9 --rcpt u@example.com
	assert_equal "$status" 111
	assert_output "451 4.3.0 temporary failure (configuration or input error)"
	[[ "$stderr" == *"$T/bad-ld:2:"* ]]
	printf 'bücher.example\n' > "$T/bad-idn"
	run --separate-stderr mg-relaycheck -l "$T/bad-idn" --ip 192.0.2.9 --rcpt u@example.com
	assert_equal "$status" 111
	printf '*.example.com\n' > "$T/bad-glob"
	run --separate-stderr mg-relaycheck -l "$T/bad-glob" --ip 192.0.2.9 --rcpt u@example.com
	assert_equal "$status" 111
	printf '192.0.2.0/24\n192.0.2.300\n' > "$T/bad-clients"
	RELAYCLIENT= run --separate-stderr mg-relaycheck "${L[@]}" --relay-clients "$T/bad-clients" --ip 192.0.2.9 --rcpt u@other.test
	assert_equal "$status" 111
	[[ "$stderr" == *"$T/bad-clients:2:"* ]]
	printf 'mail.example.com\n' > "$T/name-clients"
	run --separate-stderr mg-relaycheck "${L[@]}" --relay-clients "$T/name-clients" --ip 192.0.2.9 --rcpt u@example.com
	assert_equal "$status" 111
	printf 'example.com\n' > "$T/bad-shield"
	run --separate-stderr mg-relaycheck "${L[@]}" --shield "$T/bad-shield" --ip 192.0.2.9 --rcpt u@example.com
	assert_equal "$status" 111
	[[ "$stderr" == *"$T/bad-shield:1: example.com: no address range"* ]]
	printf 'example.com 10.0.0.1/8\n' > "$T/bad-shield"
	run --separate-stderr mg-relaycheck "${L[@]}" --shield "$T/bad-shield" --ip 192.0.2.9 --rcpt u@example.com
	assert_equal "$status" 111
	printf 'alice@example.com\n10.0.0.300\n' > "$T/bad-valid"
	run --separate-stderr mg-relaycheck "${L[@]}" --valid-rcpts "$T/bad-valid" --ip 192.0.2.9 --rcpt u@example.com
	assert_equal "$status" 111
	[[ "$stderr" == *"$T/bad-valid:2:"* ]]
	run --separate-stderr mg-relaycheck "${L[@]}" --relay-clients "$T/nonexistent" --ip 192.0.2.9 --rcpt u@example.com
	assert_equal "$status" 111
}

@test "mg-relaycheck defers a malformed client address or sender" {
	run --separate-stderr mg-relaycheck "${L[@]}" --ip 192.0.2.300 --rcpt u@example.com
	assert_equal "$status" 111
	[[ "$stderr" == *"192.0.2.300"* ]]
	run --separate-stderr mg-relaycheck "${L[@]}" --ip 192.0.2.9 --from 'a b@x' --rcpt u@example.com
	assert_equal "$status" 111
	assert_output "451 4.1.7 cannot parse sender address"
}

@test "mg-relaycheck defers when the POP store cannot be read" {
	head -c 4096 /dev/urandom > "$T/pop.db"
	run --separate-stderr mg-relaycheck "${L[@]}" --statedir "$T" --pop-before-smtp yes --ip 192.0.2.9 --rcpt u@other.test
	assert_equal "$status" 111
	assert_output --partial "451 4.3.0 temporary failure"
	# A local recipient needs no lookup.
	run --separate-stderr mg-relaycheck "${L[@]}" --statedir "$T" --pop-before-smtp yes --ip 192.0.2.9 --rcpt u@example.com
	assert_success
}

# --- examples ---------------------------------------------------------------

@test "mg-relaycheck runs with the example configuration and lists" {
	cp "$TOP"/examples/lists/* "$T/"
	E=(-c "$TOP/examples/mailguard.conf" -l "$T/rcpthosts" --more-local-domains /dev/null
	    --statedir "$T" --relay-clients "$T/relay-clients" --trusted "$T/trusted"
	    --valid-rcpts "$T/valid-rcpts" --shield "$T/shield")
	run --separate-stderr mg-relaycheck "${E[@]}" --ip 198.51.100.9 --from a@other.test --rcpt alice@example.com
	assert_success
	run --separate-stderr mg-relaycheck "${E[@]}" --ip 198.51.100.9 --from a@other.test --rcpt carol@example.com
	assert_equal "$status" 100
	assert_output "550 5.1.1 carol@example.com: no such user here"
	run --separate-stderr mg-relaycheck "${E[@]}" --ip 198.51.100.9 --from a@example.com --rcpt alice@example.com
	assert_equal "$status" 100
	assert_output "530 5.7.0 authentication required to send as example.com"
	run --separate-stderr mg-relaycheck "${E[@]}" --ip 2001:db8:100::5 --from a@example.com --rcpt x@other.test
	assert_success
	run --separate-stderr mg-relaycheck "${E[@]}" --ip 198.51.100.9 --auth-user alice@example.com --from alice@example.com --rcpt x@other.test
	assert_success
	assert_output "Authentication-Results: mx.example.com; auth=pass smtp.auth=alice@example.com"
}

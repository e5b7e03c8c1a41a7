#!/usr/bin/env bats
# Every Authentication-Results field the checks write, in each of their
# outcomes, against the IANA registries of methods, result names and
# properties (tests/data/authres-registry, RFC 8601 section 6).

load lib/common

setup() {
	common_setup
	REG="$TOP/tests/data/authres-registry"
	AR="$T/fields"
	: > "$AR"
}

teardown() {
	common_teardown
}

# keep CMD...: runs CMD and appends its unfolded Authentication-Results
# fields (with -m or not, CR or not) to $AR.
keep() {
	run --separate-stderr "$@"
	output=$(tr -d '\r' <<<"$output")
	unfold_output
	printf '%s\n' "${lines[@]}" | sed -n 's/^H\{0,1\}\(Authentication-Results:\)/\1/p' >> "$AR"
}

@test "every method, result and property mailguard writes is in the IANA registry" {
	local spfz="zone:$DATA/spf/spf.zone" scr="zone:$DATA/screen.zone" i
	# iprev: pass, fail.
	keep mg-screen -H mx.test --ip 192.0.2.10 --resolver "$scr" --require-fcrdns reject
	keep mg-screen -H mx.test --ip 192.0.2.20 --resolver "$scr" --require-fcrdns header
	# auth.
	echo example.com > "$T/rcpthosts"
	SMTPAUTHUSER=alice@example.com keep mg-relaycheck -l "$T/rcpthosts" -H mx.test --ip 192.0.2.9 --rcpt u@other.test
	SMTPAUTHUSER='"alice smith"@example.com' keep mg-relaycheck -l "$T/rcpthosts" -H mx.test --ip 192.0.2.9 --rcpt u@other.test
	# spf, each result, both identities.
	for i in "192.0.2.5 bob@example.com" "203.0.113.9 bob@soft.example.com" \
	    "203.0.113.9 bob@neutral.example.com" "203.0.113.9 bob@nospf.example.com" \
	    "192.0.2.1 bob@broken.example.com" "203.0.113.9 bob@example.com" \
	    '192.0.2.5 "bob smith"@example.com'; do
		keep mg-spf -H mx.test --cache no --resolver "$spfz" --fail-action header \
		    --ip "${i%% *}" --helo mail.example.com --from "${i#* }"
	done
	# sender-id: pass, none, permerror, from each PRA field.
	for i in 'From: bob@pra.example.com' 'Sender: x@praonly.example.com' \
	    'Resent-From: x@example.com' 'From: bob@mfromonly.example.com' \
	    'From: "john smith"@pra.example.com' 'From: ' ; do
		printf '%s\n\nbody\n' "$i" > "$T/m"
		keep mg-spf -S -m -H mx.test --cache no --resolver "$spfz" --ip 192.0.2.5 < "$T/m"
	done
	# dkim and domainkeys: pass, fail, none, permerror.
	mg-dkim-sign genkey -d example.org -s rsa -k "$T/rsa.pem" > "$T/rsa.rec"
	{ echo '$ORIGIN .'; echo '$TTL 300'; cat "$T/rsa.rec"; } > "$T/keys.zone"
	mg-dkim-sign -d example.org -s rsa -k "$T/rsa.pem" --domainkeys yes -m \
	    < "$DATA/dkim/plain.eml" > "$T/s.eml"
	keep mg-dkim-verify -H mx.test -r "zone:$T/keys.zone" < "$T/s.eml"
	sed 's/^world/World/' "$T/s.eml" > "$T/b.eml"
	keep mg-dkim-verify -H mx.test -r "zone:$T/keys.zone" < "$T/b.eml"
	keep mg-dkim-verify -H mx.test -r "zone:$T/keys.zone" < "$DATA/dkim/plain.eml"
	{ printf 'DKIM-Signature: v=1; a=rsa-sha256; d=example.org\n'; cat "$DATA/dkim/plain.eml"; } > "$T/p.eml"
	keep mg-dkim-verify -H mx.test -r "zone:$T/keys.zone" < "$T/p.eml"
	cat "$AR"
	# Each method in each outcome above was written.
	for i in iprev=pass iprev=fail auth=pass spf=pass spf=softfail spf=neutral \
	    spf=none spf=permerror spf=fail sender-id=pass sender-id=none \
	    sender-id=permerror dkim=pass dkim=fail domainkeys=pass \
	    domainkeys=fail dkim=none dkim=permerror; do
		grep -q "; $i" "$AR" || { echo "no $i written"; return 1; }
	done
	run /usr/bin/python3 "$TOP/tests/lib/authres_registry.py" "$REG" < "$AR"
	echo "$output"
	assert_success
	[[ "$output" == "ok "* ]]
}

@test "the registry check itself refuses what the registry lacks" {
	printf '%s\n' 'Authentication-Results: mx.test; iprev=pass smtp.remote-ip=192.0.2.1' \
	    'Authentication-Results: mx.test; domainkeys=pass header.d=x.test header.s=sel' \
	    'Authentication-Results: mx.test; iprev=softfail policy.iprev=192.0.2.1' \
	    'Authentication-Results: mx.test; dkim=pass header.d=x.test' > "$AR"
	run /usr/bin/python3 "$TOP/tests/lib/authres_registry.py" "$REG" < "$AR"
	assert_failure
	assert_line --index 0 --partial "iprev has no property smtp.remote-ip"
	assert_line --index 1 --partial "domainkeys has no property header.s"
	assert_line --index 2 --partial "iprev has no result softfail"
	assert_equal "${#lines[@]}" 3
}

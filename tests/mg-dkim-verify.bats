#!/usr/bin/env bats
# Black-box tests of mg-dkim-verify: the DKIM and DomainKeys known-answer
# vectors, signatures by dkimpy, Mail::DKIM and OpenDKIM, awkward and
# tampered messages, DNS failures, policies and hostile input.

load lib/common
load lib/dnsserver
load lib/dkim

@test "mg-dkim-verify gets all 46 DKIM known-answer vectors right" {
	run "$PY" "$TOP/tests/lib/vectors.py" "$TD/dkim/vectors.yml" dkim "$T"
	echo "$output"
	assert_success
	[ "$(grep -c '^ok ' <<<"$output")" -eq 46 ]
}

@test "mg-dkim-verify gets all 18 DomainKeys known-answer vectors right" {
	run "$PY" "$TOP/tests/lib/vectors.py" "$TD/domainkeys/vectors.yml" \
	    domainkeys "$T"
	echo "$output"
	assert_success
	[ "$(grep -c '^ok ' <<<"$output")" -eq 18 ]
}

@test "mg-dkim-verify defers a bad option with a reply line" {
	run --separate-stderr mg-dkim-verify --bogus
	assert_equal "$status" 111
	assert_output "451 4.3.0 temporary failure (usage error)"
	[[ "$stderr" == *"usage: mg-dkim-verify"* ]]
}

@test "mg-dkim-verify marks an unsigned message dkim=none and can reject it" {
	run --separate-stderr verify < "$DATA/dkim/plain.eml"
	assert_success
	assert_output "Authentication-Results: mx.test; dkim=none"
	run --separate-stderr verify --no-signature reject < "$DATA/dkim/plain.eml"
	assert_equal "$status" 100
	assert_output "550 5.7.1 message has no valid signature"
}

@test "mg-dkim-verify gives a message that does not parse the strictest policy" {
	# A NUL byte, a 70 KB header line, 1001 fields, no empty line.
	printf 'X-Pad: \0\n' | cat - "$DATA/dkim/plain.eml" > "$T/p1.eml"
	{ printf 'X-Long: %070000d\n' 0; cat "$DATA/dkim/plain.eml"; } > "$T/p2.eml"
	{ for i in $(seq 1001); do echo "X-F$i: x"; done
	  cat "$DATA/dkim/plain.eml"; } > "$T/p3.eml"
	printf 'From: a@example.com\nSubject: x\nno empty line here\n' > "$T/p4.eml"
	for f in p1 p2 p3 p4; do
		run --separate-stderr verify --no-signature reject < "$T/$f.eml"
		assert_equal "$status" 100
		assert_output "550 5.7.1 message cannot be parsed for DKIM"
		run --separate-stderr verify --no-key defer < "$T/$f.eml"
		assert_equal "$status" 111
		run --separate-stderr verify < "$T/$f.eml"
		assert_success
		assert_output --partial "dkim=permerror"
		run --separate-stderr verify -m < "$T/$f.eml"
		assert_equal "$status" 111
	done
}

@test "the read message error names an overlong field with its name sanitised" {
	{ printf 'X-"Evil\\\\: x\n'; for i in $(seq 80); do printf ' %01000d\n' 0; done
	  printf '\nbody\n'; } > "$T/evil.eml"
	run --separate-stderr verify < "$T/evil.eml"
	assert_success
	[[ "$stderr" == *'read message: line 67: header field X-?Evil?? longer than 65536 bytes'* ]]
	[[ "$stderr" != *'X-"Evil'* ]]
}

@test "mg-dkim-verify -m removes Authentication-Results fields that claim its authserv-id and keeps another host's" {
	sign -m < "$DATA/dkim/plain.eml" > "$T/s.eml"
	run --separate-stderr verify < "$T/s.eml"
	assert_success
	field=$output
	[[ "$field" == "Authentication-Results: mx.test; dkim=pass header.d=example.org"* ]]
	other=$(printf 'Authentication-Results: relay.example; spf=pass\n\tsmtp.mailfrom=example.org')
	{ printf 'Authentication-Results: MX.test; dkim=pass header.d=bank.example\n'
	  printf '%s\n' "$other"
	  printf 'Authentication-Results: (looks like a relay)\n "mx.test" 1;\n\tdkim=pass\n'
	  cat "$T/s.eml"; } > "$T/f.eml"
	sed 's/$/\r/' "$T/f.eml" > "$T/f-crlf.eml"
	run --separate-stderr verify -m < "$T/f.eml"
	assert_success
	assert_output "$field"$'\n'"$other"$'\n'"$(cat "$T/s.eml")"
	[[ "$stderr" == *"decision=accept signatures=1 pass=1 fail=0 nokey=0 temperror=0 forged=2"* ]]
	run --separate-stderr verify -m < "$T/f-crlf.eml"
	assert_success
	assert_output "$(printf '%s\n%s\n' "$field" "$other" | sed 's/$/\r/'; sed 's/$/\r/' "$T/s.eml")"
	# Without -m the result is the same as for the message as signed.
	run --separate-stderr verify < "$T/f.eml"
	assert_success
	assert_output "$field"
}

@test "a forged dkim=pass of mailguard's own authserv-id does not let an unsigned message pass" {
	{ printf 'Authentication-Results: mx.test; dkim=pass header.d=example.org\n'
	  cat "$DATA/dkim/plain.eml"; } > "$T/f.eml"
	run --separate-stderr verify --no-signature reject < "$T/f.eml"
	assert_equal "$status" 100
	assert_output "550 5.7.1 message has no valid signature"
	run --separate-stderr verify -m < "$T/f.eml"
	assert_success
	assert_output "Authentication-Results: mx.test; dkim=none"$'\n'"$(cat "$DATA/dkim/plain.eml")"
}

@test "a tampered signed message stays rejected with a NUL field put in front" {
	sign -m < "$DATA/dkim/plain.eml" > "$T/s.eml"
	sed 's/^world/World/' "$T/s.eml" > "$T/b.eml"
	printf 'X-Pad: \0\n' | cat - "$T/b.eml" > "$T/nul.eml"
	run --separate-stderr verify --bad-signature reject < "$T/nul.eml"
	assert_equal "$status" 100
	assert_output "550 5.7.1 message cannot be parsed for DKIM"
}

@test "RSA and Ed25519 signatures of the awkward corpus verify in mg-dkim-verify, dkimpy and Mail::DKIM" {
	corpus
	for m in "$T"/corpus/*.eml; do
		for canon in simple/simple relaxed/relaxed; do
			sign -s ed -k "$K/ed.pem" -C "$canon" -m < "$m" > "$T/s.eml" 2>/dev/null
			run --separate-stderr verify < "$T/s.eml"
			output=$(tr -d '\r' <<<"$output")
			unfold_output
			[[ "$output" == *"dkim=pass header.d=example.org header.s=rsa header.a=rsa-sha256"*"dkim=pass header.d=example.org header.s=ed header.a=ed25519-sha256"* ]] ||
			    { echo "mg $m $canon: $output"; return 1; }
			run "$PY" "$TOP/tests/lib/dkimpy.py" verify "$K/keys.zone" < "$T/s.eml"
			[ "$output" = "pass"$'\n'"pass" ] || { echo "dkimpy $m $canon: $output"; return 1; }
			# Mail::DKIM adds no CRLF to a body without a final
			# line break, as RFC 6376 section 3.4.3 says to.
			[ "${m##*/}" != no-final-newline.eml ] || continue
			run perl "$TOP/tests/lib/maildkim.pl" verify "$K/keys.zone" < "$T/s.eml"
			# Debian's Mail::DKIM has no Ed25519.
			[[ "$output" == "dkim=pass"* ]] || { echo "Mail::DKIM $m $canon: $output"; return 1; }
		done
	done
}

@test "signatures by dkimpy, Mail::DKIM and opendkim-testmsg verify in mg-dkim-verify" {
	corpus
	for m in "$T"/corpus/*.eml; do
		# libopendkim's relaxed header canonicalization reads a bare CR
		# as a space, dkimpy and Mail::DKIM keep it (RFC 6376 section
		# 3.4.2): no relaxed signature of bare-cr.eml verifies in both,
		# which is why mg-dkim-sign signs such fields simple.
		[ "${m##*/}" != bare-cr.eml ] || continue
		for alg in rsa-sha256 ed25519-sha256; do
			key=rsa; [ "$alg" = rsa-sha256 ] || key=ed
			"$PY" "$TOP/tests/lib/dkimpy.py" sign "$K/$key.pem" example.org \
			    "$key" "$alg" relaxed/simple < "$m" > "$T/p.eml"
			run --separate-stderr verify < "$T/p.eml"
			[[ "$output" == *"dkim=pass"* ]] || { echo "dkimpy $m $alg: $output"; return 1; }
		done
		# Mail::DKIM adds no CRLF to a body without a final line
		# break (RFC 6376 section 3.4.3 says to); SMTP never makes one.
		[ "${m##*/}" != no-final-newline.eml ] || continue
		perl "$TOP/tests/lib/maildkim.pl" sign dkim "$K/rsa.pem" example.org rsa \
		    relaxed < "$m" > "$T/p.eml"
		run --separate-stderr verify < "$T/p.eml"
		[[ "$output" == *"dkim=pass"* ]] || { echo "Mail::DKIM $m: $output"; return 1; }
	done
	# opendkim-testmsg signs rsa-sha1 and wants Date and Message-ID.
	opendkim-testmsg -t "$T" -d example.org -s rsa -k "$K/rsa.pem" \
	    < "$T/corpus/lf.eml" > "$T/o.eml"
	run --separate-stderr verify < "$T/o.eml"
	assert_output --partial "dkim=pass header.d=example.org header.s=rsa"
	assert_output --partial "header.a=rsa-sha1"
}

@test "a tampered header or body fails in mg-dkim-verify, dkimpy and Mail::DKIM" {
	sign -m < "$DATA/dkim/plain.eml" > "$T/s.eml"
	sed 's/^Subject: hello/Subject: hellO/' "$T/s.eml" > "$T/h.eml"
	sed 's/^world/World/' "$T/s.eml" > "$T/b.eml"
	for f in h b; do
		run --separate-stderr verify < "$T/$f.eml"
		assert_success
		assert_output --partial "dkim=fail"
		run "$PY" "$TOP/tests/lib/dkimpy.py" verify "$K/keys.zone" < "$T/$f.eml"
		assert_output "fail"
		run perl "$TOP/tests/lib/maildkim.pl" verify "$K/keys.zone" < "$T/$f.eml"
		assert_output "dkim=fail"
	done
	run --separate-stderr verify --bad-signature reject < "$T/b.eml"
	assert_equal "$status" 100
	assert_output "550 5.7.1 signature did not verify"
}

@test "DomainKeys signatures go both ways with Mail::DKIM, simple and nofws" {
	for c in simple nofws; do
		sign --domainkeys yes --dk-canon "$c" --dk-headers '*' -m \
		    < "$DATA/dkim/plain.eml" > "$T/s.eml"
		run perl "$TOP/tests/lib/maildkim.pl" verify "$K/keys.zone" < "$T/s.eml"
		assert_output "dkim=pass"$'\n'"domainkeys=pass"
		perl "$TOP/tests/lib/maildkim.pl" sign dk "$K/rsa.pem" example.org rsa "$c" \
		    < "$DATA/dkim/plain.eml" > "$T/p.eml"
		run --separate-stderr verify < "$T/p.eml"
		output=$(tr -d '\r' <<<"$output")
		unfold_output
		assert_output --partial "domainkeys=pass header.d=example.org header.from=joe@example.org"
		# Only the properties the IANA registry lists for domainkeys.
		refute_output --regexp 'domainkeys=[^;]*header\.[sbia]='
	done
}

@test "a DNS timeout is temperror, and defers when told to" {
	sign -m < "$DATA/dkim/plain.eml" > "$T/s.eml"
	silent_server_start
	run --separate-stderr mg-dkim-verify -H mx.test -r "127.0.0.1:$SILENT_PORT" \
	    --dns-timeout 200 < "$T/s.eml"
	assert_success
	assert_output --partial "dkim=temperror"
	run --separate-stderr mg-dkim-verify -H mx.test -r "127.0.0.1:$SILENT_PORT" \
	    --dns-timeout 200 --temperror defer < "$T/s.eml"
	silent_server_stop
	assert_equal "$status" 111
	assert_output "451 4.7.1 cannot verify the signature now"
}

@test "keys come from a real DNS server on loopback, RSA-4096 over TCP" {
	{ echo '$ORIGIN example.org.'; echo '$TTL 300'
	  echo '@ IN SOA ns. h. 1 3600 600 86400 300'; echo '@ IN NS ns.'
	  sed 's/\._domainkey\.example\.org\./._domainkey/' "$K/rsa.rec"; } > "$T/org.zone"
	{ echo '$ORIGIN example.net.'; echo '$TTL 300'
	  echo '@ IN SOA ns. h. 1 3600 600 86400 300'; echo '@ IN NS ns.'
	  sed 's/\._domainkey\.example\.net\./._domainkey/' "$K/big.rec"; } > "$T/net.zone"
	dns_server_start "$T/org.zone" "$T/net.zone"
	sign -m < "$DATA/dkim/plain.eml" > "$T/s.eml"
	mg-dkim-sign -d example.net -s big -k "$K/big.pem" -m < "$T/s.eml" > "$T/s2.eml"
	run --separate-stderr mg-dkim-verify -H mx.test -r "127.0.0.1:$DNS_PORT" < "$T/s2.eml"
	dns_server_stop
	assert_success
	unfold_output
	assert_output --partial "dkim=pass header.d=example.net header.s=big"
	assert_output --partial "dkim=pass header.d=example.org header.s=rsa"
}

@test "mg-dkim-verify applies the minimum key size, must-sign and l= policies" {
	sign -h From:To -o "" -m < "$DATA/dkim/plain.eml" > "$T/s.eml"
	run --separate-stderr verify --must-sign Subject < "$T/s.eml"
	assert_output --partial "dkim=policy"
	run --separate-stderr verify --must-sign Subject --bad-signature reject < "$T/s.eml"
	assert_equal "$status" 100
	sign -l -m < "$DATA/dkim/plain.eml" > "$T/l.eml"
	run --separate-stderr verify --body-length no < "$T/l.eml"
	assert_output --partial "dkim=policy (l= not accepted)"
	run --separate-stderr mg-dkim-verify -H mx.test -r "zone:$T/v.zone" < /dev/null
	assert_equal "$status" 111
	"$PY" "$TOP/tests/lib/yaml2zone.py" "$TD/domainkeys/mail-dkim/zone.yml" > "$T/v.zone"
	run --separate-stderr mg-dkim-verify -H mx.test -r "zone:$T/v.zone" \
	    < "$TD/domainkeys/mail-dkim/good_dk_1.txt"
	assert_output --partial "domainkeys=pass"
}

@test "an expired x= and a t= in the future are not a pass" {
	sign -t 1700000000 -e 1h -m < "$DATA/dkim/plain.eml" > "$T/s.eml"
	run --separate-stderr at_time '2023-11-14 22:30:00' mg-dkim-verify -H mx.test -r "$Z" < "$T/s.eml"
	assert_output --partial "dkim=pass"
	run --separate-stderr at_time '2023-11-20 12:00:00' mg-dkim-verify -H mx.test -r "$Z" < "$T/s.eml"
	assert_output --partial "dkim=policy (signature expired)"
	sign -t 2000000000 -m < "$DATA/dkim/plain.eml" > "$T/f.eml"
	run --separate-stderr at_time '2023-11-15 12:00:00' mg-dkim-verify -H mx.test -r "$Z" < "$T/f.eml"
	assert_output --partial "dkim=policy"
}

@test "malformed messages end with a clear result, never a crash" {
	printf 'From: a@example.org\nnot a header line\n\nbody\n' > "$T/nosep.eml"
	printf 'From: a@exa\0mple.org\n\nbody\n' > "$T/nul.eml"
	{ printf 'From: a@example.org\nX-Big: '; head -c 1048576 /dev/zero | tr '\0' a; printf '\n\nb\n'; } > "$T/bigline.eml"
	{ for i in $(seq 10000); do echo "X-H$i: v"; done; printf 'From: a@example.org\n\nb\n'; } > "$T/many.eml"
	for f in nosep nul bigline many; do
		run --separate-stderr verify < "$T/$f.eml"
		assert_success
		assert_output --partial "dkim=permerror"
		[[ "$stderr" == *"read message:"* ]]
		run --separate-stderr sign < "$T/$f.eml"
		assert_equal "$status" 111
	done
	run --separate-stderr verify < "$T/many.eml"
	[[ "$stderr" == *"more than 1000 header fields"* ]]
	run --separate-stderr verify < "$T/nul.eml"
	[[ "$stderr" == *"NUL byte"* ]]
}

@test "malformed signature tags and key records give a result, not a crash" {
	sign -m < "$DATA/dkim/plain.eml" > "$T/s.eml"
	sed 's/^DKIM-Signature: v=1;/DKIM-Signature: v=1; v=2; ;;=;/' "$T/s.eml" > "$T/bad.eml"
	run --separate-stderr verify < "$T/bad.eml"
	assert_success
	assert_output --regexp "dkim=(permerror|neutral)"
	printf '$ORIGIN .\nrsa._domainkey.example.org. 300 IN TXT "v=DKIM1; k=rsa; p=!!!!"\n' > "$T/bad.zone"
	run --separate-stderr mg-dkim-verify -H mx.test -r "zone:$T/bad.zone" < "$T/s.eml"
	assert_success
	assert_output --partial "dkim=permerror"
	printf 'DomainKey-Signature: a=rsa-sha1; q=dns; d=example.org; s=rsa; b=@@; h=\nFrom: a@example.org\n\nx\n' > "$T/dk.eml"
	run --separate-stderr verify < "$T/dk.eml"
	assert_success
	assert_output --partial "domainkeys=neutral"
}


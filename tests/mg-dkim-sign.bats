#!/usr/bin/env bats
# Black-box tests of mg-dkim-sign: signatures that dkimpy, Mail::DKIM and
# OpenDKIM verify, known answers, tags, key and signing tables, genkey and
# testkey, and the qmail-remote wrapper.

load lib/common
load lib/dnsserver
load lib/dkim

@test "mg-dkim-sign defers when its key file is missing" {
	run --separate-stderr mg-dkim-sign -d example.org -s x -k "$T/none" < "$DATA/dkim/plain.eml"
	assert_equal "$status" 111
	assert_output "451 4.3.0 temporary failure (cannot sign the message)"
	[[ "$stderr" == *"$T/none"* ]]
}

@test "OpenDKIM's own verifier (opendkim -t) passes mg-dkim-sign's RSA and Ed25519 signatures of the corpus and fails tampered ones" {
	corpus
	test_public_keys "$K/rsa.rec" "$K/ed.rec" > "$T/testkeys"
	printf 'Mode v\nSyslog no\nTestPublicKeys %s\n' "$T/testkeys" > "$T/opendkim.conf"
	for m in "$T"/corpus/*.eml; do
		# opendkim -t reports "message not signed" for a body without
		# a final line break once it carries two signatures; SMTP
		# never delivers one (the wire format ends each line in CRLF).
		[ "${m##*/}" != no-final-newline.eml ] || continue
		for canon in simple/simple relaxed/relaxed simple/relaxed relaxed/simple; do
			sign -s ed -k "$K/ed.pem" -C "$canon" -m < "$m" > "$T/s.eml" 2>/dev/null
			run opendkim -vvv -x "$T/opendkim.conf" -t "$T/s.eml"
			[[ "$output" == *"dkim=pass (2048-bit key) header.d=example.org header.i=@example.org header.a=rsa-sha256 header.s=rsa"*"dkim=pass header.d=example.org header.i=@example.org header.a=ed25519-sha256 header.s=ed"* ]] ||
			    { echo "opendkim $m $canon: $output"; return 1; }
		done
	done
	sign -s ed -k "$K/ed.pem" -m < "$DATA/dkim/plain.eml" > "$T/s.eml"
	sed 's/^world/World/' "$T/s.eml" > "$T/b.eml"
	sed 's/^Subject: hello/Subject: hellO/' "$T/s.eml" > "$T/h.eml"
	for f in b h; do
		run opendkim -vvv -x "$T/opendkim.conf" -t "$T/$f.eml"
		[ "$(grep -c 'dkim=fail' <<<"$output")" -eq 2 ] || { echo "$f: $output"; return 1; }
		[[ "$output" != *"dkim=pass"* ]]
	done
}

@test "opendkim-testmsg verifies mg-dkim-sign's signatures with keys from nsd on a private loopback" {
	unshare -r -n -m true 2>/dev/null || skip "no user namespaces: opendkim-testmsg only reads /etc/resolv.conf"
	corpus
	{ echo '$ORIGIN example.org.'; echo '$TTL 300'
	  echo '@ IN SOA ns. h. 1 3600 600 86400 300'; echo '@ IN NS ns.'
	  sed 's/\._domainkey\.example\.org\./._domainkey/' "$K/rsa.rec" "$K/ed.rec"; } > "$T/org.zone"
	mkdir -p "$T/o"
	for m in "$T"/corpus/*.eml; do
		b=${m##*/}
		# opendkim-testmsg calls a message without Date a syntax error,
		# and one with two To fields (RFC 5322 section 3.6 allows one).
		# It also fails every signature of bare-cr.eml, simple or
		# relaxed, that dkimpy and mg-dkim-verify pass (the test below).
		[ "$b" != repeated.eml ] && [ "$b" != bare-cr.eml ] || continue
		{ grep -q '^Date:' "$m" || echo 'Date: Mon, 1 Jan 2024 00:00:00 +0000'
		  cat "$m"; } > "$T/dated.eml"
		for canon in simple/simple relaxed/relaxed; do
			c=${canon%/*}
			sign -C "$canon" -m < "$T/dated.eml" > "$T/o/rsa-$c-$b" 2>/dev/null
			mg-dkim-sign -d example.org -s ed -k "$K/ed.pem" -C "$canon" -m \
			    < "$T/dated.eml" > "$T/o/ed-$c-$b" 2>/dev/null
		done
	done
	sed 's/^world/World/' "$T/o/rsa-relaxed-lf.eml" > "$T/o/tampered.eml"
	run "$TOP/tests/lib/odk-testmsg.sh" "$T/org.zone" "$T"/o/*.eml
	echo "$output"
	[ "$(grep -c ' rc=0: $' <<<"$output")" -eq $(( $(ls "$T"/o | wc -l) - 1 )) ]
	[[ "$output" == *"tampered.eml rc=70: opendkim-testmsg: dkim_eom(): Bad signature"* ]]
}

@test "a bare CR in a field is signed with simple header canonicalization, and dkimpy and mg-dkim-verify pass it" {
	corpus
	run --separate-stderr sign -C relaxed/relaxed -m < "$T/corpus/bare-cr.eml"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"holds a bare CR"*"signing with simple header canonicalization"* ]]
	printf '%s\n' "$output" > "$T/s.eml"
	grep -q '^DKIM-Signature: .*c=simple/relaxed;' "$T/s.eml"
	grep -q $'^Subject: one\rtwo \r three$' "$T/s.eml"
	run "$PY" "$TOP/tests/lib/dkimpy.py" verify "$K/keys.zone" < "$T/s.eml"
	assert_output pass
	run --separate-stderr verify < "$T/s.eml"
	assert_output --partial "dkim=pass header.d=example.org header.s=rsa"
	# A message without one keeps relaxed header canonicalization.
	run --separate-stderr sign -C relaxed/relaxed -m < "$T/corpus/folded.eml"
	[[ "$output" == *"c=relaxed/relaxed;"* ]]
	[[ "$stderr" != *"bare CR"* ]]
}

@test "a 4096-bit RSA key signs and verifies" {
	mg-dkim-sign -d example.net -s big -k "$K/big.pem" -m < "$DATA/dkim/plain.eml" > "$T/s.eml"
	run --separate-stderr verify < "$T/s.eml"
	assert_output --partial "dkim=pass header.d=example.net header.s=big"
	run "$PY" "$TOP/tests/lib/dkimpy.py" verify "$K/keys.zone" < "$T/s.eml"
	assert_output "pass"
}

@test "mg-dkim-sign reproduces the b= prefixes of Mail::DKIM's DomainKeys signer" {
	m="$TD/domainkeys/mail-dkim/signer-sample.eml"
	key="$TD/domainkeys/mail-dkim/test.key"
	for c in "simple TL93PzPvedAijHChCAt" "nofws JWzIzvCZBIYnoMebzKU"; do
		run --separate-stderr mg-dkim-sign --domainkeys yes -d messiah.edu \
		    -s test8 -k "$key" --dk-canon "${c% *}" < "$m"
		unfold_output
		[[ "$(tr -d ' \t' <<<"$output")" == *"b=${c#* }"* ]] || { echo "$output"; return 1; }
	done
}

@test "mg-dkim-sign's bh= and b= equal dkimpy's for the same key, time, h= list and canonicalization" {
	corpus
	rm "$T/corpus/5mb.eml"
	local r="$TD/dkim/rfc8463" m canon key out want got opts
	for m in "$T"/corpus/*.eml "$TD/dkim/rfc6376/a1-unsigned-errata.eml"; do
		for canon in relaxed/relaxed relaxed/simple simple/simple simple/relaxed; do
			for key in test-rsa ed25519; do
				opts=
				[ "${m##*/}" != folded.eml ] || opts="-z -l -e 1d -h From:To:Subject:X-Long"
				[ $key = test-rsa ] || key=brisbane-ed25519
				mg-dkim-sign -d example.com -s kat -k "$r/$key.pem" -t 1700000000 \
				    -C "$canon" $opts -m < "$m" > "$T/k.eml" 2>/dev/null
				want=$("$PY" "$TOP/tests/lib/dkimpy.py" kat "$r/$key.pem" 1700000000 < "$T/k.eml")
				out=$(sed -n '/^DKIM-Signature:/,/^[^ \t]/p' "$T/k.eml" | sed '$d' | tr -d ' \t\r\n')
				got="$(grep -o 'bh=[^;]*' <<<"$out") $(grep -o ';b=[^;]*$' <<<"$out" | cut -c2-)"
				[ "$got" = "$want" ] || { echo "${m##*/} $canon $key: mg $got, dkimpy $want"; return 1; }
			done
		done
	done
}

@test "mg-dkim-sign oversigns From, pins t= and writes x=, l= and z= on request" {
	run --separate-stderr sign -t 1700000000 -e 1d -l -z < "$DATA/dkim/plain.eml"
	assert_success
	unfold_output
	assert_output --partial "t=1700000000;"
	assert_output --partial "x=1700086400;"
	assert_output --partial "l=14;"
	assert_output --partial "z=From:"
	[[ "$(tr -d ' \t' <<<"$output")" == *"h=From:To:Subject:Date:Message-ID:From;"* ]]
}

@test "mg-dkim-sign -m keeps CRLF line ends and puts the signatures on top" {
	sed 's/$/\r/' "$DATA/dkim/plain.eml" > "$T/crlf.eml"
	sign -s ed -k "$K/ed.pem" -m < "$T/crlf.eml" > "$T/s.eml"
	[ "$(grep -c $'\r$' "$T/s.eml")" -eq "$(wc -l < "$T/s.eml")" ]
	[ "$(head -c 15 "$T/s.eml")" = "DKIM-Signature:" ]
	tail -n 8 "$T/s.eml" | cmp - "$T/crlf.eml"
}

# The d= and s= of each DKIM-Signature in $output, one "d s" a line.
signed_as() {
	unfold_output
	grep '^DKIM-Signature:' <<<"$output" | tr -d ' \t' |
	    sed 's/.*;d=\([^;]*\);s=\([^;]*\);.*/\1 \2/'
}

@test "mg-dkim-sign picks keys from OpenDKIM key and signing tables" {
	cat > "$T/keytable" <<-EOF2
	rsakey example.org:rsa:$K/rsa.pem
	edkey example.org:ed:$K/ed.pem
	EOF2
	# Exact lookups: user@host, host, user@.parent, .parent, user@*, *.
	cat > "$T/signingtable" <<-EOF2
	# dual signing for the whole domain
	example.org rsakey
	example.org edkey
	.example.net edkey
	bob@.example.net rsakey
	EOF2
	run --separate-stderr mg-dkim-sign -K "$T/keytable" -S "$T/signingtable" < "$DATA/dkim/plain.eml"
	assert_success
	[ "$(signed_as)" = "example.org rsa"$'\n'"example.org ed" ]
	run --separate-stderr mg-dkim-sign -K "$T/keytable" -S "$T/signingtable" \
	    --sender envelope --from bob@lists.example.net < "$DATA/dkim/plain.eml"
	assert_success
	# user@.domain comes before .domain (opendkim.conf(5), SigningTable).
	[ "$(signed_as)" = "example.org rsa"$'\n'"example.org ed" ]
	# .example.net is for the names below example.net only.
	run --separate-stderr mg-dkim-sign -K "$T/keytable" -S "$T/signingtable" \
	    --sender envelope --from ann@example.net < "$DATA/dkim/plain.eml"
	assert_success
	assert_output ""
	run --separate-stderr mg-dkim-sign -K "$T/keytable" -S "$T/signingtable" \
	    --sender envelope --from bob@other.test < "$DATA/dkim/plain.eml"
	assert_success
	assert_output ""
}

@test "refile: signing table patterns are * wildcards over the whole address, and every match signs" {
	cat > "$T/keytable" <<-EOF2
	rsakey example.org:rsa:$K/rsa.pem
	edkey example.org:ed:$K/ed.pem
	bigkey example.net:big:$K/big.pem
	EOF2
	cat > "$T/signingtable" <<-EOF2
	*@example.org rsakey
	*@EXAMPLE.org edkey
	list-*@*.example.net bigkey
	*.example.net edkey
	EOF2
	run --separate-stderr mg-dkim-sign -K "$T/keytable" -S "refile:$T/signingtable" < "$DATA/dkim/plain.eml"
	assert_success
	[ "$(signed_as)" = "example.org rsa"$'\n'"example.org ed" ]
	run --separate-stderr mg-dkim-sign -K "$T/keytable" -S "refile:$T/signingtable" \
	    --sender envelope --from list-a@lists.example.net < "$DATA/dkim/plain.eml"
	[ "$(signed_as)" = "example.net big"$'\n'"example.org ed" ]
	run --separate-stderr mg-dkim-sign -K "$T/keytable" -S "refile:$T/signingtable" \
	    --sender envelope --from bob@example.net < "$DATA/dkim/plain.eml"
	assert_success
	assert_output ""
}

@test "a % in the key table signs for the sender's domain, and the signatures verify" {
	mkdir "$T/keys"
	cp "$K/ed.pem" "$T/keys/example.net.pem"
	{ echo '$ORIGIN .'; echo '$TTL 300'
	  sed 's/^rsa\._domainkey\.example\.org\./any._domainkey.example.com./' "$K/rsa.rec"
	  sed 's/^ed\._domainkey\.example\.org\./ed._domainkey.example.net./' "$K/ed.rec"; } > "$T/pct.zone"
	Z="zone:$T/pct.zone"
	# A % domain; a % in the keyfile; a signing table value % names
	# the key after the sender's domain.
	cat > "$T/keytable" <<-EOF2
	anydomain %:any:$K/rsa.pem
	example.net %:ed:$T/keys/%.pem
	EOF2
	printf 'example.com anydomain\nexample.net %%\n' > "$T/signingtable"
	for d in example.com EXAMPLE.net; do
		sed "s/^From: .*/From: Joe <joe@$d>/" "$DATA/dkim/plain.eml" > "$T/m.eml"
		run --separate-stderr mg-dkim-sign -K "$T/keytable" -S "$T/signingtable" -m < "$T/m.eml"
		assert_success
		printf '%s\n' "$output" > "$T/s.eml"
		d=${d,,}
		[ "$(signed_as)" = "$d $([ $d = example.com ] && echo any || echo ed)" ]
		[[ "$stderr" == *"decision=signed signatures=1 d=$d"* ]]
		run --separate-stderr verify < "$T/s.eml"
		assert_output --partial "dkim=pass header.d=$d"
		run "$PY" "$TOP/tests/lib/dkimpy.py" verify "$T/pct.zone" < "$T/s.eml"
		assert_output pass
	done
	# A sender domain that is no DNS name never becomes d= or a path.
	sed 's|^From: .*|From: <joe@a;b=/../x>|' "$DATA/dkim/plain.eml" > "$T/m.eml"
	printf '*@* anydomain\n' > "$T/signingtable"
	run --separate-stderr mg-dkim-sign -K "$T/keytable" -S "refile:$T/signingtable" < "$T/m.eml"
	assert_equal "$status" 111
	[[ "$stderr" == *"$T/signingtable:1: sender domain a;b=/../x: not a domain name"* ]]
}

@test "a key or signing table line that cannot work is refused with its file and line (111)" {
	printf 'rsakey example.org:rsa:%s\n' "$K/rsa.pem" > "$T/keytable"
	check() {	# table contents, then what stderr must hold
		printf '# comment\n%s\n' "$1" > "$T/st"
		run --separate-stderr mg-dkim-sign -K "$T/keytable" -S "${3:-}$T/st" < "$DATA/dkim/plain.eml"
		assert_equal "$status" 111
		assert_output "451 4.3.0 temporary failure (configuration error)"
		[[ "$stderr" == *"mg-dkim-sign: $T/st:2: $2"* ]] || { echo "$1: $stderr"; return 1; }
	}
	check '*@example.org rsakey' "*@example.org: a wildcard pattern needs -S refile:$T/st"
	check '@example.org rsakey' '@example.org: never matches; write example.org'
	check 'example.org' 'example.org: no value after the key'
	check 'example.org nokey' "no key named nokey in $T/keytable"
	check 'example.org rsakey:joe@example.org' 'rsakey:joe@example.org: a signer (i=) field is not supported'
	check 'a?@example.org rsakey' 'a?@example.org: only * is a wildcard in a refile: table' refile:
	# A line that does not match this sender is refused all the same.
	printf 'rsakey example.org:rsa:%s\nbad example.org\n' "$K/rsa.pem" > "$T/kt"
	printf 'example.org rsakey\n' > "$T/st"
	for v in 'example.org' '%.example.org:rsa:/k' 'example.org::/k' 'exa;mple.org:rsa:/k'; do
		printf 'rsakey example.org:rsa:%s\nbad %s\n' "$K/rsa.pem" "$v" > "$T/kt"
		run --separate-stderr mg-dkim-sign -K "$T/kt" -S "$T/st" < "$DATA/dkim/plain.eml"
		assert_equal "$status" 111
		[[ "$stderr" == *"mg-dkim-sign: $T/kt:2: "* ]] || { echo "$v: $stderr"; return 1; }
	done
	run --separate-stderr mg-dkim-sign -K "$T/keytable" -S "db:$T/st" < "$DATA/dkim/plain.eml"
	assert_equal "$status" 111
	[[ "$stderr" == *"db:$T/st: data sets of type db: are not supported"* ]]
}

@test "genkey writes a 0600 key and a record in 255-octet strings; testkey checks it" {
	[ "$(stat -c %a "$K/rsa.pem")" = 600 ]
	grep -q '^big._domainkey.example.net.	IN	TXT	( "v=DKIM1; k=rsa; p=' "$K/big.rec"
	[ "$(grep -o '"[^"]*"' "$K/big.rec" | awk '{ if (length($0) > 257) print }' | wc -l)" -eq 0 ]
	run mg-dkim-sign testkey -r "$Z" -d example.org -s ed -k "$K/ed.pem"
	assert_success
	assert_output "ed._domainkey.example.org: key ok"
	run mg-dkim-sign testkey -r "$Z" -d example.org -s ed -k "$K/rsa.pem"
	assert_equal "$status" 100
	run mg-dkim-sign genkey -d example.org -s rsa -k "$K/rsa.pem"
	assert_equal "$status" 111
}

@test "the qmail-remote wrapper signs, and sends unsigned when signing fails" {
	mkdir -p "$T/bin"
	cat > "$T/bin/qmail-remote.orig" <<-EOF2
	#!/bin/sh
	cat > "$T/sent"
	printf 'K127.0.0.1 accepted message./Remote host said: 250 ok\n\0'
	EOF2
	chmod +x "$T/bin/qmail-remote.orig"
	cat > "$T/mg.conf" <<-EOF2
	[mg-dkim-sign]
	domain example.org
	selector rsa
	key $K/rsa.pem
	EOF2
	run env MG_CONFIG="$T/mg.conf" QMAILREMOTE="$T/bin/qmail-remote.orig" \
	    sh "$TOP/examples/qmail/qmail-remote-dkim" mx.example.net joe@example.org you@example.net \
	    < "$DATA/dkim/plain.eml"
	assert_success
	[[ "$output" == K127.0.0.1* ]]
	head -c 15 "$T/sent" | grep -q '^DKIM-Signature:'
	run --separate-stderr verify < "$T/sent"
	assert_output --partial "dkim=pass"
	# A broken key: the message still goes, unsigned, and stderr is quiet.
	echo "key $T/missing.pem" >> "$T/mg.conf"
	run --separate-stderr env MG_CONFIG="$T/mg.conf" QMAILREMOTE="$T/bin/qmail-remote.orig" \
	    sh "$TOP/examples/qmail/qmail-remote-dkim" mx.example.net joe@example.org you@example.net \
	    < "$DATA/dkim/plain.eml"
	assert_success
	assert_equal "$stderr" ""
	cmp "$T/sent" "$DATA/dkim/plain.eml"
}

# dkim.bash: what tests/mg-dkim-sign.bats and tests/mg-dkim-verify.bats
# share: one set of keys per file, a zone that publishes them, the
# awkward-message corpus, and short sign/verify wrappers.

PY=/usr/bin/python3
# The public conformance data (tests/data/conformance/SOURCES.md says where
# each file comes from and under which licence).
TD=$TOP/tests/data/conformance

setup_file() {
	# Keys are slow to make: one set for the whole file.
	K="$BATS_FILE_TMPDIR"
	export K
	mg-dkim-sign genkey -d example.org -s rsa -k "$K/rsa.pem" > "$K/rsa.rec"
	mg-dkim-sign genkey -a ed25519-sha256 -d example.org -s ed \
	    -k "$K/ed.pem" > "$K/ed.rec"
	mg-dkim-sign genkey -b 4096 -d example.net -s big -k "$K/big.pem" \
	    > "$K/big.rec"
	{ echo '$ORIGIN .'; echo '$TTL 300'; cat "$K"/*.rec; } > "$K/keys.zone"
}

setup() {
	common_setup
	Z="zone:$K/keys.zone"
}

teardown() {
	common_teardown
}

sign() {
	mg-dkim-sign -d example.org -s rsa -k "$K/rsa.pem" "$@"
}

verify() {
	mg-dkim-verify -H mx.test -r "$Z" "$@"
}

# The awkward-message corpus, one file per case, in $T/corpus.
corpus() {
	local c="$T/corpus" i
	mkdir -p "$c"
	cp "$DATA/dkim/plain.eml" "$c/lf.eml"
	sed 's/$/\r/' "$DATA/dkim/plain.eml" > "$c/crlf.eml"
	printf 'From: a@example.org\nSubject: ws  \t\n\nline  \t\n \t\n\n\n' > "$c/trailing-ws.eml"
	printf 'From: a@example.org\nSubject: empty\n\n' > "$c/empty-body.eml"
	printf 'From: a@example.org\nSubject: no newline\n\nlast line' > "$c/no-final-newline.eml"
	{ printf 'From: a@example.org\nSubject: long\n'
	  printf 'X-Long: %s\n' "$(printf 'word%.0s ' $(seq 200))" |
	      fold -s -w 70 | sed '2,$s/^/\t/'
	  printf '\nbody\n'; } > "$c/folded.eml"
	# A bare CR inside a field: only CRLF unfolds (RFC 6376 3.4.2).
	printf 'From: a@example.org\nSubject: one\rtwo \r three\nX-Fold: a\r\n\tb\n\nbody\n' > "$c/bare-cr.eml"
	printf 'From: a@example.org\nSubject: 8bit\nContent-Type: text/plain; charset=utf-8\n\n\xc3\xa9t\xc3\xa9 \xe2\x82\xac\n' > "$c/8bit.eml"
	{ for i in $(seq 40); do printf 'Received: from h%d by mx\n' "$i"; done
	  printf 'From: a@example.org\nTo: x@example.net\nTo: y@example.net\n'
	  printf 'Subject: repeated\n\nbody\n'; } > "$c/repeated.eml"
	{ printf 'From: a@example.org\nSubject: big\n\n'
	  head -c 3800000 /dev/urandom | base64; } > "$c/5mb.eml"
}


# "name record" lines for OpenDKIM's TestPublicKeys, from genkey's output.
test_public_keys() {
	local f
	for f in "$@"; do
		awk '/IN\tTXT/ { n = $1; sub(/\.$/, "", n) }
		    { while (match($0, /"[^"]*"/)) {
			v = v substr($0, RSTART + 1, RLENGTH - 2)
			$0 = substr($0, RSTART + RLENGTH) } }
		    END { print n, v }' "$f"
	done
}


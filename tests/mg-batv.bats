#!/usr/bin/env bats
# Black-box tests of mg-batv: signing, stripping and checking prvs tags,
# the key file and its rotation, and interop with Debian's Exim.

load lib/common
load lib/exim

# 2024-03-01 12:00 UTC is day 19783; a 7-day tag expires on day 19790,
# written "790".
DAY0="2024-03-01 12:00:00 UTC"

setup_file() {
	export EXIM_DIR="$BATS_FILE_TMPDIR/exim"
	exim_setup "$EXIM_DIR" >"$BATS_FILE_TMPDIR/exim.err" 2>&1 ||
	    echo "failed" >"$BATS_FILE_TMPDIR/exim.failed"
}

setup() {
	common_setup
	K="$T/keys"
}

teardown() {
	common_teardown
}

# Runs mg-batv with the clock at WHEN: at WHEN [args...]
at() {
	local when=$1
	shift
	at_time "$when" mg-batv "$@"
}

# A key file with one known key, 0600: mkkeys NUM CREATED SECRET ...
mkkeys() {
	: >"$K"
	chmod 600 "$K"
	while [ $# -ge 3 ]; do
		echo "$1 $2 $3" >>"$K"
		shift 3
	done
}

need_exim() {
	if [ -e "$BATS_FILE_TMPDIR/exim.failed" ]; then
		cat "$BATS_FILE_TMPDIR/exim.err" >&2
		return 1
	fi
}

# --- contract -----------------------------------------------------------

@test "mg-batv defers a bad option with a reply line and a message" {
	run --separate-stderr mg-batv --bogus
	assert_equal "$status" 111
	assert_output "451 4.3.0 temporary failure (usage error)"
	[[ "$stderr" == *"unknown option --bogus"* ]]
	[[ "$stderr" == *"usage: mg-batv"* ]]
}

@test "mg-batv is disabled and accepts every bounce when no key file is configured" {
	run --separate-stderr mg-batv --from "" --rcpt user@example.com
	assert_success
	assert_output ""
	[[ "$stderr" == *"decision=accept batv=disabled"* ]]
}

@test "mg-batv defers a check that has no envelope" {
	run --separate-stderr mg-batv -k "$K" --rcpt user@example.com
	assert_equal "$status" 111
	assert_output "451 4.3.0 temporary failure (usage error)"
	[[ "$stderr" == *"no sender"* ]]
}

# --- signing ------------------------------------------------------------

@test "mg-batv rotate creates a 0600 key file and sign writes the expiry day and key number" {
	run --separate-stderr at "$DAY0" -k "$K" rotate
	assert_success
	assert_output "key 0 signs from now on"
	assert_equal "$(stat -c %a "$K")" 600
	run --separate-stderr at "$DAY0" -k "$K" sign user@Example.COM
	assert_success
	[[ "$output" =~ ^prvs=0790[0-9a-f]{6}=user@example\.com$ ]]
}

@test "mg-batv sign computes HMAC-SHA1 over the key digit, day and address" {
	mkkeys 3 0 secret
	run --separate-stderr at "$DAY0" -k "$K" sign joe@example.com
	assert_success
	want=$(printf '3790joe@example.com' | openssl dgst -sha1 -hmac secret -r | cut -c1-6)
	assert_output "prvs=3790$want=joe@example.com"
}

@test "mg-batv sign leaves null, tagged and foreign senders unchanged" {
	mkkeys 0 0 secret
	run --separate-stderr at "$DAY0" -k "$K" -D example.com sign "" \
	    prvs=0790aaaaaa=joe@example.com joe@other.test '#@[]'
	assert_success
	assert_output $'\nprvs=0790aaaaaa=joe@example.com\njoe@other.test\n#@[]'
}

@test "mg-batv signs in the sub-address form and checks and strips it" {
	mkkeys 1 0 secret
	run --separate-stderr at "$DAY0" -k "$K" --subaddress + sign joe@example.com
	assert_success
	[[ "$output" =~ ^joe\+prvs=1790[0-9a-f]{6}@example\.com$ ]]
	tag=$output
	run --separate-stderr at "$DAY0" -k "$K" --from "" --rcpt "$tag"
	assert_success
	assert_output "joe@example.com"
	run --separate-stderr mg-batv strip "$tag"
	assert_output "joe@example.com"
}

@test "mg-batv strip prints the plain address and leaves others alone" {
	run --separate-stderr mg-batv strip "<prvs=0790abcdef=joe@example.com>" \
	    joe@example.com "user-prvs=1234abcdef@example.com" prvs=0790xyz=joe@example.com
	assert_success
	assert_equal "${lines[0]}" "joe@example.com"
	assert_equal "${lines[1]}" "joe@example.com"
	assert_equal "${lines[2]}" "user@example.com"
	assert_equal "${lines[3]}" "prvs=0790xyz=joe@example.com"
}

# --- checking -----------------------------------------------------------

@test "mg-batv accepts a bounce to a valid tag and prints the plain recipient" {
	mkkeys 0 0 secret
	tag=$(at "$DAY0" -k "$K" sign joe@example.com)
	run --separate-stderr at "$DAY0" -k "$K" --from "" --rcpt "$tag"
	assert_success
	assert_output "joe@example.com"
	[[ "$stderr" == *"decision=accept batv=bounce-ok"* ]]
}

@test "mg-batv writes a qmail-spp address change from the environment with --spp" {
	mkkeys 0 0 secret
	tag=$(at "$DAY0" -k "$K" sign joe@example.com)
	SMTPMAILFROM="" SMTPRCPTTO="$tag" TCPREMOTEIP=192.0.2.1 \
	    run --separate-stderr at "$DAY0" -k "$K" --spp
	assert_success
	assert_output "Cjoe@example.com"
	SMTPMAILFROM="" SMTPRCPTTO="joe@example.com" TCPREMOTEIP=192.0.2.1 \
	    run --separate-stderr at "$DAY0" -k "$K" --spp
	assert_success
	assert_output "E550 5.7.1 bounce to <joe@example.com> refused: not a reply to mail from here (BATV: no tag)"
}

@test "mg-batv rejects a null-sender bounce to an untagged address" {
	mkkeys 0 0 secret
	run --separate-stderr at "$DAY0" -k "$K" --from "<>" --rcpt joe@example.com
	assert_equal "$status" 100
	assert_output "550 5.7.1 bounce to <joe@example.com> refused: not a reply to mail from here (BATV: no tag)"
	[[ "$stderr" == *'decision=reject batv="no tag"'* ]]
}

@test "mg-batv treats MAILER-DAEMON and postmaster senders as bounces" {
	mkkeys 0 0 secret
	for f in MAILER-DAEMON@mx.other.test postmaster@other.test Mailer-Daemon '#@[]'; do
		run --separate-stderr at "$DAY0" -k "$K" --from "$f" --rcpt joe@example.com
		assert_equal "$status" 100
	done
	run --separate-stderr at "$DAY0" -k "$K" --from daemon@other.test --rcpt joe@example.com
	assert_success
}

@test "mg-batv accepts ordinary mail to a tagged recipient, valid or not, and strips the tag" {
	mkkeys 0 0 secret
	run --separate-stderr at "$DAY0" -k "$K" --from alice@other.test \
	    --rcpt prvs=0123abcdef=joe@example.com
	assert_success
	assert_output "joe@example.com"
	run --separate-stderr at "$DAY0" -k "$K" --from alice@other.test --rcpt joe@example.com
	assert_success
	assert_output ""
}

@test "mg-batv accepts a tag until its expiry day ends and rejects it the day after" {
	mkkeys 0 0 secret
	tag=$(at "$DAY0" -k "$K" sign joe@example.com)
	run --separate-stderr at "2024-03-08 23:59:00 UTC" -k "$K" --from "" --rcpt "$tag"
	assert_success
	run --separate-stderr at "2024-03-09 00:00:30 UTC" -k "$K" --from "" --rcpt "$tag"
	assert_equal "$status" 100
	assert_output --partial "(BATV: expired)"
}

@test "mg-batv honours a longer lifetime for signing and checking" {
	mkkeys 0 0 secret
	run --separate-stderr at "$DAY0" -k "$K" -l 30d sign joe@example.com
	[[ "$output" == prvs=0813* ]]
	tag=$output
	run --separate-stderr at "2024-03-25 12:00:00 UTC" -k "$K" -l 30d --from "" --rcpt "$tag"
	assert_success
	run --separate-stderr mg-batv -k "$K" -l 36h --from "" --rcpt "$tag"
	assert_equal "$status" 111
	[[ "$stderr" == *"whole days"* ]]
}

@test "mg-batv rejects tampered tags: hash, day, key number and address" {
	# Key 1 signed until DAY0 and still verifies; key 0 signs now.
	mkkeys 1 1709200000 other 0 1709294400 secret
	tag=$(at "$DAY0" -k "$K" sign joe@example.com)
	[[ "$tag" == prvs=0790* ]]
	hash=${tag:9:6}
	bad=$(printf '%s' "$hash" | tr '0-9a-f' '1-9a-f0')
	for t in "prvs=0790$bad=joe@example.com" "prvs=0791$hash=joe@example.com" \
	    "prvs=1790$hash=joe@example.com" "prvs=0790$hash=job@example.com" \
	    "prvs=0790$hash=joe@example.net" "prvs=7790$hash=joe@example.com"; do
		run --separate-stderr at "$DAY0" -k "$K" --from "" --rcpt "$t"
		assert_equal "$status" 100
	done
	assert_output --partial "(BATV: unknown key 7)"
	# Hex case and the domain's case do not matter.
	up=$(printf '%s' "$hash" | tr a-f A-F)
	run --separate-stderr at "$DAY0" -k "$K" --from "" --rcpt "PRVS=0790$up=joe@EXAMPLE.com"
	assert_success
	assert_output "joe@example.com"
}

@test "mg-batv rotate signs with the new key and keeps the old one valid for one lifetime" {
	at "$DAY0" -k "$K" rotate
	old=$(at "$DAY0" -k "$K" sign joe@example.com)
	[[ "$old" == prvs=0* ]]
	run --separate-stderr at "2024-03-03 12:00:00 UTC" -k "$K" rotate
	assert_output "key 1 signs from now on"
	new=$(at "2024-03-03 12:00:00 UTC" -k "$K" sign joe@example.com)
	[[ "$new" == prvs=1792* ]]
	run --separate-stderr at "2024-03-05 12:00:00 UTC" -k "$K" --from "" --rcpt "$old"
	assert_success
	run --separate-stderr at "2024-03-05 12:00:00 UTC" -k "$K" keys
	assert_line --index 0 "0 created=1709294400 verifies-until=1710158400"
	assert_line --index 1 "1 created=1709467200 signing"
	refute_output --partial "$(awk '$1 == 0 { print $3 }' "$K")"
	# One lifetime and a day after the rotation, key 0 is gone.
	run --separate-stderr at "2024-03-11 13:00:00 UTC" -k "$K" rotate
	assert_output "key 2 signs from now on"
	run awk '!/^#/ { print $1 }' "$K"
	assert_output $'1\n2'
	run --separate-stderr at "2024-03-08 12:00:00 UTC" -k "$K" --from "" --rcpt "$old"
	assert_equal "$status" 100
	assert_output --partial "(BATV: unknown key 0)"
}

@test "mg-batv log-only mode accepts a bad bounce and logs what it would have done" {
	mkkeys 0 0 secret
	run --separate-stderr at "$DAY0" -k "$K" --log-only yes --from "" --rcpt joe@example.com
	assert_success
	assert_output ""
	[[ "$stderr" == *'decision=accept batv="would-reject: no tag"'* ]]
}

@test "mg-batv exempts listed clients, authenticated clients and domains" {
	mkkeys 0 0 secret
	run --separate-stderr at "$DAY0" -k "$K" --exempt-client 192.0.2.0/24 \
	    --ip 192.0.2.9 --from "" --rcpt joe@example.com
	assert_success
	run --separate-stderr at "$DAY0" -k "$K" --exempt-client 192.0.2.0/24 \
	    --ip 198.51.100.9 --from "" --rcpt joe@example.com
	assert_equal "$status" 100
	run --separate-stderr at "$DAY0" -k "$K" --auth-user joe --from "" --rcpt joe@example.com
	assert_success
	run --separate-stderr at "$DAY0" -k "$K" --exempt-domain .lists.example.com \
	    --from "" --rcpt joe@x.lists.example.com
	assert_success
	run --separate-stderr at "$DAY0" -k "$K" -D example.com -D '*.example.org' \
	    --from "" --rcpt joe@other.test
	assert_success
	run --separate-stderr at "$DAY0" -k "$K" -D example.com -D '*.example.org' \
	    --from "" --rcpt joe@mx.example.org
	assert_equal "$status" 100
	run --separate-stderr mg-batv -k "$K" --exempt-client 192.0.2.300 --from "" --rcpt joe@example.com
	assert_equal "$status" 111
}

@test "mg-batv reads its section of the config file" {
	mkkeys 0 0 secret
	cat >"$T/mg.conf" <<-EOF
	hostname mx.test
	statedir $T
	[mg-greylist]
	some-greylist-option 1
	[mg-batv]
	keys $K
	domain example.com
	log-only yes
	EOF
	run --separate-stderr at "$DAY0" -c "$T/mg.conf" --from "" --rcpt joe@example.com
	assert_success
	run --separate-stderr at "$DAY0" -c "$T/mg.conf" --log-only no --from "" --rcpt joe@example.com
	assert_equal "$status" 100
}

# --- bad input ----------------------------------------------------------

@test "mg-batv defers a bounce, logged, when the key file is missing or unreadable" {
	run --separate-stderr mg-batv -k "$T/nokeys" --from "" --rcpt joe@example.com
	assert_equal "$status" 111
	assert_output "451 4.3.0 temporary failure (BATV keys unavailable)"
	[[ "$stderr" == *"open key file $T/nokeys: No such file or directory"* ]]
	[[ "$stderr" == *"decision=defer batv=error"* ]]
	mkdir "$T/dir"
	run --separate-stderr mg-batv -k "$T/dir" --from "" --rcpt joe@example.com
	assert_equal "$status" 111
	[[ "$stderr" == *"not a regular file"* ]]
	# Ordinary mail does not need the keys.
	run --separate-stderr mg-batv -k "$T/nokeys" --from a@other.test --rcpt joe@example.com
	assert_success
}

@test "mg-batv refuses a key file that group or others can read" {
	mkkeys 0 0 secret
	chmod 640 "$K"
	run --separate-stderr mg-batv -k "$K" --from "" --rcpt joe@example.com
	assert_equal "$status" 111
	[[ "$stderr" == *"mode 640, must be 0600 or stricter"* ]]
	run --separate-stderr mg-batv -k "$K" sign joe@example.com
	assert_equal "$status" 111
}

@test "mg-batv defers on a corrupt key file and rotate does not overwrite it" {
	mkkeys 0 0 secret
	echo "12 0 x" >>"$K"
	run --separate-stderr mg-batv -k "$K" --from "" --rcpt joe@example.com
	assert_equal "$status" 111
	[[ "$stderr" == *"$K:2: 12: too large"* ]]
	before=$(cat "$K")
	run --separate-stderr mg-batv -k "$K" rotate
	assert_equal "$status" 111
	assert_equal "$(cat "$K")" "$before"
	printf '0 0 %s\n' "$(printf 'x%.0s' $(seq 65))" >"$K"
	run --separate-stderr mg-batv -k "$K" sign joe@example.com
	assert_equal "$status" 111
	[[ "$stderr" == *"longer than 64 bytes"* ]]
}

@test "mg-batv survives hostile addresses" {
	mkkeys 0 0 secret
	long=$(printf 'a%.0s' $(seq 300))
	run --separate-stderr at "$DAY0" -k "$K" --from "" --rcpt "$long@example.com"
	assert_equal "$status" 100
	[[ "$stderr" == *'batv="malformed address"'* ]]
	run --separate-stderr at "$DAY0" -k "$K" --from "" --rcpt $'prvs=0790abcdef=jo\x01e@example.com'
	assert_equal "$status" 100
	[[ "$stderr" != *$'\x01'* ]]
	for r in "prvs==joe@example.com" "prvs=0790abcdef=@example.com" "prvs=0790abcdef=joe@" \
	    "=prvs=0790abcdef=@" "prvs=0790abcdef=prvs=0790abcdef=joe@example.com" "@" "<<>>"; do
		run --separate-stderr at "$DAY0" -k "$K" --from "" --rcpt "$r"
		assert_equal "$status" 100
	done
	run --separate-stderr at "$DAY0" -k "$K" --from "<>" --rcpt "@example.com"
	assert_equal "$status" 100
	# A signed address may not outgrow a path (RFC 5321 4.5.3.1.3).
	run --separate-stderr at "$DAY0" -k "$K" sign "$(printf 'a%.0s' $(seq 64))@$(printf 'b%.0s' $(seq 60)).$(printf 'c%.0s' $(seq 60)).$(printf 'd%.0s' $(seq 55)).test"
	assert_equal "$status" 111
	[[ "$stderr" == *"signed address too long"* ]]
}

@test "mg-batv reads a bare --lifetime as days, as its synopsis says" {
	mkkeys 0 0 secret
	t7=$(at "$DAY0" -k "$K" -l 7 sign joe@example.com)
	t7d=$(at "$DAY0" -k "$K" -l 7d sign joe@example.com)
	assert_equal "$t7" "$t7d"
	t14=$(at "$DAY0" -k "$K" -l 14 sign joe@example.com)
	t2w=$(at "$DAY0" -k "$K" -l 2w sign joe@example.com)
	assert_equal "$t14" "$t2w"
	[ "$t7" != "$t14" ]
	run --separate-stderr at "$DAY0" -k "$K" -l 401 sign joe@example.com
	assert_equal "$status" 111
}

@test "mg-batv accepts tags one lifetime ahead, as Exim, and rotate refuses to go back" {
	mkkeys 0 0 secret
	at "$DAY0" -k "$K" rotate >/dev/null
	tag=$(at "$DAY0" -k "$K" sign joe@example.com)
	[[ "$tag" == prvs=1790* ]]
	# Expiry 7 days ahead: valid.  Seen from three days earlier it would
	# be 10 days ahead, past one lifetime: expired (it was accepted up to
	# two lifetimes ahead, a 14-day replay window).
	run --separate-stderr at "$DAY0" -k "$K" --from "" --rcpt "$tag"
	assert_success
	run --separate-stderr at "2024-02-27 12:00:00 UTC" -k "$K" -x --from "" --rcpt "$tag"
	assert_equal "$status" 100
	[[ "$stderr" == *"tag expires in 10 days, more than the lifetime of 7"* ]]
	run --separate-stderr at "2024-02-27 12:00:00 UTC" -k "$K" rotate
	assert_equal "$status" 111
	[[ "$stderr" == *"clock is behind the newest key"* ]]
	run awk '!/^#/ { print $1 }' "$K"
	assert_output $'0\n1'
}

# --- Exim interop -------------------------------------------------------

@test "mg-batv tags verify with Exim's prvscheck" {
	need_exim
	mkkeys 0 0 oldsecret 4 0 "s3cr3t-Key_of-ours"
	tag=$(mg-batv -k "$K" sign joe@example.com)
	run exim_be "\${prvscheck{$tag}{s3cr3t-Key_of-ours}{ok=\$prvscheck_result key=\$prvscheck_keynum addr=\$prvscheck_address}}"
	assert_success
	assert_output "ok=1 key=4 addr=joe@example.com"
	# The control: Exim does reject a wrong key.
	run exim_be "\${prvscheck{$tag}{oldsecret}{ok=\$prvscheck_result}}"
	assert_output "ok="
}

@test "Exim's prvs tags verify with mg-batv, and expire at the same day" {
	need_exim
	mkkeys 0 0 other 2 0 "s3cr3t-Key_of-ours"
	FAKETIME="@2024-03-01 12:00:00" run exim_be '${prvs{joe@example.com}{s3cr3t-Key_of-ours}{2}}'
	assert_success
	[[ "$output" == prvs=2790* ]]
	tag=$output
	run --separate-stderr at "$DAY0" -k "$K" --from "" --rcpt "$tag"
	assert_success
	assert_output "joe@example.com"
	# Both sides agree the tag is good on its last day and stale after.
	FAKETIME="@2024-03-08 23:00:00" run exim_be "\${prvscheck{$tag}{s3cr3t-Key_of-ours}{ok=\$prvscheck_result}}"
	assert_output "ok=1"
	run --separate-stderr at "2024-03-08 23:00:00 UTC" -k "$K" --from "" --rcpt "$tag"
	assert_success
	FAKETIME="@2024-03-09 01:00:00" run exim_be "\${prvscheck{$tag}{s3cr3t-Key_of-ours}{ok=\$prvscheck_result}}"
	assert_output "ok="
	run --separate-stderr at "2024-03-09 01:00:00 UTC" -k "$K" --from "" --rcpt "$tag"
	assert_equal "$status" 100
	assert_output --partial "(BATV: expired)"
}

@test "mg-batv and Exim agree on a key file made by rotate" {
	need_exim
	mg-batv -k "$K" rotate >/dev/null
	secret=$(awk '!/^#/ { print $3 }' "$K")
	run exim_be "\${prvs{Mixed.Case@example.com}{$secret}{0}}"
	tag=$output
	run --separate-stderr mg-batv -k "$K" --from "" --rcpt "$tag"
	assert_success
	assert_output "Mixed.Case@example.com"
	tag=$(mg-batv -k "$K" sign Mixed.Case@example.com)
	run exim_be "\${prvscheck{$tag}{$secret}{ok=\$prvscheck_result}}"
	assert_output "ok=1"
}

@test "mg-batv and Exim verify each other's tags whatever the case of local part and domain" {
	need_exim
	mkkeys 2 0 "s3cr3t-Key_of-ours"
	for a in John.Smith@Example.COM joe@EXAMPLE.com Joe@example.com; do
		# mg-batv writes the domain in lower case, the local part as given.
		plain="${a%@*}@$(printf '%s' "${a##*@}" | tr A-Z a-z)"
		FAKETIME="@2024-03-01 12:00:00" run exim_be "\${prvs{$a}{s3cr3t-Key_of-ours}{2}}"
		assert_success
		[[ "$output" == prvs=2790??????="$a" ]]
		etag=$output
		run --separate-stderr at "$DAY0" -k "$K" --from "" --rcpt "$etag"
		assert_success
		assert_output "$plain"
		[[ "$stderr" == *"decision=accept batv=bounce-ok"* ]]
		run --separate-stderr at "$DAY0" -k "$K" --from "" --rcpt "<$etag>"
		assert_success
		assert_output "$plain"
		run --separate-stderr at "$DAY0" -k "$K" sign "$a"
		assert_success
		[[ "$output" == prvs=2790??????="$plain" ]]
		tag=$output
		FAKETIME="@2024-03-01 12:00:00" run exim_be "\${prvscheck{$tag}{s3cr3t-Key_of-ours}{ok=\$prvscheck_result addr=\$prvscheck_address}}"
		assert_output "ok=1 addr=$plain"
		run --separate-stderr at "$DAY0" -k "$K" --from "" --rcpt "$tag"
		assert_success
		assert_output "$plain"
	done
}

@test "a bounce re-cased on its way back: mg-batv's tag survives a new domain case, a new local part case fails in both" {
	need_exim
	mkkeys 0 0 secret
	tag=$(at "$DAY0" -k "$K" sign John.Smith@Example.COM)
	[[ "$tag" == prvs=0790??????=John.Smith@example.com ]]
	# A remote MTA wrote the domain in capitals: mg-batv signed it in
	# lower case and still accepts it; Exim hashes what arrives.
	run --separate-stderr at "$DAY0" -k "$K" --from "" --rcpt "${tag%@*}@EXAMPLE.Com"
	assert_success
	assert_output "John.Smith@example.com"
	FAKETIME="@2024-03-01 12:00:00" run exim_be "\${prvscheck{${tag%@*}@EXAMPLE.Com}{secret}{ok=\$prvscheck_result}}"
	assert_output "ok="
	# The local part is the receiver's to interpret (RFC 5321 2.4).
	lower=$(printf '%s' "$tag" | tr A-Z a-z)
	run --separate-stderr at "$DAY0" -k "$K" --from "" --rcpt "$lower"
	assert_equal "$status" 100
	assert_output --partial "(BATV: bad signature)"
	FAKETIME="@2024-03-01 12:00:00" run exim_be "\${prvscheck{$lower}{secret}{ok=\$prvscheck_result}}"
	assert_output "ok="
	# Exim's tag signs the domain as given; re-cased, it fails in both.
	FAKETIME="@2024-03-01 12:00:00" run exim_be '${prvs{joe@Example.COM}{secret}{0}}'
	etag="${output%@*}@example.com"
	run --separate-stderr at "$DAY0" -k "$K" --from "" --rcpt "$etag"
	assert_equal "$status" 100
	assert_output --partial "(BATV: bad signature)"
	FAKETIME="@2024-03-01 12:00:00" run exim_be "\${prvscheck{$etag}{secret}{ok=\$prvscheck_result}}"
	assert_output "ok="
}

# --- qmail integration ----------------------------------------------------

@test "the qmail-remote wrapper signs the envelope sender and passes the rest" {
	mkkeys 5 0 secret
	cat >"$T/qmail-remote.orig" <<-EOF
	#!/bin/sh
	printf '%s\n' "\$@" >"$T/args"
	printf 'r250 ok\0K250 ok\0'
	EOF
	chmod 755 "$T/qmail-remote.orig"
	printf '[mg-batv]\nkeys %s\ndomain example.com\n' "$K" >"$T/mg.conf"
	export QMAIL_REMOTE_ORIG="$T/qmail-remote.orig" MG_CONFIG="$T/mg.conf"
	run sh "$TOP/examples/qmail/qmail-remote-batv" mx.other.test joe@example.com a@other.test b@other.test
	assert_success
	assert_equal "$(cat "$T/args" | sed -n 1p)" "mx.other.test"
	[[ "$(sed -n 2p "$T/args")" =~ ^prvs=5[0-9]{3}[0-9a-f]{6}=joe@example\.com$ ]]
	assert_equal "$(sed -n 3,4p "$T/args")" $'a@other.test\nb@other.test'
	# Bounces (null sender) and foreign senders go out unchanged.
	run sh "$TOP/examples/qmail/qmail-remote-batv" mx.other.test "" a@other.test
	assert_equal "$(sed -n 2p "$T/args")" ""
	run sh "$TOP/examples/qmail/qmail-remote-batv" mx.other.test -x@other.test a@other.test
	assert_equal "$(sed -n 2p "$T/args")" "-x@other.test"
	# Without usable keys, delivery is deferred, not sent unsigned.
	rm "$T/args"
	chmod 644 "$K"
	run --separate-stderr sh "$TOP/examples/qmail/qmail-remote-batv" mx.other.test joe@example.com a@other.test
	assert_success
	[[ "$output" == Z*"(#4.3.0)" ]]
	[[ "$stderr" == *"must be 0600"* ]]
	[ ! -e "$T/args" ]
}

@test "mg-batv accepts the shipped example configuration" {
	run --separate-stderr mg-batv -c "$TOP/examples/mailguard.conf" \
	    --from alice@other.test --rcpt prvs=0790abcdef=joe@example.com
	assert_success
	assert_output "joe@example.com"
}

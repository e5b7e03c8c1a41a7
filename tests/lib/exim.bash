# Debian's Exim as a peer for interop tests, without installing an MTA:
# exim4-daemon-light is fetched with `apt-get download' (or taken from
# apt's cache), unpacked with dpkg -x into a private directory, and run
# in expansion test mode (exim -be) with a minimal private config.  Exim
# looks up its compiled-in user "Debian-exim" before reading any config,
# so nss_wrapper (libnss-wrapper) supplies that name from a private
# passwd file; the copy of the binary is not setuid.
#
# exim_setup DIR     unpacks into DIR; returns 1 (with a message) if the
#                    package cannot be had
# exim_be EXPR       prints Exim's expansion of EXPR; FAKETIME in the
#                    environment pins Exim's clock as for the program

EXIM_NSSWRAP=libnss_wrapper.so
EXIM_FAKETIME=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1

exim_setup() {
	local dir=$1 deb
	mkdir -p "$dir/deb" "$dir/root" "$dir/spool" "$dir/log" || return 1
	deb=$(ls /var/cache/apt/archives/exim4-daemon-light_*.deb 2>/dev/null | tail -n 1)
	if [ -z "$deb" ]; then
		(cd "$dir/deb" && apt-get download exim4-daemon-light) \
		    >"$dir/download.log" 2>&1 || {
			echo "exim_setup: apt-get download failed:" >&2
			cat "$dir/download.log" >&2
			return 1
		}
		deb=$(ls "$dir"/deb/exim4-daemon-light_*.deb | tail -n 1)
	fi
	dpkg -x "$deb" "$dir/root" || return 1
	cp "$dir/root/usr/sbin/exim4" "$dir/exim" || return 1
	chmod 755 "$dir/exim"
	local u g uid gid euid egid
	u=$(id -un) g=$(id -gn) uid=$(id -u) gid=$(id -g)
	# Exim refuses to run as uid 0 under its own name.
	euid=$uid egid=$gid
	[ "$uid" = 0 ] && euid=65534 egid=65534
	{
		getent passwd "$uid"
		echo "Debian-exim:x:$euid:$egid::/nonexistent:/bin/false"
	} >"$dir/passwd"
	{
		getent group "$gid"
		echo "Debian-exim:x:$egid:"
	} >"$dir/group"
	cat >"$dir/exim.conf" <<-EOC
	exim_user = $u
	exim_group = $g
	primary_hostname = exim.test
	spool_directory = $dir/spool
	log_file_path = $dir/log/%slog
	EOC
	EXIM_DIR=$dir
	export EXIM_DIR
	exim_be 'ok' >/dev/null || {
		echo "exim_setup: exim -be does not run" >&2
		exim_be 'ok' >&2
		return 1
	}
}

# Exim run by a user other than root warns on stderr that -C cost it its
# privileges; that is expected here and kept out of the tests' output.
exim_be() {
	local pre=$EXIM_NSSWRAP rc=0
	[ -n "${FAKETIME:-}" ] && pre="$EXIM_FAKETIME $pre"
	LD_PRELOAD="$pre" NSS_WRAPPER_PASSWD="$EXIM_DIR/passwd" \
	    NSS_WRAPPER_GROUP="$EXIM_DIR/group" \
	    "$EXIM_DIR/exim" -C "$EXIM_DIR/exim.conf" -be "$1" \
	    2>"$EXIM_DIR/stderr" || rc=$?
	grep -v 'lost privilege for using -C option' "$EXIM_DIR/stderr" >&2 || true
	return $rc
}

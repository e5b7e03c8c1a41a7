# A real OpenSMTPD 6.8 (Debian 12's package) on loopback for the tests
# and the benchmark, adapted from shared/research/opensmtpd/try-filter.sh.
#
# The opensmtpd package conflicts with every other MTA and starts a
# daemon when installed, so it is never installed: its .deb is fetched
# once with apt-get download into /var/tmp/mailguard-opensmtpd/ and
# unpacked there (not under build/, whose *.d files make includes).
# smtpd has its paths compiled in (queue, control socket, helpers, the
# chroot, its users), so it runs in a private mount namespace where
# scratch directories and a private /etc/passwd and /etc/group (with its
# users opensmtpd and opensmtpq added) are bind-mounted over them: the
# machine is left as it was.  smtpd needs root; without root, unshare or
# the package, osmtpd_available says why and the tests skip.
#
#   osmtpd_available          0, or 1 with the reason in $OSMTPD_WHY
#   osmtpd_start DIR CONF     starts smtpd -d with DIR/CONF (after
#                             osmtpd_prepare DIR); waits for every port
#                             in $OSMTPD_PORTS to listen
#   osmtpd_stop               stops it by its pid
#   osmtpd_wait_msg DIR PAT   waits for a delivered file matching PAT

OSMTPD_CACHE=${OSMTPD_CACHE:-/var/tmp/mailguard-opensmtpd}
OSMTPD_UID=${OSMTPD_UID:-}

osmtpd_available() {
	OSMTPD_WHY=""
	if [ "$(id -u)" != 0 ]; then
		OSMTPD_WHY="smtpd 6.8 needs root"
	elif ! command -v unshare >/dev/null || ! command -v swaks >/dev/null; then
		OSMTPD_WHY="unshare or swaks missing"
	elif [ ! -x "$OSMTPD_CACHE/root/usr/sbin/smtpd" ]; then
		mkdir -p "$OSMTPD_CACHE"
		(cd "$OSMTPD_CACHE" && apt-get download opensmtpd >/dev/null 2>&1 &&
		    dpkg-deb -x opensmtpd_*.deb root) ||
		    OSMTPD_WHY="cannot fetch the opensmtpd package"
	fi
	[ -z "$OSMTPD_WHY" ]
}

# A free uid/gid pair from 60900 up, for the private users.
osmtpd_ids() {
	local i
	for i in $(seq 60900 60990); do
		if ! getent passwd "$i" >/dev/null && ! getent passwd $((i + 1)) >/dev/null &&
		    ! getent group "$i" >/dev/null && ! getent group $((i + 1)) >/dev/null; then
			OSMTPD_UID=$i
			return 0
		fi
	done
	return 1
}

# Lays out DIR: spool, run, out (deliveries), the private passwd/group.
# The filter runs as user opensmtpd ($OSMTPD_UID): what it reads must be
# readable by that uid, what it writes owned by it.
osmtpd_prepare() {
	local d=$1
	osmtpd_ids || return 1
	chmod 0755 "$d"
	mkdir -m 0711 "$d/spool"
	mkdir -m 0755 "$d/run" "$d/out" "$d/libexec" "$d/empty"
	chown nobody "$d/out"
	cp /etc/passwd "$d/passwd"
	cp /etc/group "$d/group"
	printf 'opensmtpd:x:%s:%s::/var/lib/opensmtpd/empty:/usr/sbin/nologin\n' \
	    "$OSMTPD_UID" "$OSMTPD_UID" >>"$d/passwd"
	printf 'opensmtpq:x:%s:%s::/var/lib/opensmtpd/empty:/usr/sbin/nologin\n' \
	    $((OSMTPD_UID + 1)) $((OSMTPD_UID + 1)) >>"$d/passwd"
	printf 'opensmtpd:x:%s:\nopensmtpq:x:%s:\n' "$OSMTPD_UID" \
	    $((OSMTPD_UID + 1)) >>"$d/group"
	chmod 0644 "$d/passwd" "$d/group"
}

osmtpd_start() {
	local d=$1 conf=$2 p i up
	cat >"$d/ns-run.sh" <<-EOF
	set -e
	mount --bind "$d/passwd" /etc/passwd
	mount --bind "$d/group" /etc/group
	mount --bind "$d/run" /run
	mount -t tmpfs -o mode=0755 mg-spool /var/spool
	mkdir -m 0711 /var/spool/smtpd
	mount --bind "$d/spool" /var/spool/smtpd
	mount -t tmpfs -o mode=0755 mg-lib /var/lib
	mkdir -p /var/lib/opensmtpd/empty
	mount -t tmpfs -o mode=0755 mg-libexec /usr/libexec
	mkdir -m 0755 /usr/libexec/opensmtpd
	mount --bind "$OSMTPD_CACHE/root/usr/libexec/opensmtpd" /usr/libexec/opensmtpd
	exec "$OSMTPD_CACHE/root/usr/sbin/smtpd" -d -f "$conf"
	EOF
	if ! "$OSMTPD_CACHE/root/usr/sbin/smtpd" -n -f "$conf" >"$d/check.log" 2>&1; then
		cat "$d/check.log" >&2
		return 1
	fi
	unshare --mount --propagation private /bin/sh "$d/ns-run.sh" \
	    >"$d/smtpd.log" 2>&1 &
	OSMTPD_PID=$!
	for i in $(seq 1 100); do
		kill -0 "$OSMTPD_PID" 2>/dev/null || break
		up=1
		for p in $OSMTPD_PORTS; do
			ss -Hltn "src 127.0.0.1 and sport = :$p" | grep -q . || up=0
		done
		[ "$up" = 1 ] && return 0
		sleep 0.1
	done
	tail -20 "$d/smtpd.log" >&2
	return 1
}

# All live descendants of pid $1.
osmtpd_descendants() {
	local pid
	for pid in $(pgrep -P "$1"); do
		echo "$pid"
		osmtpd_descendants "$pid"
	done
}

osmtpd_stop() {
	local kids pid i
	[ -n "${OSMTPD_PID:-}" ] || return 0
	kids=$(osmtpd_descendants "$OSMTPD_PID")
	kill -TERM "$OSMTPD_PID" 2>/dev/null
	for i in $(seq 1 50); do
		kill -0 "$OSMTPD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$OSMTPD_PID" 2>/dev/null
	wait "$OSMTPD_PID" 2>/dev/null
	for i in $(seq 1 30); do
		left=""
		for pid in $kids; do kill -0 "$pid" 2>/dev/null && left="$left $pid"; done
		[ -z "$left" ] && break
		sleep 0.1
	done
	for pid in $kids; do kill -KILL "$pid" 2>/dev/null; done
	OSMTPD_PID=""
}

# Prints the first delivered file under DIR/out whose text matches PAT.
osmtpd_wait_msg() {
	local d=$1 pat=$2 i f
	for i in $(seq 1 100); do
		f=$(grep -l -e "$pat" "$d"/out/*.eml 2>/dev/null | head -1)
		[ -n "$f" ] && { echo "$f"; return 0; }
		sleep 0.1
	done
	return 1
}

# A free port on 127.0.0.1 (not one in $OSMTPD_PORTS already).
osmtpd_port() {
	local p _
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		case " ${OSMTPD_PORTS:-} " in *" $p "*) continue ;; esac
		ss -ltnH "sport = :$p" | grep -q . || { echo "$p"; return 0; }
	done
	return 1
}

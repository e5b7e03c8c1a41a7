# dnsserver.bash: real DNS servers on 127.0.0.1 for the bats tests.
#
#   dns_server_start [ZONE=]FILE...  starts Debian's nsd on a free high
#       port with its own config, pid file and state in a temp dir; the
#       zone name is ZONE, else the owner of the file's SOA.  Waits until
#       it answers, exports DNS_PORT, DNS_PID and DNS_DIR (nsd.log there).
#   dns_server_stop                  kills that pid only.
#   silent_server_start              a UDP+TCP listener on one port that
#       never answers (exits by itself after 120 s); exports SILENT_PORT
#       and SILENT_PID.
#   silent_server_stop               kills that pid only.
#
# Everything listens on 127.0.0.1 only; nothing is left behind.

_dns_python=/usr/bin/python3
[ -x "$_dns_python" ] || _dns_python=python3

# Prints a port that is free for both UDP and TCP on 127.0.0.1.
dns_free_port() {
	"$_dns_python" - <<'PY'
import random, socket
for _ in range(200):
    port = random.randint(20000, 60000)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        u.bind(("127.0.0.1", port))
        t.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        u.close()
        t.close()
    print(port)
    break
PY
}

# The owner of the first SOA in a zone file, through ldns-read-zone.
_dns_zone_name() {
	ldns-read-zone "$1" 2>/dev/null |
	    awk '$4 == "SOA" { sub(/\.$/, "", $1); print $1; exit }'
}

_dns_write_conf() {
	local dir=$1 port=$2 arg zone file
	shift 2
	cat > "$dir/nsd.conf" <<CONF
server:
	ip-address: 127.0.0.1
	port: $port
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: "$dir"
	pidfile: "$dir/nsd.pid"
	database: ""
	zonelistfile: "$dir/zone.list"
	xfrdfile: "$dir/xfrd.state"
	xfrdir: "$dir"
	logfile: "$dir/nsd.log"
	server-count: 1
	verbosity: 2
	hide-version: yes
	refuse-any: no
remote-control:
	control-enable: no
CONF
	for arg in "$@"; do
		case $arg in
		*=*)	zone=${arg%%=*} file=${arg#*=} ;;
		*)	file=$arg zone=$(_dns_zone_name "$arg") ;;
		esac
		[ -n "$zone" ] || { echo "dnsserver: no SOA in $file" >&2; return 1; }
		cp "$file" "$dir/$zone.zone"
		printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' \
		    "$zone" "$dir/$zone.zone" >> "$dir/nsd.conf"
	done
}

dns_server_start() {
	local i try
	DNS_DIR=$(mktemp -d "${BATS_TMPDIR:-/tmp}/nsd.XXXXXX")
	for try in 1 2 3; do
		DNS_PORT=$(dns_free_port)
		_dns_write_conf "$DNS_DIR" "$DNS_PORT" "$@" || return 1
		# -d: stay in the foreground, so $! is nsd's own pid.
		nsd -d -c "$DNS_DIR/nsd.conf" > "$DNS_DIR/nsd.out" 2>&1 &
		DNS_PID=$!
		for i in $(seq 1 100); do
			if drill -Q -p "$DNS_PORT" @127.0.0.1 . SOA \
			    > /dev/null 2>&1; then
				export DNS_PORT DNS_PID DNS_DIR
				return 0
			fi
			kill -0 "$DNS_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$DNS_PID" 2>/dev/null || true
		wait "$DNS_PID" 2>/dev/null || true
	done
	echo "dnsserver: nsd did not start:" >&2
	cat "$DNS_DIR/nsd.out" "$DNS_DIR/nsd.log" >&2 2>/dev/null
	return 1
}

dns_server_stop() {
	if [ -n "${DNS_PID:-}" ]; then
		kill "$DNS_PID" 2>/dev/null || true
		wait "$DNS_PID" 2>/dev/null || true
	fi
	[ -n "${DNS_DIR:-}" ] && rm -rf "$DNS_DIR"
	unset DNS_PID DNS_PORT DNS_DIR
	return 0
}

silent_server_start() {
	local i
	SILENT_OUT=$(mktemp "${BATS_TMPDIR:-/tmp}/silent.XXXXXX")
	"$_dns_python" - > "$SILENT_OUT" 2>&1 <<'PY' &
import select, socket, sys, time
# Binds UDP and TCP on one port, prints it, then reads and never answers.
for _ in range(50):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind(("127.0.0.1", port))
        break
    except OSError:
        u.close()
        t.close()
t.listen(16)
print(port, flush=True)
held = []
end = time.monotonic() + 120     # safety net: never outlive a test run
while time.monotonic() < end:
    r, _, _ = select.select([u, t] + held, [], [], 1)
    for s in r:
        if s is u:
            u.recvfrom(65535)
        elif s is t:
            held.append(t.accept()[0])
        else:
            try:
                if not s.recv(65535):
                    held.remove(s)
                    s.close()
            except OSError:
                held.remove(s)
sys.exit(0)
PY
	SILENT_PID=$!
	for i in $(seq 1 50); do
		SILENT_PORT=$(head -n 1 "$SILENT_OUT")
		if [ -n "$SILENT_PORT" ]; then
			export SILENT_PORT SILENT_PID
			return 0
		fi
		sleep 0.1
	done
	echo "dnsserver: silent server did not start" >&2
	return 1
}

silent_server_stop() {
	if [ -n "${SILENT_PID:-}" ]; then
		kill "$SILENT_PID" 2>/dev/null || true
		wait "$SILENT_PID" 2>/dev/null || true
	fi
	[ -n "${SILENT_OUT:-}" ] && rm -f "$SILENT_OUT"
	unset SILENT_PID SILENT_PORT SILENT_OUT
	return 0
}

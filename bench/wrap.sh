#!/bin/bash
# bench/wrap.sh: messages per second through mg-wrap next to the real
# server alone (qpsmtpd under tcpserver on loopback, queueing into a
# fake qmail-queue).  Two loads, each against both set-ups in the same
# run:
#   sessions  one swaks session per message (connection, server start,
#             one message): what a busy MX sees
#   pipelined one session carrying many pipelined transactions: the
#             proxy's own per-message cost
# and mg-wrap with the full chain of the programs that are built
# (mg-screen at connect, helo and mail, mg-spf at rcpt, mg-dkim-verify at
# data), every DNS question answered by nsd on 127.0.0.1 from the zones
# below (tests/lib/dnsserver.bash).  Prints msgs/s and the ratios
# wrap/server and wrap+chain/server.
# Usage: bash bench/wrap.sh [messages]   (default 100 sessions, and
# ten times as many pipelined messages)
set -u
cd "$(dirname "$0")/.."
N=${1:-100}
[ -x bin/mg-wrap ] || make -s all
W=$(mktemp -d)
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; dns_server_stop; rm -rf "$W"' EXIT
export MG_CONFIG=/dev/null MG_STATEDIR=$W PATH="$PWD/bin:$PATH"
T=$W
source tests/lib/smtpserver.bash
source tests/lib/dnsserver.bash

# The DNS the chain asks: the client 127.0.0.1 is client.example.org
# (PTR and A agree), the sender's domain has an MX and an SPF record.
cat >"$W/org.zone" <<'EOF2'
$ORIGIN example.org.
$TTL 3600
@	IN SOA ns.example.org. hostmaster.example.org. 1 3600 600 86400 60
@	IN NS ns
@	IN MX 10 client
@	IN TXT "v=spf1 ip4:127.0.0.0/8 -all"
ns	IN A 127.0.0.1
client	IN A 127.0.0.1
EOF2
cat >"$W/rev.zone" <<'EOF2'
$ORIGIN 127.in-addr.arpa.
$TTL 3600
@	IN SOA ns.example.org. hostmaster.example.org. 1 3600 600 86400 60
@	IN NS ns.example.org.
1.0.0	IN PTR client.example.org.
EOF2
dns_server_start "$W/org.zone" "$W/rev.zone" || exit 1
export MG_RESOLVER="127.0.0.1:$DNS_PORT"
qp_setup
printf '#!/bin/sh\ncat >/dev/null; cat 0<&1 >/dev/null\n' >"$QP/qq"

start() {	# port command...
	local port=$1
	shift
	tcpserver -H -R -l mx.test -c 100 127.0.0.1 "$port" "$@" \
	    >/dev/null 2>&1 &
	PIDS="$PIDS $!"
	for _ in $(seq 1 50); do
		ss -ltnH "sport = :$port" | grep -q . && return
		sleep 0.1
	done
}

P1=$(freeport); start "$P1" "$QP/qpsmtpd-ucspi"
P2=$(freeport); start "$P2" bin/mg-wrap -H mx.test -- "$QP/qpsmtpd-ucspi"
# The full chain, without the programs that are not built yet.
while read -r stage cmd; do
	[ "$stage" = "[" ] && { echo "$cmd"; continue; }
	[ -x "bin/${cmd%% *}" ] && echo "$cmd"
done >"$W/chain" <<'EOF2'
[ [connect]
c mg-screen --require-ptr reject --require-fcrdns reject
[ [helo]
h mg-screen --helo-syntax reject --helo-resolves reject
[ [mail]
m mg-screen --sender-domain reject
[ [rcpt]
r mg-spf
[ [data]
d mg-dkim-verify
EOF2
P3=$(freeport); start "$P3" bin/mg-wrap -H mx.test -C "$W/chain" -- \
    "$QP/qpsmtpd-ucspi"

# Each load runs in ROUNDS rounds, each round against the three set-ups
# in turn, so drift in the machine's load (other builds) hits all alike;
# the rates are total messages over total time.
ROUNDS=5
now() { date +%s.%N; }

sessions() {	# port messages: prints the seconds taken
	local t0 t1 i
	t0=$(now)
	for i in $(seq 1 "$2"); do
		swaks --server 127.0.0.1 --port "$1" --from a@example.org \
		    --ehlo client.example.org \
		    --to user@example.test --silent 2 >/dev/null 2>&1 || echo "fail $i" >&2
	done
	t1=$(now)
	echo "$t1 - $t0" | bc
}

pipelined() {	# port messages: prints the seconds taken
	local t0 t1 m=$2
	{
		printf 'EHLO client.example.org\r\n'
		for i in $(seq 1 "$m"); do
			printf 'MAIL FROM:<a@example.org>\r\nRCPT TO:<u@example.test>\r\nDATA\r\n'
			printf 'Subject: %s\r\n\r\nbody line one\r\nbody line two\r\n.\r\n' "$i"
		done
		printf 'QUIT\r\n'
	} >"$W/in"
	t0=$(now)
	exec 5<>"/dev/tcp/127.0.0.1/$1"
	cat "$W/in" >&5 &
	got=$(timeout 600 cat <&5 | grep -c '^250 Queued')
	exec 5<&-
	t1=$(now)
	[ "$got" = "$m" ] || echo "pipelined: $got of $m queued" >&2
	echo "$t1 - $t0" | bc
}

echo "chain: $(grep -v "^\[" "$W/chain" | cut -d" " -f1 | sort -u | tr "\n" " ")(DNS: nsd on 127.0.0.1:$DNS_PORT)"
printf '%-10s %8s %10s %10s %8s %12s %8s\n' load msgs "server/s" "wrap/s" \
    ratio "wrap+chain/s" ratio
for load in sessions pipelined; do
	per=$((N / ROUNDS))
	[ "$load" = pipelined ] && per=$((N * 10 / ROUNDS))
	ts=0 tw=0 tc=0
	for _ in $(seq 1 "$ROUNDS"); do
		ts=$(echo "$ts + $($load "$P1" "$per")" | bc)
		tw=$(echo "$tw + $($load "$P2" "$per")" | bc)
		tc=$(echo "$tc + $($load "$P3" "$per")" | bc)
	done
	m=$((per * ROUNDS))
	s=$(echo "scale=1; $m / $ts" | bc)
	w=$(echo "scale=1; $m / $tw" | bc)
	c=$(echo "scale=1; $m / $tc" | bc)
	printf '%-10s %8s %10s %10s %8s %12s %8s\n' "$load" "$m" "$s" "$w" \
	    "$(echo "scale=2; $ts / $tw" | bc | sed 's/^\./0./')" "$c" \
	    "$(echo "scale=2; $ts / $tc" | bc | sed 's/^\./0./')"
done

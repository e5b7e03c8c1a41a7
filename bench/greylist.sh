#!/bin/sh
# bench/greylist.sh: mg-greylist next to Debian's postgrey, in one run.
#
# Both stores hold the same million passed triplets.  Measured: one
# mg-greylist check as a whole process (serial), and the sustained rate
# of CLIENTS concurrent clients: mg-greylist started as a process per
# check, postgrey asked over its policy protocol (one connection per
# client, as Postfix keeps them).  Two workloads: known triplets only,
# and 10% never-seen triplets (each one a write).  Prints the ratios.
# postgrey runs privately on a loopback port with its own db dir and is
# stopped by its pid.
# Usage: sh bench/greylist.sh [seconds-per-rate] [clients]
set -eu
cd "$(dirname "$0")/.."
secs=${1:-10}
clients=${2:-16}
N=1000000
[ -x bin/mg-greylist ] || make -s all
command -v postgrey >/dev/null || { echo "postgrey is not installed" >&2; exit 1; }
dir=$(mktemp -d)
chmod 755 "$dir"
pgpid=
cleanup() {
	[ -n "$pgpid" ] && kill "$pgpid" 2>/dev/null || :
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
export MG_CONFIG=/dev/null
cc -O2 -o "$dir/drive" bench/greylist-drive.c

now_ns() { date +%s%N; }

# The million triplets, as greylist-drive makes them.
awk -v n=$N 'BEGIN { for (i = 0; i < n; i++)
	printf "10.%d.%d.%d sender%d@dom%d.example user%d@local.test\n",
	    int(i / 65536) % 256, int(i / 256) % 256, i % 256, i, i % 5000,
	    i % 2000 }' > "$dir/triplets"

mkdir "$dir/mg" "$dir/pg"
t0=$(now_ns)
bin/mg-greylist -d "$dir/mg" pass - < "$dir/triplets" > /dev/null
t1=$(now_ns)
echo "mg-greylist store: $N triplets imported in $(( (t1 - t0) / 1000000 )) ms," \
    "$(du -k "$dir/mg/greylist.db" | cut -f1) KiB"

# postgrey's own store: key "net/sender/rcpt" lower-cased, the sender
# normalised as postgrey does, value "first,last" with last past the delay (passed).
t0=$(now_ns)
/usr/bin/perl -MBerkeleyDB -e '
	my $env = BerkeleyDB::Env->new(-Home => $ARGV[0],
	    -Flags => DB_CREATE|DB_INIT_TXN|DB_INIT_MPOOL|DB_INIT_LOG) or die;
	tie my %db, "BerkeleyDB::Btree", -Filename => "postgrey.db",
	    -Flags => DB_CREATE, -Env => $env or die;
	my $t = time() - 3600;
	open my $in, "<", $ARGV[1] or die;
	while (<$in>) {
		my ($ip, $s, $r) = split;
		$ip =~ s/\.\d+$/.0/;
		my ($u, $d) = split /@/, $s, 2;
		$u =~ s/\+.*//; $u =~ s/\b\d+\b/#/g;
		$s = "$u\@$d";
		$db{lc "$ip/$s/$r"} = ($t - 600) . ",$t";
	}
	untie %db; undef $env;' "$dir/pg" "$dir/triplets"
t1=$(now_ns)
chown -R postgrey "$dir/pg" 2>/dev/null || :
echo "postgrey store:    $N triplets written in $(( (t1 - t0) / 1000000 )) ms"

port=$((20000 + $$ % 20000))
postgrey --inet=127.0.0.1:$port --dbdir="$dir/pg" --delay=300 \
    --auto-whitelist-clients=5 >"$dir/pg.log" 2>&1 &
pgpid=$!
i=0
until /usr/bin/perl -MIO::Socket::INET -e \
    'IO::Socket::INET->new("127.0.0.1:'$port'") or exit 1' 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 200 ] || { cat "$dir/pg.log" >&2; exit 1; }
	sleep 0.1
done

# One check as a whole process, serially: a known triplet.
runs=500
t0=$(now_ns)
i=0
while [ $i -lt $runs ]; do
	bin/mg-greylist -d "$dir/mg" --enable yes --ip 10.0.7.9 \
	    --from sender1799@dom1799.example --rcpt user1799@local.test \
	    >/dev/null 2>&1
	i=$((i + 1))
done
t1=$(now_ns)
t2=$(now_ns)
i=0
while [ $i -lt $runs ]; do
	/bin/true
	i=$((i + 1))
done
t3=$(now_ns)
echo "one check as a process: $(( (t1 - t0) / runs / 1000 )) µs" \
    "(starting /bin/true from the same shell: $(( (t3 - t2) / runs / 1000 )) µs)"

mg="$PWD/bin/mg-greylist"
for pct in 0 10; do
	m=$("$dir/drive" exec "$clients" "$secs" $pct "$mg" -d "$dir/mg" \
	    --enable yes 2>/dev/null)
	p=$("$dir/drive" policy "$clients" "$secs" $pct 127.0.0.1 $port)
	t=$("$dir/drive" exec "$clients" "$secs" $pct /bin/true)
	mr=${m##* }
	pr=${p##* }
	echo "$clients clients, $pct% new triplets: mg-greylist $mr/s," \
	    "postgrey $pr/s, ratio $(echo "$mr $pr" | awk '{ printf "%.2f", $1 / $2 }')" \
	    "(bare /bin/true: ${t##* }/s)"
done
kill "$pgpid"
wait "$pgpid" 2>/dev/null || :
pgpid=
echo "($(nproc) cores; $secs s per rate; target ratio 1.5)"

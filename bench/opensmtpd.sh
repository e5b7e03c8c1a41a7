#!/bin/bash
# bench/opensmtpd.sh - messages per second through Debian's OpenSMTPD 6.8
# with mg-opensmtpd and a full chain, next to the same smtpd with no
# filter, in the same run (one smtpd, two listeners), and the ratio.
#
# The chain: mg-screen at connect, helo and mail, mg-relaycheck and
# mg-batv at rcpt (when built), a shell step at data, so every phase and
# data-line filtering are in play.  Clients: CONC connections at once,
# each sending PER messages (python3 smtplib), to each listener in turn.
# Needs root (smtpd does); smtpd runs privately as in the tests.
#   CONC=4 PER=50 sh bench/opensmtpd.sh
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
CONC=${CONC:-4}
PER=${PER:-50}
. "$TOP/tests/lib/opensmtpd.bash"
osmtpd_available || { echo "bench/opensmtpd.sh: $OSMTPD_WHY" >&2; exit 1; }
[ -x "$TOP/bin/mg-opensmtpd" ] || { echo "bench/opensmtpd.sh: run make first" >&2; exit 1; }

W=$(mktemp -d /tmp/mg-osmtpd-bench.XXXXXX)
trap 'osmtpd_stop; rm -rf "$W"' EXIT
osmtpd_prepare "$W" || exit 1
P1=$(osmtpd_port); OSMTPD_PORTS=$P1
P2=$(osmtpd_port); OSMTPD_PORTS="$P1 $P2"

mkdir "$W/state" "$W/lists"
echo '192.0.2.0/24 deny' >"$W/lists/ip-rules"
echo 'blocked@bad.example' >"$W/lists/blacklist"
echo 'test.example' >"$W/lists/local-domains"
printf '$ORIGIN test.example.\n$TTL 300\n@ IN SOA ns hostmaster 1 3600 600 86400 300\n' >"$W/empty.zone"
chmod 0644 "$W"/lists/* "$W/empty.zone"
screen="$TOP/bin/mg-screen --statedir $W/state --resolver zone:$W/empty.zone"
{
	echo "[connect]"
	echo "$screen --ip-rules $W/lists/ip-rules --dyn-action reject"
	echo "[helo]"
	echo "$screen -H mx.test.example --local-ip 192.0.2.99 --helo-self reject"
	echo "[mail]"
	echo "$screen --blacklist $W/lists/blacklist"
	echo "[rcpt]"
	[ -x "$TOP/bin/mg-relaycheck" ] &&
	    echo "$TOP/bin/mg-relaycheck --statedir $W/state -l $W/lists/local-domains"
	if [ -x "$TOP/bin/mg-batv" ]; then
		"$TOP/bin/mg-batv" -k "$W/batv.keys" rotate >/dev/null 2>&1
		echo "$TOP/bin/mg-batv -k $W/batv.keys -D test.example"
	fi
	echo "[data]"
	echo ": grep -qi '^Subject: buy now' && { echo '550 5.7.1 spam'; exit 100; }; echo 'X-Data: checked'"
} >"$W/chain"
chmod 0644 "$W/chain"
chown -R "$OSMTPD_UID" "$W/state" "$W/lists"
[ -e "$W/batv.keys" ] && chown "$OSMTPD_UID" "$W/batv.keys"

cat >"$W/smtpd.conf" <<EOC
table vmap { "@test.example" = "nobody" }
filter "mg" proc-exec "$TOP/bin/mg-opensmtpd -C $W/chain --statedir $W/state"
listen on 127.0.0.1 port $P1 hostname mx.test.example filter "mg"
listen on 127.0.0.1 port $P2 hostname mx.test.example
action "deliver" mda "/bin/sh -c 'cat > /dev/null'" virtual <vmap> user nobody
match from any for domain "test.example" action "deliver"
EOC
osmtpd_start "$W" "$W/smtpd.conf" || { echo "smtpd did not start" >&2; exit 1; }

cat >"$W/client.py" <<'EOPY'
import smtplib, sys, time, threading
port, conc, per = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
msg = ("From: a@good.example\r\nTo: b@test.example\r\nSubject: bench\r\n\r\n"
       + "a line of text in the body of the message\r\n" * 40)
ok = [0] * conc
def client(i):
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.example", timeout=60)
    for _ in range(per):
        try:
            s.sendmail("a@good.example", ["b@test.example"], msg)
            ok[i] += 1
        except smtplib.SMTPException as e:
            print("refused:", e, file=sys.stderr)
    s.quit()
t0 = time.monotonic()
th = [threading.Thread(target=client, args=(i,)) for i in range(conc)]
for t in th: t.start()
for t in th: t.join()
dt = time.monotonic() - t0
print("%d %.3f" % (sum(ok), dt))
EOPY

run() {
	/usr/bin/python3 "$W/client.py" "$1" "$CONC" "$PER"
}
run "$P2" >/dev/null		# warm-up
read -r n_plain t_plain < <(run "$P2")
read -r n_mg t_mg < <(run "$P1")
read -r n_plain2 t_plain2 < <(run "$P2")
awk -v np="$n_plain" -v tp="$t_plain" -v np2="$n_plain2" -v tp2="$t_plain2" \
    -v nm="$n_mg" -v tm="$t_mg" -v c="$CONC" -v p="$PER" 'BEGIN {
	plain = (np + np2) / (tp + tp2); mg = nm / tm
	printf "OpenSMTPD 6.8, %d connections x %d messages each\n", c, p
	printf "  no filter:                 %4d msgs in %6.2f s + %4d in %6.2f s = %7.1f msgs/s\n", np, tp, np2, tp2, plain
	printf "  mg-opensmtpd + full chain: %4d msgs in %6.2f s                     = %7.1f msgs/s\n", nm, tm, mg
	printf "  ratio (filtered / plain): %.3f\n", mg / plain
}'
grep -c 'decision=accept' "$W/smtpd.log" | sed 's/^/  chain steps accepted (log lines): /'

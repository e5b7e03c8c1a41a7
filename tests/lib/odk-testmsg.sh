#!/bin/bash
# odk-testmsg.sh: runs OpenDKIM's opendkim-testmsg (verify mode) on each
# MSG with the keys served by nsd from ZONE on port 53 of a private
# loopback: opendkim-testmsg has no resolver option and libopendkim's
# stock resolver reads /etc/resolv.conf (its Nameservers setting is a
# no-op without res_setservers, which glibc lacks), so this runs itself
# in new user, network and mount namespaces, where /etc/resolv.conf is a
# bind-mounted copy naming 127.0.0.1 and port 53 is ours.  nsd dies with
# the namespace.  Prints "MSG rc=N: stderr" per message.
# Usage: odk-testmsg.sh ZONE MSG...
set -eu
if [ "${ODK_INNER:-}" != 1 ]; then
	ODK_INNER=1 exec unshare -r -n -m "$BASH" "$0" "$@"
fi
zone=$1
shift
dir=$(mktemp -d)
ip link set lo up
printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:2\n' > "$dir/resolv.conf"
mount --bind "$dir/resolv.conf" /etc/resolv.conf
. "$(dirname "$0")/dnsserver.bash"
_dns_write_conf "$dir" 53 "$zone"
nsd -d -c "$dir/nsd.conf" > "$dir/nsd.out" 2>&1 &
for i in $(seq 1 100); do
	drill -Q @127.0.0.1 . SOA > /dev/null 2>&1 && break
	sleep 0.1
done
for m in "$@"; do
	rc=0
	err=$(opendkim-testmsg < "$m" 2>&1 >/dev/null) || rc=$?
	echo "$m rc=$rc: $err"
done
kill $! 2>/dev/null || true
rm -rf "$dir"

#!/bin/sh
# deps.sh: install the Debian packages that building and testing mailguard
# need, and only those that are missing.  `make check' and `make demo' run
# it first, so either is the one command a newcomer types on a fresh
# Debian 12 machine.  Quiet and quick when everything is present: one
# dpkg-query call, one line of output.
#
# NODEPS=1 skips it (for a machine whose packages you manage yourself);
# `deps.sh --list' prints the packages it would install.

# Build: compilers, pkg-config and the libraries the programs link.
BUILD="build-essential gcc clang libclang-rt-14-dev make pkg-config
    libbsd-dev libdb5.3-dev libgdbm-dev libldns-dev libopendkim-dev libspf2-dev
    libssl-dev"
# Tests: the runner, DNS servers and tools, SMTP pieces, faked time, man lint.
TEST="bats bats-assert bats-support faketime ldnsutils nsd unbound
    ucspi-tcp swaks mandoc python3"
# Each program's own test packages, one a line, in scripts/deps.d/NAME.
TEST="$TEST $(cat "$(dirname "$0")"/deps.d/* 2>/dev/null | sed 's/#.*//')"
# Packages whose postinst would start (and enable at boot) a system daemon:
# qpsmtpd's init script would even take port 25.
DAEMONS="nsd unbound qpsmtpd opendkim"
POLICY=/usr/sbin/policy-rc.d

# --list prints the packages, one line, for the README.
if [ "${1:-}" = --list ]; then
	printf '%s\n' $BUILD $TEST | awk '!seen[$0]++' | paste -sd ' ' -
	exit 0
fi

[ "${NODEPS:-0}" = 1 ] && exit 0

if ! command -v dpkg-query >/dev/null 2>&1 ||
    ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: no dpkg-query/apt-get, so not Debian; install the" \
	    "equivalents of: $BUILD $TEST" | tr -s ' \n' ' ' >&2
	echo >&2
	exit 0
fi

# One call for all packages: an unknown package is reported on stderr and
# simply does not print "installed".  A package named twice is listed once.
missing=$(dpkg-query -W -f='${Package} ${Status}\n' $BUILD $TEST \
    2>/dev/null | awk '$NF == "installed" { ok[$1] = 1 }
	END { n = split(want, w, " "); for (i = 1; i <= n; i++)
	    if (!(w[i] in ok) && !(w[i] in seen)) {
		seen[w[i]] = 1; printf "%s ", w[i] } }' want="$(echo $BUILD $TEST)")
missing=${missing% }
if [ -z "$missing" ]; then
	echo "deps: all dependencies present"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		echo "deps: not root, so installing with sudo" >&2
		sudo sh "$0" "$@" && exit 0
		echo "deps: sudo failed" >&2
	fi
	echo "deps: missing packages: $missing" >&2
	echo "deps: as root, run: apt-get install $missing" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Debian's invoke-rc.d asks policy-rc.d whether it may start a service;
# 101 means "no".  Without this, nsd and unbound would start during the
# install and fight over port 53.  Only ours is removed again.
if [ ! -e "$POLICY" ]; then
	trap 'rm -f "$POLICY"' EXIT
	trap 'exit 1' HUP INT TERM
	printf '#!/bin/sh\n# written by mailguard scripts/deps.sh\nexit 101\n' \
	    >"$POLICY" && chmod 755 "$POLICY" || exit 1
fi

echo "deps: installing $(echo $missing | wc -w) missing package(s)" \
    "with apt-get (a minute or two)" >&2
log=$(mktemp "${TMPDIR:-/tmp}/mg-deps.XXXXXX") || exit 1
if ! { apt-get update && apt-get install -y --no-install-recommends \
    $missing; } >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	echo "deps: apt-get failed installing: $missing (log: $log)" >&2
	exit 1
fi
rm -f "$log"

# The tests start their own servers on loopback; the system copies are
# not wanted at boot either.
for d in $DAEMONS; do
	case " $missing " in
	*" $d "*) ;;
	*) continue ;;
	esac
	if command -v systemctl >/dev/null 2>&1; then
		systemctl disable --quiet "$d" >/dev/null 2>&1
	elif command -v update-rc.d >/dev/null 2>&1; then
		update-rc.d "$d" disable >/dev/null 2>&1
	fi
done
if command -v systemctl >/dev/null 2>&1; then
	case " $missing " in
	*" unbound "*)
		systemctl disable --quiet unbound-resolvconf >/dev/null 2>&1 ;;
	esac
fi
echo "deps: installed $missing"

#!/bin/bash
# newcomer.sh: prove the newcomer path.  Builds a fresh Debian 12 root
# (debootstrap minbase plus git, make, ca-certificates and sudo: nothing a
# newcomer would not have), clones the repository into it and runs
# `make demo' and `make check' there, first as a user with sudo rights,
# then as root.  Each run is logged to a file; the tail of each is printed.
#
# usage: sudo scripts/newcomer.sh [--fresh] [--deps-only] [--worktree]
#            [ROOT [REPO]]
#   ROOT        the chroot, default /var/tmp/mg-newcomer; an existing one
#               is reused (its packages stay installed), --fresh rebuilds it
#   REPO        the repository to clone, default the one this script is in
#   --deps-only run only `make deps' (as the user, through sudo): proves the
#               packages install when the tests themselves are not ready
#   --worktree  copy REPO's working tree (tracked and untracked, not
#               ignored files) instead of cloning its committed HEAD
# Logs go to ROOT.logs/.  Exit status 0 when every run succeeded.
set -euo pipefail

fresh=0 depsonly=0 worktree=0
while [ $# -gt 0 ]; do
	case $1 in
	--fresh) fresh=1 ;;
	--deps-only) depsonly=1 ;;
	--worktree) worktree=1 ;;
	-h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	--) shift; break ;;
	-*) echo "newcomer: unknown option $1" >&2; exit 100 ;;
	*) break ;;
	esac
	shift
done
ROOT=${1:-/var/tmp/mg-newcomer}
REPO=${2:-$(cd "$(dirname "$0")/.." && pwd)}
ROOT=$(realpath -m "$ROOT")
REPO=$(realpath "$REPO")
LOGS=$ROOT.logs
USERNAME=newcomer
MOUNTED=()

die() { echo "newcomer: $*" >&2; exit 1; }
say() { printf '\n=== %s\n' "$*"; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap, chroot and mount need it)"
case $ROOT in
/|/bin|/boot|/dev|/etc|/home|/lib*|/proc|/root|/run|/sbin|/sys|/tmp|/usr|/var|/var/tmp)
	die "refusing to use $ROOT as the chroot" ;;
esac
git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1 ||
    die "$REPO is not a git repository"
command -v debootstrap >/dev/null ||
    die "debootstrap is missing: apt-get install debootstrap"

# The only network here is the Debian mirror this machine's apt uses, so
# debootstrap must use it too.  Both the one-line (.list) and the deb822
# (.sources) formats are read; the first URI serving bookworm wins.
find_mirror() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" { u = ""; for (i = 2; i <= NF; i++)
			if ($i !~ /^\[/ && u == "") { u = $i; s = $(i + 1) }
		    if (s == "bookworm") { print u; exit } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = ""; FS = "\n" }
		    { u = ""; s = 0; t = 0
		      for (i = 1; i <= NF; i++) {
			if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i)
			    split($i, a, " "); u = a[1] }
			if ($i ~ /^Suites:/ && $i ~ /[ \t]bookworm([ \t]|$)/) s = 1
			if ($i ~ /^Types:/ && $i ~ /[ \t]deb([ \t]|$)/) t = 1
			if ($i ~ /^Enabled:[ \t]*no/) t = 0 }
		      if (u != "" && s && t) { print u; exit } }' "$f"
	done
}

# Unmounts what this script mounted, innermost first.
cleanup() {
	local i
	for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
		umount "${MOUNTED[i]}" 2>/dev/null ||
		    { echo "newcomer: ${MOUNTED[i]} busy, lazy unmount" >&2;
		      umount -l "${MOUNTED[i]}" || true; }
	done
	MOUNTED=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

mounted_under() {
	awk -v r="$1" '$2 == r || index($2, r "/") == 1 { n++ } END { exit n == 0 }' \
	    /proc/mounts
}

mnt() {	# mnt TARGET mount-args...
	local t=$ROOT$1; shift
	mkdir -p "$t"
	mount "$@" "$t"
	MOUNTED+=("$t")
}

build_root() {
	local mirror t0=$SECONDS
	mirror=$(find_mirror | head -n 1)
	[ -n "$mirror" ] || die "no bookworm mirror in /etc/apt/sources.list{,.d}"
	if mounted_under "$ROOT"; then
		die "something is still mounted under $ROOT; unmount it first"
	fi
	rm -rf --one-file-system "$ROOT"
	say "debootstrap bookworm from $mirror into $ROOT"
	debootstrap --variant=minbase --include=git,make,ca-certificates,sudo \
	    bookworm "$ROOT" "$mirror" >"$LOGS/debootstrap.log" 2>&1 ||
	    { tail -n 20 "$LOGS/debootstrap.log"; die "debootstrap failed"; }
	echo "debootstrap took $((SECONDS - t0)) s"
	# A newcomer's machine has the same apt sources as this one.
	rm -f "$ROOT/etc/apt/sources.list"
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	    /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && grep -qF "$mirror" "$f" && cp "$f" "$ROOT$f"
	done
	# And the same Acquire settings, which the mirror may need (an old
	# snapshot's Release files fail the Valid-Until check).
	for f in /etc/apt/apt.conf.d/*; do
		grep -q '^[^/]*Acquire::' "$f" 2>/dev/null && cp "$f" "$ROOT$f"
	done
	chroot "$ROOT" useradd -m -s /bin/bash "$USERNAME"
	echo "$USERNAME ALL=(ALL:ALL) NOPASSWD: ALL" \
	    >"$ROOT/etc/sudoers.d/$USERNAME"
	chmod 440 "$ROOT/etc/sudoers.d/$USERNAME"
	touch "$ROOT/.mg-newcomer-ready"	# a half-built root is rebuilt
}

# Puts a copy of the repository at DIR inside the root, owned by OWNER.
place_source() {	# place_source DIR OWNER
	local dir=$1 owner=$2
	rm -rf --one-file-system "$ROOT$dir"
	if [ "$worktree" = 1 ]; then
		mkdir -p "$ROOT$dir"
		(cd "$REPO" && git ls-files -z -co --exclude-standard |
		    tar --null -T - -cf -) | tar -C "$ROOT$dir" -xf -
		chroot "$ROOT" chown -R "$owner:" "$dir"
	else
		chroot "$ROOT" runuser -u "$owner" -- \
		    git clone -q /var/tmp/mailguard.bundle "$dir"
	fi
}

# run_as USER LABEL COMMAND: a login shell, so PATH and HOME are what a
# person logging in gets; the environment of this script does not leak in.
STATUS=()
run_as() {
	local user=$1 label=$2 cmd=$3 log=$LOGS/$2.log t0=$SECONDS rc=0
	say "$label: $cmd (as $user)"
	if [ "$user" = root ]; then
		chroot "$ROOT" env -i TERM=dumb HOME=/root /bin/bash -lc "$cmd" \
		    </dev/null >"$log" 2>&1 || rc=$?
	else
		chroot "$ROOT" runuser -l "$user" -c "$cmd" \
		    </dev/null >"$log" 2>&1 || rc=$?
	fi
	tail -n 12 "$log"
	echo "--- $label: exit $rc after $((SECONDS - t0)) s (log: $log)"
	STATUS+=("$label exit=$rc $((SECONDS - t0))s")
	[ "$rc" = 0 ]
}

mkdir -p "$LOGS"
if [ "$fresh" = 1 ] || [ ! -f "$ROOT/.mg-newcomer-ready" ]; then
	build_root
else
	say "reusing $ROOT (--fresh rebuilds it)"
	mounted_under "$ROOT" && die "something is still mounted under $ROOT"
fi

mnt /proc -t proc proc
mnt /sys --bind /sys
mnt /dev --bind /dev
mnt /dev/pts --bind /dev/pts
[ -d /dev/shm ] && mnt /dev/shm --bind /dev/shm
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
cp /etc/hosts "$ROOT/etc/hosts"

if [ "$worktree" = 0 ]; then
	branch=$(git -C "$REPO" symbolic-ref --short -q HEAD || echo HEAD)
	git -C "$REPO" rev-parse -q --verify HEAD >/dev/null ||
	    die "$REPO has no commit yet; try --worktree"
	git -C "$REPO" bundle create -q "$ROOT/var/tmp/mailguard.bundle" \
	    "$branch" HEAD
	chmod 644 "$ROOT/var/tmp/mailguard.bundle"
fi
place_source "/home/$USERNAME/mailguard" "$USERNAME"
place_source /root/mailguard root

fail=0
if [ "$depsonly" = 1 ]; then
	run_as "$USERNAME" user-deps "cd ~/mailguard && make deps" || fail=1
	run_as root root-deps "cd ~/mailguard && make deps" || fail=1
else
	for who in "$USERNAME" root; do
		l=user; [ "$who" = root ] && l=root
		run_as "$who" "$l-demo" "cd ~/mailguard && make demo" || fail=1
		run_as "$who" "$l-check" "cd ~/mailguard && make check" || fail=1
	done
fi

say "summary ($ROOT)"
printf '%s\n' "${STATUS[@]}"
exit "$fail"

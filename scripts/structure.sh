#!/bin/sh
# structure.sh: the adapters' structure at a revision, for comparing two:
# each file of cmd/mg-wrap and cmd/mg-opensmtpd with its line count and
# the project headers it includes, then the same for every libcommon
# module those files include (directly or through another header).
#
# usage: sh scripts/structure.sh [REV]     (default HEAD)
# e.g.:  diff <(sh scripts/structure.sh 244301e) <(sh scripts/structure.sh)
set -eu
rev=${1:-HEAD}
cd "$(dirname "$0")/.."

show() {	# PATH: "lines  name  includes"
	git show "$rev:$1" | awk -v f="${1##*/}" '
	    /^#include "/ { gsub(/^#include "|"$/, ""); inc = inc " " $0 }
	    END { printf "%6d  %-14s%s\n", NR, f, inc }'
}

libs=""
for dir in cmd/mg-wrap cmd/mg-opensmtpd; do
	echo "== $dir ($rev)"
	files=$(git ls-tree --name-only "$rev" "$dir/")
	total=0
	for f in $files; do
		show "$f"
		total=$((total + $(git show "$rev:$f" | wc -l)))
		libs="$libs $(git show "$rev:$f" | sed -n 's/^#include "\([^/"]*\.h\)"/\1/p')"
	done
	printf '%6d  total\n' "$total"
done

# The libcommon headers reached, and the headers they include in turn.
seen=""
while [ -n "$(echo $libs)" ]; do
	next=""
	for h in $libs; do
		case " $seen " in *" $h "*) continue ;; esac
		git cat-file -e "$rev:libcommon/$h" 2>/dev/null || continue
		seen="$seen $h"
		next="$next $(git show "$rev:libcommon/$h" | sed -n 's/^#include "\(.*\.h\)"/\1/p')"
	done
	libs=$next
done
echo "== libcommon modules the adapters reach ($rev)"
for h in $(echo $seen | tr ' ' '\n' | sort); do
	show "libcommon/$h"
	c=libcommon/${h%.h}.c
	git cat-file -e "$rev:$c" 2>/dev/null && show "$c"
done

#!/bin/sh
# scripts/nocrypto-ld.sh: writes, to stdout, a linker script that points
# every OpenSSL function libldns.a references at mg_nocrypto
# (libcommon/nocrypto.c), so that a program using ldns for plain DNS
# links without libcrypto.  PROVIDE only defines what the link leaves
# undefined.  Usage: scripts/nocrypto-ld.sh [LIBDIR]
set -eu
dir=${1:-$(pkg-config --variable=libdir ldns)}
for f in "$dir/libldns.a" "$dir/libcrypto.a"; do
	[ -r "$f" ] || { echo "nocrypto-ld: cannot read $f" >&2; exit 1; }
done
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
nm -u "$dir/libldns.a" | awk 'NF == 2 { print $2 }' | sort -u > "$t/u"
nm -g --defined-only "$dir/libcrypto.a" 2>/dev/null |
    awk 'NF == 3 { print $3 }' | sort -u > "$t/d"
echo "/* Written by scripts/nocrypto-ld.sh from $dir; do not edit. */"
comm -12 "$t/u" "$t/d" | awk '{ printf "PROVIDE(%s = mg_nocrypto);\n", $1 }'

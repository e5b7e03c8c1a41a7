#!/bin/sh
# readme.sh: writes README.md to stdout: scripts/readme-head.md, then
# man/mailguard.7 rendered by mandoc -Tmarkdown, then
# scripts/readme-tail.md, so the overview is written once, in the manual.
#   sh scripts/readme.sh > README.md      (or: make README.md)
# The line `<!-- packages -->' in readme-head.md becomes the package list.
cd "$(dirname "$0")/.." || exit 1
command -v mandoc >/dev/null 2>&1 ||
    { echo "readme.sh: mandoc is missing (make deps)" >&2; exit 1; }
body=$(mandoc -Tmarkdown man/mailguard.7) || exit 1
# The packages `make deps' installs, from deps.sh itself, so the list
# cannot drift from what is installed.
PKGS=$(sh scripts/deps.sh --list | fold -s -w 72 | sed 's/ *$//') \
    awk '$0 == "<!-- packages -->" { print ENVIRON["PKGS"]; next } 1' \
    scripts/readme-head.md
# mandoc's first line is the page header ("MAILGUARD(7) - ...") and its
# last the footer (OS and date); the README has its own title, so
# sections and subsections move one heading level down.  Code lines start
# with a tab and are left alone.
printf '%s\n' "$body" | sed -e '1{/^MAILGUARD(7)/d;}' -e '$d' |
    sed -e '1{/^$/d;}' -e 's/^## /### /' -e 's/^# /## /' |
    awk 'NR == 1 || !(prev == "" && $0 == "") { print } { prev = $0 }' |
    sed -e '${/^$/d;}'
cat scripts/readme-tail.md

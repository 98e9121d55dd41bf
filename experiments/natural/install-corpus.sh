#!/bin/sh
# Installs the English prose corpus of the natural-text screen (docs/natural.md):
# the King James Bible (1611; public domain) from Debian's bible-kjv-text
# package (4.38), read with its bible-kjv program and written as one text file
# per chapter (1,189 files, 4.2 MB) under experiments/natural/kjv/, in the
# Bible's order: NNNN.txt holds the chapter's heading ("Genesis 1"), a blank
# line, then one verse a line without its number. `make natural-corpus` runs
# it; apt-get needs root (as CI and the project's machines have).
set -eu
out="$(cd "$(dirname "$0")" && pwd)/kjv"
if [ -f "$out/.complete" ]; then
	exit 0
fi
if ! command -v bible >/dev/null 2>&1; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bible-kjv bible-kjv-text
fi
rm -rf "$out"
mkdir -p "$out"
# -l0: one verse a line. Headings are the lines that do not start with a blank.
bible -l0 'gen1:1-rev22:21' | awk -v dir="$out" '
	/^$/ { next }
	/^[^ ]/ { if (f) close(f); n++; f = sprintf("%s/%04d.txt", dir, n); printf "%s\n\n", $0 > f; next }
	{ sub(/^ *[0-9]+ /, ""); print > f }
'
n=$(ls "$out" | wc -l)
if [ "$n" -ne 1189 ]; then
	echo "install-corpus.sh: expected 1189 chapters, wrote $n" >&2
	exit 1
fi
touch "$out/.complete"

#!/bin/sh
# image-record-build.sh MARKER HASH: the build hash of what the image now holds (the previous one
# kept as MARKER.old, beside NAME.img.old).
set -eu
if [ -f "$1" ]; then cp -p -- "$1" "$1.old"; fi
printf '%s\n' "$2" >"$1"

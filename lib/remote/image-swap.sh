#!/bin/sh
# image-swap.sh IMAGE TFTP MARKER: serve the previous build instead of the current one, or back
# (the swap is symmetric): image, kernel and build marker together.
set -eu
image=$1 tftp=$2 marker=$3
[ -f "$image.old" ] || { echo "no previous build of $image to roll back to" >&2; exit 1; }
mv -f "$image" "$image.swap"; mv -f "$image.old" "$image"; mv -f "$image.swap" "$image.old"
if [ -d "$tftp.old" ]; then mv -- "$tftp" "$tftp.swap"; mv -- "$tftp.old" "$tftp"; mv -- "$tftp.swap" "$tftp.old"; fi
if [ -f "$marker.old" ]; then mv -f "$marker" "$marker.swap"; mv -f "$marker.old" "$marker"; mv -f "$marker.swap" "$marker.old"; fi

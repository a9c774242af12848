#!/bin/sh
# image-base-restore.sh BASE BUILD: BUILD (made anew) as a copy of the cached base chroot BASE
# (debootstrap and the packages, before the image's own files).
set -eu
base=$1 build=$2
[ -f "$base/.netboot-base" ] || { echo "no cached base at $base" >&2; exit 1; }
umount "$build/proc" 2>/dev/null || true
rm -rf -- "$build"
mkdir -p -- "$(dirname -- "$build")"
cp -a -- "$base" "$build"
rm -f -- "$build/.netboot-base"

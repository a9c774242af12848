#!/bin/sh
# image-base-save.sh BUILD CACHE HASH KEEP: keep a copy of the chroot in BUILD (debootstrap and the
# packages, nothing of the image's own yet) as CACHE/HASH, for the next image with the same base.
# The copy appears whole or not at all. Two images with one base may save it at once (a stack's
# images build side by side): each copies to a name of its own, the first whole copy stays and a
# complete base is never removed under a build that is copying it. Only the KEEP newest bases
# stay (each is a few hundred MB).
set -eu
build=$1 cache=$2 hash=$3 keep=$4
mkdir -p -- "$cache"
partial="$cache/.$hash.partial.$$"
rm -rf -- "$partial"
cp -a -- "$build" "$partial"
printf '%s\t%s\n' "$hash" "$(date +%s)" >"$partial/.netboot-base"
if [ -f "$cache/$hash/.netboot-base" ]; then
  rm -rf -- "$partial"
else
  # A directory without the marker is an interrupted copy of an older version of this script.
  rm -rf -- "${cache:?}/$hash"
  mv -T -- "$partial" "$cache/$hash" 2>/dev/null || rm -rf -- "$partial"
fi
# Bases are named by their hex hash (no blanks), so ls -t lists them safely; the oldest beyond KEEP go.
# shellcheck disable=SC2010,SC2012
ls -1t -- "$cache" | grep -E '^[0-9a-f]{64}$' | tail -n +"$((keep + 1))" | while read -r old; do
  rm -rf -- "${cache:?}/$old"
done

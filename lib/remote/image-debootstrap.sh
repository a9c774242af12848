#!/bin/sh
# image-debootstrap.sh BUILD SUITE ARCH MIRROR PROXY LOG: a minbase debootstrap into BUILD (made anew).
set -eu
build=$1 suite=$2 arch=$3 mirror=$4 proxy=$5 log=$6
if [ -n "$proxy" ]; then export http_proxy="$proxy"; fi
umount "$build/proc" 2>/dev/null || true
rm -rf -- "$build"
mkdir -p "$(dirname -- "$log")"
if ! debootstrap --variant=minbase --arch="$arch" "$suite" "$build" "$mirror" >"$log" 2>&1; then
  tail -n 20 "$log" >&2; exit 1
fi

#!/bin/sh
# image-packages.sh BUILD PROXY MODULES LOG PACKAGE...: apt-get install in the chroot (apt resolves
# what debootstrap's resolver cannot), with initramfs-tools set to MODULES and zstd.
set -eu
build=$1 proxy=$2 modules=$3 log=$4
shift 4
if [ -n "$proxy" ]; then export http_proxy="$proxy"; fi
export DEBIAN_FRONTEND=noninteractive
mkdir -p "$build/etc/initramfs-tools/conf.d"
printf 'MODULES=%s\nCOMPRESS=zstd\n' "$modules" >"$build/etc/initramfs-tools/conf.d/netboot.conf"
mount -t proc proc "$build/proc"
trap 'umount "$build/proc"' EXIT
if ! { chroot "$build" apt-get update -qq && chroot "$build" apt-get install -y -qq --no-install-recommends "$@"; } >"$log" 2>&1; then
  tail -n 20 "$log" >&2; exit 1
fi
chroot "$build" apt-get clean

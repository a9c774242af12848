#!/bin/sh
# fault-fill-disk.sh DIR: the fault suite only (lib/engine/faults.ts). Fills the filesystem that
# holds DIR with one file at its mount point (.netboot-fault-fill), so that the next write there
# fails with ENOSPC. Refuses a filesystem over 8 GiB: only a small test filesystem is ever filled.
set -eu
dir=$1
mkdir -p -- "$dir"
# df -P: one line per filesystem, sizes in 1024-byte blocks; $6 is the mount point.
size_kb=$(df -P -- "$dir" | awk 'NR == 2 { print $2 }')
mount=$(df -P -- "$dir" | awk 'NR == 2 { print $6 }')
case $size_kb in '' | *[!0-9]*) echo "cannot read the size of the filesystem of $dir" >&2; exit 1 ;; esac
if [ "$size_kb" -gt $((8 * 1024 * 1024)) ]; then
  echo "refusing to fill $mount: $size_kb KiB is not a small test filesystem" >&2
  exit 1
fi
fill=$mount/.netboot-fault-fill
avail_kb=$(df -P -- "$mount" | awk 'NR == 2 { print $4 }')
fallocate -l "${avail_kb}KiB" -- "$fill" 2>/dev/null || true
# What fallocate could not take (metadata, rounding) goes in block by block until ENOSPC.
dd if=/dev/zero of="$fill.rest" bs=64K 2>/dev/null || true
sync
echo "filled $mount ($(df -P -- "$mount" | awk 'NR == 2 { print $4 }') KiB left) with $fill"

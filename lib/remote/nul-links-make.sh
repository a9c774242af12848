#!/bin/sh
# nul-links-make.sh DIR...: DIR/000 -> DIR, so a NUL-suffixed root path (Windows DHCP) resolves.
set -e
for d in "$@"; do
  [ -d "$d" ] || { echo "$d is not a directory" >&2; exit 1; }
  ln -sfn -- "$d" "$d/000"
done

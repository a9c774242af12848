#!/bin/sh
# image-facts.sh IMAGE TFTP MARKER: sha256, size, kernel version and build hash of the image served,
# tab-separated. A missing image reads "missing" and a missing kernel "missing" (drift the next
# `up` repairs), never an error: refresh must show what is there.
set -u
image=$1 tftp=$2 marker=$3
if [ ! -f "$image" ]; then printf 'missing\t0\tmissing\t\n'; exit 0; fi
sha=$(sha256sum "$image" | cut -d' ' -f1)
size=$(stat -c %s "$image")
kernel=missing
if [ -f "$tftp/vmlinuz" ]; then
  # A bzImage keeps a pointer to its version string at 0x20e (what file(1) reads).
  off=$(od -An -tu2 -j 526 -N 2 "$tftp/vmlinuz" 2>/dev/null | tr -d ' ')
  kernel=unknown
  if [ -n "$off" ]; then
    version=$(dd if="$tftp/vmlinuz" bs=1 skip=$((off + 512)) count=80 2>/dev/null | tr '\0' ' ' | cut -d' ' -f1)
    kernel=${version:-unknown}
  fi
fi
printf '%s\t%s\t%s\t%s\n' "$sha" "$size" "$kernel" "$(cat "$marker" 2>/dev/null || true)"

#!/bin/sh
# image-remove.sh PATH...: removes what an image resource made: a link is removed as a link (never
# what it points to), anything else recursively.
set -eu
for f in "$@"; do
  if [ -L "$f" ]; then rm -f -- "$f"; else rm -rf -- "$f"; fi
done

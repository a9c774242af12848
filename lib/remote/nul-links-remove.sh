#!/bin/sh
# nul-links-remove.sh DIR...: removes the DIR/000 links (only links).
for d in "$@"; do
  if [ -L "$d/000" ]; then rm -f -- "$d/000"; fi
done

#!/bin/sh
# unlink.sh PATH...: removes each PATH that is a symbolic link (anything else stays).
for p in "$@"; do
  if [ -L "$p" ]; then rm -f -- "$p"; fi
done

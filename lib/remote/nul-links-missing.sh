#!/bin/sh
# nul-links-missing.sh DIR...: prints each DIR whose DIR/000 is not a link to DIR.
for d in "$@"; do
  [ "$(readlink "$d/000" 2>/dev/null)" = "$d" ] || printf '%s\n' "$d"
done

#!/bin/sh
# link-targets-check.sh TARGET...: prints each TARGET that is not a directory (a link step would
# point at nothing). Changes nothing.
for d in "$@"; do
  [ -d "$d" ] || printf '%s\n' "$d"
done

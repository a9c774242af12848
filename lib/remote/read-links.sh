#!/bin/sh
# read-links.sh PATH...: prints link<TAB>target<TAB>path for each PATH, target "-" when PATH is
# not a symbolic link. Changes nothing.
for p in "$@"; do
  if [ -L "$p" ]; then printf 'link\t%s\t%s\n' "$(readlink -- "$p")" "$p"
  else printf 'link\t-\t%s\n' "$p"; fi
done

#!/bin/sh
# journal-restore.sh JOURNAL: puts back every file the apply saved in JOURNAL, newest first, each
# with its content, mode and owner (cp -p), atomically (a copy beside it, then a rename); a file
# that was absent is removed; a saved link goes back as the link (renamed over the path, never
# into the directory a link there points at). Prints each restored path. Then the journal goes.
# Without a journal (nothing was touched, or it was already restored) it does nothing.
set -eu
journal=$1
[ -f "$journal/index" ] || { rm -rf -- "$journal"; exit 0; }
failed=0
tac -- "$journal/index" | while IFS="$(printf '\t')" read -r n dst; do
  if [ "$n" = "-" ]; then
    rm -f -- "$dst"
  else
    dir=$(dirname -- "$dst")
    mkdir -p -- "$dir"
    tmp=$(mktemp -- "$dir/.netboot-restore.XXXXXX")
    if [ -L "$journal/files/$n" ]; then
      rm -f -- "$tmp"
      if cp -P -p -- "$journal/files/$n" "$tmp" && mv -fT -- "$tmp" "$dst"; then :; else
        rm -f -- "$tmp"; echo "cannot restore $dst" >&2; exit 1
      fi
    elif cp -p -- "$journal/files/$n" "$tmp" && mv -f -- "$tmp" "$dst"; then :; else
      rm -f -- "$tmp"; echo "cannot restore $dst" >&2; exit 1
    fi
  fi
  printf '%s\n' "$dst"
done || failed=1
if [ "$failed" = 0 ]; then rm -rf -- "$journal"; else exit 1; fi

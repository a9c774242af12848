#!/bin/sh
# journal-save.sh JOURNAL PATH...: saves each PATH (content, mode, owner; or that it was absent)
# in the apply's JOURNAL unless it is already there, before a step changes it. A link to a
# directory or to nothing is saved as the link (a link step's path; cp -p could not copy it).
set -eu
journal=$1
shift
mkdir -p -- "$journal/files"
touch -- "$journal/index"
for dst in "$@"; do
  if cut -f2- "$journal/index" | grep -qxF -- "$dst"; then continue; fi
  n=$(($(wc -l <"$journal/index") + 1))
  if [ -e "$dst" ] || [ -L "$dst" ]; then
    if [ -L "$dst" ] && { [ -d "$dst" ] || [ ! -e "$dst" ]; }; then cp -P -p -- "$dst" "$journal/files/$n"
    else cp -p -- "$dst" "$journal/files/$n"; fi
    printf '%s\t%s\n' "$n" "$dst" >>"$journal/index"
  else
    printf '%s\t%s\n' "-" "$dst" >>"$journal/index"
  fi
done
sync -- "$journal/index"

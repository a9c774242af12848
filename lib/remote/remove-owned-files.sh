#!/bin/sh
# remove-owned-files.sh OWNED_DIR OWNER PATH...: removes files (never directories) that OWNER
# generated, each with its owner record, except a file the host records as another's (handed over
# to the resource that generated it since): that one stays, printed as "kept<TAB>PATH<TAB>its owner".
set -eu
dir=$1 owner=$2
shift 2
for path in "$@"; do
  record=$dir/file$path/.owner
  if [ -f "$record" ] && [ "$(cat -- "$record")" != "$owner" ]; then
    printf 'kept\t%s\t%s\n' "$path" "$(cat -- "$record")"
    continue
  fi
  rm -f -- "$path" "$record"
  rmdir -- "$dir/file$path" 2>/dev/null || true
done

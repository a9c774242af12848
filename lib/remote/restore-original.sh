#!/bin/sh
# restore-original.sh PATH BACKUP [OWNER_RECORD OWNER]: delete's half of the bargain. With BACKUP,
# the saved original goes back (if someone removed the saved copy there is nothing to restore, and
# our file goes either way); with BACKUP empty, the file we created goes. With OWNER_RECORD: when
# that record names someone other than OWNER (the file was handed over to another resource), the
# file is theirs now and stays; the script prints "kept<TAB>its owner".
set -eu
path=$1 backup=${2:-} record=${3:-} owner=${4:-}
if [ -n "$record" ] && [ -f "$record" ] && [ "$(cat -- "$record")" != "$owner" ]; then
  printf 'kept\t%s\n' "$(cat -- "$record")"
  exit 0
fi
if [ -n "$backup" ] && [ -e "$backup" ]; then mv -f -- "$backup" "$path"; else rm -f -- "$path"; fi
if [ -n "$record" ]; then
  rm -f -- "$record"
  rmdir -- "$(dirname -- "$record")" 2>/dev/null || true
fi

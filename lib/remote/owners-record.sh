#!/bin/sh
# owners-record.sh OWNED_DIR OWNER [+THING | -THING]...: after an apply succeeded, +THING records
# OWNER as its owner (OWNED_DIR/THING/.owner, written atomically) and -THING drops OWNER's record
# (only OWNER's: a thing handed over to another resource stays with it). Runs under the host lock,
# after owners-check.sh found no other stack's claim.
set -eu
dir=$1 owner=$2
shift 2
for arg in "$@"; do
  thing=${arg#?}
  record=$dir/$thing/.owner
  case $arg in
    +*)
      mkdir -p -- "$dir/$thing"
      printf '%s\n' "$owner" >"$record.tmp"
      mv -f -- "$record.tmp" "$record"
      ;;
    -*)
      if [ -f "$record" ] && [ "$(cat -- "$record")" = "$owner" ]; then
        rm -f -- "$record"
        rmdir -- "$dir/$thing" 2>/dev/null || true
      fi
      ;;
  esac
done
sync -- "$dir" 2>/dev/null || true

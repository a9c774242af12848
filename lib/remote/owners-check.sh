#!/bin/sh
# owners-check.sh OWNED_DIR OWNER THING...: which THINGs (kind/name, e.g. file/etc/ltsp/ltsp.conf,
# image/thin) another stack owns on this host. OWNER is "project/stack: Kind name"; a THING whose
# OWNED_DIR/THING/.owner names another stack is printed as "THING<TAB>its owner". Things another
# resource of the same stack owns are not: that resource is being renamed or replaced within the
# stack, and the thing is handed over. Changes nothing.
set -eu
dir=$1 owner=$2
shift 2
stack=${owner%%: *}
for thing in "$@"; do
  record=$dir/$thing/.owner
  [ -f "$record" ] || continue
  recorded=$(cat -- "$record")
  if [ "${recorded%%: *}" != "$stack" ]; then printf '%s\t%s\n' "$thing" "$recorded"; fi
done
